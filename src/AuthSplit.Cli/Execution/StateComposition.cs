using AuthSplit.Core.Configuration;
using AuthSplit.Core.Execution;
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

    public static async Task<StateComposition> OpenAsync(AuthSplitOptions options, string configPath, CancellationToken cancellationToken)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(configPath))!;
        var store = await ExecutionStoreFactory.OpenAsync(options.State, directory, TimeProvider.System, cancellationToken);
        return new StateComposition(store);
    }

    /// <summary>The SQLite file the state store and Quartz's job store share: <c>State:Path</c> (already made absolute by the config loader) or <c>authsplit-state.db</c> beside the config file.</summary>
    public static string SqlitePathOf(AuthSplitOptions options, string configPath) =>
        options.State.Path ?? Path.Combine(Path.GetDirectoryName(Path.GetFullPath(configPath))!, StateDefaults.SqliteFileName);

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
