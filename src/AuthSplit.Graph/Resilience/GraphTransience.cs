using System.Globalization;
using System.Net;
using AuthSplit.Graph.Batching;

namespace AuthSplit.Graph.Resilience;

/// <summary>
/// What Graph failures are worth another attempt, and how long Graph asked to wait: written once, for
/// the HTTP pipeline (<see cref="GraphResilienceHandler"/>) and for <c>$batch</c> sub-requests
/// (<see cref="GraphBatchClient"/>) alike.
/// </summary>
public static class GraphTransience
{
    /// <summary>429 (throttled) and the 5xx answers Graph documents as transient.</summary>
    public static bool IsTransient(int status) => status is 429 or 500 or 502 or 503 or 504;

    public static bool IsTransient(HttpStatusCode status) => IsTransient((int)status);

    /// <summary>
    /// A <c>Retry-After</c> value (seconds, or an HTTP date) as a wait from <paramref name="now"/>, never
    /// negative; null when absent or unreadable (the caller's backoff applies then).
    /// </summary>
    public static TimeSpan? RetryAfter(string? value, DateTimeOffset now)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        value = value.Trim();
        if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds))
        {
            return double.IsFinite(seconds) ? TimeSpan.FromSeconds(Math.Clamp(seconds, 0, TimeSpan.MaxValue.TotalSeconds / 2)) : null;
        }

        return DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var date)
            ? (date > now ? date - now : TimeSpan.Zero)
            : null;
    }

    /// <summary>The <c>Retry-After</c> of an HTTP response, read by the same rule as a sub-request's.</summary>
    public static TimeSpan? RetryAfter(HttpResponseMessage? response, DateTimeOffset now) =>
        response is not null && response.Headers.TryGetValues("Retry-After", out var values) ? RetryAfter(values.FirstOrDefault(), now) : null;

    /// <summary>The <c>Retry-After</c> of a header dictionary as Kiota reports a failed response's headers.</summary>
    public static TimeSpan? RetryAfter(IDictionary<string, IEnumerable<string>>? headers, DateTimeOffset now)
    {
        foreach (var (name, values) in headers ?? new Dictionary<string, IEnumerable<string>>())
        {
            if (string.Equals(name, "Retry-After", StringComparison.OrdinalIgnoreCase))
            {
                return RetryAfter(values.FirstOrDefault(), now);
            }
        }

        return null;
    }

    /// <summary>A wait Graph asked for, held to the configured longest wait.</summary>
    public static TimeSpan Clamp(TimeSpan wait, TimeSpan maxDelay) => wait < TimeSpan.Zero ? TimeSpan.Zero : wait > maxDelay ? maxDelay : wait;
}
