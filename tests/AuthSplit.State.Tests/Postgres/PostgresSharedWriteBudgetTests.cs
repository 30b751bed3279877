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
