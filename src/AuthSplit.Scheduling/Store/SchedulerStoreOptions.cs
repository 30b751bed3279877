namespace AuthSplit.Scheduling.Store;

/// <summary>Which database Quartz's job store lives in: always the state store's own database.</summary>
public enum SchedulerStoreProvider
{
    /// <summary>One node: SQLite cannot run clustered (Quartz's own warning: "locking problems").</summary>
    Sqlite,

    /// <summary>Clustered nodes sharing one store. Not built yet (a later issue): the seam is here so the CLI's switch has both arms.</summary>
    Postgres,
}

/// <summary>Where and how the scheduler keeps its jobs and triggers.</summary>
public sealed class SchedulerStoreOptions
{
    public SchedulerStoreProvider Provider { get; set; } = SchedulerStoreProvider.Sqlite;

    /// <summary>SQLite: the state store's database file (<c>State:Path</c>, resolved by the caller). Quartz's <c>QRTZ_</c> tables are created in it beside ours.</summary>
    public string? SqlitePath { get; set; }

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

    /// <summary>The scheduler's name in <c>QRTZ_</c> rows. Fixed, so a restarted process finds (and recovers) what the last one left.</summary>
    public string InstanceName { get; set; } = SchedulerStoreDefaults.InstanceName;
}

public static class SchedulerStoreDefaults
{
    public const string InstanceName = "authsplit";

    public static readonly TimeSpan BusyTimeout = TimeSpan.FromSeconds(30);

    public static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(5);
}
