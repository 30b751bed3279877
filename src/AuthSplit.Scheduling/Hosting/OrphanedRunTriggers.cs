using AuthSplit.Scheduling.Cluster;
using AuthSplit.Scheduling.Jobs;
using Microsoft.Extensions.Logging;
using Quartz;

namespace AuthSplit.Scheduling.Hosting;

/// <summary>
/// On a routed cluster (<see cref="WaveRouting"/>), what a foreground run that is gone (killed, its machine
/// lost) left in its own execution group, which no other node serves and which would otherwise wait there
/// for ever, listed by <c>status</c>:
/// <list type="bullet">
/// <item>Quartz's recovery of its firing (the recovery trigger keeps the firing's execution group): moved to
/// the triggers with no group, so a serve node resumes the wave as Quartz recovery always did.</item>
/// <item>its trigger that never fired (killed before it did): removed, as a run stopped any other way removes
/// it; a run is never executed later in the background.</item>
/// </list>
/// A run that has run its wave to its end also removes that wave's resume and recovery triggers nobody is firing.
/// A part trigger an earlier version put in a per-wave execution group has that group cleared, so a serve node takes it.
/// Every node runs this at start and at each check-in interval; two nodes moving the same trigger at once may
/// fire its wave twice, one after the other (one wave runs one firing at a time), and the journal makes the
/// second find nothing left to do.
/// </summary>
public sealed partial class OrphanedRunTriggers(ISchedulerFactory schedulers, ISchedulerNodes nodes, WaveRouting routing, ILogger<OrphanedRunTriggers> logger)
{
    /// <param name="finishedHere">
    /// The wave job a foreground run of this process has just run to its end (complete, with failures, or
    /// holding): its resume and recovery triggers that nobody is firing are removed too, since firing them would
    /// only run the wave again (before routing, the run fired them itself, before its own firing).
    /// </param>
    /// <returns>How many triggers were moved or removed.</returns>
    public async Task<int> ReleaseAsync(JobKey? finishedHere, CancellationToken cancellationToken)
    {
        if (!routing.Routed)
        {
            return 0;
        }

        var scheduler = await schedulers.GetScheduler(cancellationToken);
        HashSet<string>? live = null;
        var released = 0;
        foreach (var group in new[] { WaveJobKeys.Group, SchedulerConstants.DefaultRecoveryGroup })
        {
            foreach (var key in await scheduler.GetTriggerKeys(GroupMatcher<TriggerKey>.GroupEquals(group), cancellationToken))
            {
                var trigger = await scheduler.GetTrigger(key, cancellationToken);
                if (trigger is null || !trigger.JobKey.Group.Equals(WaveJobKeys.Group, StringComparison.Ordinal))
                {
                    continue;
                }

                if (trigger.ExecutionGroup is { } legacy && legacy.StartsWith(WaveJobKeys.LegacyPartsExecutionGroupPrefix, StringComparison.Ordinal))
                {
                    await scheduler.ScheduleTrigger(trigger.GetTriggerBuilder().WithExecutionGroup(null).Build(), TriggerConflict.Replace, cancellationToken);
                    LogLegacyPartMoved(logger, key.Name);
                    released++;
                    continue;
                }

                if (trigger.JobKey.Equals(finishedHere) && IsResumeOrRecovery(key)
                    && await scheduler.GetTriggerState(key, cancellationToken) is not TriggerState.Executing)
                {
                    // With no serve node up it would wait in status for ever; with one it would run the wave again.
                    await scheduler.UnscheduleJob(key, cancellationToken);
                    LogOwnWaveResumeRemoved(logger, trigger.JobKey.Name, key.Name);
                    released++;
                    continue;
                }

                if (WaveJobKeys.ForegroundRunInstanceOf(trigger.ExecutionGroup) is not { } owner || owner == scheduler.SchedulerInstanceId)
                {
                    continue;
                }

                // A recovery trigger exists because Quartz took its run's node for dead: it is left over whatever
                // that node does next. A run's own trigger is left over only once its node is gone from the cluster.
                var recovery = key.Group == SchedulerConstants.DefaultRecoveryGroup;
                if (!recovery)
                {
                    live ??= [.. (await nodes.ListAsync(cancellationToken)).Select(node => node.InstanceId)];
                    if (live.Contains(owner))
                    {
                        continue;
                    }
                }

                if (recovery)
                {
                    await scheduler.ScheduleTrigger(trigger.GetTriggerBuilder().WithExecutionGroup(null).Build(), TriggerConflict.Replace, cancellationToken);
                    LogRecoveryMoved(logger, trigger.JobKey.Name, owner);
                }
                else
                {
                    await scheduler.UnscheduleJob(key, cancellationToken);
                    LogRemoved(logger, trigger.JobKey.Name, owner);
                }

                released++;
            }
        }

        return released;
    }

    private static bool IsResumeOrRecovery(TriggerKey key) =>
        key.Group == SchedulerConstants.DefaultRecoveryGroup || (key.Group == WaveJobKeys.Group && key.Name.EndsWith("/resume", StringComparison.Ordinal));

    /// <summary>Releases at start and then every <paramref name="interval"/> until <paramref name="cancellationToken"/>; a failed round is logged and the next one tried.</summary>
    public async Task KeepReleasingAsync(TimeSpan interval, TimeProvider time, CancellationToken cancellationToken)
    {
        if (!routing.Routed)
        {
            return;
        }

        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await ReleaseAsync(null, cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception exception)
            {
                // The store may be away for a moment: the wave itself says so in its own words; this tries again.
                LogRoundFailed(logger, exception);
            }

            try
            {
                await Task.Delay(interval, time, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    [LoggerMessage(EventId = 6301, Level = LogLevel.Warning, Message = "The wave job {Job}: the foreground run {Instance} that was running it is gone; its recovery now goes to the serve nodes")]
    private static partial void LogRecoveryMoved(ILogger logger, string job, string instance);

    [LoggerMessage(EventId = 6302, Level = LogLevel.Information, Message = "The wave job {Job}: removed the trigger the foreground run {Instance} left unfired; that run is gone")]
    private static partial void LogRemoved(ILogger logger, string job, string instance);

    [LoggerMessage(EventId = 6305, Level = LogLevel.Information, Message = "The wave job {Job}: removed {Trigger}, set to resume the wave this run has just run to its end")]
    private static partial void LogOwnWaveResumeRemoved(ILogger logger, string job, string trigger);

    [LoggerMessage(EventId = 6303, Level = LogLevel.Information, Message = "The part trigger {Trigger} of an earlier version: its execution group cleared, so a serve node takes it")]
    private static partial void LogLegacyPartMoved(ILogger logger, string trigger);

    [LoggerMessage(EventId = 6304, Level = LogLevel.Debug, Message = "Looking for triggers left by foreground runs that are gone failed; trying again at the next check-in")]
    private static partial void LogRoundFailed(ILogger logger, Exception exception);
}
