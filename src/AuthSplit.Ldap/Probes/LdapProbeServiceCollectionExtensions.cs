using AuthSplit.Core.Configuration;
using AuthSplit.Core.Execution.Systems;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace AuthSplit.Ldap.Probes;

public static class LdapProbeServiceCollectionExtensions
{
    /// <summary>
    /// The LDAP bind probe of the system steps (<see cref="ILdapBindProbe"/>): a probe without a URL binds to
    /// <paramref name="legacy"/> (its URL, CA and TLS settings), whose own account also reads a ppolicy lock back.
    /// </summary>
    public static IServiceCollection AddLdapBindProbe(this IServiceCollection services, SourceOptions legacy)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<ILdapBindProbe>(provider => new LdapBindProbe(
            legacy,
            provider.GetService<ILoggerFactory>()?.CreateLogger<LdapBindProbe>() ?? NullLogger<LdapBindProbe>.Instance,
            provider.GetRequiredService<TimeProvider>()));
        return services;
    }
}
