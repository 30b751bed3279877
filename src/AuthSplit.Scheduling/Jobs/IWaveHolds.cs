using AuthSplit.Core.Execution;

namespace AuthSplit.Scheduling.Jobs;

/// <summary>When the first held entity of a wave may be finished: where the hold-expiry trigger is set.</summary>
public interface IWaveHolds
{
    /// <summary>The earliest <see cref="EntityProgress.HoldUntil"/> of the wave's held entities, or null when none is held.</summary>
    Task<DateTimeOffset?> EarliestHoldUntilAsync(string planId, string wave, CancellationToken cancellationToken);
}

/// <summary>The journal's answer: the wave's <see cref="EntityState.Held"/> entities.</summary>
public sealed class JournalWaveHolds(IWaveJournal journal) : IWaveHolds
{
    public async Task<DateTimeOffset?> EarliestHoldUntilAsync(string planId, string wave, CancellationToken cancellationToken)
    {
        DateTimeOffset? earliest = null;
        await foreach (var entity in journal.ReadEntitiesAsync(planId, wave, cancellationToken))
        {
            if (entity is { State: EntityState.Held, HoldUntil: { } until } && (earliest is null || until < earliest))
            {
                earliest = until;
            }
        }

        return earliest;
    }
}
