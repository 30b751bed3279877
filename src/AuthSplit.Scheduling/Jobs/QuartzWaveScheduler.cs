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
        IScheduler scheduler, string planId, string wave, string @operator, ScheduledWaveKind kind, DateTimeOffset at, CancellationToken cancellationToken, TriggerKey? runKey = null, string? executionGroup = null)
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

        if (executionGroup is not null)
        {
            // A foreground run's own group on a cluster: only the run's scheduler serves it.
            builder = builder.WithExecutionGroup(executionGroup);
        }

        var trigger = builder.Build();
        // Read first only to say what was replaced; the replace itself is decided under the store's lock.
        var previous = await scheduler.GetTrigger(key, cancellationToken);
        await scheduler.ScheduleTrigger(trigger, TriggerConflict.Replace, cancellationToken);
        return new ScheduledWave(planId, wave, @operator, kind, at, previous is null ? null : previous.NextFireTimeUtc ?? previous.StartTimeUtc);
    }

    /// <summary>Sets part <paramref name="part"/>'s job to fire at <paramref name="at"/> (replacing its trigger if set).</summary>
    internal static async Task SchedulePartAsync(IScheduler scheduler, string planId, string wave, string @operator, Core.Execution.Cluster.WavePartition part, DateTimeOffset at, CancellationToken cancellationToken)
    {
        var jobKey = WaveJobKeys.PartJob(planId, wave, part.Index, part.Count);
        var data = WaveJobKeys.Data(planId, wave, @operator);
        data[WaveJobKeys.PartIndexKey] = part.Index;
        data[WaveJobKeys.PartCountKey] = part.Count;
        var job = JobBuilder.Create<WaveJob>()
            .WithIdentity(jobKey)
            .UsingJobData(data)
            .StoreDurably()
            .RequestRecovery()
            .Build();
        await scheduler.AddJob(job, AddJobOptions.Replacing, cancellationToken);
        var trigger = TriggerBuilder.Create()
            .WithIdentity(WaveJobKeys.Part(planId, wave, part.Index, part.Count))
            .ForJob(jobKey)
            .StartAt(at)
            .WithSimpleSchedule(schedule => schedule.WithMisfireInstruction(SimpleTriggerMisfireInstruction.FireNow))
            .Build();
        await scheduler.ScheduleTrigger(trigger, TriggerConflict.Replace, cancellationToken);
    }

    /// <summary>The part a job runs, when it is a part's job.</summary>
    internal static Core.Execution.Cluster.WavePartition? ReadPart(JobDataMap data) =>
        data.TryGetValue(WaveJobKeys.PartIndexKey, out var index) && data.TryGetValue(WaveJobKeys.PartCountKey, out var count)
            && Convert.ToInt32(index, System.Globalization.CultureInfo.InvariantCulture) is var k && Convert.ToInt32(count, System.Globalization.CultureInfo.InvariantCulture) is var n
            && n >= 1 && k >= 0 && k < n
            ? new Core.Execution.Cluster.WavePartition(k, n)
            : null;

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
        : WaveJobKeys.IsPart(key) ? ScheduledWaveKind.Part
        : key.Group == WaveJobKeys.Group ? ScheduledWaveKind.Run
        : ScheduledWaveKind.Recovery;
}
