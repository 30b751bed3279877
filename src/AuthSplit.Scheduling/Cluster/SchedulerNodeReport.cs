using System.Globalization;

namespace AuthSplit.Scheduling.Cluster;

/// <summary>A node as <c>authsplit status</c> shows it: when it last checked in and whether the cluster takes it for dead.</summary>
public sealed record SchedulerNodeView(string InstanceId, DateTimeOffset LastCheckin, double CheckinIntervalSeconds, DateTimeOffset PresumedDeadAfter, string State);

/// <summary>
/// What <c>status</c> says about the cluster's nodes. A node is <c>alive</c> while its last check-in is
/// within its check-in interval plus the misfire threshold, and <c>overdue</c> after that: presumed dead, and
/// the other nodes recover the waves it was running (Quartz's rule, <see cref="SchedulerNode.PresumedDeadAfter"/>).
/// </summary>
public static class SchedulerNodeReport
{
    public const string Alive = "alive";
    public const string Overdue = "overdue";

    public static IReadOnlyList<SchedulerNodeView> Views(IEnumerable<SchedulerNode> nodes, DateTimeOffset now, TimeSpan misfireThreshold) =>
        [.. nodes.OrderBy(n => n.InstanceId, StringComparer.Ordinal).Select(node => new SchedulerNodeView(
            node.InstanceId,
            node.LastCheckin,
            node.CheckinInterval.TotalSeconds,
            node.PresumedDeadAfter(misfireThreshold),
            node.IsOverdue(now, misfireThreshold) ? Overdue : Alive))];

    /// <param name="clustered">False for the single node on SQLite, which keeps no check-ins.</param>
    public static IReadOnlyList<string> Lines(IReadOnlyList<SchedulerNodeView> nodes, DateTimeOffset now, TimeSpan misfireThreshold, bool clustered)
    {
        if (nodes.Count == 0)
        {
            return [clustered
                ? "nodes: none has checked in to the scheduler state table (no serve is running on this database)"
                : "nodes: one at a time (the SQLite store is not clustered; its scheduler keeps no check-ins)"];
        }

        var lines = new List<string>(nodes.Count + 1)
        {
            string.Create(CultureInfo.InvariantCulture, $"nodes: {nodes.Count(n => n.State == Alive)} alive, {nodes.Count(n => n.State == Overdue)} overdue (presumed dead after check-in interval + {Seconds(misfireThreshold)} misfire threshold without a check-in)"),
        };
        foreach (var node in nodes)
        {
            var ago = now - node.LastCheckin;
            var checkedIn = string.Create(CultureInfo.InvariantCulture, $"node {node.InstanceId}: last check-in {node.LastCheckin.UtcDateTime:yyyy-MM-dd HH:mm:ss}Z, {Seconds(ago)} ago (every {Seconds(TimeSpan.FromSeconds(node.CheckinIntervalSeconds))})");
            lines.Add(node.State == Overdue
                ? string.Create(CultureInfo.InvariantCulture, $"{checkedIn}: overdue since {node.PresumedDeadAfter.UtcDateTime:HH:mm:ss}Z, presumed dead; another node recovers the waves it was running")
                : $"{checkedIn}: alive");
        }

        return lines;
    }

    private static string Seconds(TimeSpan span) => span < TimeSpan.Zero
        ? "0 s"
        : string.Create(CultureInfo.InvariantCulture, $"{Math.Floor(span.TotalSeconds):0} s");
}
