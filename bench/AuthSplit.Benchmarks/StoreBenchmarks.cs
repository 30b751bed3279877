using System.Diagnostics;
using System.Globalization;
using AuthSplit.Core.Configuration;
using AuthSplit.Core.Execution;
using AuthSplit.Core.Model;
using AuthSplit.Core.Planning.Format;
using AuthSplit.Lab.Servers;
using AuthSplit.State;
using Npgsql;

namespace AuthSplit.Benchmarks;

/// <summary>
/// <c>store-steps [steps] [writers]</c>: the state store alone, as a wave's executor uses it: <c>writers</c>
/// concurrent callers each recording steps (journal row, entity progress, ledger record) one after another,
/// on SQLite (synchronous FULL) and on a private PostgreSQL 15 over TLS (fsync off, as in cluster-wave). Per
/// step: the caller's wait (median, 99th percentile) and the store's throughput; on PostgreSQL also what the
/// server saw (pg_stat_statements): statements, their calls per step and time, and transactions per step.
/// Says where a wave's time goes on PostgreSQL without slapd, Graph or the executor in the way.
/// </summary>
public static class StoreBenchmarks
{
    private const string PlanId = "plan-bench";
    private const string Wave = "wave-bench";

    public static async Task RunAsync(int steps, int writers)
    {
        var work = Directory.CreateTempSubdirectory("authsplit-bench-store-").FullName;
        try
        {
            Console.WriteLine($"# store-steps: {steps:N0} steps from {writers} concurrent writers");
            await OneAsync("sqlite", new StateOptions { Provider = StateProvider.Sqlite, Path = Path.Combine(work, "state.db") }, null, steps, writers);

            await using var postgres = await PostgresServer.StartAsync(new PostgresServerOptions { NoSync = true }, CancellationToken.None);
            await postgres.ExecuteAsync("ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'", CancellationToken.None);
            await postgres.StopAsync();
            await postgres.StartAgainAsync(CancellationToken.None);
            var database = await postgres.CreateDatabaseAsync("bench", CancellationToken.None);
            var connectionString = postgres.ConnectionString(database);
            await using (var admin = NpgsqlDataSource.Create(connectionString))
            {
                await using var create = admin.CreateCommand("CREATE EXTENSION pg_stat_statements");
                await create.ExecuteNonQueryAsync();
            }

            await OneAsync("postgres", new StateOptions { Provider = StateProvider.Postgres, ConnectionStringEnvVar = "AUTHSPLIT_BENCH_POSTGRES" }, connectionString, steps, writers);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static async Task OneAsync(string name, StateOptions options, string? connectionString, int steps, int writers)
    {
        var settings = new ExecutionStoreSettings { Environment = variable => variable == "AUTHSPLIT_BENCH_POSTGRES" ? connectionString : null };
        await using var store = await ExecutionStoreFactory.OpenStoreAsync(options, Path.GetTempPath(), TimeProvider.System, settings, CancellationToken.None);
        var entities = Enumerable.Range(0, writers).Select(i => new EntityProgress
        {
            PlanId = PlanId,
            Wave = Wave,
            EntityId = $"entity-{i:D6}",
            Dn = $"uid=person{i},ou=people,dc=bench",
            Kind = EntityKind.Person,
            State = EntityState.Pending,
            Attempts = 0,
            UpdatedAt = DateTimeOffset.UtcNow,
        }).ToList();
        await store.RegisterEntitiesAsync(entities, CancellationToken.None);
        await ResetStatisticsAsync(connectionString);

        var actor = new ExecutionActor("benchmark", "node-1");
        var waits = new double[steps];
        var next = -1;
        var clock = Stopwatch.StartNew();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        await Task.WhenAll(entities.Select(entity => Task.Run(async () =>
        {
            int index;
            while ((index = Interlocked.Increment(ref next)) < steps)
            {
                var started = Stopwatch.GetTimestamp();
                var step = new StepRecord
                {
                    PlanId = PlanId,
                    Wave = Wave,
                    EntityId = entity.EntityId,
                    Step = StepAction.DisableLegacyAccount,
                    Outcome = StepOutcome.Done,
                    Attempt = 1,
                    Before = """{"pwdAccountLockedTime":null}""",
                    After = """{"pwdAccountLockedTime":"000001010000Z"}""",
                    Actor = actor,
                    At = DateTimeOffset.UtcNow,
                };
                await store.RecordStepAsync(step, entity with { State = EntityState.InProgress, LastStep = step.Step, UpdatedAt = step.At }, CancellationToken.None);
                waits[index] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            }
        })));
        var seconds = clock.Elapsed.TotalSeconds;
        var cpuSeconds = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
        Array.Sort(waits);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{name}: {steps:N0} steps in {seconds:0.00} s = {steps / seconds:N0}/s; a step's wait median {waits[steps / 2]:0.00} ms, p99 {waits[(int)(steps * 0.99)]:0.00} ms; client CPU {cpuSeconds:0.0} s ({cpuSeconds * 1000 / steps:0.00} ms a step)"));

        var verified = 0L;
        await foreach (var record in store.ReadLedgerAsync(null, CancellationToken.None))
        {
            verified = record.Sequence;
        }

        Console.WriteLine($"  ledger: {verified:N0} records");
        if (connectionString is not null)
        {
            await PrintStatisticsAsync(connectionString, steps);
        }
    }

    private static async Task ResetStatisticsAsync(string? connectionString)
    {
        if (connectionString is null)
        {
            return;
        }

        await using var source = NpgsqlDataSource.Create(connectionString);
        await using var reset = source.CreateCommand("SELECT pg_stat_statements_reset(), pg_stat_reset()");
        await reset.ExecuteNonQueryAsync();
    }

    private static async Task PrintStatisticsAsync(string connectionString, int steps)
    {
        await using var source = NpgsqlDataSource.Create(connectionString);
        await using (var statements = source.CreateCommand(
            "SELECT calls, total_exec_time, left(regexp_replace(query, '\\s+', ' ', 'g'), 90) FROM pg_stat_statements "
            + "WHERE query NOT LIKE '%pg_stat%' ORDER BY calls DESC LIMIT 15"))
        await using (var reader = await statements.ExecuteReaderAsync())
        {
            Console.WriteLine("  | calls | per step | server ms total | statement |");
            long total = 0;
            while (await reader.ReadAsync())
            {
                var calls = reader.GetInt64(0);
                total += calls;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  | {calls:N0} | {(double)calls / steps:0.00} | {reader.GetDouble(1):0} | {reader.GetString(2)} |"));
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  statements per step (top 15): {(double)total / steps:0.00}"));
        }

        await using var transactions = source.CreateCommand("SELECT xact_commit, xact_rollback FROM pg_stat_database WHERE datname = current_database()");
        await using var counts = await transactions.ExecuteReaderAsync();
        await counts.ReadAsync();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  transactions: {counts.GetInt64(0):N0} committed ({(double)steps / Math.Max(1, counts.GetInt64(0)):0.0} steps each), {counts.GetInt64(1):N0} rolled back"));
    }
}
