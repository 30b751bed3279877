using AuthSplit.Core.Configuration;

namespace AuthSplit.Graph.Resilience;

/// <summary>How the connector paces and retries its Graph calls. The defaults follow Graph's documented limits.</summary>
public sealed record GraphResilienceOptions
{
    /// <summary>Writes allowed per <see cref="WriteWindow"/>: Graph's identity write limit is 3,000 per 150 s per app and tenant.</summary>
    public int WritesPerWindow { get; init; } = 3000;

    public TimeSpan WriteWindow { get; init; } = TimeSpan.FromSeconds(150);

    /// <summary>
    /// Retries of one request after 429, 5xx or a transport failure: the whole budget, whether the request
    /// goes alone or as a <c>$batch</c> sub-request (at most <c>1 + MaxRetries</c> attempts in all).
    /// </summary>
    public int MaxRetries { get; init; } = 8;

    /// <summary>First backoff when Graph gives no Retry-After; doubled each time, with jitter.</summary>
    public TimeSpan BaseDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Upper bound of one wait, Retry-After included.</summary>
    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>Time limit of one attempt.</summary>
    public TimeSpan AttemptTimeout { get; init; } = TimeSpan.FromSeconds(100);

    /// <summary>The breaker opens when this share of calls in <see cref="BreakerSampling"/> failed with 5xx or transport errors (429 is pacing, not failure).</summary>
    public double BreakerFailureRatio { get; init; } = 0.5;

    public int BreakerMinimumThroughput { get; init; } = 20;

    public TimeSpan BreakerSampling { get; init; } = TimeSpan.FromSeconds(30);

    public TimeSpan BreakerDuration { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Reads of a written user before a value that is still the old one counts as a mismatch; Graph
    /// replicates writes, so the first read-back can lag. Waits <see cref="ReadBackDelay"/>, doubling.
    /// These reads wait for replication, not for a failure: each of them has the <see cref="MaxRetries"/>
    /// budget of any request (<c>Target:Limits:ReadBackAttempts</c>, <c>ReadBackDelaySeconds</c>).
    /// </summary>
    public int ReadBackAttempts { get; init; } = 4;

    public TimeSpan ReadBackDelay { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>The configured <c>Target:Limits</c>.</summary>
    public static GraphResilienceOptions From(GraphLimitsOptions limits) => new()
    {
        WritesPerWindow = limits.WritesPerWindow,
        WriteWindow = TimeSpan.FromSeconds(limits.WriteWindowSeconds),
        MaxRetries = limits.MaxRetries,
        BaseDelay = TimeSpan.FromSeconds(limits.RetryBaseDelaySeconds),
        MaxDelay = TimeSpan.FromSeconds(limits.MaxRetryDelaySeconds),
        AttemptTimeout = TimeSpan.FromSeconds(limits.AttemptTimeoutSeconds),
        ReadBackAttempts = limits.ReadBackAttempts,
        ReadBackDelay = TimeSpan.FromSeconds(limits.ReadBackDelaySeconds),
    };
}
