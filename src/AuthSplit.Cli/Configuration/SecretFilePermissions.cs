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
}
