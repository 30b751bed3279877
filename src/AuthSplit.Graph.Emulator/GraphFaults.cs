namespace AuthSplit.Graph.Emulator;

/// <summary>
/// Faults the emulator injects, deterministically (every Nth request), so a test can reproduce a
/// storm exactly. Zero turns a fault off. Faults apply to each HTTP request and to each sub-request
/// of a <c>$batch</c>, as Graph throttles sub-requests individually.
/// </summary>
public sealed record GraphFaults
{
    /// <summary>Every Nth request (one in N with <see cref="Scattered"/>) is answered 429 with <c>Retry-After: <see cref="RetryAfterSeconds"/></c>.</summary>
    public int ThrottleEvery { get; init; }

    /// <summary>
    /// The 429/503/504 faults hit one request in N chosen by a hash of its number instead of every Nth: a
    /// client retrying alone at a stride sharing a factor with N would otherwise hit the fault on every
    /// retry (a $batch of 20 sub-requests is a stride of 21, a multiple of 7), which no real service does.
    /// </summary>
    public bool Scattered { get; init; }

    /// <summary>Every Nth request (one in N with <see cref="Scattered"/>) is answered 429 without a <c>Retry-After</c> header.</summary>
    public int ThrottleWithoutRetryAfterEvery { get; init; }

    public int RetryAfterSeconds { get; init; } = 1;

    /// <summary>Every write (a PATCH, alone or in a <c>$batch</c>) is answered 429 with <see cref="RetryAfterSeconds"/>: a write that never gets through.</summary>
    public bool ThrottleWrites { get; init; }

    /// <summary>Every Nth request (one in N with <see cref="Scattered"/>) is answered 503 Service Unavailable.</summary>
    public int ServiceUnavailableEvery { get; init; }

    /// <summary>Every Nth request (one in N with <see cref="Scattered"/>) is answered 504 Gateway Timeout.</summary>
    public int GatewayTimeoutEvery { get; init; }

    /// <summary>Every Nth request has its connection dropped without an answer (HTTP requests only).</summary>
    public int DropConnectionEvery { get; init; }

    /// <summary>
    /// Every Nth valid write is answered 204 but never applied (nor recorded): what a read-back must
    /// catch, as after a write lost to Graph's replication.
    /// </summary>
    public int LoseWriteEvery { get; init; }

    /// <summary>
    /// Graph's replication lag: for this long after a user is written, reading that user
    /// (<c>GET /users/{id}</c>, <c>GET .../onPremisesSyncBehavior</c>) returns the state before the write.
    /// </summary>
    public TimeSpan ReadLagAfterWrite { get; init; }

    /// <summary>Added to every request.</summary>
    public TimeSpan Latency { get; init; }

    /// <summary>
    /// The identity write limit, enforced as Graph documents it: at most <see cref="WriteQuota"/> writes
    /// per <see cref="WriteQuotaWindow"/> per app and tenant (3,000 per 150 s); a write over it gets 429
    /// with the seconds until a slot frees up. Zero disables the quota.
    /// </summary>
    public int WriteQuota { get; init; }

    public TimeSpan WriteQuotaWindow { get; init; } = TimeSpan.FromSeconds(150);

    /// <summary>Groups whose <c>onPremisesSyncBehavior</c> PATCH is answered 403 <c>Authorization_RequestDenied</c> (a switch Entra refuses).</summary>
    public IReadOnlyList<string> RefuseGroupSyncBehavior { get; init; } = [];

    public static GraphFaults None { get; } = new();

    /// <summary>Graph's documented identity write limit.</summary>
    public static GraphFaults DocumentedWriteLimit { get; } = new() { WriteQuota = 3000, WriteQuotaWindow = TimeSpan.FromSeconds(150) };
}
