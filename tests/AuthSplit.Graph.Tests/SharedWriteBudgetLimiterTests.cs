using System.Collections.Concurrent;
using AuthSplit.Core.Errors;
using AuthSplit.Core.Execution.Cluster;
using AuthSplit.Graph.Resilience;
using Microsoft.Extensions.Logging.Abstractions;

namespace AuthSplit.Graph.Tests;

/// <summary>The node's side of the shared budget: permits from grants, in order, dropped when stale, never without a grant.</summary>
public sealed class SharedWriteBudgetLimiterTests
{
    private static readonly WriteBudgetKey Key = new("tenant", "app");

    private static SharedWriteBudgetLimiter Limiter(ISharedWriteBudget budget, TimeSpan? margin = null) =>
        new(budget, Key, new WriteBudgetLimit(100, TimeSpan.FromSeconds(10), burst: 20, margin), "node-1", "graph.test", new WritePacingMeter(), NullLogger.Instance);

    [Fact]
    public async Task A_write_waits_for_a_grant_asks_for_what_waits_and_asks_again_when_told()
    {
        var budget = new ScriptedBudget(WriteGrant.Refused(TimeSpan.FromMilliseconds(300)), WriteGrant.Granted(5));
        using var limiter = Limiter(budget);
        var clock = System.Diagnostics.Stopwatch.StartNew();

        using var lease = await limiter.AcquireAsync(5);

        lease.IsAcquired.Should().BeTrue();
        clock.Elapsed.Should().BeGreaterThanOrEqualTo(TimeSpan.FromMilliseconds(290), "the database said to wait 300 ms");
        budget.Asked.Should().Equal(5, 5);
        limiter.Meter.GrantsRefused.Should().Be(1);
    }

    [Fact]
    public async Task A_grant_is_asked_for_whole_waiting_writes_so_none_of_it_is_left_over_to_expire()
    {
        // Told to wait first, so that both requests of 12 wait when the limiter asks again.
        var budget = new ScriptedBudget(WriteGrant.Refused(TimeSpan.FromMilliseconds(100)), WriteGrant.Granted(12, id: 1), WriteGrant.Granted(12, id: 2));
        using var limiter = Limiter(budget, margin: TimeSpan.FromSeconds(2));

        var first = limiter.AcquireAsync(12).AsTask();
        var second = limiter.AcquireAsync(12).AsTask();
        using var one = await first;
        using var two = await second;

        one.IsAcquired.Should().BeTrue();
        two.IsAcquired.Should().BeTrue();
        // Not 20 (a $batch's worth of the 24 waiting): 8 of them would wait unsent for the second request's other 4, and expire.
        budget.Asked.Should().Equal([12, 12, 12], "each grant covers whole requests, at most 20 writes");
        limiter.Meter.PermitsExpired.Should().Be(0);
        budget.Returned.Should().BeEmpty();
    }

    [Fact]
    public async Task Several_small_waiting_writes_are_asked_for_together_up_to_one_batch()
    {
        var budget = new ScriptedBudget(WriteGrant.Refused(TimeSpan.FromMilliseconds(100)), WriteGrant.Granted(19, id: 1), WriteGrant.Granted(3, id: 2));
        using var limiter = Limiter(budget, margin: TimeSpan.FromSeconds(2));

        var waiting = new List<Task<System.Threading.RateLimiting.RateLimitLease>> { limiter.AcquireAsync(3).AsTask() };
        while (budget.Asked.IsEmpty)
        {
            await Task.Delay(5);
        }

        // Queued while the limiter waits out the refusal.
        waiting.AddRange(new[] { 7, 9, 3 }.Select(writes => limiter.AcquireAsync(writes).AsTask()));
        var leases = await Task.WhenAll(waiting);

        leases.Should().AllSatisfy(lease => lease.IsAcquired.Should().BeTrue());
        budget.Asked.Should().Equal([3, 19, 3], "3 + 7 + 9 fit one grant of at most 20, the last 3 do not");
        foreach (var lease in leases)
        {
            lease.Dispose();
        }
    }

    [Fact]
    public async Task Writes_are_never_let_through_without_a_grant_and_leftover_permits_are_dropped_after_their_validity()
    {
        var budget = new ScriptedBudget(WriteGrant.Granted(20));
        using var limiter = Limiter(budget, margin: TimeSpan.FromMilliseconds(200));

        using (var first = await limiter.AcquireAsync(20))
        {
            first.IsAcquired.Should().BeTrue();
        }

        limiter.AttemptAcquire(1).IsAcquired.Should().BeFalse("the 20 granted were spent");
        // More than this asker needs, as when the askers it was asked for cancelled meanwhile.
        budget.Enqueue(WriteGrant.Granted(20, id: 7));
        var second = await limiter.AcquireAsync(5);
        second.IsAcquired.Should().BeTrue();
        limiter.AttemptAcquire(5).IsAcquired.Should().BeTrue("15 of the grant are left, within their validity");
        await Task.Delay(150);
        limiter.AttemptAcquire(5).IsAcquired.Should().BeFalse("the grant's validity (100 ms, half the margin) ran out");
        limiter.Meter.PermitsExpired.Should().Be(10);
        SharedWriteBudgetLimiter.IsSpendable(second, TimeProvider.System).Should().BeFalse("a lease not spent within the validity may not be sent");
        SharedWriteBudgetLimiter.GiveBackUnsent(second);
        await Task.Delay(100);
        budget.Returned.Should().BeEquivalentTo([(7L, 10), (7L, 5)], "what was never sent goes back to the shared budget");
        limiter.Meter.PermitsExpired.Should().Be(15);
    }

    [Fact]
    public async Task When_the_database_cannot_be_asked_the_waiting_writes_fail_with_the_reason_and_nothing_is_granted()
    {
        var budget = new ScriptedBudget();
        budget.Fail(new ExternalSystemException("db.example:5432", "connection refused"));
        using var limiter = Limiter(budget);

        var act = async () => await limiter.AcquireAsync(3);

        (await act.Should().ThrowAsync<ExternalSystemException>()).Which.Message.Should().Contain("shared Graph write budget").And.Contain("no write was sent");
        budget.Enqueue(WriteGrant.Granted(3));
        (await limiter.AcquireAsync(3)).IsAcquired.Should().BeTrue("the next write asks again");
    }

    [Fact]
    public async Task A_cancelled_wait_leaves_the_queue()
    {
        var budget = new ScriptedBudget(WriteGrant.Refused(TimeSpan.FromSeconds(30)));
        using var limiter = Limiter(budget);
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));

        var act = async () => await limiter.AcquireAsync(4, cancel.Token);

        await act.Should().ThrowAsync<OperationCanceledException>();
        limiter.GetStatistics()!.CurrentQueuedCount.Should().Be(0);
    }

    /// <summary>Answers in the order given; a failure is thrown once.</summary>
    private sealed class ScriptedBudget(params WriteGrant[] answers) : ISharedWriteBudget
    {
        private readonly ConcurrentQueue<object> _answers = new(answers);

        public ConcurrentQueue<int> Asked { get; } = new();

        public void Enqueue(WriteGrant grant) => _answers.Enqueue(grant);

        public void Fail(Exception exception) => _answers.Enqueue(exception);

        public ConcurrentQueue<(long GrantId, int Writes)> Returned { get; } = new();

        public Task ReturnAsync(WriteBudgetKey key, long grantId, int writes, CancellationToken cancellationToken)
        {
            Returned.Enqueue((grantId, writes));
            return Task.CompletedTask;
        }

        public Task<WriteBudgetMismatch?> AgreeAsync(WriteBudgetKey key, WriteBudgetLimit limit, CancellationToken cancellationToken) => Task.FromResult<WriteBudgetMismatch?>(null);

        public Task<WriteGrant> RequestAsync(WriteGrantRequest request, CancellationToken cancellationToken)
        {
            Asked.Enqueue(request.Writes);
            return _answers.TryDequeue(out var answer)
                ? answer is Exception ex ? Task.FromException<WriteGrant>(ex) : Task.FromResult((WriteGrant)answer)
                : Task.FromResult(WriteGrant.Refused(TimeSpan.FromMilliseconds(20)));
        }
    }
}
