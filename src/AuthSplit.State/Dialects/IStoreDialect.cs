using System.Data.Common;

namespace AuthSplit.State.Dialects;

/// <summary>
/// Everything the store says to a database that is not ADO.NET itself: every SQL statement, the schema
/// scripts, how a write transaction starts and what a provider's error means. The store's logic
/// (<see cref="AdoExecutionStore"/>) is written once over <see cref="DbConnection"/>; a provider is a
/// dialect (Quartz's <c>StdAdoDelegate</c> / <c>SQLiteDelegate</c> shape). Statements use <c>@name</c>
/// parameters, which both Microsoft.Data.Sqlite and Npgsql accept.
/// </summary>
public interface IStoreDialect
{
    /// <summary>The folder of its schema scripts under <c>Schema/</c> (<c>Sqlite</c>, <c>Postgres</c>).</summary>
    string SchemaFolder { get; }

    /// <summary>Per-connection settings, run on every connection the store opens (SQLite pragmas).</summary>
    Task PrepareConnectionAsync(DbConnection connection, CancellationToken cancellationToken);

    /// <summary>
    /// Starts a transaction that holds the write lock from its first statement, so that two writers
    /// never both read the ledger's head (SQLite: <c>BEGIN IMMEDIATE</c>; PostgreSQL: a table lock).
    /// </summary>
    Task<DbTransaction> BeginWriteAsync(DbConnection connection, CancellationToken cancellationToken);

    /// <summary>The provider's exception as one of the project's: the file or server named, what to do.</summary>
    Exception Translate(DbException exception, string description);

    /// <summary>
    /// Whether the error spoils the whole transaction (lock, I/O, disk) rather than one statement (a
    /// constraint, a bad statement): a grouped commit then fails every write in it instead of only one.
    /// </summary>
    bool SpoilsTransaction(DbException exception);

    string CreateSchemaVersionTable { get; }

    string SelectSchemaVersion { get; }

    string InsertSchemaVersion { get; }

    string InsertPlan { get; }

    string SelectPlan { get; }

    string SelectApproval { get; }

    string InsertApproval { get; }

    string SelectApprovals { get; }

    string SelectWave { get; }

    string SelectWaveRuns { get; }

    string SelectRunningWaves { get; }

    string UpsertWave { get; }

    string InsertEntityIfMissing { get; }

    string UpsertEntity { get; }

    string SelectEntities { get; }

    string SelectEntity { get; }

    string InsertStep { get; }

    string SelectSteps { get; }

    string SelectDoneStepsOfOtherPlans { get; }

    string CountDeletes { get; }

    string SelectPause { get; }

    string UpsertPause { get; }

    string SelectBackup { get; }

    string SelectNewestBackup { get; }

    string InsertBackup { get; }

    string SelectLedgerHead { get; }

    string InsertLedger { get; }

    string SelectLedger { get; }

    string SelectLedgerOfWave { get; }

    string SelectGateEvents { get; }

    string AcquireLease { get; }

    string SelectLeaseHolder { get; }

    string RenewLease { get; }

    string TakeOverLease { get; }

    string ReleaseLease { get; }

    /// <summary>Every lease, with the database's clock as the last column.</summary>
    string SelectLeases { get; }

    // ---- the cluster's shared Graph write budget (AdoExecutionStore.WriteBudget.cs)

    /// <summary>
    /// Starts the transaction of one grant decision. It serialises only decisions about the same budget
    /// (PostgreSQL: the budget row's lock, taken by <see cref="LockWriteBudget"/>), not the store's writes.
    /// </summary>
    Task<DbTransaction> BeginWriteBudgetAsync(DbConnection connection, CancellationToken cancellationToken);

    /// <summary>Creates the budget's row of a tenant and app with its limit if it is missing (@tenant, @app, @writes_per_window, @window_ms).</summary>
    string InsertWriteBudget { get; }

    /// <summary>Locks the budget's row until the transaction ends (@tenant, @app) and reads its limit: writes_per_window, window_ms (null on a row made before the limit was kept).</summary>
    string LockWriteBudget { get; }

    /// <summary>Gives a budget made before its limit was kept this limit (@tenant, @app, @writes_per_window, @window_ms).</summary>
    string SetWriteBudgetLimit { get; }

    /// <summary>The database's clock, read after the lock: microseconds since the Unix epoch.</summary>
    string SelectDatabaseMicroseconds { get; }

    /// <summary>The grants of a budget stamped after @after (microseconds): granted_at, writes.</summary>
    string SelectWriteGrants { get; }

    /// <summary>Records a grant (@tenant, @app, @granted_at, @writes, @node) and returns its id.</summary>
    string InsertWriteGrant { get; }

    /// <summary>Subtracts @writes unsent writes from grant @id of @tenant and @app (never below zero).</summary>
    string ReturnWriteGrant { get; }

    /// <summary>Forgets a budget's grants stamped at or before @before: no decision needs them.</summary>
    string DeleteWriteGrants { get; }
}
