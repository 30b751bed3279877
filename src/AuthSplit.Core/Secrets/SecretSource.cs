namespace AuthSplit.Core.Secrets;

/// <summary>
/// Where one secret comes from, as the config names it: an environment variable or a file (e.g. a
/// systemd credential), never the config file itself. The keys are the config key paths that named
/// them (<c>Source:PasswordEnvVar</c>, <c>Target:SecretFile</c>), so every message points at the setting.
/// </summary>
/// <param name="Variable">The environment variable holding the secret, if configured.</param>
/// <param name="File">The file whose first line is the secret, if configured (the variable wins when both are).</param>
/// <param name="VariableKey">The config key naming the variable.</param>
/// <param name="FileKey">The config key naming the file.</param>
/// <param name="What">What the secret is, for messages: "the bind password of cn=reader,dc=example".</param>
public sealed record SecretSource(string? Variable, string? File, string VariableKey, string FileKey, string What)
{
    public bool IsConfigured => !string.IsNullOrWhiteSpace(Variable) || !string.IsNullOrWhiteSpace(File);
}
