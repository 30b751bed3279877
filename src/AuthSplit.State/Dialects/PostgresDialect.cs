using System.Data;
using System.Data.Common;
using System.Globalization;
using System.Security.Authentication;
using AuthSplit.Core.Errors;
using Npgsql;

namespace AuthSplit.State.Dialects;

/// <summary>
/// PostgreSQL (Quartz's <c>PostgreSQLDelegate</c>): the standard dialect's SQL, a write transaction that
/// first takes one transaction-level advisory lock, and PostgreSQL's errors as the project's exceptions.
/// Several processes (nodes) write one database at once; the lock makes every write transaction, and so
/// every ledger append, run one after another across all of them, so the hash chain stays a single chain
/// (read head, append, commit) without a serialisable isolation level and its retries. The lock is per
/// database and released by the commit or rollback, also when a node dies (the server ends its session).
/// </summary>
public class PostgresDialect(ExecutionStoreSettings settings) : StandardDialect
{
    /// <summary>The advisory lock key of the store's writes: "AuthSplt" as a 64-bit number (any constant would do; Quartz uses none).</summary>
    public const long WriteLockKey = 0x41757468_53706C74;

    public override string SchemaFolder => "Postgres";

    // clock_timestamp, not now(): the time of the statement, not of its transaction's start.
    protected override string NowMicroseconds => "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000000 AS BIGINT)";

    public override Task PrepareConnectionAsync(DbConnection connection, CancellationToken cancellationToken) => Task.CompletedTask;

    // lock_timeout bounds the wait for another node's write (as SQLite's busy timeout does): 55P03 then.
    // idle_in_transaction_session_timeout frees the lock of a node that stops in the middle of a write
    // (frozen, paused, cut off): the server ends that session and rolls its write back well before the
    // others' lock_timeout, so one stuck node cannot stop the cluster's writes. Its write never reported
    // success, so nothing it recorded is lost; its lease is lost by then too.
    public override Task<DbTransaction> BeginWriteAsync(DbConnection connection, CancellationToken cancellationToken) =>
        BeginBoundedAsync(connection, string.Create(CultureInfo.InvariantCulture, $"; SELECT pg_advisory_xact_lock({WriteLockKey})"), cancellationToken);

    // A failed statement fails its own write (the writer rolls back and commits the others again without it);
    // only a lost session, a failed lock wait, or a server in trouble fails every write of the transaction.
    public override bool SpoilsTransaction(DbException exception) =>
        exception is not PostgresException postgres
        || postgres.SqlState is PostgresErrorCodes.LockNotAvailable or PostgresErrorCodes.QueryCanceled
        || postgres.SqlState[..2] is "08" or "25" or "40" or "53" or "57" or "58" or "XX";

    public override Exception Translate(DbException exception, string description)
    {
        if (exception is PostgresException postgres)
        {
            return postgres.SqlState switch
            {
                PostgresErrorCodes.LockNotAvailable => new ExternalSystemException(description,
                    $"another node held the state database's write lock for longer than {settings.BusyTimeout.TotalSeconds:0.#} s (state-locked): is a node stuck in a transaction?", exception),
                PostgresErrorCodes.InvalidPassword or PostgresErrorCodes.InvalidAuthorizationSpecification => new InputException("state-auth-failed",
                    $"PostgreSQL refused the user or password of the connection string ({postgres.SqlState}): check the credentials in the place State:ConnectionStringEnvVar or State:ConnectionStringFile names", description),
                PostgresErrorCodes.InvalidCatalogName => new InputException("state-database-missing",
                    "the database named in the connection string does not exist: create it (createdb) and give the user CREATE on it; AuthSplit creates its tables itself", description),
                PostgresErrorCodes.InsufficientPrivilege => new InputException("state-permission-denied",
                    $"the connection string's user lacks a privilege AuthSplit needs ({postgres.MessageText}): it must own, or have CREATE and read/write on, the tables of its schema", description),
                PostgresErrorCodes.DiskFull => new ExternalSystemException(description, "the database server's disk is full: nothing was recorded; free space and run again", exception),
                _ when postgres.SqlState.StartsWith("57P", StringComparison.Ordinal) || postgres.SqlState.StartsWith("08", StringComparison.Ordinal) => new ExternalSystemException(description,
                    $"the database server ended the session or is shutting down ({postgres.SqlState}): nothing after the last reported step was recorded; run again when it is back", exception),
                _ => new ExternalSystemException(description, $"{postgres.SqlState}: {postgres.MessageText}", exception),
            };
        }

        // Npgsql's own failures: the server could not be reached, TLS failed, or the session broke. Its
        // messages name the host and port, never the password; say which, and that nothing was lost.
        var inner = exception.InnerException;
        var cause = inner switch
        {
            AuthenticationException => "the TLS handshake failed: the server's certificate is not trusted for this host name (give the CA in the connection string's Root Certificate, and a Host the certificate names)",
            TimeoutException => "no answer in time",
            System.Net.Sockets.SocketException socket => socket.Message,
            IOException io => io.Message,
            _ => exception.Message,
        };
        return new ExternalSystemException(description, $"cannot use the PostgreSQL state database: {cause}; nothing further is recorded until it is reachable", exception);
    }

    /// <summary>
    /// Not the store's write lock: grant decisions wait only for each other, on their budget's row
    /// (<see cref="StandardDialect.LockWriteBudget"/>), so a busy ledger never delays a node's Graph writes.
    /// As with the write lock, a node frozen in the middle of a decision has its session ended by the server
    /// (<c>idle_in_transaction_session_timeout</c>, two thirds of the others' lock wait) and its grant rolled
    /// back (it never received it): one stuck node cannot stop the cluster's Graph writes.
    /// </summary>
    public override Task<DbTransaction> BeginWriteBudgetAsync(DbConnection connection, CancellationToken cancellationToken) =>
        BeginBoundedAsync(connection, string.Empty, cancellationToken);

    // A transaction whose lock waits fail after BusyTimeout and whose session the server ends when it sits idle
    // for two thirds of that (see BeginWriteAsync); `then` is run in it first (a lock to take).
    private async Task<DbTransaction> BeginBoundedAsync(DbConnection connection, string then, CancellationToken cancellationToken)
    {
        var transaction = await connection.BeginTransactionAsync(IsolationLevel.ReadCommitted, cancellationToken).ConfigureAwait(false);
        try
        {
            await using var command = connection.CreateCommand();
            command.Transaction = transaction;
            var waitMs = Math.Max(1, (long)settings.BusyTimeout.TotalMilliseconds);
            command.CommandText = string.Create(CultureInfo.InvariantCulture,
                $"SET LOCAL lock_timeout = {waitMs}; SET LOCAL idle_in_transaction_session_timeout = {Math.Max(1, waitMs * 2 / 3)}{then}");
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            return transaction;
        }
        catch
        {
            await transaction.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }
}
