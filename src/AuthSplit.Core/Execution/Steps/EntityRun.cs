using System.Text.Json.Nodes;
using AuthSplit.Core.Directory;
using AuthSplit.Core.Execution.Safety;
using AuthSplit.Core.Model;
using AuthSplit.Core.Planning.Format;
using AuthSplit.Core.Planning.Preconditions;

namespace AuthSplit.Core.Execution.Steps;

/// <summary>How an entity's turn in this run ended.</summary>
internal enum EntityRunEnd
{
    /// <summary>A final state was journalled (done, stale, refused, failed).</summary>
    Final,

    /// <summary>Waiting for its hold period.</summary>
    Held,

    /// <summary>A transient failure: not final, the next run resumes it.</summary>
    Transient,

    /// <summary>The wave was asked to stop; the entity stopped between two steps.</summary>
    Stopped,
}

/// <summary>
/// One entity's planned steps in one run, resumed from its journal: each step an ensure that reads,
/// acts only if needed, reads back and is journalled (with its attempt number) before the next starts.
/// Steps run to their end once begun; the stop signal is looked at between them.
/// I/O inside a step is not cancelled by the run's token (a begun step finishes and is journalled);
/// the adapters bound each operation themselves.
/// </summary>
internal sealed partial class EntityRun
{
    private readonly WaveContext _wave;
    private readonly PlannedEntity _entity;
    private readonly List<StepRecord> _journal;
    private readonly EntityWriteScope _scope;
    private readonly DistinguishedName _plannedDn;
    private readonly EntityPrecondition _precondition;
    private int _attempts;
    private EntryBackup? _backup;
    private string _currentDn;

    // The live entry as this run last read it, taken after this run's last write to it (null: read afresh).
    // See LocateAsync for why the next legacy step of the same run may use it instead of reading again.
    private DirectoryEntry? _liveRead;

    // The groups this run's backup step found listing the entry, and the DN it searched: the delete step
    // of the same run uses them for that DN (see DeleteAsync). Null after a move or when no backup ran.
    private (string Dn, IReadOnlyList<GroupListing> Groups)? _groupsAtBackup;

    private EntityRun(WaveContext wave, PlannedEntity entity, EntityProgress progress, List<StepRecord> journal)
    {
        _wave = wave;
        _entity = entity;
        _journal = journal;
        _attempts = progress.Attempts;
        _plannedDn = DistinguishedName.Parse(entity.Dn);
        _scope = new EntityWriteScope(wave.Legacy, wave.SourceBase, wave.WaveBase, _plannedDn, wave.QuarantineParent);
        _precondition = new EntityPrecondition(wave.FingerprintAttributes);
        _currentDn = Completed(StepAction.QuarantineLegacyEntry) && _scope.QuarantinedDn is { } moved ? moved.Original : entity.Dn;
    }

    public EntityState State { get; private set; }

    /// <summary>The journalled reason of the entity's last record in this run.</summary>
    public string? Reason { get; private set; }

    public static async Task<EntityRun> LoadAsync(WaveContext wave, PlannedEntity entity, EntityProgress progress, CancellationToken cancellationToken)
    {
        var journal = progress.Attempts == 0 && progress.LastStep is null
            ? []
            : (await wave.Store.GetStepsAsync(wave.PlanId, entity.Id, cancellationToken)).ToList();
        return new EntityRun(wave, entity, progress, journal) { State = progress.State };
    }

    public async Task<EntityRunEnd> RunAsync(Func<bool> stopRequested)
    {
        var steps = _entity.Steps.Select(s => s.Action).ToArray();
        var next = ResumeIndex(steps);
        if (next == steps.Length)
        {
            State = EntityState.Done;
            return EntityRunEnd.Final;
        }

        // Still in its hold: nothing to read or write until it expires.
        if (steps[next] == StepAction.Hold && _journal.LastOrDefault() is { Step: StepAction.Hold, Outcome: StepOutcome.Waiting } && HoldUntil() > _wave.Time.GetUtcNow())
        {
            State = EntityState.Held;
            return EntityRunEnd.Held;
        }

        var opening = await OpeningChecksAsync();
        if (opening is not null)
        {
            await RecordAsync(steps[next], NextAttempt(steps[next]), opening);
            return EntityRunEnd.Final;
        }

        // An entity begun in an earlier run (held, or unfinished) already holds its slot: the run counted it.
        var deleteAhead = steps.Skip(next).Contains(StepAction.DeleteLegacyEntry);
        var countedAtStart = deleteAhead && HoldsSlot(State);
        var reserved = deleteAhead && !countedAtStart;
        if (reserved && !_wave.Budget.TryReserve())
        {
            var budget = StepResult.Refused(ReasonCodes.Format(ReasonCodes.DeleteBudget, $"the wave reached Safety:MaxDeletesPerWave ({_wave.Budget.Max}) of the approved plan; the entity was not touched. Raising the budget needs a new plan and a new approval"));
            await RecordAsync(steps[next], NextAttempt(steps[next]), budget);
            return EntityRunEnd.Final;
        }

        // A first turn under a new plan of a wave begun under another: what the earlier plan did is put on
        // record here, not done again (its cutover hooks, its switches, its backups taken before the disable).
        if (_journal.Count == 0 && StepJournal.CarriedPrefix(steps, _wave.EarlierPlanSteps.GetValueOrDefault(_entity.Id)) is { Count: > 0 } carried)
        {
            foreach (var earlier in carried)
            {
                await RecordAsync(earlier.Step, 1, StepJournal.CarriedOver(earlier));
            }

            next = ResumeIndex(steps);
        }

        var deleted = false;
        // Stopped unless a return below says otherwise: a stop between steps or an exception leaves the
        // entity unfinished, and it keeps its slot.
        var end = EntityRunEnd.Stopped;
        try
        {
            for (var i = next; i < steps.Length; i++)
            {
                if (i > next && stopRequested())
                {
                    return EntityRunEnd.Stopped;
                }

                var step = steps[i];
                var attempt = NextAttempt(step);
                if (step == StepAction.DeleteLegacyEntry && _wave.DeleteHoldOf(_entity) is { } held)
                {
                    // Everything up to the delete is done (switched, backed up, disabled); the delete waits
                    // for the wave's systems, unfinished rather than failed, and the next run resumes here.
                    await RecordAsync(step, attempt, StepResult.TransientFailure(ReasonCodes.Format(ReasonCodes.DeleteHeld, held)));
                    return end = EntityRunEnd.Transient;
                }

                if (!KeepsLiveRead(step))
                {
                    _liveRead = null;
                }

                // No step begins once the wave's lease is lost (its writes would ask again anyway).
                _wave.Lease?.ThrowIfNotHeld();
                StepResult result;
                try
                {
                    result = await RunStepAsync(step, attempt, steps);
                }
                catch (WriteOutsideScopeException ex)
                {
                    result = StepResult.Refused(ReasonCodes.Format(ReasonCodes.OutsideWave, ex.Message));
                }

                var last = i == steps.Length - 1;
                await RecordAsync(step, attempt, result, last);
                deleted |= step == StepAction.DeleteLegacyEntry && result.Outcome is StepOutcome.Done or StepOutcome.AlreadyDone;
                switch (result.Outcome)
                {
                    case StepOutcome.Done or StepOutcome.AlreadyDone:
                        continue;
                    case StepOutcome.Waiting:
                        return end = EntityRunEnd.Held;
                    case StepOutcome.Failed when result.Transient:
                        return end = EntityRunEnd.Transient;
                    default:
                        return end = EntityRunEnd.Final;
                }
            }

            return end = EntityRunEnd.Final;
        }
        finally
        {
            // The slot stays with an entity whose delete is still to come (held, unfinished, stopped: the
            // next run counts it as begun); it goes back when the entity ended final without deleting, or
            // when this turn reserved it and journalled nothing (an unreachable system before the first
            // record): still pending, the entity is not counted as begun, and its next turn reserves again.
            if ((reserved || countedAtStart) && !deleted && (end == EntityRunEnd.Final || (reserved && State == EntityState.Pending)))
            {
                _wave.Budget.Release();
            }
        }
    }

    // The target steps wait on the tenant (its reads, the switch, the read-back with backoff, the pacing
    // under Graph's write limit): seconds, minutes under the limit. The legacy entry is read afresh after
    // them, so the backup and the first legacy write see the entry as it is after that wait. The legacy
    // steps and the hold (no I/O, done at once when it has expired) are only a journal commit apart.
    private static bool KeepsLiveRead(StepAction step) => step is StepAction.BackupLegacyEntry or StepAction.DisableLegacyAccount
        or StepAction.QuarantineLegacyEntry or StepAction.Hold or StepAction.DeleteLegacyEntry or StepAction.VerifyLegacyAbsent;

    /// <summary>Whether an entity in this state was counted by the run's budget as begun with its delete ahead.</summary>
    internal static bool HoldsSlot(EntityState state) => state is EntityState.InProgress or EntityState.Held;

    // Before anything is done to the entity: inside its wave, the live entry still the one planned,
    // and not protected by the rails as they stand now.
    private async Task<StepResult?> OpeningChecksAsync()
    {
        if (!_scope.PlannedDnInsideWave)
        {
            return StepResult.Refused(ReasonCodes.Format(ReasonCodes.OutsideWave, $"the planned DN {_entity.Dn} is not inside wave {_wave.Wave.Name}'s base DN {_wave.Wave.BaseDn}; nothing outside the wave is touched"));
        }

        var located = await LocateAsync();
        if (located.Stale is not null)
        {
            return located.Stale;
        }

        if (located.AsPlanned is { } entry && (_wave.Protection.Check(entry, _plannedDn) ?? ConfiguredProtection(entry)) is { } protection)
        {
            return StepResult.Refused(
                ReasonCodes.Format(ReasonCodes.Protected, $"{protection.Reason}: {protection.Detail}; refused at run time although the approved plan lists the entity for removal"),
                StepJson.Of(new JsonObject { ["dn"] = located.Live!.Dn, ["protection"] = protection.Reason }));
        }

        return null;
    }

    private ProtectionRecord? ConfiguredProtection(DirectoryEntry entry) =>
        _wave.ConfiguredProtection?.Check(entry, _plannedDn) is { } configured
            ? configured with { Detail = configured.Detail + " of the running configuration (not of the approved plan)" }
            : null;

    private Task<StepResult> RunStepAsync(StepAction step, int attempt, StepAction[] steps) => step switch
    {
        StepAction.VerifyTargetAccount => VerifyTargetAccountAsync(),
        StepAction.StopPasswordSync => StopPasswordSyncAsync(),
        StepAction.VerifyCloudManaged => VerifyCloudManagedAsync(),
        StepAction.BackupLegacyEntry => BackupAsync(),
        StepAction.DisableLegacyAccount => DisableAsync(),
        StepAction.QuarantineLegacyEntry => QuarantineAsync(),
        StepAction.Hold => Task.FromResult(Hold()),
        StepAction.DeleteLegacyEntry => DeleteAsync(attempt, steps),
        StepAction.VerifyLegacyAbsent => VerifyAbsentAsync(),
        _ => throw new ArgumentOutOfRangeException(nameof(step), step, null),
    };

    // The first planned step the journal does not show done. A verification that failed resumes with
    // the step it verifies, whose own ensure reads first and writes only if needed.
    private int ResumeIndex(StepAction[] steps)
    {
        var index = Array.FindIndex(steps, s => !Completed(s));
        if (index < 0)
        {
            return steps.Length;
        }

        if (steps[index] == StepAction.VerifyCloudManaged && index > 0 && steps[index - 1] == StepAction.StopPasswordSync
            && _journal.Exists(r => r.Step == StepAction.VerifyCloudManaged && r.Outcome == StepOutcome.Failed))
        {
            return index - 1;
        }

        return index;
    }

    private bool Completed(StepAction step) => StepJournal.Completed(_journal, step);

    private int NextAttempt(StepAction step) => StepJournal.NextAttempt(_journal, step);

    private async Task RecordAsync(StepAction step, int attempt, StepResult result, bool lastStep = false)
    {
        var state = StepJournal.StateAfter(result, lastStep);
        if (!_journal.Exists(r => r.Step == step && r.Attempt == attempt))
        {
            _attempts++;
        }

        _journal.Add(await StepJournal.RecordAsync(_wave, _entity.Id, _currentDn, _entity.Kind, step, attempt, result, state, _attempts));
        State = state;
        Reason = result.ProgressReason;
    }
}
