using AuthSplit.Scheduling.Cluster;

namespace AuthSplit.Scheduling.Tests.Cluster;

/// <summary>How <c>status</c> shows the cluster's nodes: alive within check-in interval + misfire threshold, overdue (presumed dead) after.</summary>
public sealed class SchedulerNodeReportTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan Threshold = TimeSpan.FromSeconds(20);

    [Theory]
    [InlineData(0, "alive")]
    [InlineData(29, "alive")]
    [InlineData(30, "alive")] // on the boundary: Quartz recovers only once the time is past it
    [InlineData(31, "overdue")]
    [InlineData(3600, "overdue")]
    public void A_node_is_overdue_once_its_last_check_in_is_older_than_interval_plus_misfire_threshold(int secondsAgo, string state)
    {
        var node = new SchedulerNode("node-a", Now.AddSeconds(-secondsAgo), Interval);

        node.PresumedDeadAfter(Threshold).Should().Be(Now.AddSeconds(30 - secondsAgo));
        SchedulerNodeReport.Views([node], Now, Threshold).Should().ContainSingle().Which.State.Should().Be(state);
    }

    [Fact]
    public void The_lines_say_which_node_checked_in_when_and_which_is_presumed_dead()
    {
        var views = SchedulerNodeReport.Views(
            [new SchedulerNode("node-b1764590000000", Now.AddSeconds(-95), Interval), new SchedulerNode("node-a1764590000000", Now.AddSeconds(-4), Interval)],
            Now,
            Threshold);

        views.Select(v => v.InstanceId).Should().Equal("node-a1764590000000", "node-b1764590000000");
        SchedulerNodeReport.Lines(views, Now, Threshold, clustered: true).Should().Equal(
            "nodes: 1 alive, 1 overdue (presumed dead after check-in interval + 20 s misfire threshold without a check-in)",
            "node node-a1764590000000: last check-in 2026-12-01 11:59:56Z, 4 s ago (every 10 s): alive",
            "node node-b1764590000000: last check-in 2026-12-01 11:58:25Z, 95 s ago (every 10 s): overdue since 11:58:55Z, presumed dead; another node recovers the waves it was running");
    }

    [Fact]
    public void A_cluster_without_check_ins_and_a_single_sqlite_node_each_say_so()
    {
        SchedulerNodeReport.Lines([], Now, Threshold, clustered: true).Should().ContainSingle().Which.Should().Contain("none has checked in");
        SchedulerNodeReport.Lines([], Now, Threshold, clustered: false).Should().ContainSingle().Which.Should().Contain("not clustered");
    }

    [Fact]
    public void A_check_in_stamped_by_a_clock_slightly_ahead_reads_as_zero_seconds_ago()
    {
        var views = SchedulerNodeReport.Views([new SchedulerNode("node-a", Now.AddSeconds(2), Interval)], Now, Threshold);

        views.Single().State.Should().Be("alive");
        SchedulerNodeReport.Lines(views, Now, Threshold, clustered: true)[1].Should().Contain(", 0 s ago");
    }
}
