using AuthSplit.Core.Configuration;
using AuthSplit.Core.Errors;
using AuthSplit.Core.Secrets;

namespace AuthSplit.Hooks.Output;

/// <summary>
/// Where the secrets a hook could print are: every environment variable and file the config names for a
/// credential (the legacy bind password, the Graph secret or token, the state store's key, each system's
/// account credentials and secret headers). A hook inherits AuthSplit's environment, so a script that
/// echoes one of them must not put it in the journal: their values are read at each call (a variable
/// may be exported after start-up) and masked in the excerpt. Sources that are not set are skipped here;
/// the step that needs one says so.
/// </summary>
public sealed class HookSecrets
{
    private readonly IReadOnlyList<SecretSource> _sources;

    public HookSecrets(IEnumerable<SecretSource> sources) => _sources = [.. sources.Where(s => s.IsConfigured)];

    public static HookSecrets None { get; } = new([]);

    /// <summary>Every credential source of <paramref name="options"/>.</summary>
    public static HookSecrets From(AuthSplitOptions options)
    {
        var sources = new List<SecretSource>
        {
            Source(options.Source.PasswordEnvVar, options.Source.PasswordFile, "Source:Password"),
            Source(options.State.BackupKeyEnvVar, options.State.BackupKeyFile, "State:BackupKey"),
            Source(options.State.ConnectionStringEnvVar, options.State.ConnectionStringFile, "State:ConnectionString"),
        };
        if (options.Target is { } target)
        {
            sources.Add(Source(target.SecretEnvVar, target.SecretFile, "Target:Secret"));
            sources.Add(Source(target.TokenEnvVar, target.TokenFile, "Target:Token"));
        }

        foreach (var system in options.Systems)
        {
            sources.AddRange(system.LegacyAccounts.Select(a => Source(a.CredentialEnvVar, a.CredentialFile, $"Systems[{system.Id}]:LegacyAccounts")));
            sources.AddRange(Headers(system.Cutover?.Http, $"Systems[{system.Id}]:Cutover"));
            foreach (var probe in system.Probes)
            {
                sources.Add(Source(probe.CredentialEnvVar, probe.CredentialFile, $"Systems[{system.Id}]:Probes"));
                sources.AddRange(Headers(probe.Http, $"Systems[{system.Id}]:Probes"));
            }
        }

        return new HookSecrets(sources);
    }

    private static IEnumerable<SecretSource> Headers(HttpCallOptions? http, string key) =>
        http?.Headers.Select(h => Source(h.ValueEnvVar, h.ValueFile, key + ":Headers")) ?? [];

    private static SecretSource Source(string? variable, string? file, string key) =>
        new(variable, file, key + "EnvVar", key + "File", "a secret");

    /// <summary>The values set now; a source that cannot be read has nothing to mask.</summary>
    internal SecretMask Resolve(Func<string, string?>? environment = null)
    {
        var values = new List<string>();
        foreach (var source in _sources)
        {
            foreach (var single in new[] { source with { File = null }, source with { Variable = null } })
            {
                try
                {
                    if (SecretLoader.LoadOptional(single, environment) is { } secret)
                    {
                        values.Add(secret.Reveal());
                    }
                }
                catch (InputException)
                {
                    // Not set (yet): nothing of it can be in the output.
                }
            }
        }

        return new SecretMask(values);
    }
}
