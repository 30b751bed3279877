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
}

public sealed record Decision(string EntityId, DecisionKind Kind, string? Wave, string? TargetId, string Reason, string DecidedBy)
{
    public string Name => Kind switch
    {
        DecisionKind.Keep => "keep",
        DecisionKind.Remove => "remove",
        DecisionKind.AssignWave => "assign-wave",
        DecisionKind.UseTarget => "use-target",
        _ => throw new ArgumentOutOfRangeException(nameof(Kind), Kind, null),
    };
}
