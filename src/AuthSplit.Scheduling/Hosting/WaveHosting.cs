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
    /// the wave now, waits for that firing to end, stops the host and returns the firing's result. On a
    /// cluster (<see cref="WaveRouting"/>) the firing is this process's alone and this process fires nothing
    /// else: the waves it resumes go to the serve nodes, and what runs that are gone left is handed on
    /// (<see cref="OrphanedRunTriggers"/>) while it runs. A stop
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
        var routing = services.GetRequiredService<WaveRouting>();
        var key = WaveJobKeys.Run(request.PlanId, request.Wave);
        var jobKey = WaveJobKeys.Job(request.PlanId, request.Wave);
        var completion = completions.Expect(key);
        var scheduler = await services.GetRequiredService<ISchedulerFactory>().GetScheduler(cancellationToken);

        await host.StartAsync(cancellationToken);
        var scheduled = false;
        using var sweeping = new CancellationTokenSource();
        var sweep = Task.CompletedTask;
        try
        {
            // On a cluster this run's scheduler takes this run's trigger only (WaveRouting): a wave the journal
            // says was left running goes to the serve nodes, this run's own wave is resumed by this run's firing.
            await services.GetRequiredService<UnfinishedWaveCheck>().ResumeAsync(cancellationToken, routing.Routed ? jobKey : null);
            sweep = services.GetRequiredService<OrphanedRunTriggers>().KeepReleasingAsync(SweepInterval(services), time, sweeping.Token);
            await QuartzWaveScheduler.ScheduleAsync(scheduler, request.PlanId, request.Wave, request.Operator, ScheduledWaveKind.Run, time.GetUtcNow(), cancellationToken, key, routing.ForegroundRunExecutionGroup);
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
            await sweeping.CancelAsync();
            await sweep;
            if (completion.IsCompletedSuccessfully && completion.Result.Kind is WaveResultKind.Completed or WaveResultKind.CompletedWithFailures or WaveResultKind.Holding)
            {
                // Once more after the firing, which ran the wave to its end: a run killed before this one is
                // recovered by Quartz just before this run's firing could start (it waited on that firing), and
                // what would resume the wave again is now pointless.
                await ReleaseOnceAsync(services.GetRequiredService<OrphanedRunTriggers>(), jobKey);
            }

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
    /// the stop lets the running step finish. On a cluster it also hands on, at each check-in interval, what
    /// foreground runs that are gone left (<see cref="OrphanedRunTriggers"/>).
    /// </summary>
    public static async Task ServeWavesAsync(this IHost host, CancellationToken cancellationToken)
    {
        var services = host.Services;
        await host.StartAsync(cancellationToken);
        await services.GetRequiredService<UnfinishedWaveCheck>().ResumeAsync(cancellationToken);
        using var sweeping = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping);
        var sweep = services.GetRequiredService<OrphanedRunTriggers>().KeepReleasingAsync(SweepInterval(services), services.GetRequiredService<TimeProvider>(), sweeping.Token);
        try
        {
            await host.WaitForShutdownAsync(cancellationToken);
        }
        finally
        {
            await sweeping.CancelAsync();
            await sweep;
        }
    }

    private static async Task ReleaseOnceAsync(OrphanedRunTriggers orphans, JobKey finishedHere)
    {
        using var bounded = new CancellationTokenSource(CompletedStopWait);
        try
        {
            await orphans.ReleaseAsync(finishedHere, bounded.Token);
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            // The run's answer is not held back for this: the serve nodes look at every check-in as well.
        }
    }

    /// <summary>As often as a node checks in: a run that is gone is found by Quartz at that pace, and what it left moved soon after.</summary>
    private static TimeSpan SweepInterval(IServiceProvider services) => services.GetRequiredService<Store.SchedulerStoreOptions>().CheckinInterval;
}
