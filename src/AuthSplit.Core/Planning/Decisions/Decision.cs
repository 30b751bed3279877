using AuthSplit.Core.Planning.Format;

namespace AuthSplit.Core.Planning.Decisions;

/// <summary>What a person decided about one blocked (or unwanted) entity.</summary>
public enum DecisionKind
{
    /// <summary>Leave the entity in the legacy directory; it is listed as <c>kept</c>.</summary>
    Keep,
    /// <summary>Remove it although it has no target account (a leaver) or is of an unsupported kind.</summary>
    Remove,
    /// <summary>Put an entity matched by several waves into one of them.</summary>
    AssignWave,
    /// <summary>Name the target account of an ambiguous, shared or unmatched entity.</summary>
    UseTarget,
    /// <summary>Except a system (by its configured id) from its wave: the wave's deletes do not wait for its cutover.</summary>
    ExceptSystem,
    /// <summary>Accept that a synchronised cloud group (by its object id) is not switched: its members among the plan's people drop out of it.</summary>
    AcceptGroupLoss,
}

/// <param name="EntityId">The entity's id; for <see cref="DecisionKind.ExceptSystem"/> the system's id, for <see cref="DecisionKind.AcceptGroupLoss"/> the group's object id.</param>
public sealed record Decision(string EntityId, DecisionKind Kind, string? Wave, string? TargetId, string Reason, string DecidedBy)
{
    /// <summary>The decision's name as the decisions file and the plan write it (<c>assign-wave</c>).</summary>
    public string Name => WireName.Of(Kind);
}
