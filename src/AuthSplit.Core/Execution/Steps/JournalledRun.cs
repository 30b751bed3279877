using AuthSplit.Core.Model;
using AuthSplit.Core.Planning.Format;

namespace AuthSplit.Core.Execution.Steps;

/// <summary>
/// The step loop of what a wave journals beside its entities (a system, a synchronised group's switch):
/// resumed from the journal at the first step not done, each step an ensure journalled before the next
/// begins, the stop signal looked at between steps. A done step is never run again.
/// </summary>
internal abstract class JournalledRun
{
    private readonly string _journalId;
    private readonly EntityKind _kind;
    private readonly string _dn;
    private int _attempts;

    protected JournalledRun(WaveContext wave, string journalId, EntityKind kind, string dn, EntityProgress progress, List<StepRecord> journal)
    {
        Wave = wave;
        Journal = journal;
        _journalId = journalId;
        _kind = kind;
        _dn = dn;
        _attempts = progress.Attempts;
        State = progress.State;
    }

    public EntityState State { get; private set; }

    public string? Reason { get; private set; }

    protected WaveContext Wave { get; }

    protected List<StepRecord> Journal { get; }

    protected abstract Task<StepResult> RunStepAsync(StepAction step, int attempt);

    public async Task<EntityRunEnd> RunAsync(IReadOnlyList<StepAction> steps, Func<bool> stopRequested)
    {
        var next = -1;
        for (var i = 0; i < steps.Count && next < 0; i++)
        {
            next = Completed(steps[i]) ? -1 : i;
        }

        if (next < 0)
        {
            State = EntityState.Done;
            return EntityRunEnd.Final;
        }

        for (var i = next; i < steps.Count; i++)
        {
            if (i > next && stopRequested())
            {
                return EntityRunEnd.Stopped;
            }

            var step = steps[i];
            var attempt = NextAttempt(step);
            var result = await RunStepAsync(step, attempt);
            await RecordAsync(step, attempt, result, i == steps.Count - 1);
            switch (result.Outcome)
            {
                case StepOutcome.Done or StepOutcome.AlreadyDone:
                    continue;
                case StepOutcome.Failed when result.Transient:
                    return EntityRunEnd.Transient;
                default:
                    return EntityRunEnd.Final;
            }
        }

        return EntityRunEnd.Final;
    }

    protected bool Completed(StepAction step)
    {
        // The newest record of the step decides (a started record is not an end).
        for (var i = Journal.Count - 1; i >= 0; i--)
        {
            if (Journal[i].Step == step && Journal[i].Outcome != StepOutcome.Started)
            {
                return Journal[i].Outcome is StepOutcome.Done or StepOutcome.AlreadyDone;
            }
        }

        return false;
    }

    protected DateTimeOffset? DoneAt(StepAction step) =>
        Journal.LastOrDefault(r => r.Step == step && r.Outcome is StepOutcome.Done or StepOutcome.AlreadyDone)?.At;

    private int NextAttempt(StepAction step) => Journal.Where(r => r.Step == step).Select(r => r.Attempt).DefaultIfEmpty(0).Max() + 1;

    protected async Task RecordAsync(StepAction step, int attempt, StepResult result, bool lastStep = false)
    {
        var state = result.Outcome switch
        {
            StepOutcome.Done or StepOutcome.AlreadyDone => lastStep ? EntityState.Done : EntityState.InProgress,
            StepOutcome.Stale => EntityState.Stale,
            StepOutcome.Refused => EntityState.Refused,
            StepOutcome.Failed => result.Transient ? EntityState.InProgress : EntityState.Failed,
            _ => EntityState.InProgress,
        };
        if (!Journal.Exists(r => r.Step == step && r.Attempt == attempt))
        {
            _attempts++;
        }

        var now = Wave.Time.GetUtcNow();
        var record = new StepRecord
        {
            PlanId = Wave.PlanId,
            Wave = Wave.Wave.Name,
            EntityId = _journalId,
            Step = step,
            Outcome = result.Outcome,
            Attempt = attempt,
            Before = result.Before,
            After = result.After,
            Reason = result.Reason,
            Actor = Wave.Actor,
            At = now,
        };
        var progress = new EntityProgress
        {
            PlanId = Wave.PlanId,
            Wave = Wave.Wave.Name,
            EntityId = _journalId,
            Dn = _dn,
            Kind = _kind,
            State = state,
            LastStep = step,
            Attempts = _attempts,
            Reason = result.ProgressReason,
            UpdatedAt = now,
        };

        // Journalled whatever the run's token says: the step happened and must be on record.
        await Wave.Store.RecordStepAsync(record, progress, CancellationToken.None);
        Journal.Add(record);
        State = state;
        Reason = result.ProgressReason;
    }
}
