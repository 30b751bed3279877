using AuthSplit.Core.Configuration;
using AuthSplit.Core.Secrets;

namespace AuthSplit.Cli.Configuration;

/// <summary>
/// What the systems' hooks and the password-sync command need at execution, checked by <c>config check</c>
/// before a wave needs them: each secret a system names (a legacy account's or a probe's credential, an HTTP
/// header's value) is set or readable, and the PasswordSync programs of Strategy Command exist and can be
/// run. Each fault names its key path and the variable or file, never a value. (A secret file others can
/// read is a warning of <see cref="SecretFilePermissions"/>, as for every other secret file.)
/// </summary>
public static class HookInputsCheck
{
    private const UnixFileMode AnyExecute = UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;

    public static IEnumerable<string> Check(AuthSplitOptions options, Func<string, string?>? environment = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        environment ??= Environment.GetEnvironmentVariable;
        return [.. SystemSecrets(options.Systems, environment), .. PasswordSyncPrograms(options.PasswordSync, environment)];
    }

    private static IEnumerable<string?> SystemSecretProblems(IList<SystemOptions> systems, Func<string, string?> environment)
    {
        for (var i = 0; i < systems.Count; i++)
        {
            var system = systems[i];
            for (var j = 0; j < system.LegacyAccounts.Count; j++)
            {
                var account = system.LegacyAccounts[j];
                yield return Secret($"Systems:{i}:LegacyAccounts:{j}", "Credential", account.CredentialEnvVar, account.CredentialFile, $"the password of {account.Dn}", environment);
            }

            foreach (var problem in Headers(system.Cutover?.Http, $"Systems:{i}:Cutover:Http", environment))
            {
                yield return problem;
            }

            for (var p = 0; p < system.Probes.Count; p++)
            {
                var probe = system.Probes[p];
                yield return Secret($"Systems:{i}:Probes:{p}", "Credential", probe.CredentialEnvVar, probe.CredentialFile, $"the credential of probe {probe.Name}", environment);
                foreach (var problem in Headers(probe.Http, $"Systems:{i}:Probes:{p}:Http", environment))
                {
                    yield return problem;
                }
            }
        }
    }

    private static IEnumerable<string> SystemSecrets(IList<SystemOptions> systems, Func<string, string?> environment) =>
        SystemSecretProblems(systems, environment).OfType<string>();

    private static IEnumerable<string?> Headers(HttpCallOptions? http, string key, Func<string, string?> environment) =>
        (http?.Headers ?? []).Select((h, i) => Secret($"{key}:Headers:{i}", "Value", h.ValueEnvVar, h.ValueFile, $"the value of header {h.Name}", environment));

    // Read as the hooks read it (SecretLoader: the variable wins, then the file's first line); the secret
    // itself is dropped at once.
    private static string? Secret(string key, string prefix, string? variable, string? file, string what, Func<string, string?> environment)
    {
        var source = new SecretSource(variable?.Trim(), file?.Trim(), $"{key}:{prefix}EnvVar", $"{key}:{prefix}File", what);
        if (!source.IsConfigured)
        {
            return null;
        }

        if (!string.IsNullOrWhiteSpace(source.Variable))
        {
            return SecretLoader.FirstLine(environment(source.Variable)).Length == 0
                ? $"{source.VariableKey}: {source.Variable} is not set (or empty); export {what} in it before running"
                : null;
        }

        var path = source.File!;
        if (!File.Exists(path))
        {
            return $"{source.FileKey}: {path} does not exist";
        }

        try
        {
            return SecretLoader.FirstLine(File.ReadAllText(path)).Length == 0
                ? $"{source.FileKey}: the first line of {path} is empty; it must be {what}"
                : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return $"{source.FileKey}: {path} cannot be read ({ex.GetType().Name}: {ex.Message})";
        }
    }

    private static IEnumerable<string> PasswordSyncPrograms(PasswordSyncOptions sync, Func<string, string?> environment)
    {
        if (sync.Strategy != PasswordSyncStrategy.Command)
        {
            yield break;
        }

        foreach (var (key, command) in new[] { ("PasswordSync:Command", sync.Command), ("PasswordSync:ReadBackCommand", sync.ReadBackCommand) })
        {
            if (command.Count > 0 && !string.IsNullOrWhiteSpace(command[0]) && ProgramProblem(command[0], environment) is { } problem)
            {
                yield return $"{key}:0: {problem}";
            }
        }
    }

    // As the hook runner starts it (no shell): a name with a directory separator is a path, a bare name is
    // looked up on PATH.
    private static string? ProgramProblem(string program, Func<string, string?> environment)
    {
        if (program.Contains(Path.DirectorySeparatorChar, StringComparison.Ordinal) || program.Contains(Path.AltDirectorySeparatorChar, StringComparison.Ordinal))
        {
            return !File.Exists(program) ? $"{program} does not exist"
                : !IsExecutable(program) ? $"{program} is not executable (mode {Mode(program)})"
                : null;
        }

        var found = (environment("PATH") ?? string.Empty).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(directory => Path.Combine(directory, program))
            .Where(File.Exists)
            .ToList();
        return found.Count == 0 ? $"{program} is not found on PATH"
            : !found.Any(IsExecutable) ? $"{found[0]} (found on PATH) is not executable (mode {Mode(found[0])})"
            : null;
    }

    private static bool IsExecutable(string path) => OperatingSystem.IsWindows() || (File.GetUnixFileMode(path) & AnyExecute) != 0;

    private static string Mode(string path) => OperatingSystem.IsWindows() ? "?" : Convert.ToString((int)File.GetUnixFileMode(path), 8).PadLeft(4, '0');
}
