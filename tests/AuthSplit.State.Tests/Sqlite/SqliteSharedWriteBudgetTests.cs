using AuthSplit.Core.Configuration;
using AuthSplit.Core.Execution;
using Microsoft.Data.Sqlite;

namespace AuthSplit.State.Tests.Sqlite;

/// <summary>The shared write budget's contract on SQLite (one machine, but the same rule and schema).</summary>
public sealed class SqliteSharedWriteBudgetTests : SharedWriteBudgetContractTests
{
    private string DatabasePath => Path.Combine(WorkDirectory, "state", StateDefaults.SqliteFileName);

    protected override async Task<IExecutionStore> OpenStoreAsync() =>
        await ExecutionStoreFactory.OpenStoreAsync(new StateOptions { Provider = StateProvider.Sqlite }, Path.GetDirectoryName(DatabasePath)!, TimeProvider.System,
            new ExecutionStoreSettings { BusyTimeout = TimeSpan.FromSeconds(20), Synchronous = SqliteSynchronous.Normal }, CancellationToken.None);

    protected override async Task<IReadOnlyList<(string Tenant, string App, long At, int Writes)>> ReadGrantsAsync()
    {
        await using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = DatabasePath, Pooling = false, DefaultTimeout = 20 }.ToString());
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT tenant, app, granted_at, writes FROM authsplit_write_grants ORDER BY granted_at";
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<(string, string, long, int)>();
        while (await reader.ReadAsync())
        {
            rows.Add((reader.GetString(0), reader.GetString(1), reader.GetInt64(2), reader.GetInt32(3)));
        }

        return rows;
    }
}
