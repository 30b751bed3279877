using Quartz;

namespace AuthSplit.Scheduling.Jobs;

/// <summary>The wave schedule in Quartz's store: one durable job per (plan, wave), a trigger per purpose.</summary>
public sealed class QuartzWaveScheduler(ISchedulerFactory schedulers) : IWaveScheduler
{
    public async Task<ScheduledWave> ScheduleAsync(string planId, string wave, string @operator, DateTimeOffset at, CancellationToken cancellationToken)
    {
        var scheduler = await schedulers.GetScheduler(cancellationToken);
        return await ScheduleAsync(scheduler, planId, wave, @operator, ScheduledWaveKind.Scheduled, at, cancellationToken);
    }

    public async Task<ScheduledWave> ScheduleHoldExpiryAsync(string planId, string wave, string @operator, DateTimeOffset at, CancellationToken cancellationToken)
    {
        var scheduler = await schedulers.GetScheduler(cancellationToken);
        return await ScheduleAsync(scheduler, planId, wave, @operator, ScheduledWaveKind.HoldExpiry, at, cancellationToken);
    }

    public async Task<IReadOnlyList<ScheduledWave>> ListAsync(CancellationToken cancellationToken)
    {
        var scheduler = await schedulers.GetScheduler(cancellationToken);
        var list = new List<ScheduledWave>();
        foreach (var jobKey in await scheduler.GetJobKeys(GroupMatcher<JobKey>.GroupEquals(WaveJobKeys.Group), cancellationToken))
        {
            var job = await scheduler.GetJobDetail(jobKey, cancellationToken);
            if (job is null || !TryRead(job.JobDataMap, out var planId, out var wave, out var @operator))
            {
                continue;
            }

            foreach (var trigger in await scheduler.GetTriggersOfJob(jobKey, cancellationToken))
            {
                // A trigger the job completed (UnscheduleAllTriggers, a misconfiguration) stays stored as Complete and never fires.
                if (trigger.NextFireTimeUtc is { } next && await scheduler.GetTriggerState(trigger.Key, cancellationToken) is not (TriggerState.Complete or TriggerState.Error or TriggerState.None))
                {
                    list.Add(new ScheduledWave(planId, wave, @operator, KindOf(trigger.Key, planId, wave), next));
                }
            }
        }

        return [.. list.OrderBy(scheduled => scheduled.At)];
    }

    internal static async Task<ScheduledWave> ScheduleAsync(
        IScheduler scheduler, string planId, string wave, string @operator, ScheduledWaveKind kind, DateTimeOffset at, CancellationToken cancellationToken, TriggerKey? runKey = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(planId);
        ArgumentException.ThrowIfNullOrWhiteSpace(wave);
        ArgumentException.ThrowIfNullOrWhiteSpace(@operator);

        var jobKey = WaveJobKeys.Job(planId, wave);
        // Durable, so the job outlives a firing that left no trigger behind (a failed run, a hold not yet
        // set); RequestRecovery, so a firing cut short by a crash is fired again with Recovering.
        var job = JobBuilder.Create<WaveJob>()
            .WithIdentity(jobKey)
            .UsingJobData(WaveJobKeys.Data(planId, wave, @operator))
            .StoreDurably()
            .RequestRecovery()
            .Build();
        await scheduler.AddJob(job, AddJobOptions.Replacing, cancellationToken);

        var key = kind switch
        {
            ScheduledWaveKind.Scheduled => WaveJobKeys.Scheduled(planId, wave),
            ScheduledWaveKind.HoldExpiry => WaveJobKeys.HoldExpiry(planId, wave),
            ScheduledWaveKind.Resume => WaveJobKeys.Resume(planId, wave),
            _ => runKey ?? WaveJobKeys.Run(planId, wave),
        };
        var builder = TriggerBuilder.Create()
            .WithIdentity(key)
            .ForJob(jobKey)
            .StartAt(at)
            .WithSimpleSchedule(schedule =>
            {
                if (kind == ScheduledWaveKind.Scheduled)
                {
                    // A maintenance window that passed is not reopened hours later: the trigger is dropped and the miss logged.
                    schedule.WithMisfireInstruction(SimpleTriggerMisfireInstruction.NextWithRemainingCount);
                }
                else
                {
                    schedule.WithMisfireInstruction(SimpleTriggerMisfireInstruction.FireNow);
                }
            });
        if (kind == ScheduledWaveKind.Resume)
        {
            builder = builder.UsingJobData(WaveJobKeys.ResumeKey, true);
        }

        var trigger = builder.Build();
        // Read first only to say what was replaced; the replace itself is decided under the store's lock.
        var previous = await scheduler.GetTrigger(key, cancellationToken);
        await scheduler.ScheduleTrigger(trigger, TriggerConflict.Replace, cancellationToken);
        return new ScheduledWave(planId, wave, @operator, kind, at, previous is null ? null : previous.NextFireTimeUtc ?? previous.StartTimeUtc);
    }

    internal static bool TryRead(JobDataMap data, out string planId, out string wave, out string @operator)
    {
        planId = data.GetString(WaveJobKeys.PlanIdKey) ?? "";
        wave = data.GetString(WaveJobKeys.WaveKey) ?? "";
        @operator = data.GetString(WaveJobKeys.OperatorKey) ?? "";
        return planId.Length > 0 && wave.Length > 0 && @operator.Length > 0;
    }

    internal static ScheduledWaveKind KindOf(TriggerKey key, string planId, string wave) =>
        key.Equals(WaveJobKeys.Scheduled(planId, wave)) ? ScheduledWaveKind.Scheduled
        : key.Equals(WaveJobKeys.HoldExpiry(planId, wave)) ? ScheduledWaveKind.HoldExpiry
        : key.Equals(WaveJobKeys.Resume(planId, wave)) ? ScheduledWaveKind.Resume
        : key.Group == WaveJobKeys.Group ? ScheduledWaveKind.Run
        : ScheduledWaveKind.Recovery;
}
