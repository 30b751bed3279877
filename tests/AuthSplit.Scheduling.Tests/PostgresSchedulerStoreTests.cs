using AuthSplit.Core.Execution;
using AuthSplit.Scheduling.Jobs;
using AuthSplit.Scheduling.Store;
using AuthSplit.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;
using Quartz;

namespace AuthSplit.Scheduling.Tests;

[CollectionDefinition(PostgresFixture.Collection)]
public sealed class PostgresCollection : ICollectionFixture<PostgresFixture>;

/// <summary>Quartz's job store in the private PostgreSQL, clustered, as <c>serve</c> runs it when State:Provider is Postgres.</summary>
[Collection(PostgresFixture.Collection)]
public sealed class PostgresSchedulerStoreTests(PostgresFixture fixture)
{
    [Fact]
    public async Task Quartz_creates_its_tables_in_the_database_runs_clustered_checks_in_and_fires_a_wave()
    {
        var database = await fixture.Server.CreateDatabaseAsync("quartz", CancellationToken.None);
        var connectionString = fixture.Server.ConnectionString(database);
        var instance = Waves.NewInstanceName();
        var execution = new FakeWaveExecution();

        for (var start = 0; start < 2; start++)
        {
            using var host = Host(connectionString, instance, services => services.AddSingleton<IWaveExecution>(execution));
            await host.StartAsync();
            var scheduler = await host.Services.GetRequiredService<ISchedulerFactory>().GetScheduler();
            var metadata = await scheduler.GetMetadata();
            metadata.JobStoreClustered.Should().BeTrue();
            metadata.SchedulerInstanceId.Should().NotBe("AUTO", "each node gets an id of its own");

            await host.Services.GetRequiredService<IWaveScheduler>().ScheduleAsync(Waves.PlanId, Waves.Wave + start, Waves.Operator, TimeProvider.System.GetUtcNow().AddMilliseconds(200), CancellationToken.None);
            await execution.WaitForCallsAsync(start + 1, Waves.Patience);

            // The node checked in; the first start's row stays until the others count that node dead (the check-in misfire threshold).
            (await Strings(connectionString, $"SELECT instance_name FROM qrtz_scheduler_state WHERE sched_name = '{instance}'")).Should().Contain(metadata.SchedulerInstanceId).And.HaveCount(start + 1);
            await host.StopAsync();
        }

        execution.Calls.Select(call => call.Request.Wave).Should().Equal(Waves.Wave + 0, Waves.Wave + 1);
        (await Strings(connectionString, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name"))
            .Should().Contain(["qrtz_job_details", "qrtz_triggers", "qrtz_fired_triggers", "qrtz_locks", "qrtz_scheduler_state"]);
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

    private static async Task<List<string>> Strings(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<string>();
        while (await reader.ReadAsync())
        {
            rows.Add(reader.GetString(0));
        }

        return rows;
    }
}
