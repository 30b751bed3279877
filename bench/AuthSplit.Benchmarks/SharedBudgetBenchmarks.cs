using System.Diagnostics;
using System.Globalization;
using AuthSplit.Core.Execution.Batching;
using AuthSplit.Core.Execution.Cluster;
using AuthSplit.Graph.Resilience;
using Microsoft.Extensions.Logging.Abstractions;

namespace AuthSplit.Benchmarks;

/// <summary>
/// <c>budget-sim [nodes] [writers-per-node] [seconds]</c>: the shared write budget's granting alone, in one
/// process. Each node is a real <see cref="SharedWriteBudgetLimiter"/> behind a real
/// <see cref="RequestCoalescer{TAnswer}"/> (a <c>$batch</c> of at most 20, 5 ms linger, as a wave's switch step
/// has), with writers that each prepare a person (20–120 ms), write, and finish it (30–200 ms); the budget is
/// <see cref="WriteBudgetArithmetic"/> under a lock with a 2 ms round trip, standing in for PostgreSQL. At Graph's
/// own limit (3,000 per 150 s) it prints the writes sent per second after the first 10 s, the refusals and the
/// permits that expired unsent. What it isolates: whether the granting keeps the budget busy when the nodes have
/// more work than the budget allows (they have, by far), without slapd, PostgreSQL, TLS or three processes.
/// </summary>
public static class SharedBudgetBenchmarks
{
    public static async Task RunAsync(int nodes, int writersPerNode, int seconds)
    {
        var budget = new MemoryBudget();
        var limit = new WriteBudgetLimit(3000, TimeSpan.FromSeconds(150), burst: 20);
        var sent = new List<(long At, int Writes)>();
        var meters = new List<WritePacingMeter>();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
        var writers = new List<Task>();
        for (var n = 0; n < nodes; n++)
        {
            var meter = new WritePacingMeter();
            meters.Add(meter);
            var limiter = new SharedWriteBudgetLimiter(budget, new WriteBudgetKey("tenant", "app"), limit, $"node-{n}", "budget-sim", meter, NullLogger.Instance);
            var coalescer = new RequestCoalescer<string>(
                async ids =>
                {
                    while (true)
                    {
                        var lease = await limiter.AcquireAsync(ids.Count);
                        if (SharedWriteBudgetLimiter.IsSpendable(lease, TimeProvider.System))
                        {
                            lock (sent)
                            {
                                sent.Add((budget.Now, ids.Count));
                            }

                            lease.Dispose();
                            break;
                        }

                        SharedWriteBudgetLimiter.GiveBackUnsent(lease);
                    }

                    await Task.Delay(30); // the $batch's round trip
                    return ids;
                },
                id => id,
                maxBatch: 20,
                linger: TimeSpan.FromMilliseconds(5));
            for (var w = 0; w < writersPerNode; w++)
            {
                var seed = (n * 1000) + w;
                writers.Add(Task.Run(async () =>
                {
                    var random = new Random(seed);
                    var person = 0;
                    while (!stop.IsCancellationRequested)
                    {
                        await Task.Delay(random.Next(20, 120));
                        await coalescer.GetAsync([string.Create(CultureInfo.InvariantCulture, $"{seed}-{person++}")]);
                        await Task.Delay(random.Next(30, 200));
                    }
                }));
            }
        }

        await Task.WhenAll(writers);
        const long warmUp = 10_000_000;
        var measured = (seconds * 1_000_000L) - warmUp;
        var counted = sent.Where(s => s.At >= warmUp && s.At < seconds * 1_000_000L).Sum(s => s.Writes);
        var rate = counted / (measured / 1e6);
        var sizes = sent.GroupBy(s => s.Writes).OrderBy(g => g.Key).Select(g => $"{g.Key}:{g.Count()}");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"budget-sim: {nodes} nodes x {writersPerNode} writers, 3,000 writes per 150 s (ceiling {limit.Rate:0.00}/s): "
            + $"{rate:0.00} writes/s after the first 10 s = {100 * rate / 20:0.0} % of Graph's 20/s; "
            + $"refusals {meters.Sum(m => m.GrantsRefused)}, permits expired unsent {meters.Sum(m => m.PermitsExpired)}; "
            + $"$batch sizes (writes:count) {string.Join(' ', sizes)}"));
    }

    /// <summary>The decision PostgreSQL takes, in memory: a lock, <see cref="WriteBudgetArithmetic"/>, the grants kept.</summary>
    private sealed class MemoryBudget : ISharedWriteBudget
    {
        private readonly object _gate = new();
        private readonly List<(long Id, long At, int Writes)> _grants = [];
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private long _next;

        public long Now => _clock.ElapsedTicks * 1_000_000 / Stopwatch.Frequency;

        public Task<WriteBudgetMismatch?> AgreeAsync(WriteBudgetKey key, WriteBudgetLimit limit, CancellationToken cancellationToken) =>
            Task.FromResult<WriteBudgetMismatch?>(null);

        public async Task<WriteGrant> RequestAsync(WriteGrantRequest request, CancellationToken cancellationToken)
        {
            await Task.Delay(2, cancellationToken); // the round trip to the database
            lock (_gate)
            {
                var now = Now;
                var keep = WriteBudgetArithmetic.KeepFor(request.Limit).Ticks / 10;
                _grants.RemoveAll(g => g.At < now - (2 * keep));
                var grant = WriteBudgetArithmetic.Decide(_grants.Select(g => new PastGrant(g.At, g.Writes)), now, request.Writes, request.Limit);
                if (!grant.IsGranted)
                {
                    return grant;
                }

                _grants.Add((++_next, now, grant.Writes));
                return grant with { Id = _next };
            }
        }

        public Task ReturnAsync(WriteBudgetKey key, long grantId, int writes, CancellationToken cancellationToken)
        {
            lock (_gate)
            {
                var i = _grants.FindIndex(g => g.Id == grantId);
                if (i >= 0)
                {
                    _grants[i] = (_grants[i].Id, _grants[i].At, _grants[i].Writes - writes);
                }
            }

            return Task.CompletedTask;
        }
    }
}
