using Microsoft.Kiota.Abstractions;

namespace AuthSplit.Graph.Resilience;

/// <summary>
/// Marks a request whose transient failures its caller retries (a <c>$batch</c> round, which also
/// retries the sub-requests that failed inside it): <see cref="GraphResilienceHandler"/> then sends it
/// once, paced and through the circuit breaker, so the attempts of one budget are never multiplied by
/// a second retry loop around or inside it.
/// </summary>
public sealed class CallerRetries : IRequestOption
{
    internal static readonly HttpRequestOptionsKey<IRequestOption> Key = new(typeof(CallerRetries).FullName!);

    public static CallerRetries Instance { get; } = new();
}
