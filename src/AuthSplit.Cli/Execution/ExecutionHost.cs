using AuthSplit.Cli.Planning;
using AuthSplit.Core.Configuration;
using AuthSplit.Core.Execution;
using AuthSplit.Core.Execution.Systems;
using AuthSplit.Core.Observability;
using AuthSplit.Hooks;
using AuthSplit.Ldap.Probes;
using AuthSplit.Scheduling;
using AuthSplit.Scheduling.Cluster;
using AuthSplit.Scheduling.Hosting;
using AuthSplit.Scheduling.Jobs;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Quartz;
using Serilog;

namespace AuthSplit.Cli.Execution;

/// <summary>
/// The composition root of execution: the state store, the adapters (legacy writer, target tenant), the
/// wave execution and the Quartz scheduler on the same database, in one Generic Host. Signals stay with
/// the CLI (<see cref="Interruption"/>): the host gets no console lifetime of its own, and a stop lets the
/// running step finish and be journalled before the process ends.
/// </summary>
public sealed class ExecutionHost : IAsyncDisposable
{
    /// <summary>How long a stop waits for the step in progress (a Graph write paced under the tenant's limit can wait minutes).</summary>
    public static readonly TimeSpan StepShutdownTimeout = TimeSpan.FromMinutes(10);

    private readonly StateComposition _state;
    private readonly AdapterFactory _adapters;

    private ExecutionHost(StateComposition state, AdapterFactory adapters, IHost host, Core.Execution.Cluster.WriteBudgetMismatch? writeBudgetMismatch)
    {
        _state = state;
        _adapters = adapters;
        Host = host;
        WriteBudgetMismatch = writeBudgetMismatch;
    }

    public IHost Host { get; }

    /// <summary>
    /// On a cluster: this node's Graph write limit differs from the one the shared write budget was created
    /// with. Then no wave runs here (the scheduler is not hosted): <c>run</c> refuses, <c>serve</c> is not ready.
    /// </summary>
    public Core.Execution.Cluster.WriteBudgetMismatch? WriteBudgetMismatch { get; }

    public IExecutionStore Store => _state.Store;

    /// <summary>
    /// This process's scheduler, to hold before the host starts: once it has shut down, its id is still known
    /// for <see cref="LeaveClusterAsync"/> (Quartz's factory forgets a scheduler that shut down).
    /// </summary>
    public ValueTask<Quartz.IScheduler> SchedulerAsync(CancellationToken cancellationToken) =>
        Host.Services.GetRequiredService<Quartz.ISchedulerFactory>().GetScheduler(cancellationToken);

    /// <summary>
    /// A node that stopped cleanly (a <c>serve</c> stopped, a <c>run</c> that ended) takes itself off the cluster's
    /// node list, so <c>status</c> does not show it overdue 30 s later as if it had died. Only once its scheduler
    /// has shut down (a running one would check in again). Best effort: with the database out of reach it stays
    /// listed and shows overdue, as a node that died does.
    /// </summary>
    public async Task LeaveClusterAsync(Quartz.IScheduler scheduler, Serilog.ILogger log)
    {
        ArgumentNullException.ThrowIfNull(scheduler);
        if (scheduler.Status != Quartz.SchedulerStatus.Shutdown)
        {
            return;
        }

        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            if (await Host.Services.GetRequiredService<ISchedulerNodes>().ForgetAsync(scheduler.SchedulerInstanceId, timeout.Token))
            {
                log.Information("Node {Node} left the cluster's node list", scheduler.SchedulerInstanceId);
            }
        }
        catch (Exception ex) when (ex is System.Data.Common.DbException or OperationCanceledException or TimeoutException)
        {
            log.Warning("Node {Node} could not take itself off the cluster's node list ({Reason}); status shows it overdue until another node recovers it", scheduler.SchedulerInstanceId, ex.Message);
        }
    }

    /// <summary>
    /// Uses the wave scheduler without starting it (<c>schedule</c> writes a trigger, <c>status</c> lists
    /// them), then shuts the scheduler down, so a command that only looks never fires a wave.
    /// </summary>
    public async Task<T> UseSchedulerAsync<T>(Func<IWaveScheduler, Task<T>> use)
    {
        try
        {
            return await use(Host.Services.GetRequiredService<IWaveScheduler>());
        }
        finally
        {
            await (await Host.Services.GetRequiredService<ISchedulerFactory>().GetScheduler(CancellationToken.None)).Shutdown(false, CancellationToken.None);
        }
    }

    /// <param name="progress">The live display of a foreground run; null for serve and schedule.</param>
    /// <param name="withAdapters">False for <c>schedule</c>, which only writes a trigger and connects to nothing.</param>
    /// <param name="role">A foreground run's scheduler, on a cluster, takes the run's own trigger and nothing else; serve's takes the rest.</param>
    public static async Task<ExecutionHost> CreateAsync(AuthSplitOptions options, string configPath, Serilog.ILogger log, IProgress<WaveProgress>? progress, bool withAdapters, SchedulerNodeRole role, CancellationToken cancellationToken)
    {
        var state = await StateComposition.OpenAsync(options, configPath, cancellationToken);
        var adapters = new AdapterFactory(log) { SharedWriteBudget = state.SharedWriteBudgetFor(options) };
        try
        {
            var builder = Microsoft.Extensions.Hosting.Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
            builder.Logging.ClearProviders().AddSerilog(log, dispose: false);
            builder.Services.AddSingleton<IHostLifetime, CliOwnedLifetime>();
            builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = StepShutdownTimeout);
            builder.Services.AddSingleton(TimeProvider.System);
            builder.Services.AddSingleton(state.Store);
            builder.Services.AddSingleton<IWaveJournal>(state.Store);
            builder.Services.AddSingleton<IUnfinishedWaves>(new JournalUnfinishedWaves(state.Store));
            if (withAdapters)
            {
                var settings = WaveExecutionSettings.From(options, Environment.MachineName, LocalProcessLeaseHolders.ForThisProcess());
                builder.Services.AddSingleton(_ => adapters.OpenLegacyWriter(options.Source, options.Execution));
                builder.Services.AddSingleton(_ => options.Target is null ? new MissingTargetTenant() : adapters.OpenTargetTenant(options.Target));
                builder.Services.AddSystemHooks(options);
                builder.Services.AddLdapBindProbe(options.Source);
                // Metered on the way (authsplit.waves.in_progress, authsplit.entities): serve exports them, a run ignores them.
                var metered = new WaveProgressMetrics(progress);
                builder.Services.AddScoped<IWaveExecution>(services => new MeteredWaveExecution(new WaveExecution(
                    services.GetRequiredService<IExecutionStore>(),
                    services.GetRequiredService<ILegacyDirectoryWriter>(),
                    services.GetRequiredService<ITargetTenant>(),
                    settings,
                    services.GetRequiredService<TimeProvider>(),
                    metered,
                    new SystemPorts(services.GetRequiredService<ICommandRunner>(), services.GetRequiredService<IHttpCaller>(), services.GetRequiredService<ILdapBindProbe>()))));
            }

            // Asked before the scheduler can start: a node that would write at another limit than the cluster's runs no wave.
            var mismatch = withAdapters ? await adapters.SharedWriteBudgetMismatchAsync(options.Target, cancellationToken) : null;
            builder.Services.AddSingleton(new WriteBudgetAgreement(mismatch));
            builder.Services.AddWaveScheduling(StateComposition.SchedulerStoreOf(options, configPath), role: role);
            if (mismatch is null)
            {
                builder.Services.AddWaveSchedulerHost();
            }

            return new ExecutionHost(state, adapters, builder.Build(), mismatch);
        }
        catch
        {
            adapters.Dispose();
            await state.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Host is IAsyncDisposable asyncHost)
        {
            await asyncHost.DisposeAsync();
        }
        else
        {
            Host.Dispose();
        }

        _adapters.Dispose();
        await _state.DisposeAsync();
    }

    /// <summary>The host starts and stops when the command says so; SIGINT and SIGTERM belong to the CLI's <see cref="Interruption"/>.</summary>
    private sealed class CliOwnedLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }

    private sealed class JournalUnfinishedWaves(IWaveJournal journal) : IUnfinishedWaves
    {
        public async Task<IReadOnlyList<UnfinishedWave>> ListAsync(CancellationToken cancellationToken) =>
            [.. (await journal.GetRunningWavesAsync(cancellationToken)).Select(run => new UnfinishedWave(run.PlanId, run.Wave, run.StartedBy.Operator))];
    }
}

/// <summary>What the start-up found about this node's Graph write limit and the cluster's shared budget (null: they agree, or there is no shared budget).</summary>
public sealed record WriteBudgetAgreement(Core.Execution.Cluster.WriteBudgetMismatch? Mismatch);
