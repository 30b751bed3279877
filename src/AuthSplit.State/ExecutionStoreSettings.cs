namespace AuthSplit.State;

/// <summary>How the store runs, beyond the config's <c>State</c> section: what tests and the benchmark change.</summary>
public sealed record ExecutionStoreSettings
{
    /// <summary>How long a write waits for another process's write lock before failing with <c>state-locked</c>.</summary>
    public TimeSpan BusyTimeout { get; init; } = ExecutionStoreDefaults.BusyTimeout;

    /// <summary>SQLite's durability at commit; <see cref="SqliteSynchronous.Full"/> unless measuring.</summary>
    public SqliteSynchronous Synchronous { get; init; } = SqliteSynchronous.Full;

    /// <summary>The node named in ledger records that carry no actor of their own (approvals, pauses).</summary>
    public string Node { get; init; } = System.Environment.MachineName;

    /// <summary>Where environment variables are read from (the backup key's); the process environment when null.</summary>
    public Func<string, string?>? Environment { get; init; }
}

/// <summary>SQLite's <c>PRAGMA synchronous</c> in WAL mode.</summary>
public enum SqliteSynchronous
{
    /// <summary>The WAL is synced at every commit: a committed step survives a power cut.</summary>
    Full,

    /// <summary>The WAL is synced only at checkpoints: a committed step survives a process crash, not a power cut.</summary>
    Normal,
}

public static class ExecutionStoreDefaults
{
    /// <summary>
    /// A write holds the lock for milliseconds (one step: three inserts and an fsync), so a wait this long
    /// means another process is stuck or holds the database open in a transaction.
    /// </summary>
    public static readonly TimeSpan BusyTimeout = TimeSpan.FromSeconds(15);
}
