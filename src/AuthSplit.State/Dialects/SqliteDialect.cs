using System.Data.Common;
using System.Globalization;
using AuthSplit.Core.Errors;
using Microsoft.Data.Sqlite;

namespace AuthSplit.State.Dialects;

/// <summary>
/// SQLite (Quartz's <c>SQLiteDelegate</c>): the connection's pragmas, <c>BEGIN IMMEDIATE</c> for writes and
/// SQLite's error codes as the project's exceptions. The SQL itself is the standard dialect's.
/// </summary>
public class SqliteDialect(ExecutionStoreSettings settings) : StandardDialect
{
    // SQLite result codes (primary, the low byte of the extended code).
    private const int Busy = 5;
    private const int Locked = 6;
    private const int ReadOnly = 8;
    private const int IoError = 10;
    private const int Corrupt = 11;
    private const int Full = 13;
    private const int CantOpen = 14;
    private const int NotADatabase = 26;

    public override string SchemaFolder => "Sqlite";

    // julianday keeps milliseconds: enough for leases of seconds.
    protected override string NowMicroseconds => "CAST(ROUND((julianday('now') - 2440587.5) * 86400000000.0) AS INTEGER)";

    public override async Task PrepareConnectionAsync(DbConnection connection, CancellationToken cancellationToken)
    {
        // synchronous and busy_timeout are per connection (journal_mode=WAL is kept in the file, set at open).
        // FULL syncs the WAL at every commit: a step reported done survives a power cut, not only a crash.
        using var command = connection.CreateCommand();
        command.CommandText = string.Create(CultureInfo.InvariantCulture,
            $"PRAGMA synchronous = {(settings.Synchronous == SqliteSynchronous.Full ? "FULL" : "NORMAL")}; PRAGMA busy_timeout = {(long)settings.BusyTimeout.TotalMilliseconds};");
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public override Task<DbTransaction> BeginWriteAsync(DbConnection connection, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();

        // deferred: false is BEGIN IMMEDIATE: the write lock is taken now, waiting up to the busy timeout,
        // rather than at the first write, where a deferred transaction that read first would fail with BUSY.
        return Task.FromResult<DbTransaction>(((SqliteConnection)connection).BeginTransaction(deferred: false));
    }

    public override bool SpoilsTransaction(DbException exception) =>
        exception is not SqliteException sqlite
        || (sqlite.SqliteErrorCode & 0xFF) is Busy or Locked or ReadOnly or IoError or Corrupt or Full or CantOpen or NotADatabase;

    public override Exception Translate(DbException exception, string description)
    {
        if (exception is not SqliteException sqlite)
        {
            return new ExternalSystemException(description, exception.Message, exception);
        }

        return (sqlite.SqliteErrorCode & 0xFF) switch
        {
            Busy or Locked => new ExternalSystemException(description,
                $"the state database stayed locked by another process for longer than {settings.BusyTimeout.TotalSeconds:0.#} s (state-locked): is another authsplit run or serve using it?", exception),
            ReadOnly => new InputException("state-read-only",
                "cannot write the state database: the file or its directory is read-only (SQLite also writes the -wal and -shm files beside it)", description),
            CantOpen => new InputException("state-unreadable", "cannot open the state database: check that the file and its directory are readable and writable by you", description),
            NotADatabase => new InputException("state-not-sqlite", "is not a SQLite database: State:Path must name an AuthSplit state database, or a file that does not exist yet", description),
            Corrupt => new InputException("state-corrupt", "the SQLite database is damaged (restore it from a backup, or run `sqlite3 FILE .recover`)", description),
            Full => new ExternalSystemException(description, "the disk is full: nothing was recorded; free space and run again", exception),
            IoError => new ExternalSystemException(description, $"disk I/O error: {sqlite.Message}", exception),
            _ => new ExternalSystemException(description, sqlite.Message, exception),
        };
    }

    // The write transaction (BEGIN IMMEDIATE) already holds the file's lock; SQLite has no FOR UPDATE.
    public override string LockWriteBudget => "SELECT writes_per_window, window_ms FROM authsplit_write_budgets WHERE tenant = @tenant AND app = @app";
}
