using AuthSplit.Core.Execution;
using AuthSplit.Scheduling.Hosting;
using AuthSplit.Scheduling.Jobs;
using AuthSplit.Scheduling.Store;
using AuthSplit.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;
using Quartz;

namespace AuthSplit.Scheduling.Tests;

/// <summary>
/// On a clustered store a serve node takes only the triggers with no execution group; a foreground run's
/// trigger carries the run's own group. What a run that is gone left there is moved or removed.
/// </summary>
[Collection(PostgresFixture.Collection)]
public sealed class OrphanedRunTriggersTests(PostgresFixture fixture)
{
    private const string GoneRun = "run-elsewhere-4242-0123456789ab";
    private const string LiveRun = "run-elsewhere-4343-ba9876543210";

    [Fact]
    public async Task A_serve_node_takes_no_runs_trigger_hands_a_gone_runs_recovery_to_the_serve_nodes_removes_its_unfired_trigger_and_leaves_a_live_runs()
    {
        var database = await fixture.Server.CreateDatabaseAsync("routing", CancellationToken.None);
        var connectionString = fixture.Server.ConnectionString(database);
        var instance = Waves.NewInstanceName();
        var execution = new FakeWaveExecution();
        using var host = Host(connectionString, instance, services => services.AddSingleton<IWaveExecution>(execution));
        await host.StartAsync();
        var scheduler = await host.Services.GetRequiredService<ISchedulerFactory>().GetScheduler();
        host.Services.GetRequiredService<WaveRouting>().ServedExecutionGroups.Should().Equal("_");

        // Another run, alive: its scheduler checks in (a day's interval, so this node does not take it for dead meanwhile).
        await using (var connection = new NpgsqlConnection(connectionString))
        {
            await connection.OpenAsync();
            await using var insert = new NpgsqlCommand("INSERT INTO qrtz_scheduler_state (sched_name, instance_name, last_checkin_time, checkin_interval) VALUES (@name, @id, @ticks, 86400000)", connection);
            insert.Parameters.AddWithValue("name", instance);
            insert.Parameters.AddWithValue("id", LiveRun);
            insert.Parameters.AddWithValue("ticks", DateTime.UtcNow.Ticks);
            await insert.ExecuteNonQueryAsync();
        }

        // Quartz's recovery of a gone run's firing (it keeps the firing's group), a gone run's trigger that never fired, a live run's.
        var recovered = await AddAsync(scheduler, "recovered", new TriggerKey("recover-gone-run", SchedulerConstants.DefaultRecoveryGroup), GoneRun);
        var unfired = await AddAsync(scheduler, "unfired", new TriggerKey("p/unfired/run/1", WaveJobKeys.Group), GoneRun);
        var live = await AddAsync(scheduler, "live", new TriggerKey("p/live/run/2", WaveJobKeys.Group), LiveRun);

        await Task.Delay(TimeSpan.FromSeconds(3));
        execution.Calls.Should().BeEmpty("a serve node takes no run's trigger, however long it has been due");

        var released = await host.Services.GetRequiredService<OrphanedRunTriggers>().ReleaseAsync(null, CancellationToken.None);

        released.Should().Be(2);
        await execution.WaitForCallsAsync(1, Waves.Patience);
        var call = execution.Calls.Should().ContainSingle().Which.Request;
        (call.Wave, call.Recovering).Should().Be(("recovered", true), "the serve node resumed the gone run's wave as Quartz's recovery");
        (await scheduler.GetTrigger(unfired)).Should().BeNull("a run is never executed later by another process");
        (await scheduler.GetTrigger(live))!.ExecutionGroup.Should().Be(WaveJobKeys.ForegroundRunExecutionGroup(LiveRun), "a live run's trigger is its own");
        // Quartz removes a fired one-shot trigger when the job has ended, just after the execution returns.
        var deadline = DateTime.UtcNow + Waves.Patience;
        while (await scheduler.GetTrigger(recovered) is not null && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        (await scheduler.GetTrigger(recovered)).Should().BeNull("it fired");

        await Task.Delay(TimeSpan.FromSeconds(2));
        execution.Calls.Should().ContainSingle("the live run's trigger is left to the live run");
        await host.StopAsync();
    }

    private static async Task<TriggerKey> AddAsync(IScheduler scheduler, string wave, TriggerKey key, string runInstance)
    {
        var job = JobBuilder.Create<WaveJob>()
            .WithIdentity(WaveJobKeys.Job(Waves.PlanId, wave))
            .UsingJobData(new JobDataMap { ["planId"] = Waves.PlanId, ["wave"] = wave, ["operator"] = Waves.Operator })
            .StoreDurably()
            .RequestRecovery()
            .Build();
        await scheduler.AddJob(job, AddJobOptions.Replacing);
        var trigger = TriggerBuilder.Create()
            .WithIdentity(key)
            .ForJob(job.Key)
            .WithExecutionGroup(WaveJobKeys.ForegroundRunExecutionGroup(runInstance))
            .StartNow()
            .Build();
        await scheduler.ScheduleTrigger(trigger, TriggerConflict.Replace);
        return key;
    }

    private static IHost Host(string connectionString, string instanceName, Action<IServiceCollection> services)
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddWaveScheduling(
            new SchedulerStoreOptions { Provider = SchedulerStoreProvider.Postgres, PostgresConnectionString = connectionString, InstanceName = instanceName, PollInterval = TimeSpan.FromSeconds(1) },
            job => job.RefireDelay = TimeSpan.Zero);
        builder.Services.AddWaveSchedulerHost();
        services(builder.Services);
        return builder.Build();
    }
}
