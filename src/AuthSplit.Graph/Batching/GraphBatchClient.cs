using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using AuthSplit.Core.Errors;
using AuthSplit.Core.Observability;
using AuthSplit.Graph.Auth;
using AuthSplit.Graph.Resilience;
using Microsoft.Extensions.Logging;
using Microsoft.Graph.Models.ODataErrors;
using Microsoft.Kiota.Abstractions;
using Microsoft.Kiota.Abstractions.Serialization;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;
using Polly.Timeout;

namespace AuthSplit.Graph.Batching;

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
/// token, the write limiter and the circuit breaker apply to every batch). A sub-request that failed
/// with 429 or 5xx, or whose whole batch failed so, is sent again in a later round, after the longest
/// <c>Retry-After</c> asked for (exponential backoff with jitter when none was); every other answer is
/// final, and a sub-request that succeeded is never sent again.
/// </summary>
/// <remarks>
/// One budget: the rounds are a Polly retry of <see cref="GraphResilienceOptions.MaxRetries"/> retries,
/// and the HTTP pipeline does not retry a round again (<see cref="CallerRetries"/>), so one sub-request
/// is sent at most <c>1 + MaxRetries</c> times in all, whether Graph throttled it or its batch.
/// </remarks>
public sealed partial class GraphBatchClient
{
    /// <summary>Graph's limit of requests in one <c>$batch</c>.</summary>
    public const int MaxRequests = 20;

    private static readonly Dictionary<string, ParsableFactory<IParsable>> ErrorMapping = new() { ["XXX"] = ODataError.CreateFromDiscriminatorValue };

    private readonly GraphConnection _connection;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ResiliencePipeline<Round> _rounds;

    // A $batch of writes never asks the write limiter for more tokens than its bucket holds.
    private readonly int _maxWrites;

    public GraphBatchClient(GraphConnection connection)
    {
        _connection = connection;
        _time = connection.Time;
        _logger = connection.Logger;
        _maxWrites = connection.Pacing.MaxWritesPerRequest;
        var options = connection.Resilience;
        var rounds = new ResiliencePipelineBuilder<Round> { TimeProvider = _time };
        if (options.MaxRetries > 0)
        {
            // Polly refuses a retry strategy of zero retries: MaxRetries 0 (allowed) is one round.
            rounds.AddRetry(new RetryStrategyOptions<Round>
            {
                ShouldHandle = args => ValueTask.FromResult(args.Outcome.Result is { Pending.Count: > 0 }),
                MaxRetryAttempts = options.MaxRetries,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.BaseDelay,
                MaxDelay = options.MaxDelay,
                DelayGenerator = args => ValueTask.FromResult(args.Outcome.Result?.RetryAfter is { } wait ? (TimeSpan?)GraphTransience.Clamp(wait, options.MaxDelay) : null),
                OnRetry = args =>
                {
                    LogRetry(_logger, args.Outcome.Result?.Pending.Count ?? 0, args.AttemptNumber + 1, args.RetryDelay.TotalSeconds);
                    return ValueTask.CompletedTask;
                },
            });
        }

        _rounds = rounds.Build();
    }

    /// <summary>Sends every request to <c>{root}/{version}/$batch</c>; the answers are keyed by request id.</summary>
    public async Task<IReadOnlyDictionary<string, GraphBatchResponse>> SendAsync(string version, IReadOnlyList<GraphBatchRequest> requests, CancellationToken cancellationToken)
    {
        var state = new BatchState(requests);
        var last = await _rounds.ExecuteAsync(static (s, ct) => s.Client.RoundAsync(s.Version, s.State, ct), (Client: this, Version: version, State: state), cancellationToken);
        if (last.Pending.Count > 0 && last.Failure is { } failure)
        {
            // The budget is spent and the last round's batch itself failed: the operator's message for it.
            throw GraphErrors.From(_connection.Description, failure);
        }

        foreach (var request in last.Pending)
        {
            // The budget is spent: the last transient answer is final.
            state.Results[request.Id] = state.LastAnswer[request.Id] with { Attempts = state.Attempts[request.Id] };
        }

        return state.Results;
    }

    // One round: every pending sub-request sent once; what failed transiently stays pending.
    private async ValueTask<Round> RoundAsync(string version, BatchState state, CancellationToken cancellationToken)
    {
        var retry = new List<GraphBatchRequest>();
        TimeSpan? retryAfter = null;
        Exception? failure = null;
        foreach (var chunk in state.Pending.Chunk(state.Pending.Any(r => r.IsWrite) ? _maxWrites : MaxRequests))
        {
            Dictionary<string, (int Status, JsonNode? Body, TimeSpan? RetryAfter)> answers;
            try
            {
                answers = await SendBatchAsync(version, chunk, cancellationToken);
            }
            catch (Exception ex) when (IsTransient(ex))
            {
                // The whole batch failed transiently: each of its sub-requests was attempted and failed so.
                failure = ex;
                var wait = ex is ODataError error ? GraphTransience.RetryAfter(error.ResponseHeaders, _time.GetUtcNow()) : null;
                answers = chunk.ToDictionary(r => r.Id, _ => (ex is ODataError e ? e.ResponseStatusCode : 503, (JsonNode?)null, wait), StringComparer.Ordinal);
            }

            foreach (var request in chunk)
            {
                state.Attempts[request.Id]++;
                if (!answers.TryGetValue(request.Id, out var answer))
                {
                    // Graph left it out: as good as a 503.
                    answer = (503, null, null);
                }

                var response = new GraphBatchResponse(request.Id, answer.Status, answer.Body, state.Attempts[request.Id]);
                if (GraphTransience.IsTransient(answer.Status))
                {
                    retry.Add(request);
                    state.LastAnswer[request.Id] = response;
                    if (answer.RetryAfter is { } wait && (retryAfter is null || wait > retryAfter))
                    {
                        retryAfter = wait;
                    }
                }
                else
                {
                    state.Results[request.Id] = response;
                }
            }
        }

        // The next round sends what is left in another order, batched differently: a fault that keeps
        // falling on one position of a batch of one size (a throttling pattern, a gateway's request count)
        // does not then fall on the same request round after round until its budget is spent.
        if (retry.Count > 1)
        {
            var shuffled = retry.ToArray();
            Random.Shared.Shuffle(shuffled);
            retry = [.. shuffled];
        }

        state.Pending = retry;
        return new Round(retry, retryAfter, failure);
    }

    // A batch that failed as a whole in a way another round may mend; anything else (401, 403, 400) ends the call.
    private static bool IsTransient(Exception exception) => exception switch
    {
        ODataError error => GraphTransience.IsTransient(error.ResponseStatusCode),
        HttpRequestException or TimeoutRejectedException or BrokenCircuitException => true,
        _ => false,
    };

    private sealed class BatchState
    {
        public BatchState(IReadOnlyList<GraphBatchRequest> requests)
        {
            foreach (var request in requests)
            {
                if (!Attempts.TryAdd(request.Id, 0))
                {
                    throw new ArgumentException($"request id {request.Id} appears twice", nameof(requests));
                }
            }

            Pending = [.. requests];
        }

        public Dictionary<string, int> Attempts { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, GraphBatchResponse> Results { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, GraphBatchResponse> LastAnswer { get; } = new(StringComparer.Ordinal);

        public List<GraphBatchRequest> Pending { get; set; }
    }

    // What a round left to retry, the longest Retry-After it was asked for, and the batch failure, if one.
    private sealed record Round(List<GraphBatchRequest> Pending, TimeSpan? RetryAfter, Exception? Failure);

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

        var information = new RequestInformation { HttpMethod = Method.POST, URI = new Uri(_connection.Root, version + "/$batch") };
        information.Headers.Add("Accept", "application/json");
        information.SetStreamContent(new MemoryStream(JsonSerializer.SerializeToUtf8Bytes(new JsonObject { ["requests"] = payload })), "application/json");
        information.AddRequestOptions([new GraphWriteCount(chunk.Count(r => r.IsWrite)), CallerRetries.Instance]);

        JsonNode? answer;
        try
        {
            await using var stream = await _connection.Client.RequestAdapter.SendPrimitiveAsync<Stream>(information, ErrorMapping, cancellationToken)
                ?? throw new ExternalSystemException(_connection.Description, "Graph answered a $batch with no body");
            answer = await JsonNode.ParseAsync(stream, cancellationToken: cancellationToken);
        }
        catch (Exception ex) when (GraphErrors.IsGraphFailure(ex) && !IsTransient(ex))
        {
            throw GraphErrors.From(_connection.Description, ex);
        }
        catch (JsonException ex)
        {
            throw new ExternalSystemException(_connection.Description, $"Graph's $batch answer is not JSON: {ex.Message}", ex);
        }

        var results = new Dictionary<string, (int, JsonNode?, TimeSpan?)>(StringComparer.Ordinal);
        foreach (var response in answer?["responses"]?.AsArray() ?? [])
        {
            if (response?["id"]?.ToString() is not { } id || response["status"] is not JsonValue statusValue || !statusValue.TryGetValue<int>(out var status))
            {
                continue;
            }

            var retryAfter = GraphTransience.RetryAfter(response["headers"]?["Retry-After"]?.ToString(), _time.GetUtcNow());
            results[id] = (status, response["body"], retryAfter);
            if (status == (int)HttpStatusCode.TooManyRequests)
            {
                // A throttled sub-request of a batch that itself succeeded (a throttled batch is counted by the resilience handler).
                AuthSplitMetrics.GraphThrottled.Add(1);
            }
        }

        return results;
    }

    [LoggerMessage(EventId = 3102, Level = LogLevel.Information, Message = "{Count} batched Graph requests were throttled or failed; retry {Attempt} in {DelaySeconds:0.0} s")]
    private static partial void LogRetry(ILogger logger, int count, int attempt, double delaySeconds);
}
