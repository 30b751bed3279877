using AuthSplit.Scheduling.Cluster;
using AuthSplit.Scheduling.Store;
using AuthSplit.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;
using Quartz;

namespace AuthSplit.Scheduling.Tests.Cluster;

/// <summary>The node listing read from Quartz's scheduler state table, on the clustered PostgreSQL store and on SQLite.</summary>
[Collection(PostgresFixture.Collection)]
public sealed class SchedulerNodesTests(PostgresFixture fixture)
{
    [Fact]
    public async Task On_postgres_a_running_node_is_listed_with_a_fresh_check_in_and_a_node_that_stopped_checking_in_is_overdue()
    {
        var database = await fixture.Server.CreateDatabaseAsync("nodes", CancellationToken.None);
        var connectionString = fixture.Server.ConnectionString(database);
        var instance = Waves.NewInstanceName();
        var store = new SchedulerStoreOptions { Provider = SchedulerStoreProvider.Postgres, PostgresConnectionString = connectionString, InstanceName = instance, PollInterval = TimeSpan.FromSeconds(1) };

        using var host = Host(store);
        (await host.Services.GetRequiredService<ISchedulerNodes>().ListAsync(CancellationToken.None)).Should().BeEmpty("no node has started, and Quartz has not even made its tables yet");
        await host.StartAsync();
        var scheduler = await host.Services.GetRequiredService<ISchedulerFactory>().GetScheduler();
        var nodes = host.Services.GetRequiredService<ISchedulerNodes>();
        var started = TimeProvider.System.GetUtcNow();

        var listed = await nodes.ListAsync(CancellationToken.None);
        var self = listed.Should().ContainSingle("the running node checked in").Which;
        self.InstanceId.Should().Be(scheduler.SchedulerInstanceId);
        self.LastCheckin.Should().BeCloseTo(started, TimeSpan.FromSeconds(15));
        self.CheckinInterval.Should().Be(SchedulerStoreDefaults.CheckinInterval, "Quartz stores the interval in milliseconds");
        self.IsOverdue(TimeProvider.System.GetUtcNow(), store.CheckinMisfireThreshold).Should().BeFalse();
        await host.StopAsync();

        // A node that died a minute ago, as its row stays until a live node's check-in sweeps it (none runs now, so nothing sweeps).
        var deadCheckin = started.AddMinutes(-1);
        await ExecuteAsync(connectionString, $"INSERT INTO qrtz_scheduler_state (sched_name, instance_name, last_checkin_time, checkin_interval) VALUES ('{instance}', 'dead-node', {deadCheckin.UtcTicks}, 10000)");
        var dead = (await nodes.ListAsync(CancellationToken.None)).Should().Contain(n => n.InstanceId == "dead-node").Which;
        dead.LastCheckin.Should().Be(new DateTimeOffset(deadCheckin.UtcTicks, TimeSpan.Zero));
        dead.IsOverdue(TimeProvider.System.GetUtcNow(), store.CheckinMisfireThreshold).Should().BeTrue();
        SchedulerNodeReport.Views([dead], TimeProvider.System.GetUtcNow(), store.CheckinMisfireThreshold).Single().State.Should().Be("overdue");
    }

    [Fact]
    public async Task On_sqlite_the_single_node_keeps_no_check_ins_and_the_listing_is_empty_not_an_error()
    {
        var database = Waves.NewDatabase();
        using var host = Waves.Host(database, Waves.NewInstanceName());
        var nodes = host.Services.GetRequiredService<ISchedulerNodes>();
        (await nodes.ListAsync(CancellationToken.None)).Should().BeEmpty("before Quartz made its tables");

        await host.StartAsync();
        (await nodes.ListAsync(CancellationToken.None)).Should().BeEmpty("SQLite is not clustered: Quartz writes no scheduler state");
        await host.StopAsync();
    }

    private static IHost Host(SchedulerStoreOptions store)
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddWaveScheduling(store, job => job.RefireDelay = TimeSpan.Zero);
        builder.Services.AddWaveSchedulerHost();
        builder.Services.AddSingleton<AuthSplit.Core.Execution.IWaveExecution>(new FakeWaveExecution());
        return builder.Build();
    }

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
