using AuthSplit.Core.Execution;
using AuthSplit.Core.Execution.Cluster;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Quartz;

namespace AuthSplit.Scheduling.Jobs;

/// <summary>
/// A wave of an approved plan, as the one way a wave executes: resolves <see cref="IWaveExecution"/>
/// in a scope of its own per firing and runs it. Never two firings of one wave at once
/// (<see cref="DisallowConcurrentExecutionAttribute"/>); the job carries the plan id, the wave and the
/// operator only. A stop asked for (shutdown, interrupt) ends the firing without a refire: the journal
/// knows where the wave stands; a foreground run is resumed by running it again, a served one when a
/// scheduler next starts. A missing service or bad job data is a
/// configuration fault: the wave's triggers are removed and the error logged. Any other exception is
/// fired again, up to <see cref="WaveJobOptions.MaxRefires"/> times.
/// </summary>
[DisallowConcurrentExecution]
public sealed partial class WaveJob(IServiceScopeFactory scopes, IOptions<WaveJobOptions> options, TimeProvider time, ILogger<WaveJob> logger) : IJob
{
    // After the other holder's lease lapses: its clock and ours may differ by a little.
    private static readonly TimeSpan LeaseRetryMargin = TimeSpan.FromSeconds(1);

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        if (!QuartzWaveScheduler.TryRead(context.JobDetail.JobDataMap, out var planId, out var wave, out var @operator))
        {
            LogBadJobData(logger, context.JobDetail.Key.ToString());
            throw Misconfigured(new InvalidOperationException($"The wave job {context.JobDetail.Key} lacks its plan id, wave or operator: it was not scheduled through IWaveScheduler."));
        }

        // Everything logged during the run (the executor's lines too) carries the plan, the wave and the operator.
        using var logScope = logger.BeginScope(new Dictionary<string, object> { ["PlanId"] = planId, ["Wave"] = wave, ["Operator"] = @operator });
        var recovering = context.Recovering || (context.Trigger.JobDataMap.TryGetValue(WaveJobKeys.ResumeKey, out var resume) && resume is true or "true" or "True");
        var part = QuartzWaveScheduler.ReadPart(context.JobDetail.JobDataMap);

        // A served wave may fan out into parts (Execution:Partitions); a foreground run does the whole wave itself.
        var request = new WaveJobRequest(planId, wave, @operator, recovering)
        {
            Partition = part,
            MayPartition = QuartzWaveScheduler.KindOf(context.Trigger.Key, planId, wave) is not ScheduledWaveKind.Run,
        };

        await using var scope = scopes.CreateAsyncScope();
        IWaveExecution? execution;
        try
        {
            execution = scope.ServiceProvider.GetService<IWaveExecution>();
        }
        catch (Exception exception) when (exception is InvalidOperationException or OptionsValidationException)
        {
            LogMisconfigured(logger, exception, planId, wave, exception.Message);
            throw Misconfigured(exception);
        }

        if (execution is null)
        {
            var missing = new InvalidOperationException($"No {nameof(IWaveExecution)} is registered: the wave {wave} of plan {planId} cannot run in this process.");
            LogMisconfigured(logger, missing, planId, wave, missing.Message);
            throw Misconfigured(missing);
        }

        LogStarting(logger, planId, wave, @operator, recovering, context.RefireCount);
        WaveResult result;
        try
        {
            result = await execution.ExecuteAsync(request, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            context.Result = Interrupted(planId, wave, "stopped by the scheduler's shutdown; running the wave again resumes it");
            Stopped(context, planId, wave, cancellationToken);
            return;
        }
        catch (Exception exception)
        {
            if (context.RefireCount < options.Value.MaxRefires)
            {
                LogRefiring(logger, exception, planId, wave, context.RefireCount + 1, options.Value.MaxRefires);
                try
                {
                    await Task.Delay(options.Value.RefireDelay, time, cancellationToken);
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    context.Result = Interrupted(planId, wave, "stopped by the scheduler's shutdown while waiting to retry");
                    Stopped(context, planId, wave, cancellationToken);
                    return;
                }

                throw new JobExecutionException(exception) { RefireImmediately = true };
            }

            LogGaveUp(logger, exception, planId, wave, options.Value.MaxRefires);
            throw new JobExecutionException(exception);
        }

        context.Result = result;
        LogFinished(logger, planId, wave, result.Kind);
        if (cancellationToken.IsCancellationRequested && result.Kind is WaveResultKind.Interrupted or WaveResultKind.PartEnded)
        {
            Stopped(context, planId, wave, cancellationToken);
            return;
        }

        if (result.Refusal?.Code == ExecutionRefusalCode.WaveHeldElsewhere && result.LeaseHeldUntil is { } heldUntil
            && QuartzWaveScheduler.KindOf(context.Trigger.Key, planId, wave) is not ScheduledWaveKind.Run)
        {
            // Another process holds the wave (a node that died holds it until its lease lapses): try again
            // then. If the holder is alive and still running it, that next try is refused the same way, and
            // once its run ended the try finds the wave complete or resumes what it left.
            var retryAt = heldUntil + LeaseRetryMargin;
            try
            {
                if (part is not null)
                {
                    await QuartzWaveScheduler.SchedulePartAsync(context.Scheduler, planId, wave, @operator, part, retryAt, cancellationToken);
                }
                else
                {
                    await QuartzWaveScheduler.ScheduleAsync(context.Scheduler, planId, wave, @operator, ScheduledWaveKind.Resume, retryAt, cancellationToken);
                }

                LogHeldElsewhere(logger, planId, wave, retryAt);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                LogHeldElsewhereNotScheduled(logger, exception, planId, wave);
            }

            return;
        }

        if (result.Kind == WaveResultKind.Partitioned)
        {
            // The parts fire now, each a job of its own: any node of the cluster takes any of them.
            var now = time.GetUtcNow();
            for (var index = 0; index < result.Partitions; index++)
            {
                await QuartzWaveScheduler.SchedulePartAsync(context.Scheduler, planId, wave, @operator, new WavePartition(index, result.Partitions), now, cancellationToken);
            }

            LogPartitioned(logger, planId, wave, result.Partitions);
            return;
        }

        if (result.Kind == WaveResultKind.Holding)
        {
            try
            {
                await ScheduleHoldExpiryAsync(context, scope.ServiceProvider, planId, wave, @operator, cancellationToken);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                // The run itself ended as it should: its result stands, and running the wave again after the hold finishes it.
                LogHoldNotScheduled(logger, exception, planId, wave);
            }
        }
    }

    /// <summary>
    /// A firing stopped by the scheduler's shutdown is not fired again now. A foreground run's firing
    /// ends there (the operator pressed Ctrl-C; running the command again resumes). A firing of
    /// <c>serve</c> (scheduled, hold expiry, resume, recovery) is handed back to Quartz by ending in
    /// <see cref="OperationCanceledException"/>: with <c>RecoverFiringsCancelledByShutdown</c> the store
    /// keeps a recovery trigger in the same transaction, and the next scheduler start on this store fires
    /// it with <c>Recovering</c>, as a SIGTERM for a reboot in the middle of a window should be.
    /// </summary>
    private void Stopped(IJobExecutionContext context, string planId, string wave, CancellationToken cancellationToken)
    {
        if (QuartzWaveScheduler.KindOf(context.Trigger.Key, planId, wave) is ScheduledWaveKind.Run)
        {
            LogStopped(logger, planId, wave);
            return;
        }

        LogResumeOnNextStart(logger, planId, wave);
        throw new OperationCanceledException($"The wave {wave} of plan {planId} was stopped by the scheduler's shutdown and is handed back for the next start.", cancellationToken);
    }

    private async Task ScheduleHoldExpiryAsync(IJobExecutionContext context, IServiceProvider services, string planId, string wave, string @operator, CancellationToken cancellationToken)
    {
        var holds = services.GetService<IWaveHolds>();
        var until = holds is null ? null : await holds.EarliestHoldUntilAsync(planId, wave, cancellationToken);
        if (until is null)
        {
            LogNoHoldTime(logger, planId, wave);
            return;
        }

        var at = until.Value < time.GetUtcNow() ? time.GetUtcNow() : until.Value;
        await QuartzWaveScheduler.ScheduleAsync(context.Scheduler, planId, wave, @operator, ScheduledWaveKind.HoldExpiry, at, cancellationToken);
        LogHoldScheduled(logger, planId, wave, at);
    }

    private static WaveResult Interrupted(string planId, string wave, string reason) => new()
    {
        Kind = WaveResultKind.Interrupted,
        PlanId = planId,
        Wave = wave,
        Entities = new Dictionary<EntityState, int>(),
        Reason = reason,
    };

    private static JobExecutionException Misconfigured(Exception exception) =>
        new(exception) { UnscheduleAllTriggers = true };

    [LoggerMessage(EventId = 6001, Level = LogLevel.Information, Message = "Wave {Wave} of plan {PlanId}: starting as {Operator} (recovering: {Recovering}, refire {RefireCount})")]
    private static partial void LogStarting(ILogger logger, string planId, string wave, string @operator, bool recovering, int refireCount);

    [LoggerMessage(EventId = 6002, Level = LogLevel.Information, Message = "Wave {Wave} of plan {PlanId}: the run ended {Kind}")]
    private static partial void LogFinished(ILogger logger, string planId, string wave, WaveResultKind kind);

    [LoggerMessage(EventId = 6003, Level = LogLevel.Information, Message = "Wave {Wave} of plan {PlanId}: stopped at the scheduler's request; not fired again, the journal resumes it on the next run")]
    private static partial void LogStopped(ILogger logger, string planId, string wave);

    [LoggerMessage(EventId = 6004, Level = LogLevel.Warning, Message = "Wave {Wave} of plan {PlanId}: the run failed; firing it again ({Attempt} of {MaxRefires})")]
    private static partial void LogRefiring(ILogger logger, Exception exception, string planId, string wave, int attempt, int maxRefires);

    [LoggerMessage(EventId = 6005, Level = LogLevel.Error, Message = "Wave {Wave} of plan {PlanId}: the run failed after {MaxRefires} refires; giving up (running the wave again resumes it)")]
    private static partial void LogGaveUp(ILogger logger, Exception exception, string planId, string wave, int maxRefires);

    [LoggerMessage(EventId = 6006, Level = LogLevel.Error, Message = "Wave {Wave} of plan {PlanId}: cannot run in this configuration, its triggers are removed: {Reason}")]
    private static partial void LogMisconfigured(ILogger logger, Exception exception, string planId, string wave, string reason);

    [LoggerMessage(EventId = 6007, Level = LogLevel.Error, Message = "The wave job {JobKey} lacks its plan id, wave or operator; its triggers are removed")]
    private static partial void LogBadJobData(ILogger logger, string jobKey);

    [LoggerMessage(EventId = 6008, Level = LogLevel.Information, Message = "Wave {Wave} of plan {PlanId}: holding; runs again when the first hold expires at {At:o}")]
    private static partial void LogHoldScheduled(ILogger logger, string planId, string wave, DateTimeOffset at);

    [LoggerMessage(EventId = 6011, Level = LogLevel.Information, Message = "Wave {Wave} of plan {PlanId}: stopped by the scheduler's shutdown; it resumes when the scheduler next starts on this store")]
    private static partial void LogResumeOnNextStart(ILogger logger, string planId, string wave);

    [LoggerMessage(EventId = 6010, Level = LogLevel.Error, Message = "Wave {Wave} of plan {PlanId}: holding, and the hold-expiry trigger could not be set; run the wave again when the hold ends")]
    private static partial void LogHoldNotScheduled(ILogger logger, Exception exception, string planId, string wave);

    [LoggerMessage(EventId = 6014, Level = LogLevel.Information, Message = "Wave {Wave} of plan {PlanId}: systems and groups done; its entities go to {Parts} part jobs that the cluster's nodes run")]
    private static partial void LogPartitioned(ILogger logger, string planId, string wave, int parts);

    [LoggerMessage(EventId = 6012, Level = LogLevel.Information, Message = "Wave {Wave} of plan {PlanId}: another process holds its lease; trying again at {At:o}, when that lease lapses unless renewed")]
    private static partial void LogHeldElsewhere(ILogger logger, string planId, string wave, DateTimeOffset at);

    [LoggerMessage(EventId = 6013, Level = LogLevel.Error, Message = "Wave {Wave} of plan {PlanId}: another process holds its lease, and the retry trigger could not be set; run the wave again once it is free")]
    private static partial void LogHeldElsewhereNotScheduled(ILogger logger, Exception exception, string planId, string wave);

    [LoggerMessage(EventId = 6009, Level = LogLevel.Warning, Message = "Wave {Wave} of plan {PlanId}: holding, but the journal gives no hold expiry time; schedule the wave again by hand when the hold ends")]
    private static partial void LogNoHoldTime(ILogger logger, string planId, string wave);
}
