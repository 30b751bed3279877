using System.Security.Cryptography;
using System.Text;

namespace AuthSplit.Lab.Servers;

public sealed record SlapdServerOptions
{
    public string Suffix { get; init; } = "dc=example,dc=com";

    /// <summary>olcDbNoSync: ~4x faster writes, no durability across a crash. Benchmarks say which they used.</summary>
    public bool NoSync { get; init; }

    /// <summary>Create the suffix entry at start (false when an LDIF that holds it is bulk-loaded next).</summary>
    public bool CreateSuffixEntry { get; init; } = true;

    /// <summary>Progress and install messages (e.g. a test's output); null for none.</summary>
    public TextWriter? Log { get; init; }

    /// <summary>
    /// Loads the <c>ppolicy</c> and <c>lastbind</c> modules (from /usr/lib/ldap) with their overlays, so
    /// <c>pwdAccountLockedTime</c> locks an account and a successful bind stamps <c>authTimestamp</c>.
    /// Off by default: other tests see the plain server they were written against.
    /// </summary>
    public bool PasswordPolicy { get; init; }

    /// <summary>The server's folder (created if missing); null for a new temporary one. Removed on dispose either way.</summary>
    public string? Directory { get; init; }

    /// <summary>
    /// Set for a server that outlives this process (<c>authsplit lab</c>): slapd's output is appended to
    /// this file and <see cref="SlapdServer.Detach"/> leaves it running. Null: a child stopped on dispose.
    /// </summary>
    public string? LogFile { get; init; }

    /// <summary>The LDAPS port to listen on; null for a free one (the plain LDAP port is always picked free).</summary>
    public int? LdapsPort { get; init; }
}

/// <summary>
/// A private OpenLDAP slapd: its own cn=config (built with <c>slapadd -n0</c>), an mdb database, the
/// memberof overlay with <c>memberof-refint</c> (not the refint overlay, whose background scans make bulk
/// deletes crawl), TLS from a lab CA, listening on 127.0.0.1 only, on free high ports. Stopped by PID and
/// its folder removed on dispose.
/// </summary>
public sealed class SlapdServer : IAsyncDisposable
{
    private static readonly RequiredTool[] Tools = [RequiredTool.Slapd, RequiredTool.Slapadd, RequiredTool.LdapSearch, RequiredTool.LdapAdd, RequiredTool.LdapModify];
    private readonly SlapdServerOptions _options;
    private readonly IReadOnlyDictionary<string, string> _tools;
    private ServerProcess? _process;
    private bool _detached;

    private SlapdServer(SlapdServerOptions options, IReadOnlyDictionary<string, string> tools, string directory, LabCertificateAuthority authority)
    {
        _options = options;
        _tools = tools;
        Directory = directory;
        Authority = authority;
        AdminPassword = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
    }

    public string Directory { get; }

    public LabCertificateAuthority Authority { get; }

    public string Suffix => _options.Suffix;

    public string AdminDn => "cn=admin," + Suffix;

    /// <summary>A random password of this private server (test secret; never a real one).</summary>
    public string AdminPassword { get; }

    public int Port { get; private set; }

    public int LdapsPort { get; private set; }

    public string LdapUrl => $"ldap://127.0.0.1:{Port}";

    public string LdapsUrl => $"ldaps://127.0.0.1:{LdapsPort}";

    public string CaFile => Authority.CaFile;

    public string ConfigDirectory => Path.Combine(Directory, "slapd.d");

    public string DataDirectory => Path.Combine(Directory, "data");

    public int Pid => _process?.Pid ?? 0;

    public bool NoSync => _options.NoSync;

    /// <summary>
    /// With <see cref="SlapdServerOptions.PasswordPolicy"/>: the default password policy entry
    /// (<c>pwdAttribute: userPassword</c> and <c>pwdLockout: TRUE</c>: slapd 2.5 ignores
    /// <c>pwdAccountLockedTime</c> under a policy without pwdLockout, measured here), created at start with the suffix entry; a caller
    /// that bulk-loads its own suffix calls <see cref="AddPasswordPolicyAsync"/> after the load.
    /// </summary>
    public string PasswordPolicyDn => "cn=password-policy," + Suffix;

    public Task AddPasswordPolicyAsync(CancellationToken cancellationToken) =>
        AddLdifTextAsync($"dn: {PasswordPolicyDn}\nobjectClass: organizationalRole\nobjectClass: pwdPolicy\ncn: password-policy\npwdAttribute: userPassword\npwdLockout: TRUE\n", cancellationToken);

    public static async Task<SlapdServer> StartAsync(SlapdServerOptions options, CancellationToken cancellationToken)
    {
        var tools = await DebianPackages.EnsureAsync(Tools, options.Log, cancellationToken);
        var directory = options.Directory is { } fixedDirectory
            ? System.IO.Directory.CreateDirectory(fixedDirectory).FullName
            : System.IO.Directory.CreateTempSubdirectory("authsplit-slapd-").FullName;
        var authority = LabCertificateAuthority.Create(Path.Combine(directory, "tls"), "127.0.0.1");
        var server = new SlapdServer(options, tools, directory, authority);
        try
        {
            await server.ConfigureAsync(cancellationToken);
            await server.StartProcessAsync(cancellationToken);
            if (options.CreateSuffixEntry)
            {
                await server.AddLdifTextAsync(
                $"dn: {options.Suffix}\nobjectClass: dcObject\nobjectClass: organization\n{FirstRdnAttribute(options.Suffix)}\no: AuthSplit lab\n",
                cancellationToken);
                if (options.PasswordPolicy)
                {
                    await server.AddPasswordPolicyAsync(cancellationToken);
                }
            }

            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Bulk-loads an LDIF file with <c>slapadd -q</c> (20-40k entries/s): stops slapd, loads, starts it
    /// again on the same ports. slapadd runs no overlay, so the file must carry memberOf values itself.
    /// </summary>
    public async Task LoadLdifAsync(string ldifPath, CancellationToken cancellationToken)
    {
        var input = await WithoutVersionLineAsync(ldifPath, cancellationToken);
        try
        {
            await StopAsync();
            await ProcessRunner.RunCheckedAsync(_tools["slapadd"], ["-q", "-F", ConfigDirectory, "-b", Suffix, "-l", input], null, TimeSpan.FromMinutes(20), cancellationToken);
            await StartProcessAsync(cancellationToken);
        }
        finally
        {
            if (input != ldifPath)
            {
                File.Delete(input);
            }
        }
    }

    // slapadd 2.5 takes a "version: 1" line for an entry without a DN; ldapsearch and our writer emit one.
    private async Task<string> WithoutVersionLineAsync(string ldifPath, CancellationToken cancellationToken)
    {
        using (var reader = new StreamReader(ldifPath))
        {
            var first = await reader.ReadLineAsync(cancellationToken);
            if (first is null || !first.StartsWith("version:", StringComparison.Ordinal))
            {
                return ldifPath;
            }
        }

        var copy = Path.Combine(Directory, $"load-{Guid.NewGuid():N}.ldif");
        using (var reader = new StreamReader(ldifPath))
        await using (var writer = new StreamWriter(copy, false, new UTF8Encoding(false)) { NewLine = "\n" })
        {
            await reader.ReadLineAsync(cancellationToken);
            while (await reader.ReadLineAsync(cancellationToken) is { } line)
            {
                await writer.WriteLineAsync(line);
            }
        }

        return copy;
    }

    /// <summary>Adds entries online with ldapadd over ldap:// as the admin (small changes; overlays run).</summary>
    public async Task AddLdifAsync(string ldifPath, CancellationToken cancellationToken) =>
        await ProcessRunner.RunCheckedAsync(_tools["ldapadd"], ["-x", "-c", "-H", LdapUrl, "-D", AdminDn, "-y", PasswordFile(), "-f", ldifPath], null, TimeSpan.FromMinutes(10), cancellationToken);

    public async Task AddLdifTextAsync(string ldif, CancellationToken cancellationToken)
    {
        var file = Path.Combine(Directory, $"add-{Guid.NewGuid():N}.ldif");
        await File.WriteAllTextAsync(file, ldif, cancellationToken);
        try
        {
            await AddLdifAsync(file, cancellationToken);
        }
        finally
        {
            File.Delete(file);
        }
    }

    /// <summary>Applies LDIF change records (changetype: modify/delete/add) with ldapmodify as the admin.</summary>
    public async Task ModifyAsync(string changes, CancellationToken cancellationToken)
    {
        var file = Path.Combine(Directory, $"modify-{Guid.NewGuid():N}.ldif");
        await File.WriteAllTextAsync(file, changes, cancellationToken);
        try
        {
            await ProcessRunner.RunCheckedAsync(_tools["ldapmodify"], ["-x", "-H", LdapUrl, "-D", AdminDn, "-y", PasswordFile(), "-f", file], null, TimeSpan.FromMinutes(10), cancellationToken);
        }
        finally
        {
            File.Delete(file);
        }
    }

    /// <summary>Runs ldapsearch over LDAPS as the admin and returns its LDIF output (for comparisons and benchmarks).</summary>
    public Task<ProcessRunner.Result> SearchAsync(IEnumerable<string> arguments, CancellationToken cancellationToken) =>
        ProcessRunner.RunCheckedAsync(
            _tools["ldapsearch"],
            ["-x", "-H", LdapsUrl, "-D", AdminDn, "-y", PasswordFile(), .. arguments],
            new Dictionary<string, string> { ["LDAPTLS_CACERT"] = CaFile, ["LDAPTLS_REQCERT"] = "demand" },
            TimeSpan.FromMinutes(10),
            cancellationToken);

    /// <summary>Starts slapd again after <see cref="StopAsync"/>, on the same ports and the same data (a server restart as clients see it).</summary>
    public async Task StartAgainAsync(CancellationToken cancellationToken)
    {
        if (_process is not null)
        {
            throw new InvalidOperationException("slapd is running");
        }

        var socket = Uri.EscapeDataString(Path.Combine(Directory, "ldapi"));
        for (var attempt = 1; ; attempt++)
        {
            _process = Launch(socket);
            try
            {
                await _process.WaitForPortAsync(LdapsPort, TimeSpan.FromSeconds(20), $"slapd (pid {_process.Pid})", cancellationToken);
                await _process.WaitForPortAsync(Port, TimeSpan.FromSeconds(5), $"slapd (pid {_process.Pid})", cancellationToken);

                // A TCP port picked free can be taken by another process before slapd binds it, and then
                // answers for it; slapd's own ldapi socket (its last listener) cannot be anyone else's.
                await _process.WaitForUnixSocketAsync(Path.Combine(Directory, "ldapi"), TimeSpan.FromSeconds(5), $"slapd (pid {_process.Pid})", cancellationToken);
                _options.Log?.WriteLine($"slapd pid {_process.Pid} listening again on {LdapUrl} and {LdapsUrl}");
                return;
            }
            catch (LabServerException) when (attempt < 10 && _process.RecentOutput.Contains("Address already in use", StringComparison.Ordinal))
            {
                // The old process's sockets may linger a moment; the ports must stay the same.
                await StopAsync();
                await Task.Delay(200, cancellationToken);
            }
        }
    }

    /// <summary>Leaves slapd running after this object goes (with <see cref="SlapdServerOptions.LogFile"/>); its folder stays too.</summary>
    public void Detach()
    {
        if (_options.LogFile is null || _process is null)
        {
            throw new InvalidOperationException("only a running slapd started with a log file can be left running");
        }

        _process.Detach();
        _process = null;
        _detached = true;
    }

    private ServerProcess Launch(string socket)
    {
        string[] arguments = ["-d", "0", "-F", ConfigDirectory, "-h", $"ldap://127.0.0.1:{Port}/ ldaps://127.0.0.1:{LdapsPort}/ ldapi://{socket}"];
        return _options.LogFile is { } log ? ServerProcess.StartDetached(_tools["slapd"], arguments, log) : ServerProcess.Start(_tools["slapd"], arguments);
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
        if (_detached)
        {
            return;
        }

        await StopAsync();
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

    private async Task ConfigureAsync(CancellationToken cancellationToken)
    {
        System.IO.Directory.CreateDirectory(ConfigDirectory);
        System.IO.Directory.CreateDirectory(DataDirectory);
        var config = Path.Combine(Directory, "config.ldif");
        await File.WriteAllTextAsync(config, ConfigLdif(), cancellationToken);
        await ProcessRunner.RunCheckedAsync(_tools["slapadd"], ["-n0", "-F", ConfigDirectory, "-l", config], null, TimeSpan.FromMinutes(1), cancellationToken);
    }

    private async Task StartProcessAsync(CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            if (Port == 0 || attempt > 1)
            {
                Port = ServerProcess.FreePort();
                LdapsPort = _options.LdapsPort ?? ServerProcess.FreePort();
            }

            var socket = Uri.EscapeDataString(Path.Combine(Directory, "ldapi"));
            _process = Launch(socket);
            try
            {
                await _process.WaitForPortAsync(LdapsPort, TimeSpan.FromSeconds(20), $"slapd (pid {_process.Pid})", cancellationToken);
                await _process.WaitForPortAsync(Port, TimeSpan.FromSeconds(5), $"slapd (pid {_process.Pid})", cancellationToken);
                _options.Log?.WriteLine($"slapd pid {_process.Pid} listening on {LdapUrl} and {LdapsUrl}");
                return;
            }
            // A free port can be taken by another process (parallel test assemblies) before slapd binds it;
            // at -d 0 slapd does not always say so before it exits, so any exit during start-up gets new ports.
            catch (LabServerException ex) when (attempt < 3 && (ex.ExitedDuringStartup || _process.RecentOutput.Contains("Address already in use", StringComparison.Ordinal)))
            {
                _options.Log?.WriteLine($"slapd did not start on ports {Port}/{LdapsPort} ({ex.Message}); trying other ports");
                await StopAsync();
            }
        }
    }

    private string PasswordFile()
    {
        var path = Path.Combine(Directory, "admin.pw");
        if (!File.Exists(path))
        {
            File.WriteAllText(path, AdminPassword);
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }
        }

        return path;
    }

    private static string FirstRdnAttribute(string suffix)
    {
        var first = suffix.Split(',')[0].Split('=');
        return $"{first[0].Trim()}: {first[1].Trim()}";
    }

    private string ConfigLdif()
    {
        var ldif = new StringBuilder();
        ldif.Append(System.Globalization.CultureInfo.InvariantCulture, $$"""
            dn: cn=config
            objectClass: olcGlobal
            cn: config
            olcPidFile: {{Directory}}/slapd.pid
            olcArgsFile: {{Directory}}/slapd.args
            olcTLSCACertificateFile: {{Authority.CaFile}}
            olcTLSCertificateFile: {{Authority.CertificateFile}}
            olcTLSCertificateKeyFile: {{Authority.KeyFile}}
            olcLogLevel: none

            dn: cn=module{0},cn=config
            objectClass: olcModuleList
            cn: module{0}
            olcModulePath: /usr/lib/ldap
            olcModuleLoad: back_mdb
            olcModuleLoad: memberof

            dn: cn=schema,cn=config
            objectClass: olcSchemaConfig
            cn: schema

            include: file:///etc/ldap/schema/core.ldif

            include: file:///etc/ldap/schema/cosine.ldif

            include: file:///etc/ldap/schema/inetorgperson.ldif

            include: file:///etc/ldap/schema/nis.ldif

            dn: olcDatabase={-1}frontend,cn=config
            objectClass: olcDatabaseConfig
            objectClass: olcFrontendConfig
            olcDatabase: {-1}frontend
            olcSizeLimit: unlimited

            dn: olcDatabase={0}config,cn=config
            objectClass: olcDatabaseConfig
            olcDatabase: {0}config
            olcAccess: {0}to * by dn.exact=gidNumber=0+uidNumber=0,cn=peercred,cn=external,cn=auth manage by * break

            dn: olcDatabase={1}mdb,cn=config
            objectClass: olcDatabaseConfig
            objectClass: olcMdbConfig
            olcDatabase: {1}mdb
            olcDbDirectory: {{DataDirectory}}
            olcSuffix: {{Suffix}}
            olcRootDN: {{AdminDn}}
            olcRootPW: {{AdminPassword}}
            olcDbMaxSize: 4294967296
            olcDbNoSync: {{(_options.NoSync ? "TRUE" : "FALSE")}}
            olcDbIndex: objectClass eq
            olcDbIndex: uid,mail,cn,employeeNumber eq
            olcDbIndex: entryUUID eq
            olcDbIndex: member,uniqueMember eq
            olcSizeLimit: size.soft=unlimited size.hard=unlimited size.prtotal=unlimited
            olcAccess: {0}to attrs=userPassword by self write by anonymous auth by * none
            olcAccess: {1}to * by users read by * none

            dn: olcOverlay={0}memberof,olcDatabase={1}mdb,cn=config
            objectClass: olcOverlayConfig
            objectClass: olcMemberOf
            olcOverlay: {0}memberof
            olcMemberOfRefInt: TRUE
            olcMemberOfGroupOC: groupOfNames
            olcMemberOfMemberAD: member
            olcMemberOfMemberOfAD: memberOf

            """);
        if (_options.PasswordPolicy)
        {
            // ppolicy enforces nothing, not even the administrative lock (pwdAccountLockedTime
            // 000001010000Z), for an entry without a policy or under one without pwdLockout: a default
            // one with pwdLockout (PasswordPolicyDn) applies to all. lastbind stamps authTimestamp on every successful bind (precision 0).
            ldif.Replace("olcModuleLoad: memberof\n", "olcModuleLoad: memberof\nolcModuleLoad: ppolicy\nolcModuleLoad: lastbind\n");
            ldif.Append("""

                dn: olcOverlay={1}ppolicy,olcDatabase={1}mdb,cn=config
                objectClass: olcOverlayConfig
                objectClass: olcPPolicyConfig
                olcOverlay: {1}ppolicy
                olcPPolicyUseLockout: TRUE
                olcPPolicyDefault: PASSWORD_POLICY_DN

                dn: olcOverlay={2}lastbind,olcDatabase={1}mdb,cn=config
                objectClass: olcOverlayConfig
                objectClass: olcLastBindConfig
                olcOverlay: {2}lastbind
                olcLastBindPrecision: 0

                """.Replace("PASSWORD_POLICY_DN", PasswordPolicyDn, StringComparison.Ordinal));
        }

        return ldif.ToString().Replace("\r\n", "\n", StringComparison.Ordinal);
    }
}
