using AuthSplit.Core.Execution;
using AuthSplit.Scheduling.Hosting;
using AuthSplit.Scheduling.Jobs;
using Microsoft.Extensions.DependencyInjection;
using Quartz;

namespace AuthSplit.Scheduling.Tests;

public sealed class WaveSchedulerTests
{
    [Fact]
    public async Task A_wave_scheduled_for_a_time_runs_at_that_time()
    {
        var execution = new FakeWaveExecution();
        using var host = Waves.Host(Waves.NewDatabase(), Waves.NewInstanceName(), services => services.AddSingleton<IWaveExecution>(execution));
        await host.StartAsync();
        var at = TimeProvider.System.GetUtcNow().AddSeconds(2);

        await host.Services.GetRequiredService<IWaveScheduler>().ScheduleAsync(Waves.PlanId, Waves.Wave, Waves.Operator, at, CancellationToken.None);
        await execution.WaitForCallsAsync(1, Waves.Patience);
        await host.StopAsync();

        var call = execution.Calls.Should().ContainSingle().Subject;
        call.At.Should().BeOnOrAfter(at.AddMilliseconds(-50)).And.BeBefore(at.AddSeconds(3));
        call.Request.Should().Be(new WaveJobRequest(Waves.PlanId, Waves.Wave, Waves.Operator, Recovering: false) { MayPartition = true });
    }

    [Fact]
    public async Task Scheduling_the_same_wave_twice_keeps_one_job_and_moves_its_time()
    {
        // `authsplit schedule` stores triggers without starting a scheduler.
        using var host = Waves.Host(Waves.NewDatabase(), Waves.NewInstanceName());
        var waves = host.Services.GetRequiredService<IWaveScheduler>();
        var first = TimeProvider.System.GetUtcNow().AddHours(1);
        var second = first.AddHours(1);

        var scheduled = await waves.ScheduleAsync(Waves.PlanId, Waves.Wave, Waves.Operator, first, CancellationToken.None);
        var moved = await waves.ScheduleAsync(Waves.PlanId, Waves.Wave, "ops-day", second, CancellationToken.None);

        scheduled.Replaced.Should().BeNull();
        moved.Replaced.Should().Be(first);
        var scheduler = await host.Services.GetRequiredService<ISchedulerFactory>().GetScheduler();
        (await scheduler.GetJobKeys(GroupMatcher<JobKey>.GroupEquals(WaveJobKeys.Group))).Should().ContainSingle();
        (await waves.ListAsync(CancellationToken.None)).Should().ContainSingle()
            .Which.Should().Be(new ScheduledWave(Waves.PlanId, Waves.Wave, "ops-day", ScheduledWaveKind.Scheduled, second));
    }

    [Fact]
    public async Task A_maintenance_window_missed_while_nothing_served_is_not_run_late()
    {
        var database = Waves.NewDatabase();
        var instance = Waves.NewInstanceName();
        using (var schedule = Waves.Host(database, instance))
        {
            await schedule.Services.GetRequiredService<IWaveScheduler>().ScheduleAsync(Waves.PlanId, Waves.Wave, Waves.Operator, TimeProvider.System.GetUtcNow().AddMinutes(5), CancellationToken.None);
        }

        // The window passes while nothing serves: as if `serve` starts ten minutes later.
        await MoveTriggersAsync(database, TimeSpan.FromMinutes(-10));
        var execution = new FakeWaveExecution();
        using var host = Waves.Host(database, instance, services => services.AddSingleton<IWaveExecution>(execution));
        await host.StartAsync();
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        var left = await host.Services.GetRequiredService<IWaveScheduler>().ListAsync(CancellationToken.None);
        await host.StopAsync();

        execution.Calls.Should().BeEmpty("a deletion wave does not start hours after its window");
        left.Should().BeEmpty();
    }

    [Fact]
    public async Task A_hold_expiry_missed_while_nothing_served_fires_when_serving_starts()
    {
        var database = Waves.NewDatabase();
        var instance = Waves.NewInstanceName();
        using (var schedule = Waves.Host(database, instance))
        {
            await schedule.Services.GetRequiredService<IWaveScheduler>().ScheduleHoldExpiryAsync(Waves.PlanId, Waves.Wave, Waves.Operator, TimeProvider.System.GetUtcNow().AddMinutes(5), CancellationToken.None);
        }

        await MoveTriggersAsync(database, TimeSpan.FromMinutes(-10));
        var execution = new FakeWaveExecution();
        using var host = Waves.Host(database, instance, services => services.AddSingleton<IWaveExecution>(execution));
        await host.StartAsync();
        await execution.WaitForCallsAsync(1, Waves.Patience);
        await host.StopAsync();

        execution.Calls.Should().ContainSingle("a hold means not before; late is fine");
    }

    /// <summary>Shifts every stored trigger's times, as the clock moving on while no scheduler runs would.</summary>
    private static async Task MoveTriggersAsync(string database, TimeSpan by)
    {
        await using var connection = new Microsoft.Data.Sqlite.SqliteConnection("Data Source=" + database);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "UPDATE QRTZ_TRIGGERS SET NEXT_FIRE_TIME = NEXT_FIRE_TIME + $by, START_TIME = START_TIME + $by";
        command.Parameters.AddWithValue("$by", by.Ticks);
        (await command.ExecuteNonQueryAsync()).Should().Be(1);
    }

    [Fact]
    public async Task A_wave_the_journal_says_was_left_running_is_resumed_at_start_as_recovering()
    {
        var execution = new FakeWaveExecution();
        using var host = Waves.Host(Waves.NewDatabase(), Waves.NewInstanceName(), services =>
        {
            services.AddSingleton<IWaveExecution>(execution);
            services.AddSingleton<IUnfinishedWaves>(new FakeUnfinishedWaves(new UnfinishedWave(Waves.PlanId, Waves.Wave, Waves.Operator)));
        });

        using var serving = new CancellationTokenSource();
        var serve = host.ServeWavesAsync(serving.Token);
        await execution.WaitForCallsAsync(1, Waves.Patience);
        await serving.CancelAsync();
        await serve.WaitAsync(Waves.Patience);

        execution.Calls.Should().ContainSingle().Which.Request.Should().Be(new WaveJobRequest(Waves.PlanId, Waves.Wave, Waves.Operator, Recovering: true) { MayPartition = true });
    }

    [Fact]
    public async Task A_wave_left_running_that_a_trigger_already_fires_now_is_not_resumed_twice()
    {
        // Slow enough to be still running (or still due) when the check looks: in life the journal says Running until then.
        var execution = new FakeWaveExecution
        {
            Behaviour = async (request, token, _) =>
            {
                await Task.Delay(TimeSpan.FromSeconds(1), token);
                return Waves.Result(request, WaveResultKind.Completed);
            },
        };
        using var host = Waves.Host(Waves.NewDatabase(), Waves.NewInstanceName(), services =>
        {
            services.AddSingleton<IWaveExecution>(execution);
            services.AddSingleton<IUnfinishedWaves>(new FakeUnfinishedWaves(new UnfinishedWave(Waves.PlanId, Waves.Wave, Waves.Operator)));
        });
        // Standing in for Quartz's own recovery trigger: a firing of this wave due now.
        await host.Services.GetRequiredService<IWaveScheduler>().ScheduleHoldExpiryAsync(Waves.PlanId, Waves.Wave, Waves.Operator, TimeProvider.System.GetUtcNow(), CancellationToken.None);
        await host.StartAsync();

        var resumed = await host.Services.GetRequiredService<UnfinishedWaveCheck>().ResumeAsync(CancellationToken.None);
        await execution.WaitForCallsAsync(1, Waves.Patience);
        await Task.Delay(TimeSpan.FromSeconds(1));
        await host.StopAsync();

        string.Join(";", resumed).Should().BeEmpty();
        execution.Calls.Should().ContainSingle();
    }
}
