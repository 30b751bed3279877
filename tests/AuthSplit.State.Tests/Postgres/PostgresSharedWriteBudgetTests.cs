using AuthSplit.Core.Configuration;
using AuthSplit.Core.Execution;
using AuthSplit.Testing;
using Npgsql;

namespace AuthSplit.State.Tests.Postgres;

/// <summary>The shared write budget's contract on PostgreSQL: each store opened is its own pool, as another node's would be.</summary>
[Collection(PostgresFixture.Collection)]
public sealed class PostgresSharedWriteBudgetTests(PostgresFixture fixture) : SharedWriteBudgetContractTests
{
    private const string Variable = "AUTHSPLIT_TEST_STATE_CONNECTION";

    private string? _database;

    protected override async Task<IExecutionStore> OpenStoreAsync()
    {
        var connectionString = await ConnectionStringAsync();
        return await ExecutionStoreFactory.OpenStoreAsync(
            new StateOptions { Provider = StateProvider.Postgres, ConnectionStringEnvVar = Variable },
            WorkDirectory,
            TimeProvider.System,
            new ExecutionStoreSettings { BusyTimeout = TimeSpan.FromSeconds(20), Environment = name => name == Variable ? connectionString : null },
            CancellationToken.None);
    }

    /// <summary>
    /// A node frozen (SIGSTOP, a VM pause) in the middle of a grant decision, holding its budget's row: the server
    /// ends its session within two thirds of the lock wait, so the other nodes' decisions go on. Before, only the
    /// store's write lock had that, and a node frozen in a decision made the others fail with state-locked.
    /// </summary>
    [Fact]
    public async Task A_node_frozen_in_the_middle_of_a_grant_decision_does_not_stop_the_other_nodes_grants()
    {
        var key = new Core.Execution.Cluster.WriteBudgetKey("tenant-frozen", "app-1");
        var limit = new Core.Execution.Cluster.WriteBudgetLimit(100, TimeSpan.FromSeconds(30), burst: 20);
        var other = await OpenBudgetAsync();
        (await other.AgreeAsync(key, limit, Ct)).Should().BeNull();

        // The frozen node: the product's decision transaction, its budget row locked, then nothing more.
        var settings = new ExecutionStoreSettings { BusyTimeout = TimeSpan.FromSeconds(3) };
        await using var frozen = new NpgsqlConnection(await ConnectionStringAsync() + ";Pooling=false");
        await frozen.OpenAsync();
        var transaction = await new Dialects.PostgresDialect(settings).BeginWriteBudgetAsync(frozen, Ct);
        await using (var lockRow = new NpgsqlCommand("SELECT writes_per_window FROM authsplit_write_budgets WHERE tenant = @t AND app = @a FOR UPDATE", frozen, (NpgsqlTransaction)transaction))
        {
            lockRow.Parameters.AddWithValue("t", key.Tenant);
            lockRow.Parameters.AddWithValue("a", key.App);
            (await lockRow.ExecuteScalarAsync()).Should().Be(100);
        }

        // The other node waits up to 20 s (its BusyTimeout); the frozen session is ended after 2 s.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var grant = await other.RequestAsync(new Core.Execution.Cluster.WriteGrantRequest(key, limit, 5, "node-2"), Ct);

        grant.IsGranted.Should().BeTrue();
        clock.Elapsed.Should().BeGreaterThan(TimeSpan.FromSeconds(1.5), "it waited for the frozen node's row lock").And.BeLessThan(TimeSpan.FromSeconds(15));
        var resumed = async () =>
        {
            await using var after = new NpgsqlCommand("SELECT 1", frozen, (NpgsqlTransaction)transaction);
            await after.ExecuteScalarAsync();
        };
        await resumed.Should().ThrowAsync<Exception>("the server ended the frozen node's session: it cannot go on with its decision");
    }

    protected override async Task<IReadOnlyList<(string Tenant, string App, long At, int Writes)>> ReadGrantsAsync()
    {
        await using var connection = new NpgsqlConnection(await ConnectionStringAsync() + ";Pooling=false");
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT tenant, app, granted_at, writes FROM authsplit_write_grants ORDER BY granted_at", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<(string, string, long, int)>();
        while (await reader.ReadAsync())
        {
            rows.Add((reader.GetString(0), reader.GetString(1), reader.GetInt64(2), reader.GetInt32(3)));
        }

        return rows;
    }

    private async Task<string> ConnectionStringAsync()
    {
        _database ??= await fixture.Server.CreateDatabaseAsync("budget", CancellationToken.None);
        return fixture.Server.ConnectionString(_database);
    }
}
