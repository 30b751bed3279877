using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using AuthSplit.Core.Errors;
using Microsoft.Extensions.Logging;
using Microsoft.Graph.Models.ODataErrors;
using Microsoft.Kiota.Abstractions;
using Microsoft.Kiota.Abstractions.Serialization;

namespace AuthSplit.Graph.Live;

/// <summary>One request of a <c>$batch</c>: <paramref name="Url"/> is relative to the version, e.g. <c>/users/{id}</c>.</summary>
public sealed record GraphBatchRequest(string Id, HttpMethod Method, string Url, JsonNode? Body = null)
{
    public bool IsWrite => Method != HttpMethod.Get;
}

/// <summary>A sub-request's final answer, and how many times it was sent.</summary>
public sealed record GraphBatchResponse(string Id, int Status, JsonNode? Body, int Attempts)
{
    public bool IsSuccess => Status is >= 200 and < 300;

    public string? ErrorCode => Body?["error"]?["code"]?.GetValue<string>();

    public string? ErrorMessage => Body?["error"]?["message"]?.GetValue<string>();

    public string Describe() => IsSuccess ? Status.ToString(CultureInfo.InvariantCulture) : $"{Status} {ErrorCode}: {ErrorMessage}";
}

/// <summary>
/// Sends requests as JSON <c>$batch</c>es of up to 20 through the connection's own client (so the
/// token, the write limiter and the resilience pipeline apply to every batch). A sub-request that
/// failed with 429 or 5xx is sent again in a later batch, after the longest <c>Retry-After</c> its
/// batch asked for (exponential backoff with jitter when none did); every other answer is final.
/// A sub-request that succeeded is never sent again.
/// </summary>
public sealed partial class GraphBatchClient(GraphConnection connection)
{
    /// <summary>Graph's limit of requests in one <c>$batch</c>.</summary>
    public const int MaxRequests = 20;

    private static readonly Dictionary<string, ParsableFactory<IParsable>> ErrorMapping = new() { ["XXX"] = ODataError.CreateFromDiscriminatorValue };

    private readonly TimeProvider _time = connection.Time;
    private readonly GraphResilienceOptions _options = connection.Resilience;
    private readonly ILogger _logger = connection.Logger;

    // A $batch of writes never asks the write limiter for more tokens than its bucket holds.
    private readonly int _maxWrites = connection.Pacing.MaxWritesPerRequest;

    /// <summary>Sends every request to <c>{root}/{version}/$batch</c>; the answers are keyed by request id.</summary>
    public async Task<IReadOnlyDictionary<string, GraphBatchResponse>> SendAsync(string version, IReadOnlyList<GraphBatchRequest> requests, CancellationToken cancellationToken)
    {
        var results = new Dictionary<string, GraphBatchResponse>(requests.Count, StringComparer.Ordinal);
        var attempts = new Dictionary<string, int>(requests.Count, StringComparer.Ordinal);
        foreach (var request in requests)
        {
            if (!attempts.TryAdd(request.Id, 0))
            {
                throw new ArgumentException($"request id {request.Id} appears twice", nameof(requests));
            }
        }

        var pending = requests.ToList();
        for (var round = 1; pending.Count > 0; round++)
        {
            var retry = new List<GraphBatchRequest>();
            TimeSpan? retryAfter = null;
            foreach (var chunk in pending.Chunk(pending.Any(r => r.IsWrite) ? _maxWrites : MaxRequests))
            {
                var answers = await SendBatchAsync(version, chunk, cancellationToken);
                foreach (var request in chunk)
                {
                    attempts[request.Id]++;
                    if (!answers.TryGetValue(request.Id, out var answer))
                    {
                        // Graph left it out: as good as a 503.
                        answer = (503, null, null);
                    }

                    if (IsTransient(answer.Status) && round <= _options.MaxRetries)
                    {
                        retry.Add(request);
                        if (answer.RetryAfter is { } wait && (retryAfter is null || wait > retryAfter))
                        {
                            retryAfter = wait;
                        }
                    }
                    else
                    {
                        results[request.Id] = new GraphBatchResponse(request.Id, answer.Status, answer.Body, attempts[request.Id]);
                    }
                }
            }

            if (retry.Count > 0)
            {
                var delay = retryAfter ?? Backoff(round);
                delay = delay > _options.MaxDelay ? _options.MaxDelay : delay;
                LogRetry(_logger, retry.Count, round, delay.TotalSeconds);
                await Task.Delay(delay, _time, cancellationToken);
            }

            pending = retry;
        }

        return results;
    }

    private static bool IsTransient(int status) => status is 429 or 500 or 502 or 503 or 504;

    private TimeSpan Backoff(int round)
    {
        var exponential = _options.BaseDelay.TotalMilliseconds * Math.Pow(2, round - 1);
        var jittered = exponential * (0.5 + (Random.Shared.NextDouble() / 2));
        return TimeSpan.FromMilliseconds(Math.Min(jittered, _options.MaxDelay.TotalMilliseconds));
    }

    private async Task<Dictionary<string, (int Status, JsonNode? Body, TimeSpan? RetryAfter)>> SendBatchAsync(string version, GraphBatchRequest[] chunk, CancellationToken cancellationToken)
    {
        var payload = new JsonArray();
        foreach (var request in chunk)
        {
            var item = new JsonObject { ["id"] = request.Id, ["method"] = request.Method.Method, ["url"] = request.Url };
            if (request.Body is not null)
            {
                item["headers"] = new JsonObject { ["Content-Type"] = "application/json" };
                item["body"] = request.Body.DeepClone();
            }

            payload.Add(item);
        }

        var information = new RequestInformation { HttpMethod = Method.POST, URI = new Uri(connection.Root, version + "/$batch") };
        information.Headers.Add("Accept", "application/json");
        information.SetStreamContent(new MemoryStream(JsonSerializer.SerializeToUtf8Bytes(new JsonObject { ["requests"] = payload })), "application/json");
        information.AddRequestOptions([new GraphWriteCount(chunk.Count(r => r.IsWrite))]);

        JsonNode? answer;
        try
        {
            await using var stream = await connection.Client.RequestAdapter.SendPrimitiveAsync<Stream>(information, ErrorMapping, cancellationToken)
                ?? throw new ExternalSystemException(connection.Description, "Graph answered a $batch with no body");
            answer = await JsonNode.ParseAsync(stream, cancellationToken: cancellationToken);
        }
        catch (Exception ex) when (GraphErrors.IsGraphFailure(ex))
        {
            throw GraphErrors.From(connection.Description, ex);
        }
        catch (JsonException ex)
        {
            throw new ExternalSystemException(connection.Description, $"Graph's $batch answer is not JSON: {ex.Message}", ex);
        }

        var results = new Dictionary<string, (int, JsonNode?, TimeSpan?)>(StringComparer.Ordinal);
        foreach (var response in answer?["responses"]?.AsArray() ?? [])
        {
            if (response?["id"]?.ToString() is not { } id || response["status"] is not JsonValue statusValue || !statusValue.TryGetValue<int>(out var status))
            {
                continue;
            }

            TimeSpan? retryAfter = null;
            if (response["headers"]?["Retry-After"]?.ToString() is { } text)
            {
                if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds))
                {
                    retryAfter = TimeSpan.FromSeconds(Math.Max(0, seconds));
                }
                else if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var date))
                {
                    retryAfter = date - _time.GetUtcNow();
                }
            }

            results[id] = (status, response["body"], retryAfter);
        }

        return results;
    }

    [LoggerMessage(EventId = 3102, Level = LogLevel.Information, Message = "{Count} batched Graph requests were throttled or failed (round {Round}); sending them again in {DelaySeconds:0.0} s")]
    private static partial void LogRetry(ILogger logger, int count, int round, double delaySeconds);
}
