namespace AuthSplit.Scheduling.Store;

/// <summary>Which database Quartz's job store lives in: always the state store's own database.</summary>
public enum SchedulerStoreProvider
{
    /// <summary>One node: SQLite cannot run clustered (Quartz's own warning: "locking problems").</summary>
    Sqlite,

    /// <summary>
    /// PostgreSQL: Quartz's <c>QRTZ_</c> tables in the state store's database (created by the scheduler at
    /// start, Quartz's own PostgreSQL schema), clustered by default so several <c>serve</c> nodes share them.
    /// </summary>
    Postgres,
}

/// <summary>Where and how the scheduler keeps its jobs and triggers.</summary>
public sealed class SchedulerStoreOptions
{
    public SchedulerStoreProvider Provider { get; set; } = SchedulerStoreProvider.Sqlite;

    /// <summary>SQLite: the state store's database file (<c>State:Path</c>, resolved by the caller). Quartz's <c>QRTZ_</c> tables are created in it beside ours.</summary>
    public string? SqlitePath { get; set; }

    /// <summary>
    /// PostgreSQL: the state store's connection string, already held to verified TLS by AuthSplit.State's
    /// resolver. A secret: never logged, never put in messages.
    /// </summary>
    public string? PostgresConnectionString { get; set; }

    /// <summary>
    /// PostgreSQL: runs Quartz clustered (<c>UseClustering</c>, <c>InstanceId</c> AUTO): every node with the
    /// same <see cref="InstanceName"/> on the database is one scheduler; a node that stops checking in has its
    /// triggers recovered by another. Ignored (always off) on SQLite, which cannot run clustered.
    /// </summary>
    public bool Clustered { get; set; } = true;

    /// <summary>How often a clustered node checks in to the scheduler state table (Quartz's documented setting).</summary>
    public TimeSpan CheckinInterval { get; set; } = SchedulerStoreDefaults.CheckinInterval;

    /// <summary>How late a node's check-in may be before the other nodes take it for dead and recover its jobs.</summary>
    public TimeSpan CheckinMisfireThreshold { get; set; } = SchedulerStoreDefaults.CheckinMisfireThreshold;

    /// <summary>
    /// How long a statement waits for another writer of the same file before "database is locked" (quartznet#2323).
    /// The executor writes the journal to this file while Quartz writes its triggers: both must wait for each other, not fail.
    /// </summary>
    public TimeSpan BusyTimeout { get; set; } = SchedulerStoreDefaults.BusyTimeout;

    /// <summary>
    /// How often an idle scheduler reads the store for triggers. A wave scheduled by another process
    /// (<c>authsplit schedule</c> beside a running <c>serve</c>) is seen within this time; Quartz's own default is 30 s.
    /// </summary>
    public TimeSpan PollInterval { get; set; } = SchedulerStoreDefaults.PollInterval;

    /// <summary>
    /// Parts of one wave (<c>Execution:PartsPerNode</c>) this node runs at once. Each wave's part triggers carry
    /// an execution group of their own, limited on each node by Quartz at acquisition: a node at its limit does
    /// not take the wave's next part, which stays waiting for a node with room (not a retry that may land on the
    /// same node again).
    /// </summary>
    public int PartsPerNode { get; set; } = SchedulerStoreDefaults.PartsPerNode;

    /// <summary>The scheduler's name in <c>QRTZ_</c> rows. Fixed, so a restarted process finds (and recovers) what the last one left.</summary>
    public string InstanceName { get; set; } = SchedulerStoreDefaults.InstanceName;
}

public static class SchedulerStoreDefaults
{
    public const string InstanceName = "authsplit";

    public const int PartsPerNode = 1;

    public static readonly TimeSpan BusyTimeout = TimeSpan.FromSeconds(30);

    public static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(5);

    // Quartz's documented cluster example (10 s / 20 s): a dead node's wave is taken over within about 30 s.
    public static readonly TimeSpan CheckinInterval = TimeSpan.FromSeconds(10);

    public static readonly TimeSpan CheckinMisfireThreshold = TimeSpan.FromSeconds(20);
}
