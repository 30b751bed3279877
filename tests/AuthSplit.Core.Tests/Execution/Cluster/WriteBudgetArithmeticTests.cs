using AuthSplit.Core.Execution.Cluster;

namespace AuthSplit.Core.Tests.Execution.Cluster;

/// <summary>The shared write budget's decision rule: what it grants, how long it says to wait, and that no span ever holds more than the limit.</summary>
public sealed class WriteBudgetArithmeticTests
{
    private const long Second = 1_000_000;

    [Fact]
    public void An_empty_budget_grants()
    {
        var limit = new WriteBudgetLimit(3000, TimeSpan.FromSeconds(150), burst: 20);

        WriteBudgetArithmetic.Decide([], 100 * Second, 20, limit).Should().Be(WriteGrant.Granted(20));
    }

    [Fact]
    public void A_full_span_refuses_until_enough_of_its_oldest_grants_have_left_it()
    {
        // 10 per 2 s, margin 1 s: span 3 s; the pace rule lets the grants lead the rate by the whole limit (2 x burst 5), so only the span binds.
        var limit = new WriteBudgetLimit(10, TimeSpan.FromSeconds(2), burst: 5);
        PastGrant[] grants = [new(10 * Second, 4), new(11 * Second, 4), new(12 * Second, 2)];

        var grant = WriteBudgetArithmetic.Decide(grants, (12 * Second) + 500_000, 3, limit);

        // 3 more need 3 free: the grant of 4 at 10 s leaves the span at 13 s.
        grant.Should().Be(WriteGrant.Refused(TimeSpan.FromSeconds(0.5)));
        WriteBudgetArithmetic.Decide(grants, 13 * Second, 3, limit).IsGranted.Should().BeTrue();
        WriteBudgetArithmetic.Decide(grants, 13 * Second, 5, limit).Should().Be(WriteGrant.Refused(TimeSpan.FromSeconds(1)), "5 need the grant at 11 s gone too");
    }

    [Fact]
    public void A_grant_stamped_later_than_now_by_a_clock_that_stepped_back_still_counts()
    {
        var limit = new WriteBudgetLimit(10, TimeSpan.FromSeconds(2), burst: 5);

        var grant = WriteBudgetArithmetic.Decide([new(20 * Second, 5), new(21 * Second, 5)], 19 * Second, 1, limit);

        grant.IsGranted.Should().BeFalse();
        grant.Wait.Should().Be(TimeSpan.FromSeconds(4), "the grant stamped 20 s leaves the span at 23 s");
    }

    [Fact]
    public void The_pace_rule_spreads_grants_at_the_limits_rate_instead_of_a_burst_of_the_whole_limit()
    {
        var limit = new WriteBudgetLimit(3000, TimeSpan.FromSeconds(150), burst: 20);
        var interval = 151.0 / 3000; // seconds per write at the budget's rate

        limit.PaceWrites.Should().Be(40);
        limit.PaceWindow.TotalSeconds.Should().BeApproximately(40 / (3000 / 151.0), 1e-6);
        limit.Validity.Should().Be(TimeSpan.FromMilliseconds(500));
        limit.Rate.Should().BeApproximately(19.87, 0.01);

        // Two $batches at once are the lead allowed; a third waits until 20 of them are paid for at the rate.
        PastGrant[] two = [new(0, 20), new(0, 20)];
        var third = WriteBudgetArithmetic.Decide(two, 0, 20, limit);
        third.IsGranted.Should().BeFalse("40 were granted just now, the most the cluster may run ahead of the rate");
        third.Wait.TotalSeconds.Should().BeApproximately(20 * interval, 1e-5);
        WriteBudgetArithmetic.Decide(two, 0, 1, limit).Wait.TotalSeconds.Should().BeApproximately(interval, 1e-5, "one more needs one write's time");
        WriteBudgetArithmetic.Decide(two, Second, 20, limit).IsGranted.Should().BeFalse();
        WriteBudgetArithmetic.Decide(two, (long)(20 * interval * Second) + 1, 20, limit).IsGranted.Should().BeTrue();
    }

    [Fact]
    public void Grants_whose_sizes_do_not_add_up_to_the_pace_lose_no_rate()
    {
        // Three nodes asking for whole $batches of 20 and 12 in turn, each asking again exactly when told, at Graph's
        // own limit. Counting grants per 2 s pace window (the first version's rule) fitted only 20 + 12 of its 40:
        // 80 % of the rate. Paying each grant at the rate fits any sizes.
        var limit = new WriteBudgetLimit(3000, TimeSpan.FromSeconds(150), burst: 20);
        var grants = new List<PastGrant>();
        var next = new long[] { 0, 1_000, 2_000 };
        var size = new[] { 20, 12, 20 };
        while (next.Min() < 600 * Second)
        {
            var node = Array.IndexOf(next, next.Min());
            var now = next[node];
            var grant = WriteBudgetArithmetic.Decide(grants, now, size[node], limit);
            if (grant.IsGranted)
            {
                grants.Add(new PastGrant(now, size[node]));
                size[node] = size[node] == 20 ? 12 : 20;
                next[node] = now + 2_000; // the round trip to the database before it asks again
            }
            else
            {
                next[node] = now + (grant.Wait.Ticks / 10) + 2_000;
            }
        }

        var span = limit.Span.Ticks / 10;
        grants.Max(g => grants.Where(o => o.AtMicroseconds > g.AtMicroseconds - span && o.AtMicroseconds <= g.AtMicroseconds).Sum(o => o.Writes))
            .Should().BeLessThanOrEqualTo(3000);
        var steady = grants.Where(g => g.AtMicroseconds >= 200 * Second && g.AtMicroseconds < 600 * Second).Sum(g => g.Writes) / 400.0;
        steady.Should().BeGreaterThan(0.99 * limit.Rate).And.BeLessThanOrEqualTo(1.01 * limit.Rate);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Whatever_many_askers_ask_and_whenever_no_span_of_grants_holds_more_than_the_limit(int seed)
    {
        var random = new Random(seed);
        var limit = new WriteBudgetLimit(300, TimeSpan.FromSeconds(15), burst: 20);
        var grants = new List<PastGrant>();
        var now = 0L;
        for (var i = 0; i < 20_000; i++)
        {
            now += random.Next(0, 50_000); // asks up to 50 ms apart: far more than the budget
            var grant = WriteBudgetArithmetic.Decide(grants, now, 1 + random.Next(20), limit);
            if (grant.IsGranted)
            {
                grants.Add(new PastGrant(now, grant.Writes));
            }
            else
            {
                grant.Wait.Should().BePositive();
            }
        }

        var span = limit.Span.Ticks / 10;
        foreach (var grant in grants)
        {
            grants.Where(g => g.AtMicroseconds > grant.AtMicroseconds - span && g.AtMicroseconds <= grant.AtMicroseconds).Sum(g => g.Writes).Should().BeLessThanOrEqualTo(300);
        }

        var seconds = (double)(grants[^1].AtMicroseconds - grants[0].AtMicroseconds) / Second;
        (grants.Sum(g => g.Writes) / seconds).Should().BeGreaterThan(0.9 * limit.Rate).And.BeLessThanOrEqualTo(limit.Rate * 1.05);
    }

    [Fact]
    public void Asking_again_when_told_grants_at_the_rate_with_no_more_than_the_limit_in_any_span()
    {
        var limit = new WriteBudgetLimit(600, TimeSpan.FromSeconds(30), burst: 20);
        var grants = new List<PastGrant>();
        var now = 0L;
        while (now < 300 * Second)
        {
            var grant = WriteBudgetArithmetic.Decide(grants, now, 20, limit);
            if (grant.IsGranted)
            {
                grants.Add(new PastGrant(now, 20));
            }
            else
            {
                now += grant.Wait.Ticks / 10;
            }
        }

        var span = limit.Span.Ticks / 10;
        grants.Max(g => grants.Where(o => o.AtMicroseconds > g.AtMicroseconds - span && o.AtMicroseconds <= g.AtMicroseconds).Sum(o => o.Writes)).Should().BeLessThanOrEqualTo(600);
        (grants.Sum(g => g.Writes) / 300.0).Should().BeApproximately(limit.Rate, 0.3);
    }
}
