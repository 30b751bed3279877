namespace AuthSplit.Graph.Resilience;

/// <summary>
/// How long writes waited for the write limiter (the local bucket or the cluster's shared budget): totals
/// for a metric, and an event per wait for whoever records a histogram. Thread-safe.
/// </summary>
public sealed class WritePacingMeter
{
    private long _requests;
    private long _writes;
    private long _delayTicks;
    private long _grantsRefused;
    private long _permitsExpired;

    /// <summary>Raised after each paced request: its writes and how long it waited for them.</summary>
    public event Action<int, TimeSpan>? Paced;

    /// <summary>Requests that carried writes.</summary>
    public long Requests => Interlocked.Read(ref _requests);

    /// <summary>Writes let through.</summary>
    public long Writes => Interlocked.Read(ref _writes);

    /// <summary>The time writes spent waiting for the limiter, summed over requests.</summary>
    public TimeSpan TotalDelay => TimeSpan.FromTicks(Interlocked.Read(ref _delayTicks));

    /// <summary>Shared budget: times the database said to wait.</summary>
    public long GrantsRefused => Interlocked.Read(ref _grantsRefused);

    /// <summary>Shared budget: granted writes dropped unspent because their validity ran out.</summary>
    public long PermitsExpired => Interlocked.Read(ref _permitsExpired);

    internal void Record(int writes, TimeSpan delay)
    {
        Interlocked.Increment(ref _requests);
        Interlocked.Add(ref _writes, writes);
        Interlocked.Add(ref _delayTicks, delay.Ticks);
        Paced?.Invoke(writes, delay);
    }

    internal void RecordRefusal()
    {
        Interlocked.Increment(ref _grantsRefused);
        Core.Observability.AuthSplitMetrics.GraphBudgetRefusals.Add(1);
    }

    internal void RecordExpired(int permits)
    {
        Interlocked.Add(ref _permitsExpired, permits);
        Core.Observability.AuthSplitMetrics.GraphBudgetReturned.Add(permits);
    }
}
