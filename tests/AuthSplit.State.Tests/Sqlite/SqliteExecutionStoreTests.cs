using System.Data.Common;
using AuthSplit.Core.Configuration;
using AuthSplit.Core.Execution;
using AuthSplit.State.Dialects;
using Microsoft.Data.Sqlite;

namespace AuthSplit.State.Tests.Sqlite;

/// <summary>The store's contract on SQLite: a database file in a fresh directory per test.</summary>
public sealed class SqliteExecutionStoreTests : ExecutionStoreContractTests
{
    private string DatabasePath => Path.Combine(WorkDirectory, "state", StateDefaults.SqliteFileName);

    protected override async Task<IExecutionStore> OpenStoreAsync(string? keyFile, TimeProvider time) =>
        await ExecutionStoreFactory.OpenStoreAsync(Options(keyFile), Path.GetDirectoryName(DatabasePath)!, time, Settings, CancellationToken.None);

    protected override async Task<IExecutionStore> OpenWithFailingStatementAsync(string statement)
    {
        var store = await ExecutionStoreFactory.OpenSqliteAsync(Options(KeyFile), Path.GetDirectoryName(DatabasePath)!, Time, Settings, s => new FailingDialect(s, statement), CancellationToken.None);
        return store;
    }

    protected override async Task ExecuteRawAsync(string sql)
    {
        await using var connection = await RawAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }

    protected override async Task<IReadOnlyList<byte[]>> ReadRawBlobsAsync(string sql) => await QueryAsync(sql, r => (byte[])r.GetValue(0));

    protected override async Task<IReadOnlyList<string>> ReadRawTextAsync(string sql) => await QueryAsync(sql, r => r.GetString(0));

    protected override async Task<long> CountRawAsync(string table) => (await QueryAsync($"SELECT COUNT(*) FROM {table}", r => r.GetInt64(0))).Single();

    private static ExecutionStoreSettings Settings => new() { BusyTimeout = TimeSpan.FromSeconds(20), Node = "test-node" };

    private static StateOptions Options(string? keyFile) => new() { Provider = StateProvider.Sqlite, BackupKeyFile = keyFile };

    private async Task<SqliteConnection> RawAsync()
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = DatabasePath, Pooling = false, DefaultTimeout = 20 }.ToString());
        await connection.OpenAsync();
        return connection;
    }

    private async Task<List<T>> QueryAsync<T>(string sql, Func<DbDataReader, T> map)
    {
        await using var connection = await RawAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<T>();
        while (await reader.ReadAsync())
        {
            rows.Add(map(reader));
        }

        return rows;
    }

    /// <summary>The SQLite dialect with one statement aimed at a table that does not exist: it fails after the statements before it ran.</summary>
    private sealed class FailingDialect(ExecutionStoreSettings settings, string statement) : SqliteDialect(settings)
    {
        public override string InsertStep => statement == nameof(InsertStep) ? "INSERT INTO authsplit_missing_table (x) VALUES (@plan_id)" : base.InsertStep;

        public override string UpsertEntity => statement == nameof(UpsertEntity) ? "INSERT INTO authsplit_missing_table (x) VALUES (@plan_id)" : base.UpsertEntity;
    }
}
