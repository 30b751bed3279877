namespace AuthSplit.Core.Execution;

/// <summary>
/// A wave's progress for the CLI's live display, reported after every entity that ends its turn and at
/// the start and end of a run. Counts cover every entity of the wave, earlier runs included.
/// </summary>
public sealed record WaveProgress
{
    public required string PlanId { get; init; }

    public required string Wave { get; init; }

    public required int Total { get; init; }

    public required int Done { get; init; }

    public required int Stale { get; init; }

    public required int Refused { get; init; }

    public required int Failed { get; init; }

    /// <summary>Not planned for removal (protected, blocked or kept in the plan).</summary>
    public required int Excluded { get; init; }

    public required int Held { get; init; }

    /// <summary>Pending or in progress: what this run still has to do.</summary>
    public required int Remaining { get; init; }

    /// <summary>Entities that reached a final state in this run.</summary>
    public required int FinishedThisRun { get; init; }

    public required TimeSpan Elapsed { get; init; }

    /// <summary>Entities per second in this run (finished this run / elapsed); zero before the first.</summary>
    public double EntitiesPerSecond => Elapsed.TotalSeconds > 0 ? FinishedThisRun / Elapsed.TotalSeconds : 0;

    /// <summary>LDAP operations per second measured in this run: what the deadline forecast uses once known.</summary>
    public required double LdapOperationsPerSecond { get; init; }

    /// <summary>The time left at this run's rate; null until there is a rate.</summary>
    public TimeSpan? EstimatedRemaining => EntitiesPerSecond > 0 ? TimeSpan.FromSeconds(Remaining / EntitiesPerSecond) : null;

    /// <summary>While the run waits before a further round: which, for how many entities, how long, and why.</summary>
    public RetryRound? Retrying { get; init; }
}

/// <summary>A further round of a run (<c>Execution:RetryRounds</c>) about to start after <paramref name="Delay"/>.</summary>
public sealed record RetryRound(int Round, int Rounds, int Entities, TimeSpan Delay, string Cause);
