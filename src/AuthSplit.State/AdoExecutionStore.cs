using System.Data.Common;
using System.Runtime.CompilerServices;
using AuthSplit.Core.Execution;
using AuthSplit.State.Backups;
using AuthSplit.State.Dialects;
using AuthSplit.State.Storage;

namespace AuthSplit.State;

/// <summary>
/// <see cref="IExecutionStore"/> written once over ADO.NET; every statement comes from the
/// <see cref="IStoreDialect"/>. Each call opens a (pooled) connection, so one instance serves concurrent
/// callers; every write is one transaction started with the write lock held, so the ledger's head is
/// read and extended by one writer at a time, across processes too.
/// </summary>
public sealed partial class AdoExecutionStore : IExecutionStore, IAsyncDisposable
{
    private readonly DbDataSource _dataSource;
    private readonly IStoreDialect _dialect;
    private readonly TimeProvider _time;
    private readonly ExecutionStoreSettings _settings;
    private readonly BackupKeyring _keyring;
    private readonly Func<ValueTask>? _release;
    private readonly GroupCommitWriter _writer;

    internal AdoExecutionStore(DbDataSource dataSource, IStoreDialect dialect, string description, TimeProvider time, ExecutionStoreSettings settings, BackupKeyring keyring, Func<ValueTask>? release)
    {
        _dataSource = dataSource;
        _dialect = dialect;
        Description = description;
        _time = time;
        _settings = settings;
        _keyring = keyring;
        _release = release;
        _writer = new GroupCommitWriter(OpenAsync, dialect, ex => dialect.Translate(ex, description));
    }

    public string Description { get; }

    public async ValueTask DisposeAsync()
    {
        await _writer.DisposeAsync().ConfigureAwait(false);
        await _dataSource.DisposeAsync().ConfigureAwait(false);
        if (_release is not null)
        {
            await _release().ConfigureAwait(false);
        }
    }

    private async Task<DbConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await _dialect.PrepareConnectionAsync(connection, cancellationToken).ConfigureAwait(false);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// One write, in a transaction that holds the write lock, committed (possibly with other callers' writes:
    /// <see cref="GroupCommitWriter"/>) before the returned task completes; rolled back when
    /// <paramref name="work"/> throws. Once the work has run, the commit is not cancellable, so a cancelled
    /// caller never leaves it unknown whether a step was recorded.
    /// </summary>
    private Task<T> WriteAsync<T>(Func<DbConnection, DbTransaction, Task<T>> work, CancellationToken cancellationToken) =>
        _writer.WriteAsync(work, cancellationToken);

    /// <summary>Reads, on a (pooled) connection of their own, outside the writer's transactions.</summary>
    private Task<T> ReadAsync<T>(Func<DbConnection, Task<T>> work, CancellationToken cancellationToken) =>
        OnOwnConnectionAsync(work, cancellationToken);

    /// <summary>
    /// Writes that are single statements, each committed by itself (autocommit) on a connection of its own:
    /// not queued behind the writer's grouped commits and not under the ledger's lock (the leases).
    /// </summary>
    private Task<T> AutocommitAsync<T>(Func<DbConnection, Task<T>> statements, CancellationToken cancellationToken) =>
        OnOwnConnectionAsync(statements, cancellationToken);

    private async Task<T> OnOwnConnectionAsync<T>(Func<DbConnection, Task<T>> work, CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
            return await work(connection).ConfigureAwait(false);
        }
        catch (DbException ex)
        {
            throw _dialect.Translate(ex, Description);
        }
    }

    private async Task<List<T>> ReadListAsync<T>(string sql, Func<DbDataReader, T> map, CancellationToken cancellationToken, params (string Name, object? Value)[] parameters) =>
        await ReadAsync(async connection =>
        {
            await using var command = Storage.Sql.Command(connection, null, sql, parameters);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            var list = new List<T>();
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                list.Add(map(reader));
            }

            return list;
        }, cancellationToken).ConfigureAwait(false);

    /// <summary>Rows one at a time, the connection held while the caller enumerates.</summary>
    private async IAsyncEnumerable<T> StreamAsync<T>(string sql, Func<DbDataReader, T> map, [EnumeratorCancellation] CancellationToken cancellationToken, params (string Name, object? Value)[] parameters)
    {
        var connection = await TranslatingAsync(() => OpenAsync(cancellationToken)).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var command = Storage.Sql.Command(connection, null, sql, parameters);
            await using (command.ConfigureAwait(false))
            {
                var reader = await TranslatingAsync(() => command.ExecuteReaderAsync(cancellationToken)).ConfigureAwait(false);
                await using (reader.ConfigureAwait(false))
                {
                    while (await TranslatingAsync(() => reader.ReadAsync(cancellationToken)).ConfigureAwait(false))
                    {
                        yield return map(reader);
                    }
                }
            }
        }
    }

    private async Task<T> TranslatingAsync<T>(Func<Task<T>> work)
    {
        try
        {
            return await work().ConfigureAwait(false);
        }
        catch (DbException ex)
        {
            throw _dialect.Translate(ex, Description);
        }
    }

    private static async Task<int> ExecuteAsync(DbConnection connection, DbTransaction? transaction, string sql, CancellationToken cancellationToken, params (string Name, object? Value)[] parameters)
    {
        await using var command = Storage.Sql.Command(connection, transaction, sql, parameters);
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}
