using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;

namespace AuthSplit.Graph.Emulator;

/// <summary>The injected faults (<see cref="GraphFaults"/>): throttling, 5xx, the write quota, lost writes and replication lag.</summary>
public sealed partial class GraphEmulator
{
    private EmulatorResponse? Fault(long sequence, bool isWrite)
    {
        var faults = Faults;
        if (isWrite && faults.ThrottleWrites)
        {
            return Throttled(faults.RetryAfterSeconds);
        }

        if (Hits(sequence, faults.ThrottleEvery, faults.Scattered, salt: 1))
        {
            return Throttled(faults.RetryAfterSeconds);
        }

        if (Hits(sequence, faults.ThrottleWithoutRetryAfterEvery, faults.Scattered, salt: 2))
        {
            return Throttled(null);
        }

        if (Hits(sequence, faults.ServiceUnavailableEvery, faults.Scattered, salt: 3))
        {
            return Error(HttpStatusCode.ServiceUnavailable, "serviceNotAvailable", "The service is temporarily unavailable.", null);
        }

        if (Hits(sequence, faults.GatewayTimeoutEvery, faults.Scattered, salt: 4))
        {
            return Error(HttpStatusCode.GatewayTimeout, "gatewayTimeout", "The gateway timed out.", null);
        }

        if (isWrite && faults.WriteQuota > 0)
        {
            var now = _options.Time.GetUtcNow();
            lock (_recentWrites)
            {
                while (_recentWrites.Count > 0 && _recentWrites.Peek() <= now - faults.WriteQuotaWindow)
                {
                    _recentWrites.Dequeue();
                }

                if (_recentWrites.Count >= faults.WriteQuota)
                {
                    var wait = _recentWrites.Peek() + faults.WriteQuotaWindow - now;
                    return Throttled((int)Math.Max(1, Math.Ceiling(wait.TotalSeconds)));
                }

                _recentWrites.Enqueue(now);
            }
        }

        return null;
    }

    // Every `every`-th request, or (scattered) one in `every` chosen by a hash of the request's number: a
    // client retrying alone sends requests at a fixed stride (a $batch and its pending sub-requests), and a
    // stride sharing a factor with the period lands on a fault every time, forever, a lockstep no real
    // service has. Scattered is deterministic for a given order of requests; salted so the kinds of fault
    // are independent.
    private static bool Hits(long sequence, int every, bool scattered, int salt)
    {
        if (every <= 0)
        {
            return false;
        }

        if (!scattered || every == 1)
        {
            return sequence % every == 0;
        }

        var mixed = unchecked((ulong)sequence * 0x9E3779B97F4A7C15UL + (ulong)salt * 0xBF58476D1CE4E5B9UL);
        mixed = (mixed ^ (mixed >> 30)) * 0xBF58476D1CE4E5B9UL;
        mixed = (mixed ^ (mixed >> 27)) * 0x94D049BB133111EBUL;
        mixed ^= mixed >> 31;
        return mixed % (ulong)every == 0;
    }

    private static EmulatorResponse Throttled(int? retryAfterSeconds)
    {
        var response = Error((HttpStatusCode)429, "TooManyRequests", "Too many requests. Please retry after the time in the Retry-After header.", null);
        return retryAfterSeconds is { } seconds
            ? response with { Headers = [.. response.Headers, new("Retry-After", seconds.ToString(CultureInfo.InvariantCulture))] }
            : response;
    }

    // Under _lock. The state reads return while a write to the user replicates, or null when there is none.
    private (DateTimeOffset Until, JsonObject User, bool CloudManaged)? Stale(string id) =>
        _stale.TryGetValue(id, out var stale) && stale.Until > _options.Time.GetUtcNow() ? stale : null;

    // Under _lock, before a write is applied: reads keep seeing the state before the first write of the lag.
    private void KeepStale(string id)
    {
        var lag = Faults.ReadLagAfterWrite;
        if (lag > TimeSpan.Zero && Stale(id) is null)
        {
            _stale[id] = (_options.Time.GetUtcNow() + lag, _users[id].DeepClone().AsObject(), _cloudManaged.GetValueOrDefault(id));
        }
    }

    private bool LoseThisWrite() => Faults.LoseWriteEvery > 0 && Interlocked.Increment(ref _writeAttempts) % Faults.LoseWriteEvery == 0;
}
