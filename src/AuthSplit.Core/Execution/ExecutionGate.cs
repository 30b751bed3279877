using AuthSplit.Core.Errors;
using AuthSplit.Core.Planning.Format;

namespace AuthSplit.Core.Execution;

/// <summary>
/// Everything that must hold before a wave may start, checked in this order, each failure a refusal with
/// its own code: the plan is in the store (<see cref="ExecutionRefusalCode.PlanNotFound"/>) and its bytes
/// still hash to its id (<see cref="ExecutionRefusalCode.PlanTampered"/>), it is approved
/// (<see cref="ExecutionRefusalCode.PlanNotApproved"/>) by someone other than the operator
/// (<see cref="ExecutionRefusalCode.SelfApproval"/>, unless Execution:AllowSelfApproval), the wave is one
/// of the plan's (<see cref="ExecutionRefusalCode.WaveUnknown"/>), every wave it depends on is complete
/// under this plan with no failed entity (<see cref="ExecutionRefusalCode.DependencyIncomplete"/>), and it
/// is not paused (<see cref="ExecutionRefusalCode.WavePaused"/>).
/// </summary>
public static class ExecutionGate
{
    public static async Task<GateVerdict> CheckAsync(IExecutionStore store, WaveJobRequest request, bool allowSelfApproval, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(request);
        var bytes = await store.GetPlanAsync(request.PlanId, cancellationToken);
        if (bytes is null)
        {
            return Refuse(ExecutionRefusalCode.PlanNotFound, $"no plan {request.PlanId} is kept in the state store ({store.Description}); approve the plan file first (authsplit approve)");
        }

        PlanDocument plan;
        try
        {
            plan = PlanSerializer.Deserialize(bytes, $"plan {request.PlanId} in {store.Description}");
        }
        catch (InputException ex)
        {
            return Refuse(ExecutionRefusalCode.PlanTampered, $"the stored plan {request.PlanId} is not the plan that was approved: {ex.Message}");
        }

        if (!string.Equals(plan.PlanId, request.PlanId, StringComparison.Ordinal))
        {
            return Refuse(ExecutionRefusalCode.PlanTampered, $"the plan stored as {request.PlanId} hashes to {plan.PlanId}: it is not the plan that was approved");
        }

        var approvals = await store.GetApprovalsAsync(request.PlanId, cancellationToken);
        if (approvals.Count == 0)
        {
            return Refuse(ExecutionRefusalCode.PlanNotApproved, $"plan {request.PlanId} is not approved; a reviewer approves it with authsplit approve --plan FILE --by NAME");
        }

        var self = approvals.Where(a => SamePerson(a.ApprovedBy, request.Operator)).ToArray();
        if (self.Length > 0 && !allowSelfApproval)
        {
            return Refuse(ExecutionRefusalCode.SelfApproval, $"{request.Operator} approved plan {request.PlanId} and may not also execute it (four eyes); another operator runs it, or set Execution:AllowSelfApproval for a one-operator team (the journal records it)");
        }

        var wave = plan.Settings.Waves.FirstOrDefault(w => string.Equals(w.Name, request.Wave, StringComparison.Ordinal));
        if (wave is null)
        {
            return Refuse(ExecutionRefusalCode.WaveUnknown, $"plan {request.PlanId} has no wave \"{request.Wave}\" (its waves: {string.Join(", ", plan.Settings.Waves.Select(w => w.Name))})");
        }

        foreach (var dependency in wave.DependsOn)
        {
            var run = await store.GetWaveAsync(request.PlanId, dependency, cancellationToken);
            if (run?.Status != WaveStatus.Completed)
            {
                return Refuse(ExecutionRefusalCode.DependencyIncomplete, $"wave {wave.Name} depends on wave {dependency}, which is {Describe(run?.Status)} under plan {request.PlanId}; run wave {dependency} to completion first");
            }

            var failed = 0;
            await foreach (var entity in store.ReadEntitiesAsync(request.PlanId, dependency, cancellationToken))
            {
                failed += entity.State == EntityState.Failed ? 1 : 0;
            }

            if (failed > 0)
            {
                return Refuse(ExecutionRefusalCode.DependencyIncomplete, $"wave {wave.Name} depends on wave {dependency}, which ended with {failed} failed entit{(failed == 1 ? "y" : "ies")}; run wave {dependency} again once their reasons are dealt with");
            }
        }

        var pause = await store.GetPauseAsync(wave.Name, cancellationToken);
        if (pause is { Paused: true })
        {
            return Refuse(ExecutionRefusalCode.WavePaused, $"wave {wave.Name} was paused by {pause.By} at {pause.At:u}; authsplit resume --wave {wave.Name} lets it run");
        }

        return new GateVerdict(plan, wave, null, self.Length > 0);
    }

    private static bool SamePerson(string a, string b) => string.Equals(a.Trim(), b.Trim(), StringComparison.OrdinalIgnoreCase);

    private static string Describe(WaveStatus? status) => status switch
    {
        null or WaveStatus.NotStarted => "not started",
        WaveStatus.Running => "running",
        WaveStatus.Holding => "holding (waiting for its hold period)",
        WaveStatus.Interrupted => "interrupted",
        _ => status.ToString()!.ToLowerInvariant(),
    };

    private static GateVerdict Refuse(ExecutionRefusalCode code, string message) => new(null, null, new ExecutionRefusal(code, message), false);
}

/// <summary>The gate's verdict: the plan and wave to run (and whether the operator approved it too), or why not.</summary>
public sealed record GateVerdict(PlanDocument? Plan, WaveSettings? Wave, ExecutionRefusal? Refusal, bool SelfApproved);
