using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using AuthSplit.Core.Execution;
using AuthSplit.Core.Planning.Format;

namespace AuthSplit.Core.Observability;

/// <summary>
/// The tool's one <see cref="Meter"/> ("AuthSplit") and its instruments, named in OpenTelemetry's
/// semantic-convention style (dotted lower-case names, units in UCUM, seconds for durations). Recorded where
/// things happen (the Graph adapter's pipeline, the LDAP session, the executor's progress); nothing is
/// exported unless a listener subscribes: <c>authsplit serve</c> exports them for a Prometheus scrape
/// (<c>/metrics</c>), where dots become underscores and counters gain <c>_total</c>.
/// </summary>
/// <remarks>
/// Static, as the BCL's own meters are: the adapters are built far from any container, and one process
/// has one set of counters whoever records into them.
/// </remarks>
public static class AuthSplitMetrics
{
    public const string MeterName = "AuthSplit";

    private static readonly Meter Meter = new(MeterName, typeof(AuthSplitMetrics).Assembly.GetName().Version?.ToString());

    // The last counts each wave reported in this process (a wave and its plan), for the observable gauge.
    private static readonly ConcurrentDictionary<(string PlanId, string Wave), WaveProgress> LatestProgress = new();

    /// <summary>Waves executing in this process now.</summary>
    public static readonly UpDownCounter<long> WavesInProgress = Meter.CreateUpDownCounter<long>(
        "authsplit.waves.in_progress", "{wave}", "Waves executing in this process now.");

    /// <summary>Write operations sent to Microsoft Graph (a $batch counts its write sub-requests; a retried attempt counts again).</summary>
    public static readonly Counter<long> GraphWrites = Meter.CreateCounter<long>(
        "authsplit.graph.writes", "{write}", "Write operations sent to Microsoft Graph, each attempt counted (a $batch counts its write sub-requests).");

    /// <summary>Answers of 429 Too Many Requests from Graph, whole requests and $batch sub-requests alike.</summary>
    public static readonly Counter<long> GraphThrottled = Meter.CreateCounter<long>(
        "authsplit.graph.throttled", "{response}", "429 Too Many Requests answers from Microsoft Graph (requests and $batch sub-requests).");

    /// <summary>How long a Graph write waited for the client-side write pacing before it was sent.</summary>
    public static readonly Histogram<double> GraphPacingDelay = Meter.CreateHistogram<double>(
        "authsplit.graph.pacing.delay", "s", "How long a Graph write waited for the client-side write pacing (the tenant's write limit) before it was sent.",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 150] });

    /// <summary>
    /// A cluster's node: times the shared Graph write budget in the state database said to wait (the cluster's
    /// writes were at the limit's rate). A steady rate of these is normal at full speed; none while writes wait is not.
    /// </summary>
    public static readonly Counter<long> GraphBudgetRefusals = Meter.CreateCounter<long>(
        "authsplit.graph.budget.refusals", "{refusal}", "Times the cluster's shared Graph write budget told this node to wait.");

    /// <summary>
    /// A cluster's node: writes the shared budget granted that this node did not send within their validity and
    /// gave back. More than a few means grants are lost to the other nodes' waiting: a slow or stalled node.
    /// </summary>
    public static readonly Counter<long> GraphBudgetReturned = Meter.CreateCounter<long>(
        "authsplit.graph.budget.returned", "{write}", "Writes granted by the cluster's shared Graph write budget that this node did not send in time and gave back.");

    /// <summary>How long one LDAP operation took, by <c>ldap.operation</c> (search, modify, add, delete, modify_dn, bind...).</summary>
    public static readonly Histogram<double> LdapOperationDuration = Meter.CreateHistogram<double>(
        "authsplit.ldap.operation.duration", "s", "How long one LDAP operation took, by operation.",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] });

    /// <summary>
    /// Wave leases (<see cref="Execution.Cluster.WorkLease"/>) this node holds now, by wave: taken +1, released or lost -1.
    /// </summary>
    public static readonly UpDownCounter<long> LeasesHeld = Meter.CreateUpDownCounter<long>(
        "authsplit.leases.held", "{lease}", "Leases this node holds now.");

    /// <summary>
    /// Wave leases this node found lost (expired or taken over before it renewed them: a paused node that came
    /// back, or a state store out of reach), by wave; recorded when it notices the loss and stops writing.
    /// </summary>
    public static readonly Counter<long> LeasesLost = Meter.CreateCounter<long>(
        "authsplit.leases.lost", "{lease}", "Leases this node lost (expired or taken over before renewal).");

    static AuthSplitMetrics()
    {
        Meter.CreateObservableGauge("authsplit.entities", ObserveEntities, "{entity}", "Entities of each wave this process executed, per state (the journal's counts as the executor last reported them).");
    }

    /// <summary>
    /// Records a zero on each counter, untagged, once a listener exports them (<c>authsplit serve</c> after its
    /// endpoint starts): a scrape then finds every series from the node's start, so an alert on
    /// <c>increase(authsplit_leases_lost_total[5m])</c> or on the writes' rate has a value before the first wave,
    /// rather than no series at all. The tagged series (per wave) appear as waves run; sums over them are unchanged.
    /// </summary>
    public static void ExportZeros()
    {
        WavesInProgress.Add(0);
        GraphWrites.Add(0);
        GraphThrottled.Add(0);
        GraphBudgetRefusals.Add(0);
        GraphBudgetReturned.Add(0);
        LeasesHeld.Add(0);
        LeasesLost.Add(0);
    }

    /// <summary>
    /// Keeps a wave's latest counts for <c>authsplit.entities</c>. The executor's progress path calls it
    /// (<see cref="WaveProgressMetrics"/>), so a wave's counts are observed without the executor knowing about metrics.
    /// </summary>
    public static void RecordProgress(WaveProgress progress)
    {
        ArgumentNullException.ThrowIfNull(progress);
        LatestProgress[(progress.PlanId, progress.Wave)] = progress;
    }

    /// <summary>A wave's execution begins (+1 on <c>authsplit.waves.in_progress</c>); disposing the handle ends it.</summary>
    public static IDisposable WaveStarted(string wave)
    {
        var tags = new TagList { { "authsplit.wave", wave } };
        WavesInProgress.Add(1, tags);
        return new WaveInProgress(tags);
    }

    /// <summary>
    /// Records one LDAP operation's duration since <paramref name="startedAt"/> (a <see cref="Stopwatch"/>
    /// timestamp); <paramref name="errorType"/> (<c>error.type</c>) names a result other than success, e.g. the LDAP result code.
    /// </summary>
    public static void RecordLdapOperation(string operation, long startedAt, string? errorType = null)
    {
        var tags = new TagList { { "ldap.operation", operation } };
        if (errorType is not null)
        {
            tags.Add("error.type", errorType);
        }

        LdapOperationDuration.Record(Stopwatch.GetElapsedTime(startedAt).TotalSeconds, tags);
    }

    private static IEnumerable<Measurement<long>> ObserveEntities()
    {
        foreach (var ((planId, wave), progress) in LatestProgress)
        {
            foreach (var (state, count) in Counts(progress))
            {
                yield return new Measurement<long>(count, new KeyValuePair<string, object?>("authsplit.wave", wave), new KeyValuePair<string, object?>("authsplit.plan_id", planId), new KeyValuePair<string, object?>("authsplit.entity.state", WireName.Of(state)));
            }
        }
    }

    // Pending and in progress are one figure in the progress report (what is left); it is shown as pending.
    private static IEnumerable<(EntityState State, long Count)> Counts(WaveProgress progress) =>
    [
        (EntityState.Pending, progress.Remaining),
        (EntityState.Held, progress.Held),
        (EntityState.Done, progress.Done),
        (EntityState.Stale, progress.Stale),
        (EntityState.Refused, progress.Refused),
        (EntityState.Failed, progress.Failed),
        (EntityState.Excluded, progress.Excluded),
    ];

    private sealed class WaveInProgress(TagList tags) : IDisposable
    {
        private int _ended;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _ended, 1) == 0)
            {
                WavesInProgress.Add(-1, tags);
            }
        }
    }
}
