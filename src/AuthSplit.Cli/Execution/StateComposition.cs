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
