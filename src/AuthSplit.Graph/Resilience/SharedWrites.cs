using AuthSplit.Core.Execution.Cluster;

namespace AuthSplit.Graph.Resilience;

/// <summary>
/// A connection of a cluster's node: its writes come from <paramref name="Budget"/>, shared with the other
/// nodes on the same database; <paramref name="Node"/> is recorded with each grant. <paramref name="Margin"/>
/// is the time a write may take from its grant to Graph's counter (<see cref="WriteBudgetLimit.Margin"/>); null: 1 s.
/// </summary>
public sealed record SharedWrites(ISharedWriteBudget Budget, string Node, TimeSpan? Margin = null);
