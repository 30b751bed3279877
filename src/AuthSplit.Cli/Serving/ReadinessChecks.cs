using AuthSplit.Core.Execution;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Quartz;

namespace AuthSplit.Cli.Serving;

/// <summary>
/// What <c>/healthz/ready</c> asks before it says a node can run waves: its scheduler is started (not
/// starting, not stopping), and both stores answer (the state store and Quartz's job store, one database
/// or one file). Each check says what it found; none names a secret (a connection string is never in a message).
/// </summary>
internal static class ReadinessChecks
{
    public const string Tag = "ready";

    public static IHealthCheck SchedulerStarted(ISchedulerFactory schedulers) => new Check(async cancellationToken =>
    {
        var scheduler = await schedulers.GetScheduler(cancellationToken);
        return await scheduler.GetStatus(cancellationToken) switch
        {
            SchedulerStatus.Running => HealthCheckResult.Healthy($"the scheduler is running as node {scheduler.SchedulerInstanceId}"),
            SchedulerStatus.Created => HealthCheckResult.Unhealthy("the scheduler has not started yet"),
            SchedulerStatus.ShuttingDown or SchedulerStatus.Shutdown => HealthCheckResult.Unhealthy("the scheduler is stopping (serve is shutting down)"),
            var other => HealthCheckResult.Unhealthy($"the scheduler is {other}, not running"),
        };
    });

    /// <summary>A node whose Graph write limit differs from the cluster's shared budget runs no wave: not ready, and the reason.</summary>
    public static IHealthCheck WriteBudgetAgrees(Execution.WriteBudgetAgreement agreement) => new Check(_ => Task.FromResult(agreement.Mismatch is { } mismatch
        ? HealthCheckResult.Unhealthy(mismatch.Message)
        : HealthCheckResult.Healthy("the Graph write limit is the cluster's shared budget's (or there is no shared budget)")));

    public static IHealthCheck StateStoreAnswers(IExecutionStore store) => new Check(async cancellationToken =>
    {
        try
        {
            var running = await store.GetRunningWavesAsync(cancellationToken);
            return HealthCheckResult.Healthy($"the state store ({store.Description}) answers; {running.Count} wave(s) running");
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Unhealthy($"the state store ({store.Description}) does not answer: {Describe(ex)}");
        }
    });

    // A read through Quartz's own store (it opens a connection and queries its tables).
    public static IHealthCheck SchedulerStoreAnswers(ISchedulerFactory schedulers) => new Check(async cancellationToken =>
    {
        try
        {
            var scheduler = await schedulers.GetScheduler(cancellationToken);
            var groups = await scheduler.GetJobGroupNames(cancellationToken);
            return HealthCheckResult.Healthy($"the scheduler's job store answers ({groups.Count} job group(s))");
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Unhealthy($"the scheduler's job store does not answer: {Describe(ex)}");
        }
    });

    // The innermost message says what failed (connection refused, no such table); exception texts of the
    // database drivers name the host, never the password.
    private static string Describe(Exception ex)
    {
        var inner = ex;
        while (inner.InnerException is not null)
        {
            inner = inner.InnerException;
        }

        return $"{inner.GetType().Name}: {inner.Message.ReplaceLineEndings(" ")}";
    }

    private sealed class Check(Func<CancellationToken, Task<HealthCheckResult>> check) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) => check(cancellationToken);
    }
}
