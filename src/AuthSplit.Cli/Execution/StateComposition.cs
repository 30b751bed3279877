using AuthSplit.Core.Configuration;
using AuthSplit.Core.Execution;
using AuthSplit.Scheduling.Store;
using AuthSplit.State;

namespace AuthSplit.Cli.Execution;

/// <summary>The state store the config names, opened (created and migrated when new) for one command.</summary>
public sealed class StateComposition : IAsyncDisposable
{
    private StateComposition(IExecutionStore store)
    {
        Store = store;
    }

    public IExecutionStore Store { get; }

    /// <summary>
    /// The Graph write budget this node shares with the others on the same database: with State:Provider
    /// Postgres (a cluster, or a node that may become one); null with SQLite, whose one node paces alone.
    /// </summary>
    public Core.Execution.Cluster.ISharedWriteBudget? SharedWriteBudgetFor(AuthSplitOptions options) =>
        options.State.Provider == StateProvider.Postgres ? Store as Core.Execution.Cluster.ISharedWriteBudget : null;

    public static async Task<StateComposition> OpenAsync(AuthSplitOptions options, string configPath, CancellationToken cancellationToken)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(configPath))!;
        var store = await ExecutionStoreFactory.OpenAsync(options.State, directory, TimeProvider.System, cancellationToken);
        return new StateComposition(store);
    }

    /// <summary>The SQLite file the state store and Quartz's job store share: <c>State:Path</c> (already made absolute by the config loader) or <c>authsplit-state.db</c> beside the config file.</summary>
    public static string SqlitePathOf(AuthSplitOptions options, string configPath) =>
        options.State.Path ?? Path.Combine(Path.GetDirectoryName(Path.GetFullPath(configPath))!, StateDefaults.SqliteFileName);

    /// <summary>Quartz's job store in the state store's own database: the SQLite file, or the PostgreSQL database (clustered).</summary>
    public static SchedulerStoreOptions SchedulerStoreOf(AuthSplitOptions options, string configPath) => options.State.Provider switch
    {
        StateProvider.Postgres => new SchedulerStoreOptions
        {
            Provider = SchedulerStoreProvider.Postgres,
            PostgresConnectionString = ExecutionStoreFactory.ResolvePostgresConnectionString(options.State, Path.GetDirectoryName(Path.GetFullPath(configPath))!),
            PartsPerNode = options.Execution.PartsPerNode,
            CheckinInterval = TimeSpan.FromSeconds(options.Serve.CheckinIntervalSeconds),
            CheckinMisfireThreshold = TimeSpan.FromSeconds(options.Serve.CheckinMisfireThresholdSeconds),
        },
        _ => new SchedulerStoreOptions { Provider = SchedulerStoreProvider.Sqlite, SqlitePath = SqlitePathOf(options, configPath), PartsPerNode = options.Execution.PartsPerNode },
    };

    public async ValueTask DisposeAsync()
    {
        switch (Store)
        {
            case IAsyncDisposable asyncDisposable:
                await asyncDisposable.DisposeAsync();
                break;
            case IDisposable disposable:
                disposable.Dispose();
                break;
        }
    }
}
