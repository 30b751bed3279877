using AuthSplit.Core.Planning.Format;

namespace AuthSplit.Core.Planning;

/// <summary>Why no plan may be made from a read; written as <c>empty-wave-scope</c> etc. (see <see cref="WireName"/>).</summary>
public enum RefusalCode
{
    /// <summary>The legacy read returned no entries at all.</summary>
    EmptySource,
    /// <summary>A wave's filter matched nothing (a wrong filter looks exactly like this).</summary>
    EmptyWaveScope,
    /// <summary>A wave's whole scope also lies in other waves' scopes, so it has no entity of its own.</summary>
    WavesOverlap,
    /// <summary>A wave shrank sharply against the previous plan (a short read looks exactly like this).</summary>
    ScopeDrop,
}

/// <summary>A reason the planner refuses to produce a plan (a value, not an exception: the CLI exits 3).</summary>
public sealed record PlanningRefusal(RefusalCode Kind, string Message)
{
    /// <summary>The code as printed and documented (<c>empty-wave-scope</c>).</summary>
    public string Code => WireName.Of(Kind);
}

public sealed record PlanningOutcome(PlanDocument Plan, IReadOnlyList<PlanningRefusal> Refusals)
{
    public bool Refused => Refusals.Count > 0;
}
