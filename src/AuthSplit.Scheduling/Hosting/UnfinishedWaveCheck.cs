using AuthSplit.Scheduling.Jobs;
using Microsoft.Extensions.Logging;
using Quartz;

namespace AuthSplit.Scheduling.Hosting;

/// <summary>
/// At start-up, after Quartz has recovered what it knows of: every wave the journal says was left
/// running and that no trigger will fire is resumed now (its firing sees <c>Recovering</c>). The journal
/// is the source of truth; Quartz's own recovery (RequestRecovery) is not trusted alone (quartznet#3759).
/// </summary>
public sealed partial class UnfinishedWaveCheck(ISchedulerFactory schedulers, TimeProvider time, ILogger<UnfinishedWaveCheck> logger, IUnfinishedWaves? unfinished = null)
{
    /// <summary>Returns the waves it resumed (those Quartz was already going to fire are left to it).</summary>
    /// <param name="runningHere">
    /// The wave a foreground run on a cluster is about to run itself: not handed to the serve nodes as well,
    /// where it would race the run's own firing (the run resumes it from the journal all the same).
    /// </param>
    public async Task<IReadOnlyList<UnfinishedWave>> ResumeAsync(CancellationToken cancellationToken, JobKey? runningHere = null)
    {
        if (unfinished is null)
        {
            return [];
        }

        var scheduler = await schedulers.GetScheduler(cancellationToken);
        var resumed = new List<UnfinishedWave>();
        foreach (var wave in await unfinished.ListAsync(cancellationToken))
        {
            var jobKey = WaveJobKeys.Job(wave.PlanId, wave.Wave);
            if (jobKey.Equals(runningHere))
            {
                continue;
            }

            // Triggers first, firings second: a trigger that fires between the two reads is seen as a firing.
            var triggers = await scheduler.GetTriggersOfJob(jobKey, cancellationToken);
            var firings = await scheduler.QueryFireInstances(new FireInstanceQuery { Job = jobKey, State = null }, cancellationToken);
            if (firings.Items.Count > 0)
            {
                LogLeftToQuartz(logger, wave.PlanId, wave.Wave);
                continue;
            }

            var now = time.GetUtcNow();
            // Quartz's recovery trigger (or a run or resume set already) fires now: leave it to fire.
            var dueNow = false;
            foreach (var trigger in triggers)
            {
                dueNow |= trigger.NextFireTimeUtc is { } next && next <= now.AddSeconds(5)
                    && await scheduler.GetTriggerState(trigger.Key, cancellationToken) is TriggerState.Normal or TriggerState.Blocked or TriggerState.Executing or TriggerState.Awaiting;
            }

            if (dueNow)
            {
                LogLeftToQuartz(logger, wave.PlanId, wave.Wave);
                continue;
            }

            await QuartzWaveScheduler.ScheduleAsync(scheduler, wave.PlanId, wave.Wave, wave.Operator, ScheduledWaveKind.Resume, now, cancellationToken);
            LogResuming(logger, wave.PlanId, wave.Wave, wave.Operator);
            resumed.Add(wave);
        }

        return resumed;
    }

    [LoggerMessage(EventId = 6201, Level = LogLevel.Warning, Message = "Wave {Wave} of plan {PlanId}: the journal says it was left running and no trigger will fire it; resuming it now as {Operator}")]
    private static partial void LogResuming(ILogger logger, string planId, string wave, string @operator);

    [LoggerMessage(EventId = 6202, Level = LogLevel.Information, Message = "Wave {Wave} of plan {PlanId}: left running by the last process; the scheduler is firing it again")]
    private static partial void LogLeftToQuartz(ILogger logger, string planId, string wave);
}
