using AuthSplit.Core.Planning.Decisions;
using AuthSplit.Core.Planning.Format;

namespace AuthSplit.Core.Planning.DryRun;

/// <summary>What a dry run plans from: the settings, both sides, and what the operator added.</summary>
public sealed record DryRunRequest
{
    /// <summary>The settings compiled from the config as it is; the dry run compiles the filters again against the legacy directory's semantics.</summary>
    public required PlanningSettings Settings { get; init; }

    public required ILegacyDirectoryReader Legacy { get; init; }

    public required ITargetDirectorySource Target { get; init; }

    /// <summary>The decisions file, already parsed.</summary>
    public IReadOnlyList<Decision> Decisions { get; init; } = [];

    /// <summary>The decisions file as the plan records it (<c>null</c> without one).</summary>
    public InputDescription? DecisionsInput { get; init; }

    /// <summary>The previous plan, against which a wave's scope may not shrink sharply.</summary>
    public PlanDocument? PreviousPlan { get; init; }

    public bool AcceptScopeDrop { get; init; }

    /// <summary>
    /// Where the live reads are kept (<c>--save-snapshot</c>); with one, the legacy source is read whole,
    /// as a snapshot must hold it, else only the attributes the plan relies on.
    /// </summary>
    public IReadSnapshot? Snapshot { get; init; }

    /// <summary>Told the number of legacy entries planned so far.</summary>
    public IProgress<int>? Progress { get; init; }

    public IDryRunObserver? Observer { get; init; }
}
