namespace AuthSplit.Cli.Rehearsal;

/// <summary>
/// Where a lab keeps its files under its directory D. Runtime files (the servers' data, their secrets,
/// lab.json) go with <c>lab stop</c>; the config, the state store, the backup key and the logs stay for the
/// rehearsal's record, until <c>lab stop --purge</c>.
/// </summary>
public sealed record LabLayout(string Directory)
{
    public string Config => Path.Combine(Directory, "authsplit.json");

    public string Runtime => LabRuntime.PathIn(Directory);

    public string Slapd => Path.Combine(Directory, "slapd");

    /// <summary>The Samba AD DC's provisioned domain (<c>lab start --ad</c>).</summary>
    public string Samba => Path.Combine(Directory, "samba");

    public string Logs => Path.Combine(Directory, "logs");

    public string SambaLog => Path.Combine(Logs, "samba.log");

    public string SlapdLog => Path.Combine(Logs, "slapd.log");

    public string EmulatorLog => Path.Combine(Logs, "graph-emulator.log");

    public string Secrets => Path.Combine(Directory, "secrets");

    public string LdapPasswordFile => Path.Combine(Secrets, "ldap-admin.password");

    public string GraphTokenFile => Path.Combine(Secrets, "graph.token");

    /// <summary>The token with which the emulator accepts a delegated Global Administrator (the password-sync gate's switch-off).</summary>
    public string GraphAdminTokenFile => Path.Combine(Secrets, "graph-admin.token");

    /// <summary>Kept on stop: the state store's backups cannot be read without it.</summary>
    public string BackupKeyFile => Path.Combine(Secrets, "backup.key");

    public string StateStore => Path.Combine(Directory, "authsplit-state.db");

    public IEnumerable<string> RuntimeDirectories => [Slapd, Samba];

    public IEnumerable<string> RuntimeFiles => [Runtime, LdapPasswordFile, GraphTokenFile, GraphAdminTokenFile];
}
