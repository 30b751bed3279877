namespace AuthSplit.Core.Execution.Cluster;

/// <summary>
/// The Graph write budget every node of a cluster shares: Graph's write limit is per application per
/// tenant, not per node, so the nodes ask one database for their writes (<see cref="WriteBudgetArithmetic"/>
/// says why the limit then holds for all of them together).
/// </summary>
public interface ISharedWriteBudget
{
    /// <summary>
    /// Asks for <see cref="WriteGrantRequest.Writes"/> writes: granted whole, or refused with how long to wait
    /// before asking again. The decision is taken on the database's clock, under a lock per tenant and app.
    /// </summary>
    Task<WriteGrant> RequestAsync(WriteGrantRequest request, CancellationToken cancellationToken);

    /// <summary>
    /// Gives back <paramref name="writes"/> of grant <paramref name="grantId"/> that the node will never send
    /// (their validity ran out before they were sent): the grant then counts for that many fewer, so a
    /// stalled node does not waste the other nodes' budget. Safe because the limit is about writes sent:
    /// a grant still counts for at least the writes sent with it.
    /// </summary>
    Task ReturnAsync(WriteBudgetKey key, long grantId, int writes, CancellationToken cancellationToken);

    /// <summary>
    /// Compares <paramref name="limit"/> with the limit the budget of <paramref name="key"/> was created with
    /// (creating it with this one when it has none yet): null when they agree, else what differs. A node
    /// configured with another limit must not write: together with the others it could exceed the smaller one.
    /// <see cref="RequestAsync"/> refuses such a node the same way (<see cref="WriteBudgetMismatchException"/>).
    /// </summary>
    Task<WriteBudgetMismatch?> AgreeAsync(WriteBudgetKey key, WriteBudgetLimit limit, CancellationToken cancellationToken);
}

/// <summary>
/// A node's Graph write limit differs from the one the cluster's shared budget was created with (the first
/// node's). <see cref="Message"/> says which setting differs and what the cluster uses.
/// </summary>
public sealed record WriteBudgetMismatch(WriteBudgetKey Key, int ClusterWrites, TimeSpan ClusterWindow, int NodeWrites, TimeSpan NodeWindow)
{
    public string Message
    {
        get
        {
            var differs = new List<string>();
            if (NodeWrites != ClusterWrites)
            {
                differs.Add($"Target:Limits:WritesPerWindow is {NodeWrites} here, the cluster uses {ClusterWrites}");
            }

            if (NodeWindow != ClusterWindow)
            {
                differs.Add($"Target:Limits:WriteWindowSeconds is {NodeWindow.TotalSeconds:0.###} here, the cluster uses {ClusterWindow.TotalSeconds:0.###}");
            }

            return $"this node's Graph write limit differs from the cluster's shared write budget (tenant {Key.Tenant}, app {Key.App}, "
                + $"created with {ClusterWrites} writes per {ClusterWindow.TotalSeconds:0.###} s): {string.Join("; ", differs)}. "
                + "Nodes with different limits could together exceed the smaller one, so this node writes nothing: give it the cluster's Target:Limits "
                + "(to change the cluster's limit, stop every node and change it on all of them together, README \"Running a cluster\")";
        }
    }
}

/// <summary>A node whose Graph write limit differs from the cluster's shared budget asked it for writes.</summary>
public sealed class WriteBudgetMismatchException(WriteBudgetMismatch mismatch) : Exception(mismatch.Message)
{
    public WriteBudgetMismatch Mismatch { get; } = mismatch;
}

/// <summary>Whose budget: Graph counts writes per tenant and application (client id).</summary>
public sealed record WriteBudgetKey(string Tenant, string App);

/// <summary>A node's request for writes; <paramref name="Node"/> is recorded with the grant (who spent what).</summary>
public sealed record WriteGrantRequest(WriteBudgetKey Key, WriteBudgetLimit Limit, int Writes, string Node);

/// <summary>
/// Writes granted (then <see cref="Wait"/> is zero), or none and how long until the request can be granted.
/// <see cref="Id"/> names a grant for <see cref="ISharedWriteBudget.ReturnAsync"/> (0 when none was made).
/// </summary>
public sealed record WriteGrant(int Writes, TimeSpan Wait, long Id = 0)
{
    public bool IsGranted => Writes > 0;

    public static WriteGrant Granted(int writes, long id = 0) => new(writes, TimeSpan.Zero, id);

    public static WriteGrant Refused(TimeSpan wait) => new(0, wait);
}

/// <summary>A grant already made: when (microseconds since the Unix epoch, the database's clock) and how many writes.</summary>
public readonly record struct PastGrant(long AtMicroseconds, int Writes);

/// <summary>
/// Graph's limit (<see cref="Writes"/> per sliding <see cref="Window"/>) and how the shared budget keeps under
/// it: grants are counted over <see cref="Span"/> (the window plus <see cref="Margin"/>), a grant must be spent
/// within <see cref="Validity"/>, and no grant is larger than <see cref="Burst"/> (one <c>$batch</c> of writes).
/// </summary>
public sealed record WriteBudgetLimit
{
    public static readonly TimeSpan DefaultMargin = TimeSpan.FromSeconds(1);

    public WriteBudgetLimit(int writes, TimeSpan window, int burst, TimeSpan? margin = null)
    {
        Margin = margin ?? DefaultMargin;
        ArgumentOutOfRangeException.ThrowIfLessThan(writes, 1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(window, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(Margin, TimeSpan.Zero, nameof(margin));
        ArgumentOutOfRangeException.ThrowIfLessThan(burst, 1);
        Writes = writes;
        Window = window;
        Burst = Math.Min(burst, writes);
    }

    public int Writes { get; }

    public TimeSpan Window { get; }

    /// <summary>The time a write may take from its grant to Graph's counter, in all (see <see cref="Validity"/>).</summary>
    public TimeSpan Margin { get; }

    /// <summary>The most writes one grant carries (one <c>$batch</c> of writes).</summary>
    public int Burst { get; }

    /// <summary>Grants are counted over the window plus the margin.</summary>
    public TimeSpan Span => Window + Margin;

    /// <summary>
    /// How long after a node <em>sent</em> its request a granted write may still be sent to Graph: half the
    /// margin, the other half left for the write's way to Graph's counter (network, connection set-up).
    /// A permit not spent by then is dropped.
    /// </summary>
    public TimeSpan Validity => Margin / 2;

    /// <summary>Writes per second in steady running: the limit over the span (3,000/151 s: 19.87 of Graph's 20).</summary>
    public double Rate => Writes / Span.TotalSeconds;

    /// <summary>
    /// The smoothing rule's lead: the cluster may be at most this many writes ahead of <see cref="Rate"/> (two
    /// <c>$batch</c>es), so the nodes write evenly at the rate instead of spending a whole window's budget in a
    /// burst and then waiting out the rest of the window.
    /// </summary>
    public int PaceWrites => Math.Min(Writes, 2 * Burst);

    /// <summary><see cref="PaceWrites"/> at <see cref="Rate"/>: how far ahead of the rate the grants may run, in time.</summary>
    public TimeSpan PaceWindow => TimeSpan.FromSeconds(PaceWrites / Rate);
}

/// <summary>
/// The decision the database takes for a request of <c>n</c> writes, given the grants it already made.
/// </summary>
/// <remarks>
/// <para>
/// The rule: a grant of <c>n</c> at database time <c>g</c> is made only if the writes granted at any time
/// after <c>g - (W + M)</c> (no upper bound: a grant stamped later by a clock that stepped back counts too),
/// plus <c>n</c>, are at most <c>L</c>; decisions are taken one at a time (a lock per tenant and app).
/// </para>
/// <para>
/// Why that keeps every window of <em>grants</em> of length <c>W + M</c> within <c>L</c>: take any interval
/// (a, a + W + M] and, of the grants stamped in it, the one decided last, at <c>g*</c>. Every other grant in the
/// interval was decided before it and is stamped after <c>a &gt;= g* - (W + M)</c>, so the decision at
/// <c>g*</c> counted all of them: together with its own they are at most <c>L</c>.
/// </para>
/// <para>
/// Why that keeps every window of <em>writes as Graph counts them</em> of length <c>W</c> within <c>L</c>: the
/// stamp <c>g</c> is taken after the node sent its request (at <c>s</c>) and before it got the answer, and the
/// node sends a granted write no later than <c>s + V</c> (<see cref="WriteBudgetLimit.Validity"/>, on its own
/// monotonic clock; a permit left over is dropped). The write reaches Graph's counter at <c>r</c> with
/// <c>g &lt;= r &lt;= g + V + D</c>, <c>D</c> its way there. Writes Graph counts in (b, b + W] were thus granted in
/// (b - V - D, b + W], an interval of length <c>W + V + D &lt;= W + M</c> when <c>D &lt;= M - V</c> (half a second
/// with the default margin): at most <c>L</c> by the above, whatever the nodes do, how many there are, and
/// how their clocks differ (only the database's clock stamps grants, and a node measures only durations).
/// A write retried after a 429 or 5xx is a new write: it takes new permits.
/// </para>
/// <para>
/// The steady rate is at most <c>L / (W + M)</c> (19.87 writes/s of Graph's 20 for 3,000/150 s). A second rule
/// only spreads the writes, so a cluster writes evenly rather than in a burst of <c>L</c> followed by a window of
/// silence (bursts repeat window after window): each grant is paid for at that rate, one write every
/// <c>(W + M) / L</c>, and a grant is made only if, with it, the grants are at most
/// <see cref="WriteBudgetLimit.PaceWrites"/> writes ahead of being paid for (a "generic cell rate" rule: the
/// time by which all grants so far are paid, folded over the grants in stamp order, may lead the clock by at
/// most <see cref="WriteBudgetLimit.PaceWindow"/>). Unlike a count per sliding pace window, it loses nothing to
/// grants whose sizes do not add up to the window's count (grants of 20 and 12 alternating filled only 32 of
/// 40 per window: a cluster at 86 % of the rate), and a node that asks a little late loses nothing while
/// the lead lasts. In any interval of length <c>t</c> it grants at most <c>PaceWrites + t L / (W + M)</c>;
/// the limit itself is the first rule's.
/// </para>
/// </remarks>
public static class WriteBudgetArithmetic
{
    private const long MicrosecondsPerTick = TimeSpan.TicksPerMillisecond / 1000;

    /// <summary>Grants older than this before now are not needed for any decision: what a store may prune.</summary>
    public static TimeSpan KeepFor(WriteBudgetLimit limit) => limit.Span;

    /// <param name="recent">Every grant stamped after <paramref name="nowMicroseconds"/> minus the span (and any stamped later than now); older ones are ignored.</param>
    public static WriteGrant Decide(IEnumerable<PastGrant> recent, long nowMicroseconds, int writes, WriteBudgetLimit limit)
    {
        ArgumentNullException.ThrowIfNull(recent);
        ArgumentNullException.ThrowIfNull(limit);
        ArgumentOutOfRangeException.ThrowIfLessThan(writes, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(writes, limit.Burst);
        var span = limit.Span.Ticks / MicrosecondsPerTick;
        var grants = recent.Where(g => g.AtMicroseconds > nowMicroseconds - span).OrderBy(g => g.AtMicroseconds).ToList();
        var spanReady = EarliestWithin(grants, nowMicroseconds, span, limit.Writes - writes);
        var paceReady = PaidEnough(grants, nowMicroseconds, writes, span, limit);
        var ready = Math.Max(spanReady, paceReady);
        return ready <= nowMicroseconds
            ? WriteGrant.Granted(writes)
            : WriteGrant.Refused(TimeSpan.FromTicks((ready - nowMicroseconds) * MicrosecondsPerTick));
    }

    // The earliest time t >= now at which `writes` more keep the grants at most PaceWrites ahead of the rate:
    // `paid` is when the grants so far are paid for at one write per `interval` (each grant starts being paid
    // when it is made, or when the ones before it are paid, whichever is later).
    private static long PaidEnough(List<PastGrant> grants, long now, int writes, long span, WriteBudgetLimit limit)
    {
        var interval = (double)span / limit.Writes;
        var paid = double.MinValue;
        foreach (var grant in grants)
        {
            paid = Math.Max(paid, grant.AtMicroseconds) + (grant.Writes * interval);
        }

        var lead = Math.Max(paid, now) + (writes * interval) - now;
        var allowed = limit.PaceWrites * interval;
        return lead <= allowed ? now : now + (long)Math.Ceiling(lead - allowed);
    }

    // The earliest time t >= now at which the grants stamped after t - length sum to at most `room`: each grant
    // leaves the count once t - length reaches its stamp. `grants` are in stamp order.
    private static long EarliestWithin(List<PastGrant> grants, long now, long length, int room)
    {
        var counted = grants.Where(g => g.AtMicroseconds > now - length).ToList();
        long total = counted.Sum(g => (long)g.Writes);
        var ready = now;
        foreach (var grant in counted)
        {
            if (total <= room)
            {
                break;
            }

            total -= grant.Writes;
            ready = Math.Max(ready, grant.AtMicroseconds + length);
        }

        return ready;
    }
}
