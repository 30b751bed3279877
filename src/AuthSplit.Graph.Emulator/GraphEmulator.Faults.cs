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

        if (faults.ThrottleEvery > 0 && sequence % faults.ThrottleEvery == 0)
        {
            return Throttled(faults.RetryAfterSeconds);
        }

        if (faults.ThrottleWithoutRetryAfterEvery > 0 && sequence % faults.ThrottleWithoutRetryAfterEvery == 0)
        {
            return Throttled(null);
        }

        if (faults.ServiceUnavailableEvery > 0 && sequence % faults.ServiceUnavailableEvery == 0)
        {
            return Error(HttpStatusCode.ServiceUnavailable, "serviceNotAvailable", "The service is temporarily unavailable.", null);
        }

        if (faults.GatewayTimeoutEvery > 0 && sequence % faults.GatewayTimeoutEvery == 0)
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
