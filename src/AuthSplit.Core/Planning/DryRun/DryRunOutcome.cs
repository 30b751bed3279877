using AuthSplit.Core.Planning.Format;

namespace AuthSplit.Core.Planning.DryRun;

/// <summary>
/// A dry run's result: the plan (before its plan id is written: <see cref="PlanSerializer.WriteWithPlanIdAsync"/>
/// computes it from the serialised bytes) or, when the planner refused, why. The inputs are what both are about.
/// </summary>
public sealed record DryRunOutcome(PlanInputs Inputs, PlanDocument Plan, IReadOnlyList<PlanningRefusal> Refusals)
{
    public bool Refused => Refusals.Count > 0;
}
