namespace AuthSplit.Scheduling.Cluster;

/// <summary>
/// One row of Quartz's scheduler state table (<c>QRTZ_SCHEDULER_STATE</c>): a <c>serve</c> node of the
/// cluster, by the instance id Quartz generated for it at start (host name and start time), and its last check-in.
/// </summary>
public sealed record SchedulerNode(string InstanceId, DateTimeOffset LastCheckin, TimeSpan CheckinInterval)
{
    /// <summary>
    /// When the other nodes take this one for dead and recover its waves: Quartz's rule, the last check-in
    /// plus the node's check-in interval plus the cluster's check-in misfire threshold.
    /// </summary>
    public DateTimeOffset PresumedDeadAfter(TimeSpan misfireThreshold) => LastCheckin + CheckinInterval + misfireThreshold;

    /// <summary>Past <see cref="PresumedDeadAfter"/>: the node stopped checking in (killed, frozen, cut off from the database).</summary>
    public bool IsOverdue(DateTimeOffset now, TimeSpan misfireThreshold) => now > PresumedDeadAfter(misfireThreshold);
}

/// <summary>The cluster's nodes as the scheduler state table lists them.</summary>
public interface ISchedulerNodes
{
    /// <summary>Every node of this scheduler (its instance name) that has checked in, by instance id; empty when none has (a single node on SQLite never does).</summary>
    Task<IReadOnlyList<SchedulerNode>> ListAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Takes node <paramref name="instanceId"/>, whose scheduler has shut down cleanly, off the list (false when it
    /// was not on it; a single node on SQLite never is). Only after the scheduler's shutdown: a running one checks in again.
    /// </summary>
    Task<bool> ForgetAsync(string instanceId, CancellationToken cancellationToken);
}
