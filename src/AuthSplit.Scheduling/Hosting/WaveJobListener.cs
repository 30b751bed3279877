using AuthSplit.Core.Execution;
using AuthSplit.Scheduling.Jobs;
using Microsoft.Extensions.Logging;
using Quartz;

namespace AuthSplit.Scheduling.Hosting;

/// <summary>Hands each wave firing's <see cref="WaveResult"/> (or its failure) to a foreground run waiting for it, and logs a missed window.</summary>
public sealed partial class WaveJobListener(WaveCompletions completions, ILogger<WaveJobListener> logger) : IJobListener, ITriggerListener
{
    public string Name => "authsplit-waves";

    public ValueTask JobWasExecuted(IJobExecutionContext context, JobExecutionException? jobException, CancellationToken cancellationToken = default)
    {
        if (jobException?.RefireImmediately == true)
        {
            return ValueTask.CompletedTask; // fired again at once: the run goes on
        }

        var key = context.Trigger.Key;
        QuartzWaveScheduler.TryRead(context.JobDetail.JobDataMap, out var planId, out var wave, out _);
        if (jobException is not null)
        {
            completions.Fail(key, new WaveJobFailedException(planId, wave, jobException.InnerException ?? jobException));
        }
        else if (context.Result is WaveResult result)
        {
            completions.Complete(key, result);
        }
        else
        {
            completions.Fail(key, new WaveJobFailedException(planId, wave, new InvalidOperationException("the wave job ended without a result")));
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask TriggerMisfired(ITrigger trigger, IScheduler scheduler, CancellationToken cancellationToken = default)
    {
        if (trigger.Key.Group == WaveJobKeys.Group && trigger.Key.Name.EndsWith("/scheduled", StringComparison.Ordinal))
        {
            LogMissedWindow(logger, trigger.JobKey.Name, trigger.StartTimeUtc);
        }

        return ValueTask.CompletedTask;
    }

    [LoggerMessage(EventId = 6101, Level = LogLevel.Warning, Message = "The wave {Job} was scheduled for {At:o} and nothing was serving then: it is not run late. Schedule it again for the next window")]
    private static partial void LogMissedWindow(ILogger logger, string job, DateTimeOffset at);
}
