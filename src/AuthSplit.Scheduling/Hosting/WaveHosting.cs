using AuthSplit.Core.Execution;
using AuthSplit.Scheduling.Jobs;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Quartz;

namespace AuthSplit.Scheduling.Hosting;

/// <summary>A foreground run of one wave: the plan id, the wave and who executes it.</summary>
public sealed record WaveRunRequest(string PlanId, string Wave, string Operator);

/// <summary>
/// The two ways the CLI hosts the scheduler, on a host built with
/// <see cref="SchedulingServiceCollectionExtensions.AddWaveScheduling"/> and
/// <see cref="SchedulingServiceCollectionExtensions.AddWaveSchedulerHost"/>.
/// </summary>
public static class WaveHosting
{
    private static readonly TimeSpan CompletedStopWait = TimeSpan.FromSeconds(20);

    /// <summary>
    /// <c>authsplit run</c>: starts the host, resumes waves the journal says were left running, schedules
    /// the wave now, waits for that firing to end, stops the host and returns the firing's result. A stop
    /// asked for (<paramref name="cancellationToken"/>, Ctrl-C, SIGTERM) lets the current step finish
    /// (the host waits for the job) and returns what the run came to, usually
    /// <see cref="WaveResultKind.Interrupted"/>. Throws <see cref="WaveJobFailedException"/> when the job failed for good.
    /// </summary>
    public static async Task<WaveResult> RunWaveAsync(this IHost host, WaveRunRequest request, CancellationToken cancellationToken)
    {
        var services = host.Services;
        var completions = services.GetRequiredService<WaveCompletions>();
        var lifetime = services.GetRequiredService<IHostApplicationLifetime>();
        var time = services.GetRequiredService<TimeProvider>();
        var key = WaveJobKeys.Run(request.PlanId, request.Wave);
        var completion = completions.Expect(key);
        var scheduler = await services.GetRequiredService<ISchedulerFactory>().GetScheduler(cancellationToken);

        await host.StartAsync(cancellationToken);
        var scheduled = false;
        try
        {
            await services.GetRequiredService<UnfinishedWaveCheck>().ResumeAsync(cancellationToken);
            await QuartzWaveScheduler.ScheduleAsync(scheduler, request.PlanId, request.Wave, request.Operator, ScheduledWaveKind.Run, time.GetUtcNow(), cancellationToken, key);
            scheduled = true;

            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, lifetime.ApplicationStopping);
            try
            {
                return await completion.WaitAsync(stop.Token);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                // Stopping: the host's stop below waits for the firing (it sees its token cancelled).
            }
        }
        finally
        {
            if (scheduled && !completion.IsCompleted)
            {
                // Never leave this run's trigger behind to fire in a later process.
                await scheduler.UnscheduleJob(key, CancellationToken.None);
            }

            var stopping = host.StopAsync(CancellationToken.None);
            if (completion.IsCompleted)
            {
                // The firing has ended: nothing of the wave is left to wait for. Quartz may still be retrying
                // its own bookkeeping against a database that went away (its job store is in the state
                // store's database); the answer is not held back for that.
                await Task.WhenAny(stopping, Task.Delay(CompletedStopWait, time, CancellationToken.None));
            }
            else
            {
                await stopping;
            }

            completions.Forget(key);
        }

        if (completion.IsCompleted)
        {
            return await completion;
        }

        cancellationToken.ThrowIfCancellationRequested();
        return new WaveResult
        {
            Kind = WaveResultKind.Interrupted,
            PlanId = request.PlanId,
            Wave = request.Wave,
            Entities = new Dictionary<EntityState, int>(),
            Reason = "stopped before the wave started",
        };
    }

    /// <summary>
    /// <c>authsplit serve</c>: starts the host, resumes waves the journal says were left running, and
    /// fires scheduled waves until the host is stopped (SIGTERM, Ctrl-C or <paramref name="cancellationToken"/>);
    /// the stop lets the running step finish.
    /// </summary>
    public static async Task ServeWavesAsync(this IHost host, CancellationToken cancellationToken)
    {
        await host.StartAsync(cancellationToken);
        await host.Services.GetRequiredService<UnfinishedWaveCheck>().ResumeAsync(cancellationToken);
        await host.WaitForShutdownAsync(cancellationToken);
    }
}
