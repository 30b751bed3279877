using AuthSplit.Core.Configuration;
using AuthSplit.Core.Execution.Systems;
using AuthSplit.Hooks.Commands;
using AuthSplit.Hooks.Http;
using AuthSplit.Hooks.Output;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace AuthSplit.Hooks;

public static class HooksServiceCollectionExtensions
{
    /// <summary>
    /// The command and HTTP hooks of the system steps (<see cref="ICommandRunner"/>, <see cref="IHttpCaller"/>),
    /// masking every credential <paramref name="options"/> names in what the hooks print. One HTTP caller
    /// (one connection pool) for the process; the container disposes it.
    /// </summary>
    public static IServiceCollection AddSystemHooks(this IServiceCollection services, AuthSplitOptions options)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(HookSecrets.From(options));
        services.TryAddSingleton<ICommandRunner>(provider => new ProcessCommandRunner(provider.GetRequiredService<HookSecrets>(), provider.GetRequiredService<TimeProvider>()));
        services.TryAddSingleton<IHttpCaller>(provider => new HttpHookCaller(provider.GetRequiredService<HookSecrets>(), provider.GetRequiredService<TimeProvider>()));
        return services;
    }
}
