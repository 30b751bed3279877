using AuthSplit.Core.Model;
using AuthSplit.Core.Planning.Format;

namespace AuthSplit.Core.Execution.Steps;

/// <summary>How one attempt at a step goes on record, for an entity, a system or a group switch alike.</summary>
internal static class StepJournal
{
    /// <summary>The state a step's outcome leaves its subject in.</summary>
    public static EntityState StateAfter(StepResult result, bool lastStep) => result.Outcome switch
    {
        StepOutcome.Done or StepOutcome.AlreadyDone => lastStep ? EntityState.Done : EntityState.InProgress,
        StepOutcome.Waiting => EntityState.Held,
        StepOutcome.Stale => EntityState.Stale,
        StepOutcome.Refused => EntityState.Refused,
        StepOutcome.Failed => result.Transient ? EntityState.InProgress : EntityState.Failed,
        _ => EntityState.InProgress,
    };

    /// <summary>Whether the journal shows the step done: its newest record that is not a start decides (a verification that failed after a done step reopens it).</summary>
    public static bool Completed(IReadOnlyList<StepRecord> journal, StepAction step)
    {
        for (var i = journal.Count - 1; i >= 0; i--)
        {
            if (journal[i].Step == step && journal[i].Outcome != StepOutcome.Started)
            {
                return journal[i].Outcome is StepOutcome.Done or StepOutcome.AlreadyDone;
            }
        }

        return false;
    }

    /// <summary>
    /// The steps a subject's first turn under a new plan carries over instead of running: the longest prefix
    /// of its planned steps that the latest earlier plan of the same wave had done, each with the earlier
    /// record. The delete and what follows it are never carried (an entry deleted under the earlier plan is
    /// not in a plan made after it; one restored since must be deleted again), nor a hold (a new plan's hold
    /// starts again), nor anything after a step that is not carried: order is kept.
    /// </summary>
    public static IReadOnlyList<StepRecord> CarriedPrefix(IReadOnlyList<StepAction> planned, IReadOnlyList<StepRecord>? earlier)
    {
        if (earlier is not { Count: > 0 })
        {
            return [];
        }

        var carried = new List<StepRecord>();
        foreach (var step in planned)
        {
            if (step is StepAction.Hold or StepAction.DeleteLegacyEntry or StepAction.VerifyLegacyAbsent
                || earlier.LastOrDefault(r => r.Step == step && r.Outcome is StepOutcome.Done or StepOutcome.AlreadyDone) is not { } done)
            {
                break;
            }

            carried.Add(done);
        }

        return carried;
    }

    /// <summary>The result that puts <paramref name="earlier"/> on record under the current plan.</summary>
    public static StepResult CarriedOver(StepRecord earlier) => new(StepOutcome.AlreadyDone, earlier.Before, earlier.After,
        ReasonCodes.Format(ReasonCodes.CarriedOver, $"done under plan {earlier.PlanId} at {earlier.At:yyyy-MM-dd'T'HH:mm:ss'Z'} by {earlier.Actor.Operator} (an earlier approved plan of this wave); not run again"));

    /// <summary>Whether the journal's record of <paramref name="step"/> was carried over from an earlier plan.</summary>
    public static bool IsCarriedOver(IReadOnlyList<StepRecord> journal, StepAction step) =>
        journal.Any(r => r.Step == step && r.Reason?.StartsWith(ReasonCodes.CarriedOver + ":", StringComparison.Ordinal) == true);

    public static int NextAttempt(IReadOnlyList<StepRecord> journal, StepAction step) => journal.Where(r => r.Step == step).Select(r => r.Attempt).DefaultIfEmpty(0).Max() + 1;

    /// <summary>The journal row, the subject's new progress and (in the store) the ledger record, in one transaction.</summary>
    public static async Task<StepRecord> RecordAsync(WaveContext wave, string journalId, string dn, EntityKind kind, StepAction step, int attempt, StepResult result, EntityState state, int attempts)
    {
        var now = wave.Time.GetUtcNow();
        var record = new StepRecord
        {
            PlanId = wave.PlanId,
            Wave = wave.Wave.Name,
            EntityId = journalId,
            Step = step,
            Outcome = result.Outcome,
            Attempt = attempt,
            Before = result.Before,
            After = result.After,
            Reason = result.Reason,
            Actor = wave.Actor,
            At = now,
        };
        var progress = new EntityProgress
        {
            PlanId = wave.PlanId,
            Wave = wave.Wave.Name,
            EntityId = journalId,
            Dn = dn,
            Kind = kind,
            State = state,
            LastStep = step,
            Attempts = attempts,
            Reason = result.ProgressReason,
            HoldUntil = result.HoldUntil,
            UpdatedAt = now,
        };

        // A run that lost the wave's lease (frozen past it) leaves the entity's state to the lease's new
        // holder: recording this late outcome would set back what the holder has done since. The holder's
        // own ensure reads the live entry and puts the step on record as it finds it (already done).
        if (wave.Lease?.LostReason is not null)
        {
            return record;
        }

        // Journalled whatever the run's token says: the step happened and must be on record.
        await wave.Store.RecordStepAsync(record, progress, CancellationToken.None);
        return record;
    }
}
