using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;
using AuthSplit.Core.Configuration;
using AuthSplit.Core.Directory;
using AuthSplit.Core.Errors;
using AuthSplit.Core.Execution.Batching;
using AuthSplit.Core.Execution.Cluster;
using AuthSplit.Core.Execution.Groups;
using AuthSplit.Core.Execution.Safety;
using AuthSplit.Core.Execution.Steps;
using AuthSplit.Core.Execution.Systems;
using AuthSplit.Core.Planning;
using AuthSplit.Core.Planning.Format;

namespace AuthSplit.Core.Execution;

/// <summary>
/// Runs one wave of an approved plan: the gate (<see cref="ExecutionGate"/>), then every entity of the
/// wave registered in the journal (entities the plan removes as pending, the others as
/// <see cref="EntityState.Excluded"/> with the plan's reason), then the entities' planned steps with
/// <see cref="WaveExecutionSettings.Concurrency"/> entities at once, each resumed from its journal.
/// </summary>
/// <remarks>
/// The run's <see cref="CancellationToken"/> is looked at between steps only: a begun step finishes and
/// is journalled, then the run stops as <see cref="WaveResultKind.Interrupted"/>. An
/// <see cref="ExternalSystemException"/> (a system unreachable after its adapter's retries) stops the wave
/// the same way, resumable; a permanent failure ends only its entity <see cref="EntityState.Failed"/>. A
/// failure of the state store itself is rethrown once every worker has stopped: nothing may go on that
/// cannot be journalled.
/// </remarks>
public sealed class WaveExecution : IWaveExecution
{
    private readonly IExecutionStore _store;
    private readonly ILegacyDirectoryWriter _legacy;
    private readonly ITargetTenant _target;
    private readonly WaveExecutionSettings _settings;
    private readonly TimeProvider _time;
    private readonly IProgress<WaveProgress>? _progress;
    private readonly SystemPorts? _systems;

    /// <param name="systems">What the plan's systems are cut over with; needed only by a plan with systems in the wave.</param>
    public WaveExecution(IExecutionStore store, ILegacyDirectoryWriter legacy, ITargetTenant target, WaveExecutionSettings settings, TimeProvider time, IProgress<WaveProgress>? progress = null, SystemPorts? systems = null)
    {
        _systems = systems;
        _store = store;
        _legacy = legacy;
        _target = target;
        _settings = settings;
        _time = time;
        _progress = progress;
    }

    public async Task<WaveResult> ExecuteAsync(WaveJobRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var verdict = await ExecutionGate.CheckAsync(_store, request, _settings.AllowSelfApproval, cancellationToken);
        if (verdict.Refusal is not null)
        {
            // On record before the answer: an auditor sees the attempts the gate stopped, not only the runs.
            // A plan the store does not know has no chain to join, so only a known plan's refusal is kept.
            if (verdict.Refusal.Code is not (ExecutionRefusalCode.PlanNotFound or ExecutionRefusalCode.WaveUnknown))
            {
                await RecordRefusalAsync(request, verdict.Refusal, cancellationToken);
            }

            return Refused(request, verdict.Refusal);
        }

        var plan = verdict.Plan!;
        var wave = verdict.Wave!;
        var entities = plan.Entities.Where(e => e.Wave == wave.Name).ToArray();
        var systems = (plan.Systems ?? []).Where(s => s.Wave == wave.Name).ToArray();
        var groups = (plan.GroupSwitches ?? []).Where(g => g.Wave == wave.Name).ToArray();
        if (systems.Any(s => s.Disposition == Disposition.Remove) && _systems is null)
        {
            throw new InvalidOperationException("the wave has systems to cut over and the executor was composed without SystemPorts");
        }

        if (plan.Settings.PasswordSyncHook is not null && _systems is null)
        {
            throw new InvalidOperationException("the plan stops password sync by a command and the executor was composed without SystemPorts");
        }

        var existing = await _store.GetWaveAsync(request.PlanId, wave.Name, cancellationToken);
        if (existing?.Status == WaveStatus.Completed)
        {
            var journalled = await ReadStatesAsync(request.PlanId, wave.Name, cancellationToken);
            if (journalled.Count == entities.Length + systems.Length + groups.Length && journalled.Values.All(s => IsFinal(s) && s != EntityState.Failed))
            {
                return Result(WaveResultKind.Completed, request, journalled, "the wave is complete; nothing was changed") with { NothingToDo = true };
            }
        }

        // The wave's lease (or its part's): no other process (a cluster's other node, a second operator on the
        // same store) runs these steps while this one holds it, and this one writes nothing once it is lost.
        var part = request.Partition;
        var leaseKey = part is null ? LeaseKey.ForWave(request.PlanId, wave.Name) : part.LeaseKey(request.PlanId, wave.Name);
        var (lease, attempt) = await WorkLease.TryAcquireAsync(_store, leaseKey, _settings.LeaseHolders, _settings.Lease, _time, cancellationToken);
        if (lease is null)
        {
            return await HeldElsewhereAsync(request, leaseKey, attempt.HeldBy!, attempt.HeldUntil!.Value, cancellationToken);
        }

        await using var leased = lease;

        // The whole wave and its parts exclude each other: a whole-wave run waits for parts still running, a
        // part for a whole-wave run (or the head's systems and groups) in progress.
        if (await ConflictingLeaseAsync(request.PlanId, wave.Name, part, cancellationToken) is { } conflict)
        {
            return await HeldElsewhereAsync(request, conflict.Key, conflict.Holder, conflict.ExpiresAt, cancellationToken);
        }

        using var fence = WriteFence.Enter(lease);
        if (part is null)
        {
            await _store.RegisterEntitiesAsync([.. entities.Select(e => Registration(request.PlanId, e)), .. systems.Select(s => Registration(request.PlanId, s)), .. groups.Select(g => Registration(request.PlanId, g))], cancellationToken);
        }

        var states = await ReadStatesAsync(request.PlanId, wave.Name, cancellationToken);
        var actor = new ExecutionActor(request.Operator, _settings.Node);
        var startedAt = _time.GetUtcNow();
        if (part is null)
        {
            await _store.SaveWaveAsync(
                new WaveRun
                {
                    PlanId = request.PlanId,
                    Wave = wave.Name,
                    Status = WaveStatus.Running,
                    StartedBy = actor,
                    StartedAt = startedAt,
                    SelfApproved = verdict.SelfApproved,
                    Reason = verdict.SelfApproved ? $"self-approved: {request.Operator} approved plan {request.PlanId} and executes it, allowed by Execution:AllowSelfApproval" : null,
                },
                cancellationToken);
        }
        else
        {
            // A part runs only its own entities; the head registered them all and ran the systems and groups.
            var missing = entities.Where(e => part.Contains(e.Id) && !states.ContainsKey(e.Id)).Select(e => e.Id).FirstOrDefault();
            if (missing is not null)
            {
                throw new InvalidOperationException($"{part} of wave {wave.Name} found entity {missing} unregistered: parts start only after the wave's head run registered the wave");
            }

            entities = [.. entities.Where(e => part.Contains(e.Id))];
        }

        var earlierSteps = await EarlierPlanStepsAsync(request.PlanId, wave.Name, systems, cancellationToken);
        var counting = new CountingLegacyWriter(new LeaseGuardedLegacyWriter(_legacy, lease));
        ITargetTenant target = new LeaseGuardedTargetTenant(_target, lease);

        // Many entities' single-user calls gathered into the adapter's $batches (the lease asked as each batch leaves).
        target = _settings.TargetBatchSize > 1 ? new CoalescingTargetTenant(target, _settings.TargetBatchSize, _settings.TargetBatchLinger) : target;
        var context = new WaveContext
        {
            Plan = plan,
            PlanId = request.PlanId,
            Wave = wave,
            Store = _store,
            Legacy = counting,
            Target = target,
            Lease = lease,
            EarlierPlanSteps = earlierSteps,
            PasswordSyncHook = plan.Settings.PasswordSyncHook is { } hook ? new PasswordSync.PasswordSyncHookRun(hook, _systems!.Commands, target, _settings.TargetBatchLinger) : null,
            Settings = _settings,
            Time = _time,
            Actor = actor,
            Protection = ProtectionPolicy.FromPlan(plan.Settings, _settings.BindDn),
            ConfiguredProtection = _settings.ConfiguredSafety is { } safety
                ? ProtectionPolicy.FromPlan(plan.Settings with { Safety = plan.Settings.Safety with { ProtectedFilter = safety.ProtectedFilter, ProtectedDns = [.. safety.ProtectedDns] } }, _settings.BindDn)
                : null,
            Budget = part is null
                ? new DeleteBudget(plan.Settings.Safety.MaxDeletesPerWave, await BudgetUsedAsync(request.PlanId, wave.Name, states, entities, await _store.CountDeletesAsync(request.PlanId, wave.Name, cancellationToken), cancellationToken))
                : new DeleteBudget(part.ShareOf(plan.Settings.Safety.MaxDeletesPerWave), await BudgetUsedAsync(request.PlanId, wave.Name, states, entities, DeletedIn(entities, states), cancellationToken)),
            Dialect = Enum.Parse<DirectoryDialect>(plan.Settings.Dialect, ignoreCase: true),
            SourceBase = DistinguishedName.Parse(plan.Settings.BaseDn),
            WaveBase = DistinguishedName.Parse(wave.BaseDn),
            QuarantineParent = plan.Settings.Removal.QuarantineDn is { } quarantine ? DistinguishedName.Parse(quarantine) : null,
            RemovedInWave = entities.Where(e => e.Disposition == Disposition.Remove).Select(e => e.Precondition.Dn).ToHashSet(StringComparer.Ordinal),
        };

        var run = new Run(this, context, states, entities, cancellationToken);
        if (part is null)
        {
            await run.CutOverSystemsAsync(systems, _systems);
            await run.SwitchGroupsAsync(groups);
            if (request.MayPartition && _settings.Partitions > 1 && run.StopReason is null && lease.IsHeld)
            {
                // The entities go to part jobs that any node of the cluster runs; the last part to end
                // concludes the wave. The fan-out's mark dates it: only parts run since then count.
                await MarkFanOutAsync(request.PlanId, wave.Name, cancellationToken);
                run.Report();
                return Result(WaveResultKind.Partitioned, request, await ReadStatesAsync(request.PlanId, wave.Name, CancellationToken.None),
                    $"systems and groups done; the entities go to {_settings.Partitions} part jobs (Execution:Partitions) that the cluster's nodes run") with { Partitions = _settings.Partitions };
            }
        }

        context.DeletesHeld = DeletesHeld(systems, run.States, await RolledBackAsync(request.PlanId, systems, run.States, cancellationToken));
        context.UnswitchedGroups = await UnswitchedGroupsAsync(request.PlanId, plan, run.States, cancellationToken);
        await run.ExecuteAsync();
        if (part is not null)
        {
            run.Report();
            var partReason = lease.LostReason ?? run.StopReason;
            var partEnded = Result(WaveResultKind.PartEnded, request, await ReadStatesAsync(request.PlanId, wave.Name, CancellationToken.None), partReason);
            if (lease.LostReason is not null)
            {
                return partEnded;
            }

            // Given back before concluding: the last part to end sees every part's lease released.
            await lease.DisposeAsync();
            return await ConcludePartsAsync(request, part, verdict.SelfApproved, systems, groups, context, partEnded) ?? partEnded;
        }

        var final = await ReadStatesAsync(request.PlanId, wave.Name, CancellationToken.None);
        if (lease.LostReason is { } lost)
        {
            // Whoever holds the wave now owns its status: this run only says why it stopped.
            run.Report();
            return Result(WaveResultKind.Interrupted, request, final, lost);
        }

        var concluded = await ConcludeAsync(request, final, context.DeletesHeld, run.StopReason, context, actor, startedAt, verdict.SelfApproved);
        run.Report();
        return concluded;
    }

    /// <summary>
    /// The wave's ending as a whole (a whole-wave run, or the last of its parts): deletes held back (by a
    /// system or by groups not yet switched), the verdict on its entities, and the wave's record saved.
    /// </summary>
    private async Task<WaveResult> ConcludeAsync(
        WaveJobRequest request, IReadOnlyDictionary<string, EntityState> final, string? deletesHeld, string? stopReason, WaveContext context, ExecutionActor startedBy, DateTimeOffset startedAt, bool selfApproved)
    {
        var held = deletesHeld
            ?? (context.UnswitchedGroups.Count > 0 ? $"synchronised cloud groups are not switched to cloud-managed yet: {string.Join("; ", context.UnswitchedGroups.Values)} (their members' deletes wait; switch them or record accept-group-loss)" : null);
        var (kind, status, reason) = Conclude(final, stopReason, context.Budget, held);
        await _store.SaveWaveAsync(
            new WaveRun
            {
                PlanId = request.PlanId,
                Wave = request.Wave,
                Status = status,
                StartedBy = startedBy,
                StartedAt = startedAt,
                CompletedAt = status == WaveStatus.Completed ? _time.GetUtcNow() : null,
                Reason = reason,
                SelfApproved = selfApproved,
            },
            CancellationToken.None);
        return Result(kind, request, final, reason);
    }

    // A part's deletes done: its entities that ended done with a delete in their steps.
    private static int DeletedIn(IReadOnlyList<PlannedEntity> entities, Dictionary<string, EntityState> states) =>
        entities.Count(e => e.Steps.Any(s => s.Action == StepAction.DeleteLegacyEntry) && states.TryGetValue(e.Id, out var state) && state == EntityState.Done);

    private async Task<WaveResult> HeldElsewhereAsync(WaveJobRequest request, LeaseKey key, string holder, DateTimeOffset until, CancellationToken cancellationToken)
    {
        var refusal = new ExecutionRefusal(
            ExecutionRefusalCode.WaveHeldElsewhere,
            $"{key} is being run by {holder} (its lease in the state store runs until {until:yyyy-MM-dd HH:mm:ss'Z'} and is renewed while it works); nothing was written. Wait for that run to end (authsplit status shows it); if that process is dead, its lease lapses by then and the wave can be run again");
        await RecordRefusalAsync(request, refusal, cancellationToken);
        return Refused(request, refusal) with { LeaseHeldUntil = until };
    }

    private Task RecordRefusalAsync(WaveJobRequest request, ExecutionRefusal refusal, CancellationToken cancellationToken) =>
        _store.RecordRefusalAsync(new WaveRefusal(request.PlanId, request.Wave, refusal.Code, refusal.Message, new ExecutionActor(request.Operator, _settings.Node), _time.GetUtcNow()), cancellationToken);

    private static WaveResult Refused(WaveJobRequest request, ExecutionRefusal refusal) => new()
    {
        Kind = WaveResultKind.Refused,
        PlanId = request.PlanId,
        Wave = request.Wave,
        Entities = new Dictionary<EntityState, int>(),
        Refusal = refusal,
        Reason = refusal.Message,
    };

    // Another process's lease that this run may not overlap: for a whole-wave run, a part still held; for a
    // part, the whole wave's lease held by another (a whole-wave run, or the head doing systems and groups).
    private async Task<LeaseRecord?> ConflictingLeaseAsync(string planId, string wave, WavePartition? part, CancellationToken cancellationToken)
    {
        var leases = await _store.GetLeasesAsync(cancellationToken);
        return leases.FirstOrDefault(l => l.Held && l.Key.PlanId == planId && l.Key.Wave == wave && l.Holder != _settings.LeaseHolder
            && (part is null ? WavePartition.TryParse(l.Key.Part) is not null : l.Key.Part == LeaseKey.WholeWave));
    }

    private async Task MarkFanOutAsync(string planId, string wave, CancellationToken cancellationToken)
    {
        var key = new LeaseKey(planId, wave, WavePartition.FanOutPart);
        var attempt = await _store.TryAcquireLeaseAsync(key, _settings.LeaseHolder, TimeSpan.FromSeconds(1), cancellationToken);
        if (attempt.Grant is { } grant)
        {
            await _store.ReleaseLeaseAsync(grant, cancellationToken);
        }
    }

    /// <summary>
    /// After a part ended: when every part of the latest fan-out has run since it and given its lease back,
    /// the wave is concluded as a whole-wave run concludes it, under the wave's lease (one concluder at a
    /// time; a part that cannot take it leaves the conclusion to whoever holds it). Null: not the last part.
    /// </summary>
    private async Task<WaveResult?> ConcludePartsAsync(WaveJobRequest request, WavePartition part, bool selfApproved, IReadOnlyList<PlannedSystem> systems, IReadOnlyList<PlannedGroupSwitch> groups, WaveContext context, WaveResult partEnded)
    {
        var (lease, _) = await WorkLease.TryAcquireAsync(_store, LeaseKey.ForWave(request.PlanId, request.Wave), _settings.LeaseHolders, _settings.Lease, _time, CancellationToken.None);
        if (lease is null)
        {
            return null;
        }

        await using var leased = lease;
        var leases = (await _store.GetLeasesAsync(CancellationToken.None)).Where(l => l.Key.PlanId == request.PlanId && l.Key.Wave == request.Wave).ToList();
        var fanOut = leases.FirstOrDefault(l => l.Key.Part == WavePartition.FanOutPart);
        var parts = leases.Where(l => WavePartition.TryParse(l.Key.Part) is { } p && p.Count == part.Count && (fanOut is null || l.AcquiredAt >= fanOut.AcquiredAt)).ToList();
        if (parts.Count < part.Count || parts.Any(l => l.ReleasedAt is null))
        {
            return null;
        }

        var run = await _store.GetWaveAsync(request.PlanId, request.Wave, CancellationToken.None);
        var final = await ReadStatesAsync(request.PlanId, request.Wave, CancellationToken.None);
        var deletesHeld = DeletesHeld(systems, final, await RolledBackAsync(request.PlanId, systems, final, CancellationToken.None));
        var stopReason = final.Values.Any(s => s is EntityState.Pending or EntityState.InProgress) && partEnded.Reason is { } why ? why : null;
        return await ConcludeAsync(request, final, deletesHeld, stopReason, context, run?.StartedBy ?? new ExecutionActor(request.Operator, _settings.Node), run?.StartedAt ?? _time.GetUtcNow(), selfApproved);
    }

    // What earlier approved plans of this wave did, per journal id: the done steps of the latest plan that ran
    // each (a new plan carries them over instead of running them again). A system whose cutover, probes,
    // target or accounts the new plan changed is left out: what changed is run as this plan says.
    private async Task<IReadOnlyDictionary<string, IReadOnlyList<StepRecord>>> EarlierPlanStepsAsync(string planId, string wave, IReadOnlyList<PlannedSystem> systems, CancellationToken cancellationToken)
    {
        var done = await _store.GetDoneStepsOfOtherPlansAsync(wave, planId, cancellationToken);
        if (done.Count == 0)
        {
            return new Dictionary<string, IReadOnlyList<StepRecord>>();
        }

        var latest = new Dictionary<string, IReadOnlyList<StepRecord>>(StringComparer.Ordinal);
        foreach (var subject in done.GroupBy(r => r.EntityId, StringComparer.Ordinal))
        {
            var plan = subject.Last().PlanId;

            // What authsplit rollback undid under that plan is not carried: the new plan does it again.
            var then = await _store.GetEntityAsync(plan, subject.Key, cancellationToken);
            if (ReasonCodes.CodeOf(then?.Reason) == ReasonCodes.RolledBack)
            {
                continue;
            }

            latest[subject.Key] = [.. subject.Where(r => r.PlanId == plan)];
        }

        var earlierPlans = new Dictionary<string, PlanDocument?>(StringComparer.Ordinal);
        foreach (var system in systems)
        {
            var id = SystemRun.JournalId(system.Id);
            if (!latest.TryGetValue(id, out var records))
            {
                continue;
            }

            var earlierPlanId = records[0].PlanId;
            if (!earlierPlans.TryGetValue(earlierPlanId, out var earlierPlan))
            {
                var bytes = await _store.GetPlanAsync(earlierPlanId, cancellationToken);
                earlierPlan = earlierPlans[earlierPlanId] = bytes is null ? null : PlanSerializer.Deserialize(bytes, earlierPlanId);
            }

            var before = earlierPlan?.Systems?.FirstOrDefault(s => string.Equals(s.Id, system.Id, StringComparison.OrdinalIgnoreCase));
            if (before is null || SystemSpec(before) != SystemSpec(system))
            {
                latest.Remove(id);
            }
        }

        return latest;
    }

    private static string SystemSpec(PlannedSystem system) => System.Text.Json.JsonSerializer.Serialize(
        new { system.Target.ServicePrincipalId, system.Target.AppId, system.Cutover, system.Probes, Accounts = system.LegacyAccounts.Select(a => a.Dn) },
        PlanSerializer.Options);

    // The wave's deletes wait for every system of the wave to be cut over (done), or excepted by a decision:
    // an application still binding to the legacy directory would lose its users at the delete.
    private static string? DeletesHeld(IReadOnlyList<PlannedSystem> systems, IReadOnlyDictionary<string, EntityState> states, IReadOnlySet<string> rolledBack)
    {
        var waiting = systems
            .Where(s => s.Disposition != Disposition.Kept)
            .Where(s => !states.TryGetValue(SystemRun.JournalId(s.Id), out var state) || state != EntityState.Done)
            .Select(s => s.Disposition == Disposition.Blocked
                ? $"{s.Id} (blocked: {string.Join("; ", s.Blockers.Select(b => b.Message))})"
                : rolledBack.Contains(s.Id)
                    ? $"{s.Id} (rolled back: this plan never cuts it over again; a new plan and approval cut it over, or except it)"
                    : $"{s.Id} ({(states.TryGetValue(SystemRun.JournalId(s.Id), out var state) ? WireName.Of(state) : "not started")})")
            .ToArray();
        return waiting.Length == 0
            ? null
            : $"the wave's deletes wait until its systems are cut over or excepted by a decision (except-system): {string.Join(", ", waiting)}";
    }

    // The wave's systems that authsplit rollback took back under this plan (refused, reason rolled-back).
    private async Task<IReadOnlySet<string>> RolledBackAsync(string planId, IReadOnlyList<PlannedSystem> systems, IReadOnlyDictionary<string, EntityState> states, CancellationToken cancellationToken)
    {
        var rolledBack = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var system in systems.Where(s => states.GetValueOrDefault(SystemRun.JournalId(s.Id)) == EntityState.Refused))
        {
            var progress = await _store.GetEntityAsync(planId, SystemRun.JournalId(system.Id), cancellationToken);
            if (ReasonCodes.CodeOf(progress?.Reason) == ReasonCodes.RolledBack)
            {
                rolledBack.Add(system.Id);
            }
        }

        return rolledBack;
    }

    // Every synchronised group of the plan (whichever wave switches it) whose switch is not done: its
    // members' deletes wait, in any wave. A group whose loss a decision accepts is not waited for.
    private async Task<IReadOnlyDictionary<string, string>> UnswitchedGroupsAsync(string planId, PlanDocument plan, IReadOnlyDictionary<string, EntityState> states, CancellationToken cancellationToken)
    {
        var unswitched = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var group in (plan.GroupSwitches ?? []).Where(g => g.Disposition == Disposition.Remove))
        {
            var id = GroupSwitchRun.JournalId(group.GroupId);
            var state = states.TryGetValue(id, out var known) ? known : (await _store.GetEntityAsync(planId, id, cancellationToken))?.State;
            if (state != EntityState.Done)
            {
                // The id as well as the name: an accept-group-loss decision names the group by its id.
                var where = state is { } s ? s.ToString().ToLowerInvariant() : "switched in wave " + group.Wave + ", not run yet";
                unswitched[group.GroupId] = group.DisplayName is { } name ? $"{name} ({group.GroupId}, {where})" : $"{group.GroupId} ({where})";
            }
        }

        return unswitched;
    }

    private static (WaveResultKind Kind, WaveStatus Status, string? Reason) Conclude(IReadOnlyDictionary<string, EntityState> states, string? stopReason, DeleteBudget budget, string? deletesHeld)
    {
        var count = (EntityState s) => states.Values.Count(v => v == s);
        var budgetNote = budget.Exhausted ? $"; the delete budget (Safety:MaxDeletesPerWave {budget.Max}) was reached: the entities beyond it were refused and left untouched" : string.Empty;
        if (deletesHeld is not null && stopReason is null)
        {
            var held = count(EntityState.Pending) + count(EntityState.InProgress);
            if (held > 0)
            {
                return (WaveResultKind.Interrupted, WaveStatus.Interrupted, $"{held} entit{(held == 1 ? "y waits" : "ies wait")} before the delete: {deletesHeld}; see authsplit status, deal with what they wait for, and run the wave again{budgetNote}");
            }
        }

        if (stopReason is not null)
        {
            return (WaveResultKind.Interrupted, WaveStatus.Interrupted, stopReason + budgetNote);
        }

        var unfinished = count(EntityState.Pending) + count(EntityState.InProgress);
        if (unfinished > 0)
        {
            return (WaveResultKind.Interrupted, WaveStatus.Interrupted, $"{unfinished} entit{(unfinished == 1 ? "y is" : "ies are")} unfinished after transient failures (throttling, replication); run the wave again to resume{budgetNote}");
        }

        if (count(EntityState.Held) > 0)
        {
            return (WaveResultKind.Holding, WaveStatus.Holding, $"{count(EntityState.Held)} entities wait for their hold period (Removal:HoldDays){budgetNote}");
        }

        var failed = count(EntityState.Failed);
        return failed > 0
            ? (WaveResultKind.CompletedWithFailures, WaveStatus.Completed, $"{failed} entit{(failed == 1 ? "y" : "ies")} failed; run the wave again to retry {(failed == 1 ? "it" : "them")} once the reasons are dealt with{budgetNote}")
            : (WaveResultKind.Completed, WaveStatus.Completed, budgetNote.Length > 0 ? budgetNote[2..] : null);
    }

    // The deletes done, plus the entities begun in earlier runs (held, or unfinished) whose delete is still
    // ahead: they were switched and disabled under a slot they keep until they are deleted or end final.
    // The wave's states, as the run has just read them from the journal.
    private async Task<int> BudgetUsedAsync(string planId, string wave, Dictionary<string, EntityState> states, IReadOnlyList<PlannedEntity> entities, int deletesDone, CancellationToken cancellationToken)
    {
        var used = deletesDone;
        foreach (var entity in entities.Where(e => e.Steps.Any(s => s.Action == StepAction.DeleteLegacyEntry)))
        {
            if (!states.TryGetValue(entity.Id, out var state) || !EntityRun.HoldsSlot(state))
            {
                continue;
            }

            if (state == EntityState.Held)
            {
                used++; // a hold comes before the delete
                continue;
            }

            var steps = await _store.GetStepsAsync(planId, entity.Id, cancellationToken);
            if (!steps.Any(s => s.Step == StepAction.DeleteLegacyEntry && s.Outcome is StepOutcome.Done or StepOutcome.AlreadyDone))
            {
                used++;
            }
        }

        return used;
    }

    private static EntityProgress Registration(string planId, PlannedSystem system)
    {
        var (state, reason) = system.Disposition switch
        {
            Disposition.Remove => (EntityState.Pending, (string?)null),
            Disposition.Blocked => (EntityState.Excluded, ReasonCodes.Format(ReasonCodes.ExcludedBlocked, string.Join("; ", system.Blockers.Select(b => $"{WireName.Of(b.Code)}: {b.Message}")))),
            _ => (EntityState.Excluded, ReasonCodes.Format(ReasonCodes.ExcludedExcepted, system.Decision is { } d ? $"{d.Reason} (decided by {d.DecidedBy})" : "excepted by a decision")),
        };
        return new EntityProgress
        {
            PlanId = planId,
            Wave = system.Wave,
            EntityId = SystemRun.JournalId(system.Id),
            Dn = system.LegacyAccounts.Count > 0 ? system.LegacyAccounts[0].Dn : string.Empty,
            Kind = Model.EntityKind.System,
            State = state,
            Attempts = 0,
            Reason = reason,
            UpdatedAt = DateTimeOffset.UnixEpoch,
        };
    }

    private static EntityProgress Registration(string planId, PlannedGroupSwitch group) => new()
    {
        PlanId = planId,
        Wave = group.Wave,
        EntityId = GroupSwitchRun.JournalId(group.GroupId),
        Dn = group.DisplayName ?? group.GroupId,
        Kind = Model.EntityKind.GroupSwitch,
        State = group.Disposition == Disposition.Remove ? EntityState.Pending : EntityState.Excluded,
        Attempts = 0,
        Reason = group.Disposition == Disposition.Remove ? null : ReasonCodes.Format(ReasonCodes.ExcludedExcepted, group.Decision is { } d ? $"the loss of this group's membership is accepted: {d.Reason} (decided by {d.DecidedBy})" : "accepted by a decision"),
        UpdatedAt = DateTimeOffset.UnixEpoch,
    };

    private static EntityProgress Registration(string planId, PlannedEntity entity)
    {
        var (state, reason) = entity.Disposition switch
        {
            Disposition.Remove => (EntityState.Pending, (string?)null),
            Disposition.Protected => (EntityState.Excluded, ReasonCodes.Format(ReasonCodes.ExcludedProtected, entity.Protection is { } p ? $"{p.Reason}: {p.Detail}" : "protected in the plan")),
            Disposition.Blocked => (EntityState.Excluded, ReasonCodes.Format(ReasonCodes.ExcludedBlocked, string.Join("; ", entity.Blockers.Select(b => $"{WireName.Of(b.Code)}: {b.Message}")))),
            _ => (EntityState.Excluded, ReasonCodes.Format(ReasonCodes.ExcludedKept, entity.Decision is { } d ? $"{d.Reason} (decided by {d.DecidedBy})" : "kept by a decision")),
        };
        return new EntityProgress
        {
            PlanId = planId,
            Wave = entity.Wave,
            EntityId = entity.Id,
            Dn = entity.Dn,
            Kind = entity.Kind,
            State = state,
            Attempts = 0,
            Reason = reason,
            UpdatedAt = DateTimeOffset.UnixEpoch,
        };
    }

    private async Task<Dictionary<string, EntityState>> ReadStatesAsync(string planId, string wave, CancellationToken cancellationToken)
    {
        var states = new Dictionary<string, EntityState>(StringComparer.Ordinal);
        await foreach (var entity in _store.ReadEntitiesAsync(planId, wave, cancellationToken))
        {
            states[entity.EntityId] = entity.State;
        }

        return states;
    }

    internal static bool IsFinal(EntityState state) => state is EntityState.Done or EntityState.Stale or EntityState.Refused or EntityState.Failed or EntityState.Excluded;

    private static WaveResult Result(WaveResultKind kind, WaveJobRequest request, IReadOnlyDictionary<string, EntityState> states, string? reason) => new()
    {
        Kind = kind,
        PlanId = request.PlanId,
        Wave = request.Wave,
        Entities = states.Values.GroupBy(s => s).ToDictionary(g => g.Key, g => g.Count()),
        Reason = reason,
    };

    /// <summary>One run's workers, their shared stop signal and the counts the progress display shows.</summary>
    private sealed class Run
    {
        private readonly WaveExecution _owner;
        private readonly WaveContext _context;
        private readonly ConcurrentQueue<PlannedEntity> _queue;
        private readonly Dictionary<string, EntityProgress> _progress;
        private readonly CancellationToken _cancellationToken;
        private readonly object _gate = new();
        private readonly int[] _counts = new int[Enum.GetValues<EntityState>().Length];
        private readonly Dictionary<string, EntityState> _states;
        private readonly long _startedAt;
        private int _finishedThisRun;
        private string? _stopReason;
        private ExceptionDispatchInfo? _fatal;
        private long _pauseCheckedAt = long.MinValue;
        private bool _paused;

        // This round's entities to take again, the unreachable system that ended it early (if one), and the
        // wait before the next round while it lasts (shown by the progress display).
        private readonly ConcurrentQueue<PlannedEntity> _deferred = new();
        private string? _unreachable;
        private RetryRound? _retrying;

        public Run(WaveExecution owner, WaveContext context, Dictionary<string, EntityState> states, IReadOnlyList<PlannedEntity> entities, CancellationToken cancellationToken)
        {
            _owner = owner;
            _context = context;
            _states = states;
            _cancellationToken = cancellationToken;
            _startedAt = context.Time.GetTimestamp();
            _progress = [];
            foreach (var state in states.Values)
            {
                _counts[(int)state]++;
            }

            // Failed entities are tried again; every other final state stays as it is.
            _queue = new ConcurrentQueue<PlannedEntity>(entities.Where(e => e.Disposition == Disposition.Remove && states.TryGetValue(e.Id, out var s) && (!IsFinal(s) || s == EntityState.Failed)));
        }

        public IReadOnlyDictionary<string, EntityState> States
        {
            get
            {
                lock (_gate)
                {
                    return new Dictionary<string, EntityState>(_states, StringComparer.Ordinal);
                }
            }
        }

        /// <summary>The wave's systems first, one at a time (a handful per wave; their hooks are not meant to run at once).</summary>
        public Task CutOverSystemsAsync(IReadOnlyList<PlannedSystem> systems, SystemPorts? ports) =>
            RunBesideEntitiesAsync(
                systems.Where(s => s.Disposition == Disposition.Remove).Select(s => (SystemRun.JournalId(s.Id), (Func<EntityProgress, Task<JournalledRun>>)(async progress => await SystemRun.LoadAsync(_context, s, ports!, progress, CancellationToken.None)))));

        /// <summary>Then the wave's synchronised groups, switched before its deletes (a few per wave, one at a time).</summary>
        public Task SwitchGroupsAsync(IReadOnlyList<PlannedGroupSwitch> groups) =>
            RunBesideEntitiesAsync(
                groups.Where(g => g.Disposition == Disposition.Remove).Select(g => (GroupSwitchRun.JournalId(g.GroupId), (Func<EntityProgress, Task<JournalledRun>>)(async progress => await GroupSwitchRun.LoadAsync(_context, g, progress, CancellationToken.None)))));

        private async Task RunBesideEntitiesAsync(IEnumerable<(string Id, Func<EntityProgress, Task<JournalledRun>> Load)> runs)
        {
            foreach (var (id, load) in runs)
            {
                if (StopRequested() || (_states.TryGetValue(id, out var state) && IsFinal(state) && state != EntityState.Failed))
                {
                    continue;
                }

                if (await PausedAsync())
                {
                    Stop($"paused: wave {_context.Wave.Name} was paused while running; authsplit resume --wave {_context.Wave.Name}, then run it again");
                    return;
                }

                try
                {
                    var progress = await _context.Store.GetEntityAsync(_context.PlanId, id, CancellationToken.None)
                        ?? throw new InvalidOperationException($"{id} was not registered");
                    var run = await load(progress);
                    await run.RunAsync(StopRequested);
                    Finish(id, run.State);
                }
                catch (ExternalSystemException ex)
                {
                    Stop($"unreachable: {ex.Message}; the wave stopped between steps and resumes when run again");
                }
                catch (LeaseLostException ex)
                {
                    Stop(ex.Message);
                }
            }
        }

        public string? StopReason
        {
            get
            {
                lock (_gate)
                {
                    return _stopReason;
                }
            }
        }

        /// <summary>
        /// The entities' rounds: the first takes every entity left to do; each further round (at most
        /// <see cref="WaveExecutionSettings.RetryRounds"/>, after <see cref="WaveExecutionSettings.RetryRoundDelay"/>
        /// doubled each time) takes again those the round before left unfinished after a transient failure
        /// or an unreachable system. An unreachable system ends a round early (no point in sending the rest
        /// to a service that is down); it stops the run when it is still unreachable in the last round.
        /// </summary>
        public async Task ExecuteAsync()
        {
            if (!_queue.IsEmpty)
            {
                await foreach (var entity in _context.Store.ReadEntitiesAsync(_context.PlanId, _context.Wave.Name, CancellationToken.None))
                {
                    _progress[entity.EntityId] = entity;
                }
            }

            Report();
            for (var round = 0; ; round++)
            {
                var workers = Enumerable.Range(0, Math.Max(1, _context.Settings.Concurrency)).Select(_ => Task.Run(WorkAsync)).ToArray();
                await Task.WhenAll(workers);
                _fatal?.Throw();

                // The entities to take again: deferred in this round, then those the round did not reach.
                var again = _deferred.ToList();
                _deferred.Clear();
                again.AddRange(_queue);
                _queue.Clear();
                string? unreachable;
                lock (_gate)
                {
                    unreachable = _unreachable;
                    _unreachable = null;
                }

                if (again.Count == 0 || StopRequested())
                {
                    return;
                }

                if (round >= _context.Settings.RetryRounds)
                {
                    if (unreachable is not null)
                    {
                        var rounds = round + 1;
                        Stop($"unreachable: {unreachable}; still so after {rounds} round{(rounds == 1 ? "" : "s")} of the run; the wave stopped between steps and resumes when run again");
                    }

                    return;
                }

                var delay = _context.Settings.RetryRoundDelay * Math.Pow(2, round);
                _retrying = new RetryRound(round + 1, _context.Settings.RetryRounds, again.Count, delay, unreachable is null ? "unfinished after transient failures" : "unreachable: " + unreachable);
                Report();
                try
                {
                    await Task.Delay(delay, _context.Time, _cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    StopRequested();
                    return;
                }

                _retrying = null;
                foreach (var entity in again)
                {
                    // The round's own records moved the entity on: its next turn starts from the journal as it is now.
                    _progress[entity.Id] = await _context.Store.GetEntityAsync(_context.PlanId, entity.Id, CancellationToken.None)
                        ?? throw new InvalidOperationException($"{entity.Id} was not registered");
                    _queue.Enqueue(entity);
                }
            }
        }

        public void Report()
        {
            if (_owner._progress is not { } progress)
            {
                return;
            }

            WaveProgress snapshot;
            lock (_gate)
            {
                var elapsed = _context.Time.GetElapsedTime(_startedAt);
                var ldap = ((CountingLegacyWriter)_context.Legacy).Operations;
                snapshot = new WaveProgress
                {
                    PlanId = _context.PlanId,
                    Wave = _context.Wave.Name,
                    Total = _states.Count,
                    Done = _counts[(int)EntityState.Done],
                    Stale = _counts[(int)EntityState.Stale],
                    Refused = _counts[(int)EntityState.Refused],
                    Failed = _counts[(int)EntityState.Failed],
                    Excluded = _counts[(int)EntityState.Excluded],
                    Held = _counts[(int)EntityState.Held],
                    Remaining = _counts[(int)EntityState.Pending] + _counts[(int)EntityState.InProgress],
                    FinishedThisRun = _finishedThisRun,
                    Elapsed = elapsed,
                    LdapOperationsPerSecond = elapsed.TotalSeconds > 0 ? ldap / elapsed.TotalSeconds : 0,
                    Retrying = _retrying,
                };
            }

            progress.Report(snapshot);
        }

        private async Task WorkAsync()
        {
            while (!RoundOver() && _queue.TryDequeue(out var entity))
            {
                if (StopRequested())
                {
                    _queue.Enqueue(entity);
                    return;
                }

                if (await PausedAsync())
                {
                    Stop($"paused: wave {_context.Wave.Name} was paused while running; authsplit resume --wave {_context.Wave.Name}, then run it again");
                    return;
                }

                try
                {
                    var run = await EntityRun.LoadAsync(_context, entity, _progress[entity.Id], CancellationToken.None);
                    var end = await run.RunAsync(() => StopRequested() || RoundOver());
                    Finish(entity.Id, run.State);
                    if (end == EntityRunEnd.Stopped || (end == EntityRunEnd.Transient && _context.DeleteHoldOf(entity) is null))
                    {
                        // A transient failure, or stopped between steps: another round may finish it. An entity
                        // whose delete waits for the wave's systems or groups waits for another run instead.
                        _deferred.Enqueue(entity);
                    }
                }
                catch (LeaseLostException ex)
                {
                    Stop(ex.Message);
                }
                catch (ExternalSystemException ex)
                {
                    _deferred.Enqueue(entity);
                    lock (_gate)
                    {
                        _unreachable ??= ex.Message;
                    }
                }
                catch (Exception ex)
                {
                    lock (_gate)
                    {
                        _fatal ??= ExceptionDispatchInfo.Capture(ex);
                    }

                    Stop($"stopped: {ex.Message}");
                }
            }
        }

        // A system met unreachable ends the round: the entities in flight stop between steps, the rest wait.
        private bool RoundOver()
        {
            lock (_gate)
            {
                return _unreachable is not null;
            }
        }

        private bool StopRequested()
        {
            if (_cancellationToken.IsCancellationRequested)
            {
                Stop("cancelled: stopped between steps at the operator's request (Ctrl-C or SIGTERM); run the wave again to resume");
            }

            if (_context.Lease?.LostReason is { } lost)
            {
                Stop(lost);
            }

            lock (_gate)
            {
                return _stopReason is not null || _paused;
            }
        }

        private void Stop(string reason)
        {
            lock (_gate)
            {
                _stopReason ??= reason;
            }
        }

        private async Task<bool> PausedAsync()
        {
            var now = _context.Time.GetTimestamp();
            lock (_gate)
            {
                if (_pauseCheckedAt != long.MinValue && _context.Time.GetElapsedTime(_pauseCheckedAt, now) < _context.Settings.PauseCheckInterval)
                {
                    return _paused;
                }

                _pauseCheckedAt = now;
            }

            var pause = await _context.Store.GetPauseAsync(_context.Wave.Name, CancellationToken.None);
            lock (_gate)
            {
                _paused = pause is { Paused: true };
                return _paused;
            }
        }

        private void Finish(string entityId, EntityState state)
        {
            lock (_gate)
            {
                var before = _states[entityId];
                _counts[(int)before]--;
                _counts[(int)state]++;
                _states[entityId] = state;
                if (IsFinal(state))
                {
                    _finishedThisRun++;
                }
            }

            Report();
        }
    }
}
