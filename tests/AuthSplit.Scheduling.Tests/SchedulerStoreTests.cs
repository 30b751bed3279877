using AuthSplit.Core.Execution;
using AuthSplit.Scheduling.Jobs;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;

namespace AuthSplit.Scheduling.Tests;

public sealed class SchedulerStoreTests
{
    [Fact]
    public async Task The_database_file_and_its_write_ahead_log_are_created_owner_only()
    {
        if (OperatingSystem.IsWindows())
        {
            return; // no POSIX modes
        }

        var database = Waves.NewDatabase();

        using var host = Waves.Host(database, Waves.NewInstanceName());
        await using var connection = Open(database);
        await Execute(connection, "CREATE TABLE journal (id INTEGER PRIMARY KEY)");

        File.GetUnixFileMode(database).Should().Be(UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.GetUnixFileMode(database + "-wal").Should().Be(UnixFileMode.UserRead | UnixFileMode.UserWrite, "SQLite gives the WAL the database file's mode");
    }

    [Fact]
    public async Task Quartz_creates_its_tables_beside_the_state_stores_and_again_without_harm()
    {
        var database = Waves.NewDatabase();
        await using (var connection = Open(database))
        {
            await Execute(connection, "CREATE TABLE journal (id INTEGER PRIMARY KEY, entity TEXT NOT NULL); INSERT INTO journal (entity) VALUES ('uid=ada');");
        }

        var instance = Waves.NewInstanceName();
        for (var start = 0; start < 2; start++)
        {
            using var host = Waves.Host(database, instance);
            await host.StartAsync();
            await host.Services.GetRequiredService<IWaveScheduler>().ScheduleAsync(Waves.PlanId, Waves.Wave + start, Waves.Operator, TimeProvider.System.GetUtcNow().AddHours(1), CancellationToken.None);
            await host.StopAsync();
        }

        await using var check = Open(database);
        var tables = await Strings(check, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name");
        tables.Should().Contain(["journal", "QRTZ_JOB_DETAILS", "QRTZ_TRIGGERS", "QRTZ_FIRED_TRIGGERS", "QRTZ_LOCKS"]);
        (await Strings(check, "SELECT entity FROM journal")).Should().Equal("uid=ada");
        (await Strings(check, "SELECT JOB_NAME FROM QRTZ_JOB_DETAILS ORDER BY JOB_NAME")).Should().HaveCount(2, "the first start's job survives the second start's provisioning");
    }

    [Fact]
    public async Task Quartz_and_another_writer_share_the_file_without_database_is_locked()
    {
        var database = Waves.NewDatabase();
        var execution = new FakeWaveExecution();
        using var host = Waves.Host(database, Waves.NewInstanceName(), services => services.AddSingleton<IWaveExecution>(execution));
        await host.StartAsync();
        await using (var setup = Open(database))
        {
            await Execute(setup, "CREATE TABLE journal (id INTEGER PRIMARY KEY, entity TEXT NOT NULL)");
        }

        // The executor's stand-in: write transactions held open for 20 ms, 5 ms apart. (Back to back with no
        // gap at all, this writer starved Quartz for over a minute here: SQLite's busy wait is not fair.)
        using var stop = new CancellationTokenSource();
        var writes = 0;
        var writer = Task.Run(async () =>
        {
            await using var connection = Open(database);
            while (!stop.IsCancellationRequested)
            {
                await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync();
                await using var insert = connection.CreateCommand();
                insert.Transaction = transaction;
                insert.CommandText = "INSERT INTO journal (entity) VALUES ('uid=x')";
                await insert.ExecuteNonQueryAsync();
                Thread.Sleep(20); // the lock is held, as a slow step would
                await transaction.CommitAsync();
                writes++;
                Thread.Sleep(5);
            }
        });

        var waves = host.Services.GetRequiredService<IWaveScheduler>();
        var now = TimeProvider.System.GetUtcNow();
        for (var wave = 0; wave < 8; wave++)
        {
            await waves.ScheduleAsync(Waves.PlanId, "wave-" + wave, Waves.Operator, now.AddMilliseconds(100 * wave), CancellationToken.None);
        }

        await execution.WaitForCallsAsync(8, Waves.Patience);
        await WaveJobTests.WaitUntilAsync(() => Task.FromResult(Volatile.Read(ref writes) >= 20 || writer.IsCompleted));
        await stop.CancelAsync();
        await writer;
        await host.StopAsync();

        execution.Calls.Select(call => call.Request.Wave).Should().BeEquivalentTo(Enumerable.Range(0, 8).Select(wave => "wave-" + wave));
        writes.Should().BeGreaterThanOrEqualTo(20, "the other writer was never failed with 'database is locked' (it would have thrown above)");
    }

    private static SqliteConnection Open(string database)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = database, DefaultTimeout = 30 }.ToString());
        connection.Open();
        return connection;
    }

    private static async Task Execute(SqliteConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<List<string>> Strings(SqliteConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await using var reader = await command.ExecuteReaderAsync();
        var values = new List<string>();
        while (await reader.ReadAsync())
        {
            values.Add(reader.GetString(0));
        }

        return values;
    }
}
