namespace AuthSplit.Core.Execution.Cluster;

/// <summary>
/// The lease the current run's writes go out under, for the adapters to ask at the last moment: before
/// each <em>attempt</em> of a write, retries included, not only before the step. A process frozen while
/// a request was in flight finds, when it wakes, its attempt timed out and its retry policy about to send
/// the write again: that re-send is where the lease must be asked. Ambient (flows with the run's async
/// calls) because the adapters are shared by every run of the process while a lease belongs to one run.
/// Outside a leased run (planning, a restore, a tool) there is no fence and nothing is checked.
/// </summary>
public static class WriteFence
{
    private static readonly AsyncLocal<WorkLease?> Current = new();

    /// <summary>Puts the run's writes under <paramref name="lease"/> until the returned scope ends.</summary>
    public static IDisposable Enter(WorkLease lease)
    {
        var previous = Current.Value;
        Current.Value = lease;
        return new Scope(previous);
    }

    /// <summary>Throws <see cref="LeaseLostException"/> when the current run's lease is lost: the write must not be sent.</summary>
    public static void ThrowIfLost() => Current.Value?.ThrowIfNotHeld();

    private sealed class Scope(WorkLease? previous) : IDisposable
    {
        public void Dispose() => Current.Value = previous;
    }
}
