using System.Data.Common;
using AuthSplit.Core.Configuration;
using AuthSplit.Core.Errors;
using AuthSplit.Core.Execution;
using AuthSplit.Core.Secrets;
using AuthSplit.State.Backups;
using AuthSplit.State.Dialects;
using AuthSplit.State.Postgres;
using AuthSplit.State.Schema;
using AuthSplit.State.Sqlite;
using Microsoft.Data.Sqlite;

namespace AuthSplit.State;

/// <summary>Opens the configured store, creating and migrating it: the one entry point the CLI composes.</summary>
public static class ExecutionStoreFactory
{
    public static Task<IExecutionStore> OpenAsync(StateOptions options, string configDirectory, TimeProvider time, CancellationToken cancellationToken) =>
        OpenAsync(options, configDirectory, time, new ExecutionStoreSettings(), cancellationToken);

    /// <summary>The store as <see cref="IExecutionStore"/>; it is also <see cref="IAsyncDisposable"/> (pooled connections closed).</summary>
    public static async Task<IExecutionStore> OpenAsync(StateOptions options, string configDirectory, TimeProvider time, ExecutionStoreSettings settings, CancellationToken cancellationToken) =>
        await OpenStoreAsync(options, configDirectory, time, settings, cancellationToken).ConfigureAwait(false);

    /// <summary>The concrete store, for callers that dispose it (tests, the benchmark).</summary>
    public static Task<AdoExecutionStore> OpenStoreAsync(StateOptions options, string configDirectory, TimeProvider time, ExecutionStoreSettings settings, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(settings);
        return options.Provider switch
        {
            StateProvider.Sqlite => OpenSqliteAsync(options, configDirectory, time, settings, d => new SqliteDialect(d), cancellationToken),
            StateProvider.Postgres => OpenPostgresAsync(options, configDirectory, time, settings, d => new PostgresDialect(d), cancellationToken),
            _ => throw new InputException("state-provider-unsupported", $"State:Provider {options.Provider} is not available in this version; use Sqlite or Postgres", "State:Provider"),
        };
    }

    /// <summary>
    /// The PostgreSQL connection string <c>State</c> names, read and held to verified TLS as the store does:
    /// for Quartz's tables in the same database. A secret: the caller keeps it out of logs and messages.
    /// </summary>
    public static string ResolvePostgresConnectionString(StateOptions options, string configDirectory, Func<string, string?>? environment = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        return PostgresConnection.Resolve(options, ResolveOptional(options.ConnectionStringFile, configDirectory), environment).ConnectionString;
    }

    /// <summary>With a dialect of the caller's (tests replace one statement to make a transaction fail half-way).</summary>
    internal static async Task<AdoExecutionStore> OpenSqliteAsync(StateOptions options, string configDirectory, TimeProvider time, ExecutionStoreSettings settings, Func<ExecutionStoreSettings, SqliteDialect> dialectFactory, CancellationToken cancellationToken)
    {
        var path = SqliteStoreFile.Resolve(options, configDirectory);
        SqliteStoreFile.Prepare(path);
        var dialect = dialectFactory(settings);
        var connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path,

            // ReadWrite, not ReadWriteCreate: SqliteStoreFile created the file 0600; SQLite would create it with the umask's mode.
            Mode = SqliteOpenMode.ReadWrite,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
            DefaultTimeout = Math.Max(1, (int)Math.Ceiling(settings.BusyTimeout.TotalSeconds)),
        }.ToString();
        var dataSource = SqliteFactory.Instance.CreateDataSource(connectionString);
        var keyring = new BackupKeyring(
            new SecretSource(options.BackupKeyEnvVar, ResolveOptional(options.BackupKeyFile, configDirectory), "State:BackupKeyEnvVar", "State:BackupKeyFile", "the backup encryption key"),
            settings.Environment);
        var store = new AdoExecutionStore(dataSource, dialect, path, time, settings, keyring, () =>
        {
            using var connection = new SqliteConnection(connectionString);
            SqliteConnection.ClearPool(connection);
            return ValueTask.CompletedTask;
        });
        try
        {
            await InitializeAsync(dataSource, dialect, path, time, cancellationToken).ConfigureAwait(false);
            SqliteStoreFile.RestrictCompanions(path);
            return store;
        }
        catch
        {
            await store.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>PostgreSQL, with a dialect of the caller's (tests replace one statement to make a transaction fail half-way).</summary>
    internal static async Task<AdoExecutionStore> OpenPostgresAsync(StateOptions options, string configDirectory, TimeProvider time, ExecutionStoreSettings settings, Func<ExecutionStoreSettings, PostgresDialect> dialectFactory, CancellationToken cancellationToken)
    {
        var connection = PostgresConnection.Resolve(options, ResolveOptional(options.ConnectionStringFile, configDirectory), settings.Environment);
        var dialect = dialectFactory(settings);
        var dataSource = Npgsql.NpgsqlDataSource.Create(connection.ConnectionString);
        var keyring = new BackupKeyring(
            new SecretSource(options.BackupKeyEnvVar, ResolveOptional(options.BackupKeyFile, configDirectory), "State:BackupKeyEnvVar", "State:BackupKeyFile", "the backup encryption key"),
            settings.Environment);
        var store = new AdoExecutionStore(dataSource, dialect, connection.Description, time, settings, keyring, null);
        try
        {
            try
            {
                await using var session = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
                await SchemaMigrator.MigrateAsync(session, dialect, connection.Description, time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
            }
            catch (DbException ex)
            {
                throw dialect.Translate(ex, connection.Description);
            }

            return store;
        }
        catch
        {
            await store.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private static async Task InitializeAsync(DbDataSource dataSource, SqliteDialect dialect, string path, TimeProvider time, CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await dialect.PrepareConnectionAsync(connection, cancellationToken).ConfigureAwait(false);

            // WAL is a property of the file: set once, kept by every later connection and process.
            await using (var wal = connection.CreateCommand())
            {
                wal.CommandText = "PRAGMA journal_mode = WAL";
                var mode = (string?)await wal.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
                if (!string.Equals(mode, "wal", StringComparison.OrdinalIgnoreCase))
                {
                    throw new ExternalSystemException(path, $"SQLite could not switch the state database to WAL mode (it stayed in '{mode}'): is it on a network file system? Put State:Path on a local disk");
                }
            }

            await SchemaMigrator.MigrateAsync(connection, dialect, path, time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        }
        catch (DbException ex)
        {
            throw dialect.Translate(ex, path);
        }
    }

    private static string? ResolveOptional(string? path, string directory) =>
        string.IsNullOrWhiteSpace(path) ? path : Path.GetFullPath(Path.Combine(directory, path));
}
