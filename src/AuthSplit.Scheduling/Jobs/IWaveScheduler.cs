namespace AuthSplit.Scheduling.Jobs;

/// <summary>
/// Puts waves on the persistent schedule. Only stores triggers: a started scheduler (<c>serve</c>, or a
/// foreground <c>run</c>) fires them, so <c>authsplit schedule</c> can call this without starting one.
/// </summary>
public interface IWaveScheduler
{
    /// <summary>
    /// Runs the wave at <paramref name="at"/> (<c>authsplit schedule</c>). A wave has one such time:
    /// scheduling it again moves it (<see cref="ScheduledWave.Replaced"/> says from when), and the wave
    /// stays one job. A time missed by more than Quartz's misfire threshold (a minute) because nothing
    /// was serving is not run late: a maintenance window that passed is not reopened; it is logged.
    /// </summary>
    Task<ScheduledWave> ScheduleAsync(string planId, string wave, string @operator, DateTimeOffset at, CancellationToken cancellationToken);

    /// <summary>
    /// Runs the wave again when its first hold expires, to finish the held entities (the wave job sets
    /// this itself after a <see cref="AuthSplit.Core.Execution.WaveResultKind.Holding"/> run). One per wave;
    /// a later call moves it. Fired late rather than never when nothing was serving at that time.
    /// </summary>
    Task<ScheduledWave> ScheduleHoldExpiryAsync(string planId, string wave, string @operator, DateTimeOffset at, CancellationToken cancellationToken);

    /// <summary>Every wave trigger still to fire, soonest first (for <c>status</c>).</summary>
    Task<IReadOnlyList<ScheduledWave>> ListAsync(CancellationToken cancellationToken);
}

public enum ScheduledWaveKind
{
    /// <summary>Set by <c>authsplit schedule</c>.</summary>
    Scheduled,

    /// <summary>Finishes held entities when their hold expires.</summary>
    HoldExpiry,

    /// <summary>A foreground <c>run</c>.</summary>
    Run,

    /// <summary>A wave the journal says was left running, resumed at start-up.</summary>
    Resume,

    /// <summary>Quartz's own recovery of a firing a crash cut short.</summary>
    Recovery,

    /// <summary>One part of a partitioned wave (<c>Execution:Partitions</c>), set when the wave fans out.</summary>
    Part,
}

/// <param name="Replaced">When the same trigger was already set: the time it had, now replaced.</param>
public sealed record ScheduledWave(string PlanId, string Wave, string Operator, ScheduledWaveKind Kind, DateTimeOffset At, DateTimeOffset? Replaced = null);
