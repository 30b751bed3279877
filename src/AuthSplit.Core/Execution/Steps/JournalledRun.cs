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

    /// <summary>The planned steps, in order.</summary>
    protected abstract IReadOnlyList<StepAction> Steps { get; }

    protected abstract Task<StepResult> RunStepAsync(StepAction step, int attempt);

    public async Task<EntityRunEnd> RunAsync(Func<bool> stopRequested)
    {
        var steps = Steps;
        if (Journal.Count == 0 && StepJournal.CarriedPrefix(steps, Wave.EarlierPlanSteps.GetValueOrDefault(_journalId)) is { Count: > 0 } carried)
        {
            // A new plan of a wave begun under another: what the earlier plan did is put on record, not done again.
            for (var i = 0; i < carried.Count; i++)
            {
                await RecordAsync(carried[i].Step, 1, StepJournal.CarriedOver(carried[i]), i == steps.Count - 1);
            }
        }

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

            // A system's hooks are not writes the lease guards see: no step begins once the lease is lost.
            Wave.Lease?.ThrowIfNotHeld();
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

    protected bool Completed(StepAction step) => StepJournal.Completed(Journal, step);

    protected DateTimeOffset? DoneAt(StepAction step) =>
        Journal.LastOrDefault(r => r.Step == step && r.Outcome is StepOutcome.Done or StepOutcome.AlreadyDone)?.At;

    private int NextAttempt(StepAction step) => StepJournal.NextAttempt(Journal, step);

    protected async Task RecordAsync(StepAction step, int attempt, StepResult result, bool lastStep = false)
    {
        var state = StepJournal.StateAfter(result, lastStep);
        if (!Journal.Exists(r => r.Step == step && r.Attempt == attempt))
        {
            _attempts++;
        }

        Journal.Add(await StepJournal.RecordAsync(Wave, _journalId, _dn, _kind, step, attempt, result, state, _attempts));
        State = state;
        Reason = result.ProgressReason;
    }
}
