using AuthSplit.Graph.Batching;

namespace AuthSplit.Graph.Resilience;

/// <summary>
/// How the connector paces its writes under a limit of <c>limit</c> writes per sliding <c>window</c>: a
/// token bucket of <see cref="Bucket"/> tokens that gains <see cref="TokensPerTick"/> every
/// <see cref="Tick"/>. The steady rate is at most <c>(limit - bucket) / (window + 1 s)</c>, so no window
/// ever holds more than the limit, even with a second of network jitter, while the rate stays within a
/// few per cent of the allowed one (3,000 writes/150 s: 4 tokens every 203 ms, 19.70 writes/s of 20).
/// </summary>
/// <remarks>
/// The limiter's timer counts in whole milliseconds and adds a tick's tokens per firing whatever the
/// time elapsed, so the tick is a whole number of milliseconds rounded <em>up</em> (a period rounded down
/// paces faster than designed; one under a millisecond never fires again). Ticks are about 50 ms apart:
/// a high rate adds several tokens per tick, and the bucket holds at least one tick's tokens. A late
/// timer only slows the pace. The bucket is at most half the limit and at most one <c>$batch</c> of
/// writes (<see cref="GraphBatchClient.MaxRequests"/>); batches of writes are no larger than the bucket.
/// </remarks>
public sealed record WritePacing(int Bucket, int TokensPerTick, TimeSpan Tick)
{
    private static readonly TimeSpan TargetTick = TimeSpan.FromMilliseconds(50);

    /// <summary>Writes per second in steady running.</summary>
    public double Rate => TokensPerTick / Tick.TotalSeconds;

    /// <summary>The largest number of writes one request may carry (a <c>$batch</c> of writes is split to fit).</summary>
    public int MaxWritesPerRequest => Math.Min(GraphBatchClient.MaxRequests, Bucket);

    public static WritePacing For(GraphResilienceOptions options)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(options.WritesPerWindow, 2, nameof(options.WritesPerWindow));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.WriteWindow, TimeSpan.FromSeconds(1), nameof(options.WriteWindow));
        var limit = options.WritesPerWindow;
        var window = options.WriteWindow.TotalSeconds + 1;
        var bucket = Math.Min(GraphBatchClient.MaxRequests, limit / 2);
        var rate = (limit - bucket) / window;
        if (Math.Floor(rate * TargetTick.TotalSeconds) > bucket)
        {
            bucket = (int)Math.Floor(rate * TargetTick.TotalSeconds);
            rate = (limit - bucket) / window;
        }

        // The fewest tokens per tick (from one tick's worth) whose whole-millisecond tick loses at most 0.5 % of the rate.
        var tokens = Math.Clamp((int)Math.Floor(rate * TargetTick.TotalSeconds), 1, bucket);
        var milliseconds = WholeMilliseconds(tokens, rate);
        while (tokens < bucket && tokens / (milliseconds / 1000.0) < rate * 0.995)
        {
            tokens++;
            milliseconds = WholeMilliseconds(tokens, rate);
        }

        return new WritePacing(bucket, tokens, TimeSpan.FromMilliseconds(milliseconds));
    }

    private static long WholeMilliseconds(int tokens, double rate) => Math.Max(1, (long)Math.Ceiling(tokens * 1000 / rate));
}
