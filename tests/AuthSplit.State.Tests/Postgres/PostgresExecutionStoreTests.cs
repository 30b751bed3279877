using System.Data.Common;
using AuthSplit.Core.Configuration;
using AuthSplit.Core.Execution;
using AuthSplit.State.Dialects;
using AuthSplit.Testing;
using Npgsql;

namespace AuthSplit.State.Tests.Postgres;

/// <summary>
/// The store's contract on PostgreSQL: a fresh database per test in the collection's private server,
/// reached over TLS verified against the lab CA (SSL Mode=VerifyFull, as the product requires), the
/// connection string given through an environment variable as an operator would.
/// </summary>
[Collection(PostgresFixture.Collection)]
public sealed class PostgresExecutionStoreTests(PostgresFixture fixture) : ExecutionStoreContractTests
{
    public const string Variable = "AUTHSPLIT_TEST_STATE_CONNECTION";

    private string? _database;

    protected override async Task<IExecutionStore> OpenStoreAsync(string? keyFile, TimeProvider time) =>
        await ExecutionStoreFactory.OpenStoreAsync(Options(keyFile), WorkDirectory, time, await SettingsAsync(), CancellationToken.None);

    protected override async Task<IExecutionStore> OpenWithFailingStatementAsync(string statement) =>
        await ExecutionStoreFactory.OpenPostgresAsync(Options(KeyFile), WorkDirectory, Time, await SettingsAsync(), s => new FailingDialect(s, statement), CancellationToken.None);

    protected override async Task ExecuteRawAsync(string sql)
    {
        await using var connection = await RawAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    protected override async Task<IReadOnlyList<byte[]>> ReadRawBlobsAsync(string sql) => await QueryAsync(sql, r => (byte[])r.GetValue(0));

    protected override async Task<IReadOnlyList<string>> ReadRawTextAsync(string sql) => await QueryAsync(sql, r => r.GetString(0));

    protected override async Task<long> CountRawAsync(string table) => (await QueryAsync($"SELECT COUNT(*) FROM {table}", r => r.GetInt64(0))).Single();

    private static StateOptions Options(string? keyFile) => new() { Provider = StateProvider.Postgres, ConnectionStringEnvVar = Variable, BackupKeyFile = keyFile };

    private async Task<ExecutionStoreSettings> SettingsAsync()
    {
        _database ??= await fixture.Server.CreateDatabaseAsync("contract", CancellationToken.None);
        var connectionString = fixture.Server.ConnectionString(_database);
        return new ExecutionStoreSettings
        {
            BusyTimeout = TimeSpan.FromSeconds(20),
            Node = "test-node",
            Environment = name => name == Variable ? connectionString : null,
        };
    }

    private async Task<NpgsqlConnection> RawAsync()
    {
        _database ??= await fixture.Server.CreateDatabaseAsync("contract", CancellationToken.None);
        var connection = new NpgsqlConnection(fixture.Server.ConnectionString(_database) + ";Pooling=false");
        await connection.OpenAsync();
        return connection;
    }

    private async Task<List<T>> QueryAsync<T>(string sql, Func<DbDataReader, T> map)
    {
        await using var connection = await RawAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<T>();
        while (await reader.ReadAsync())
        {
            rows.Add(map(reader));
        }

        return rows;
    }

    /// <summary>The PostgreSQL dialect with one statement aimed at a table that does not exist: it fails after the statements before it ran.</summary>
    private sealed class FailingDialect(ExecutionStoreSettings settings, string statement) : PostgresDialect(settings)
    {
        public override string InsertStep => statement == nameof(InsertStep) ? "INSERT INTO authsplit_missing_table (x) VALUES (@plan_id)" : base.InsertStep;

        public override string UpsertEntity => statement == nameof(UpsertEntity) ? "INSERT INTO authsplit_missing_table (x) VALUES (@plan_id)" : base.UpsertEntity;
    }
}
