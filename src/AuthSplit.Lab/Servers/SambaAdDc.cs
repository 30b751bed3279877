using System.Security.Cryptography;

namespace AuthSplit.Lab.Servers;

public sealed record SambaAdDcOptions
{
    public string Realm { get; init; } = "AUTHSPLIT.LAB";

    public string Domain { get; init; } = "AUTHSPLIT";

    public TextWriter? Log { get; init; }

    /// <summary>
    /// The folder to provision into (created; must not hold a domain yet). Null: a temporary folder,
    /// removed on dispose.
    /// </summary>
    public string? Directory { get; init; }

    /// <summary>
    /// Set: samba starts in a session of its own with its output appended to this file, and
    /// <see cref="SambaAdDc.Detach"/> leaves it running (<c>authsplit lab start --ad</c>). Null: a child
    /// stopped on dispose.
    /// </summary>
    public string? LogFile { get; init; }
}

/// <summary>
/// A private Samba Active Directory domain controller: provisioned into its own folder (no DNS backend,
/// loopback only, only the LDAP service), with TLS from a lab CA. Samba needs root and binds the fixed
/// ports 389 and 636, so only one can run per machine: a machine-wide lock serialises them, and a port
/// already taken by something else is reported rather than fought over.
/// </summary>
public sealed class SambaAdDc : IAsyncDisposable
{
    private const string LockPath = "/tmp/authsplit-samba-ad.lock";
    private static readonly RequiredTool[] Tools = [RequiredTool.SambaTool, RequiredTool.Samba, RequiredTool.LdapSearch, RequiredTool.LdapAdd, RequiredTool.LdapModify];
    private readonly SambaAdDcOptions _options;
    private readonly IReadOnlyDictionary<string, string> _tools;
    private readonly FileStream _machineLock;
    private static readonly int[] FixedPorts = [389, 636];
    private ServerProcess? _process;
    private bool _detached;

    private SambaAdDc(SambaAdDcOptions options, IReadOnlyDictionary<string, string> tools, string directory, FileStream machineLock)
    {
        _options = options;
        _tools = tools;
        Directory = directory;
        _machineLock = machineLock;
        Authority = LabCertificateAuthority.Create(Path.Combine(directory, "tls"), "127.0.0.1", "dc1", $"dc1.{options.Realm.ToLowerInvariant()}");

        // AD's complexity rules: upper, lower, digit and symbol.
        AdministratorPassword = "Lab-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8)) + "-X9!";
    }

    public string Directory { get; }

    public LabCertificateAuthority Authority { get; }

    public string CaFile => Authority.CaFile;

    public string Realm => _options.Realm;

    public string BaseDn => string.Join(',', Realm.Split('.').Select(part => "DC=" + part.ToLowerInvariant()));

    public string AdministratorDn => $"CN=Administrator,CN=Users,{BaseDn}";

    /// <summary>A random password of this private domain (a test value).</summary>
    public string AdministratorPassword { get; }

    public static string LdapsUrl => "ldaps://127.0.0.1:636";

    public static string LdapUrl => "ldap://127.0.0.1:389";

    public int Pid => _process?.Pid ?? 0;

    /// <summary>
    /// Why a Samba AD DC cannot start on this machine now (not Linux, not root, port 389 or 636 taken), or
    /// null when it can: asked before anything is created, so a refusal leaves nothing behind.
    /// </summary>
    public static string? WhyCannotStart()
    {
        if (!OperatingSystem.IsLinux() || Environment.UserName != "root")
        {
            return "a Samba AD DC needs root on Linux (it binds the fixed ports 389 and 636 and runs as root)";
        }

        var taken = FixedPorts.Where(ServerProcess.IsListening).ToList();
        return taken.Count > 0
            ? $"127.0.0.1 port{(taken.Count == 1 ? "" : "s")} {string.Join(" and ", taken)} {(taken.Count == 1 ? "is" : "are")} taken by another process, and a Samba AD DC needs 389 and 636 (only one can run per machine): find it with `ss -ltnp | grep -E ':389|:636'` and stop it (a system slapd or samba, another lab started with --ad, or the AD tests)"
            : null;
    }

    public static async Task<SambaAdDc> StartAsync(SambaAdDcOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!OperatingSystem.IsLinux() || Environment.UserName != "root")
        {
            throw new LabServerException("a Samba AD DC needs root (it binds ports 389 and 636): run the AD tests as root, as CI does");
        }

        var tools = await DebianPackages.EnsureAsync(Tools, options.Log, cancellationToken);
        var machineLock = await DebianPackages.AcquireMachineLockAsync(cancellationToken, LockPath);
        if (ServerProcess.IsListening(389) || ServerProcess.IsListening(636))
        {
            await machineLock.DisposeAsync();
            throw new LabServerException("ports 389/636 on 127.0.0.1 are taken by another process; a Samba AD DC needs them (stop the system slapd or samba: e.g. `ss -ltnp | grep -E ':389|:636'`)");
        }

        string directory;
        if (options.Directory is { } chosen)
        {
            directory = Path.GetFullPath(chosen);
            if (System.IO.Directory.Exists(directory) && System.IO.Directory.EnumerateFileSystemEntries(directory).Any())
            {
                await machineLock.DisposeAsync();
                throw new LabServerException($"{directory} is not empty: a Samba AD DC is provisioned into an empty folder");
            }

            System.IO.Directory.CreateDirectory(directory);
        }
        else
        {
            directory = System.IO.Directory.CreateTempSubdirectory("authsplit-samba-").FullName;
        }

        var server = new SambaAdDc(options, tools, directory, machineLock);
        try
        {
            await server.ProvisionAsync(cancellationToken);
            await server.StartProcessAsync(cancellationToken);
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>Adds entries with ldapadd over LDAPS as Administrator (continues past entries that exist).</summary>
    public async Task AddLdifTextAsync(string ldif, CancellationToken cancellationToken) =>
        await RunLdapToolAsync("ldapadd", ldif, cancellationToken);

    /// <summary>Applies LDIF change records with ldapmodify over LDAPS as Administrator.</summary>
    public async Task ModifyAsync(string changes, CancellationToken cancellationToken) =>
        await RunLdapToolAsync("ldapmodify", changes, cancellationToken);

    /// <summary>
    /// Leaves samba running when this object goes (a lab's DC, stopped later by its PID) and keeps its
    /// folder; the machine-wide lock is released, so another start finds the ports taken and says so.
    /// </summary>
    public void Detach()
    {
        if (_process is null || _options.LogFile is null)
        {
            throw new InvalidOperationException("only a DC started with a LogFile runs detached");
        }

        _process.Detach();
        _process = null;
        _detached = true;
    }

    /// <summary>
    /// Adds entries with ldapadd over LDAPS as Administrator, past those the domain holds already (an
    /// export of a domain carries the objects provisioning made: CN=Users, Domain Users, …); any other
    /// refusal fails the load with ldapadd's words. Returns how many were there already.
    /// </summary>
    public async Task<int> AddLdifTextSkippingExistingAsync(string ldif, CancellationToken cancellationToken)
    {
        var result = await RunLdapToolAsync("ldapadd", ldif, cancellationToken, continueOnError: true);
        if (result.ExitCode == 0)
        {
            return 0;
        }

        var refusals = result.Error.Split('\n').Where(l => l.StartsWith("ldap_add:", StringComparison.Ordinal)).ToList();
        if (refusals.Count == 0 || refusals.Any(l => !l.Contains("Already exists (68)", StringComparison.Ordinal)))
        {
            throw new LabServerException($"ldapadd exited {result.ExitCode}: {result.Error.Trim()}");
        }

        return refusals.Count;
    }

    public async Task StopAsync()
    {
        if (_process is not null)
        {
            await _process.DisposeAsync();
            _process = null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        await _machineLock.DisposeAsync();
        if (_detached)
        {
            return;
        }

        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private async Task<ProcessRunner.Result> RunLdapToolAsync(string tool, string ldif, CancellationToken cancellationToken, bool continueOnError = false)
    {
        var file = Path.Combine(Directory, $"{tool}-{Guid.NewGuid():N}.ldif");
        var passwordFile = Path.Combine(Directory, "admin.pw");
        await File.WriteAllTextAsync(file, ldif, cancellationToken);
        await File.WriteAllTextAsync(passwordFile, AdministratorPassword, cancellationToken);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(passwordFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        try
        {
            string[] arguments = ["-x", "-H", LdapsUrl, "-D", AdministratorDn, "-y", passwordFile, "-f", file, .. continueOnError ? ["-c"] : Array.Empty<string>()];
            var environment = new Dictionary<string, string> { ["LDAPTLS_CACERT"] = CaFile, ["LDAPTLS_REQCERT"] = "demand" };
            return continueOnError
                ? await ProcessRunner.RunAsync(_tools[tool], arguments, environment, TimeSpan.FromMinutes(5), cancellationToken)
                : await ProcessRunner.RunCheckedAsync(_tools[tool], arguments, environment, TimeSpan.FromMinutes(5), cancellationToken);
        }
        finally
        {
            File.Delete(file);
            File.Delete(passwordFile);
        }
    }

    private async Task ProvisionAsync(CancellationToken cancellationToken)
    {
        var empty = Path.Combine(Directory, "empty.conf");
        await File.WriteAllTextAsync(empty, string.Empty, cancellationToken);
        var target = Path.Combine(Directory, "dc");
        await ProcessRunner.RunCheckedAsync(
            _tools["samba-tool"],
            [
                "domain", "provision", "--use-rfc2307", $"--realm={Realm}", $"--domain={_options.Domain}", "--server-role=dc",
                "--dns-backend=NONE", $"--adminpass={AdministratorPassword}", $"--targetdir={target}", "-s", empty,
                "--host-name=dc1", "--host-ip=127.0.0.1", "--option=interfaces = 127.0.0.1", "--option=bind interfaces only = yes",
            ],
            null,
            TimeSpan.FromMinutes(3),
            cancellationToken);

        // Provisioning drops options it does not know from the command line; the rest goes in here.
        var config = Path.Combine(target, "etc", "smb.conf");
        var run = Path.Combine(Directory, "run");
        System.IO.Directory.CreateDirectory(run);
        var text = await File.ReadAllTextAsync(config, cancellationToken);
        var services = text.Split('\n').FirstOrDefault(l => l.TrimStart().StartsWith("server services", StringComparison.Ordinal));
        if (services is not null)
        {
            text = text.Replace(services, "\tserver services = ldap", StringComparison.Ordinal);
        }

        var extra = string.Join(string.Empty,
            "\tldap server require strong auth = no\n",
            "\ttls enabled = yes\n",
            "\ttls keyfile = " + Authority.KeyFile + "\n",
            "\ttls certfile = " + Authority.CertificateFile + "\n",
            "\ttls cafile = " + Authority.CaFile + "\n",
            "\tpid directory = " + run + "\n",
            "\tlog file = " + run + "/log.%m\n");
        text = text.Replace("[global]\n", "[global]\n" + extra, StringComparison.Ordinal);
        await File.WriteAllTextAsync(config, text, cancellationToken);
    }

    private async Task StartProcessAsync(CancellationToken cancellationToken)
    {
        var config = Path.Combine(Directory, "dc", "etc", "smb.conf");
        string[] arguments = ["-F", "--no-process-group", $"--configfile={config}"];
        _process = _options.LogFile is { } log ? ServerProcess.StartDetached(_tools["samba"], arguments, log) : ServerProcess.Start(_tools["samba"], arguments);
        await _process.WaitForPortAsync(636, TimeSpan.FromSeconds(60), $"samba (pid {_process.Pid})", cancellationToken);
        _options.Log?.WriteLine($"samba AD DC pid {_process.Pid} for {Realm} listening on {LdapsUrl}");
    }
}
