using AuthSplit.Core.Configuration;

namespace AuthSplit.Cli.Configuration;

/// <summary>A secret in a file others can read is no longer a secret: say so (the run goes on; the file is the operator's).</summary>
public static class SecretFilePermissions
{
    private const UnixFileMode GroupOrOthers =
        UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    public static IEnumerable<string> Check(AuthSplitOptions options)
    {
        if (OperatingSystem.IsWindows())
        {
            yield break;
        }

        (string Key, string? Path)[] files =
        [
            ("Source:PasswordFile", options.Source.PasswordFile),
            ("Target:SecretFile", options.Target?.SecretFile),
            ("Target:TokenFile", options.Target?.TokenFile),
            ("Evidence:SigningKeyFile", options.Evidence.SigningKeyFile),
            .. SystemSecretFiles(options.Systems),
        ];
        foreach (var (key, path) in files)
        {
            if (string.IsNullOrWhiteSpace(path) || !File.Exists(path))
            {
                continue;
            }

            var mode = File.GetUnixFileMode(path);
            if ((mode & GroupOrOthers) != 0)
            {
                yield return $"{key} \"{path}\" can be read by users other than its owner (mode {Convert.ToString((int)mode, 8).PadLeft(4, '0')}): restrict it with chmod 600";
            }
        }
    }

    // The systems' bind passwords and header values (bearer tokens) kept in files.
    private static IEnumerable<(string Key, string? Path)> SystemSecretFiles(IList<SystemOptions> systems)
    {
        for (var i = 0; i < systems.Count; i++)
        {
            var system = systems[i];
            for (var j = 0; j < system.LegacyAccounts.Count; j++)
            {
                yield return ($"Systems:{i}:LegacyAccounts:{j}:CredentialFile", system.LegacyAccounts[j].CredentialFile);
            }

            foreach (var header in Headers(system.Cutover?.Http, $"Systems:{i}:Cutover:Http"))
            {
                yield return header;
            }

            for (var p = 0; p < system.Probes.Count; p++)
            {
                yield return ($"Systems:{i}:Probes:{p}:CredentialFile", system.Probes[p].CredentialFile);
                foreach (var header in Headers(system.Probes[p].Http, $"Systems:{i}:Probes:{p}:Http"))
                {
                    yield return header;
                }
            }
        }
    }

    private static IEnumerable<(string Key, string? Path)> Headers(HttpCallOptions? http, string key) =>
        (http?.Headers ?? []).Select((h, i) => ($"{key}:Headers:{i}:ValueFile", h.ValueFile));
}
