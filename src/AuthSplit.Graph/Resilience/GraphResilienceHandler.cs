using System.Threading.RateLimiting;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.CircuitBreaker;
using Polly.RateLimiting;
using Polly.Retry;
using Polly.Timeout;

namespace AuthSplit.Graph.Resilience;

/// <summary>
/// The one place that retries Graph calls (the SDK's own retry handler is removed): a client-side
/// rate limiter paces writes below Graph's write limit so that normal running causes no 429; a retry
/// honours <c>Retry-After</c> (exponential backoff with jitter when it is absent); a circuit breaker
/// stops hammering a failing service; each attempt has a timeout. A request marked
/// <see cref="CallerRetries"/> (a <c>$batch</c> round) is paced and guarded but not retried here: its
/// caller retries it within the same budget of <see cref="GraphResilienceOptions.MaxRetries"/>.
/// </summary>
/// <remarks>
/// Writes are paced by the token bucket <see cref="WritePacing"/> describes, or, on a node of a cluster, by
/// the budget all nodes share (<see cref="SharedWriteBudgetLimiter"/>; then every attempt of a write takes
/// its own permits, and the retry sits outside the limiter). <see cref="PacingMeter"/> measures how long
/// writes waited for their permits. A request counts as many
/// writes as its <see cref="GraphWriteCount"/> option says (a <c>$batch</c> counts its write
/// sub-requests); without the option a GET counts none and anything else one.
/// </remarks>
public sealed partial class GraphResilienceHandler : DelegatingHandler
{
    private static readonly ResiliencePropertyKey<int> WritesKey = new("authsplit.graph.writes");

    private readonly ResiliencePipeline<HttpResponseMessage> _reads;
    private readonly ResiliencePipeline<HttpResponseMessage> _writes;
    // For requests whose caller owns the retries (CallerRetries): the same breaker, timeout and limiter, no retry.
    private readonly ResiliencePipeline<HttpResponseMessage> _readsOnce;
    private readonly ResiliencePipeline<HttpResponseMessage> _writesOnce;
    private readonly RateLimiter _writeLimiter;
    private readonly ILogger _logger;

    /// <param name="sharedWrites">
    /// A cluster's node: writes take their permits from the shared budget instead of this process's bucket,
    /// and each attempt of a write (a retry too) takes its own. Null: the local token bucket.
    /// </param>
    public GraphResilienceHandler(GraphResilienceOptions options, ILogger logger, TimeProvider? time = null, SharedWriteBudgetLimiter? sharedWrites = null)
    {
        _logger = logger;
        Pacing = WritePacing.For(options);
        PacingMeter = sharedWrites?.Meter ?? new WritePacingMeter();
        _writeLimiter = sharedWrites ?? (RateLimiter)new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
        {
            TokenLimit = Pacing.Bucket,
            TokensPerPeriod = Pacing.TokensPerTick,
            ReplenishmentPeriod = Pacing.Tick,
            QueueLimit = int.MaxValue,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
            AutoReplenishment = true,
        });
        time ??= TimeProvider.System;

        // One breaker and one limiter for every request of the connection, whoever retries it.
        var core = BreakerAndTimeout(options, time);
        _readsOnce = core;
        var reads = new ResiliencePipelineBuilder<HttpResponseMessage> { TimeProvider = time };
        if (options.MaxRetries > 0)
        {
            // Polly refuses a retry strategy of zero retries: MaxRetries 0 (allowed) is no strategy at all.
            reads.AddRetry(Retry(options, logger, time));
        }

        _reads = reads.AddPipeline(core).Build();
        _writesOnce = Paced(core, time);
        if (sharedWrites is null)
        {
            _writes = Paced(_reads, time);
        }
        else
        {
            // Retries outside the limiter: a write sent again is a write again, and its grant must be fresh.
            var writes = new ResiliencePipelineBuilder<HttpResponseMessage> { TimeProvider = time };
            if (options.MaxRetries > 0)
            {
                writes.AddRetry(Retry(options, logger, time));
            }

            _writes = writes.AddPipeline(_writesOnce).Build();
        }
    }

    /// <summary>How writes are paced (see <see cref="WritePacing"/>); a cluster's node also by its shared budget.</summary>
    public WritePacing Pacing { get; }

    /// <summary>How long writes waited for their permits: the pacing delay, for a metric.</summary>
    public WritePacingMeter PacingMeter { get; }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (request.Content is not null)
        {
            // A retried request re-sends the same content.
            await request.Content.LoadIntoBufferAsync(cancellationToken);
        }

        var writes = request.Options.TryGetValue(GraphWriteCount.Key, out var option) && option is GraphWriteCount count
            ? count.Writes
            : request.Method == HttpMethod.Get ? 0 : 1;
        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        try
        {
            context.Properties.Set(WritesKey, writes);
            var callerRetries = request.Options.TryGetValue(CallerRetries.Key, out var owner) && owner is CallerRetries;
            var pipeline = (writes == 0, callerRetries) switch
            {
                (true, false) => _reads,
                (true, true) => _readsOnce,
                (false, false) => _writes,
                (false, true) => _writesOnce,
            };
            return await pipeline.ExecuteAsync(
                static async (ctx, state) =>
                {
                    if (state.Writes > 0)
                    {
                        // Every attempt of a write asks the run's lease: a retry after a freeze must not go out.
                        Core.Execution.Cluster.WriteFence.ThrowIfLost();
                    }

                    return await state.Handler.SendCoreAsync(state.Request, ctx.CancellationToken);
                },
                context,
                (Handler: this, Request: request, Writes: writes));
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    private async Task<HttpResponseMessage> SendCoreAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        RecordAttempt(request);
        var response = await base.SendAsync(request, cancellationToken);
        RecordAnswer(response);
        return response;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _writeLimiter.Dispose();
        }

        base.Dispose(disposing);
    }

    /// <summary>An outcome worth another attempt: a transport failure, a timed-out attempt, or a transient status (<see cref="GraphTransience"/>).</summary>
    internal static bool IsTransient(Outcome<HttpResponseMessage> outcome) => outcome switch
    {
        { Exception: HttpRequestException or TimeoutRejectedException or BrokenCircuitException } => true,
        { Result: { } response } => GraphTransience.IsTransient(response.StatusCode),
        _ => false,
    };

    private static bool IsFailure(Outcome<HttpResponseMessage> outcome) => outcome switch
    {
        { Exception: HttpRequestException or TimeoutRejectedException } => true,
        { Result: { } response } => (int)response.StatusCode >= 500,
        _ => false,
    };

    private ResiliencePipeline<HttpResponseMessage> Paced(ResiliencePipeline<HttpResponseMessage> inner, TimeProvider time) =>
        new ResiliencePipelineBuilder<HttpResponseMessage> { TimeProvider = time }
            .AddRateLimiter(new RateLimiterStrategyOptions
            {
                RateLimiter = args => AcquireWritesAsync(args.Context.Properties.GetValue(WritesKey, 1), time, args.Context.CancellationToken),
            })
            .AddPipeline(inner)
            .Build();

    private async ValueTask<System.Threading.RateLimiting.RateLimitLease> AcquireWritesAsync(int writes, TimeProvider time, CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        while (true)
        {
            var lease = await _writeLimiter.AcquireAsync(writes, cancellationToken).ConfigureAwait(false);
            if (!lease.IsAcquired)
            {
                return lease;
            }

            // A shared grant whose validity ran out before this request got going (a stalled thread) is not spent.
            if (SharedWriteBudgetLimiter.IsSpendable(lease, time))
            {
                var waited = time.GetElapsedTime(started);
                PacingMeter.Record(writes, waited);
                Core.Observability.AuthSplitMetrics.GraphPacingDelay.Record(waited.TotalSeconds);
                return lease;
            }

            SharedWriteBudgetLimiter.GiveBackUnsent(lease);
        }
    }

    private static RetryStrategyOptions<HttpResponseMessage> Retry(GraphResilienceOptions options, ILogger logger, TimeProvider time) => new()
    {
        ShouldHandle = args => ValueTask.FromResult(IsTransient(args.Outcome)),
        MaxRetryAttempts = options.MaxRetries,
        BackoffType = DelayBackoffType.Exponential,
        UseJitter = true,
        Delay = options.BaseDelay,
        MaxDelay = options.MaxDelay,
        DelayGenerator = args => ValueTask.FromResult(GraphTransience.RetryAfter(args.Outcome.Result, time.GetUtcNow()) is { } wait ? (TimeSpan?)GraphTransience.Clamp(wait, options.MaxDelay) : null),
        OnRetry = args =>
        {
            // The response that is retried is not handed to the caller: free it.
            var status = args.Outcome.Result is { } response ? ((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture) : args.Outcome.Exception?.GetType().Name ?? "?";
            args.Outcome.Result?.Dispose();
            LogRetry(logger, status, args.AttemptNumber + 1, args.RetryDelay.TotalSeconds);
            return ValueTask.CompletedTask;
        },
    };

    private static ResiliencePipeline<HttpResponseMessage> BreakerAndTimeout(GraphResilienceOptions options, TimeProvider time) =>
        new ResiliencePipelineBuilder<HttpResponseMessage> { TimeProvider = time }
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions<HttpResponseMessage>
            {
                ShouldHandle = args => ValueTask.FromResult(IsFailure(args.Outcome)),
                FailureRatio = options.BreakerFailureRatio,
                MinimumThroughput = options.BreakerMinimumThroughput,
                SamplingDuration = options.BreakerSampling,
                BreakDuration = options.BreakerDuration,
            })
            .AddTimeout(options.AttemptTimeout)
            .Build();

    [LoggerMessage(EventId = 3101, Level = LogLevel.Information, Message = "Graph answered {Status}; retry {Attempt} in {DelaySeconds:0.0} s")]
    private static partial void LogRetry(ILogger logger, string status, int attempt, double delaySeconds);
}
