using System.Net;
using AuthSplit.Core.Observability;

namespace AuthSplit.Graph.Resilience;

/// <summary>What the pipeline records for <c>authsplit serve</c>'s metrics (<see cref="AuthSplitMetrics"/>).</summary>
public sealed partial class GraphResilienceHandler
{
    // Each attempt that leaves for Graph counts its writes: a retried write is another one against the tenant's limit.
    private static void RecordAttempt(HttpRequestMessage request)
    {
        var writes = request.Options.TryGetValue(GraphWriteCount.Key, out var option) && option is GraphWriteCount count
            ? count.Writes
            : request.Method == HttpMethod.Get ? 0 : 1;
        if (writes > 0)
        {
            AuthSplitMetrics.GraphWrites.Add(writes);
        }
    }

    private static void RecordAnswer(HttpResponseMessage response)
    {
        if (response.StatusCode == HttpStatusCode.TooManyRequests)
        {
            AuthSplitMetrics.GraphThrottled.Add(1);
        }
    }
}
