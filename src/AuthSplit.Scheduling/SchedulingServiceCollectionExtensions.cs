using AuthSplit.Core.Execution;
using AuthSplit.Scheduling.Cluster;
using AuthSplit.Scheduling.Hosting;
using AuthSplit.Scheduling.Jobs;
using AuthSplit.Scheduling.Store;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Quartz;

namespace AuthSplit.Scheduling;

public static class SchedulingServiceCollectionExtensions
{
    /// <summary>
    /// The wave scheduler on its persistent store, without starting it: enough for <c>authsplit schedule</c>
    /// (<see cref="IWaveScheduler"/> writes triggers into the store). <see cref="AddWaveSchedulerHost"/> adds
    /// the hosted scheduler <c>run</c> and <c>serve</c> need. The SQLite file is created owner-only here
    /// when it does not exist. <see cref="IWaveExecution"/>, <see cref="IUnfinishedWaves"/> and
    /// <see cref="IWaveJournal"/> (for hold expiry) come from the composition root. <paramref name="role"/> says
    /// which triggers the scheduler acquires on a cluster (<see cref="WaveRouting"/>).
    /// </summary>
    public static IServiceCollection AddWaveScheduling(this IServiceCollection services, SchedulerStoreOptions store, Action<WaveJobOptions>? configureJob = null, SchedulerNodeRole role = SchedulerNodeRole.Serve)
    {
        var connectionString = store.Provider switch
        {
            SchedulerStoreProvider.Sqlite => PrepareSqlite(store),
            SchedulerStoreProvider.Postgres => string.IsNullOrWhiteSpace(store.PostgresConnectionString)
                ? throw new ArgumentException("The scheduler store needs the state store's PostgreSQL connection string.", nameof(store))
                : store.PostgresConnectionString,
            _ => throw new ArgumentOutOfRangeException(nameof(store), store.Provider, "unknown scheduler store provider"),
        };

        var routing = WaveRouting.For(role, Clustered(store));
        services.AddOptions<WaveJobOptions>().Configure(options => configureJob?.Invoke(options));
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<WaveCompletions>();
        services.TryAddSingleton<WaveJobListener>();
        services.TryAddSingleton<UnfinishedWaveCheck>();
        services.TryAddSingleton(routing);
        services.TryAddSingleton<OrphanedRunTriggers>();
        services.TryAddSingleton<IWaveScheduler, QuartzWaveScheduler>();
        services.TryAddScoped<IWaveHolds>(provider => new JournalWaveHolds(provider.GetRequiredService<IWaveJournal>()));
        services.AddTransient<WaveJob>();
        services.TryAddSingleton(store);
        services.TryAddSingleton<ISchedulerNodes>(store.Provider == SchedulerStoreProvider.Postgres
            ? new PostgresSchedulerNodes(connectionString, store.InstanceName)
            : new SqliteSchedulerNodes(connectionString, store.InstanceName));

        services.AddQuartz(quartz =>
        {
            quartz.ConfigureScheduler(scheduler =>
            {
                scheduler.InstanceName = store.InstanceName;

                if (routing.ForegroundRunInstanceId is { } runId)
                {
                    // A foreground run's id is chosen before the scheduler exists: its execution group is named after it.
                    scheduler.InstanceId = runId;
                    scheduler.GenerateInstanceId = false;
                }
                else
                {
                    // InstanceId AUTO: each node an id of its own, generated at start; one scheduler by name.
                    scheduler.GenerateInstanceId = Clustered(store);
                }

                scheduler.IdleWaitTime = store.PollInterval;
                // A stop waits for the running wave (WaitForJobsToComplete) and tells it to stop between steps.
                scheduler.ShutdownJobInterruption = ShutdownJobInterruption.WhenWaitingForJobs;
            });
            quartz.UsePersistentStore(persistent =>
            {
                if (store.Provider == SchedulerStoreProvider.Postgres)
                {
                    persistent.UsePostgres(connectionString);
                }
                else
                {
                    persistent.UseSqlite(connectionString);
                }

                persistent.UseSystemTextJsonSerializer();
                persistent.ProvisionSchema();
                // A served wave stopped by SIGTERM ends in OperationCanceledException and is kept as a
                // recovery trigger for the next start (the wave job decides which firings are handed back).
                persistent.ConfigureStore(options =>
                {
                    options.RecoverFiringsCancelledByShutdown = true;
                    // The job store's misfire and cluster threads are real threads, foreground by default, and
                    // they end only when the store shuts down, which waits for the running firing; a firing that
                    // ended while the database was away stays in Quartz's own retry of its bookkeeping until the
                    // database is back. The CLI answers without waiting for that (the wave is journalled in the
                    // state store, not in Quartz's rows), so these threads must not keep the process alive.
                    options.UseBackgroundThreads = true;
                });
                // SQLite cannot run clustered (Quartz: "locking problems"); PostgreSQL runs clustered unless told not to.
                if (Clustered(store))
                {
                    persistent.UseClustering(cluster =>
                    {
                        cluster.CheckinInterval = store.CheckinInterval;
                        cluster.CheckinMisfireThreshold = store.CheckinMisfireThreshold;
                    });
                }
            });
            // A node runs at most PartsPerNode parts of one wave at once: Quartz leaves the wave's other parts
            // waiting at acquisition, for a node with room. Without it the node that fanned the wave out, free
            // first, would take every part before any other node polls. Limited by trigger group (one per wave):
            // a part trigger carries no execution group, so a serve node of a cluster serves it (WaveRouting).
            quartz.UseExecutionLimits(limits => limits.UseTriggerGroupWhenUnset().ForGroupsWithPrefix(WaveJobKeys.PartsTriggerGroupPrefix, store.PartsPerNode));
            if (routing.ServedExecutionGroups.Count > 0)
            {
                // On a cluster: a foreground run takes its own trigger only, a serve node the triggers with no execution group.
                quartz.ServeExecutionGroups([.. routing.ServedExecutionGroups]);
            }

            quartz.AddJobListener<WaveJobListener>(GroupMatcher<JobKey>.GroupEquals(WaveJobKeys.Group));
            quartz.AddTriggerListener<WaveJobListener>(GroupMatcher<TriggerKey>.GroupEquals(WaveJobKeys.Group));
        });
        return services;
    }

    /// <summary>
    /// Hosts the scheduler (<c>run</c>, <c>serve</c>): started with the host, and stopped with it only once
    /// the running wave has finished its current step. The CLI should give the host a
    /// <c>HostOptions.ShutdownTimeout</c> longer than the longest step.
    /// </summary>
    public static IServiceCollection AddWaveSchedulerHost(this IServiceCollection services)
    {
        services.AddQuartzHostedService(options =>
        {
            options.WaitForJobsToComplete = true;
            // Started inside the host's start, so the start-up check runs after Quartz's own recovery.
            options.AwaitApplicationStarted = false;
        });
        return services;
    }

    private static bool Clustered(SchedulerStoreOptions store) => store.Provider == SchedulerStoreProvider.Postgres && store.Clustered;

    private static string PrepareSqlite(SchedulerStoreOptions store)
    {
        if (string.IsNullOrWhiteSpace(store.SqlitePath))
        {
            throw new ArgumentException("The scheduler store needs the state store's SQLite path (State:Path).", nameof(store));
        }

        SqliteSchedulerFile.EnsureCreated(store.SqlitePath);
        return SqliteSchedulerFile.ConnectionString(store.SqlitePath, store.BusyTimeout);
    }
}
