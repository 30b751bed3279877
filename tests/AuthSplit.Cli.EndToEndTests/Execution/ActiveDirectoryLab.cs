using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using AuthSplit.Core.Configuration;
using AuthSplit.Core.Directory;
using AuthSplit.Core.Execution;
using AuthSplit.Core.Planning.Format;
using AuthSplit.Graph.Emulator;
using AuthSplit.Lab.Servers;
using AuthSplit.State;
using AuthSplit.Testing;

namespace AuthSplit.Cli.EndToEndTests.Execution;

/// <summary>
/// One test's corner of the shared Samba AD DC: its own OU (<see cref="Ou"/>) under the domain, a Graph
/// emulator holding the people it is given, a config naming both (Source:BaseDn the whole domain, as an
/// AD operator's is) and its own state store. The CLI runs as its own process; every secret reaches it
/// through the environment. What the directory holds is read with ldapsearch, the server's own answer.
/// </summary>
internal sealed class ActiveDirectoryLab : IAsyncDisposable
{
    private const string Token = "e2e-ad-exec-graph-token-41d9";
    private readonly Dictionary<string, string> _environment;
    private readonly string _backupKeyVariable;
    private GraphEmulatorOptions _seed = null!;

    private ActiveDirectoryLab(SambaAdFixture fixture, string work, string tag, Dictionary<string, string> environment, string backupKeyVariable)
    {
        Fixture = fixture;
        Work = work;
        Tag = tag;
        _environment = environment;
        _backupKeyVariable = backupKeyVariable;
    }

    public SambaAdFixture Fixture { get; }

    public SambaAdDc Server => Fixture.Server;

    public string Work { get; }

    /// <summary>Six hex digits that make this lab's names unique in the shared domain (sAMAccountName is domain-wide).</summary>
    public string Tag { get; }

    public GraphEmulator Emulator { get; private set; } = null!;

    public string Domain => Server.BaseDn;

    public string Ou => $"OU=exec-{Tag},{Domain}";

    public string Config => Path.Combine(Work, "authsplit.json");

    public string PlanPath => Path.Combine(Work, "plan.json");

    /// <param name="ldif">The lab's entries as LDIF (<see cref="User"/>, <see cref="Group"/>), added after its OU.</param>
    /// <param name="targetUsers">The Graph users, as (employeeId, mail) pairs; each gets a fresh id.</param>
    /// <param name="waves">The config's waves; null gives one wave <c>staff</c> over the lab's OU, people only.</param>
    /// <param name="configure">Changes to the config before it is written.</param>
    /// <param name="servicePrincipals">The target tenant's service principals, for systems to cut over to.</param>
    public static async Task<ActiveDirectoryLab> StartAsync(
        SambaAdFixture fixture,
        Func<ActiveDirectoryLab, string> ldif,
        Func<ActiveDirectoryLab, IEnumerable<(string EmployeeId, string Mail)>> targetUsers,
        Func<ActiveDirectoryLab, JsonArray>? waves = null,
        Action<ActiveDirectoryLab, JsonObject>? configure = null,
        IReadOnlyList<JsonObject>? servicePrincipals = null)
    {
        var tag = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3));
        var backupKeyVariable = "AUTHSPLIT_E2E_AD_BACKUP_KEY_" + tag;
        var environment = new Dictionary<string, string>
        {
            ["AUTHSPLIT_E2E_AD_PW"] = fixture.Server.AdministratorPassword,
            ["AUTHSPLIT_E2E_GRAPH_TOKEN"] = Token,
            [backupKeyVariable] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
        };
        var lab = new ActiveDirectoryLab(fixture, CliRunner.NewWorkDirectory(), tag, environment, backupKeyVariable);
        var users = targetUsers(lab).Select(u => new JsonObject
        {
            ["id"] = Guid.NewGuid().ToString("D"),
            ["userPrincipalName"] = u.Mail,
            ["mail"] = u.Mail,
            ["employeeId"] = u.EmployeeId,
            ["onPremisesImmutableId"] = null,
            ["accountEnabled"] = true,
        }).ToList();
        lab._seed = new GraphEmulatorOptions { AccessToken = Token, Users = users, ServicePrincipals = servicePrincipals ?? [] };
        lab.Emulator = await GraphEmulator.StartAsync(lab._seed with { Users = [.. users.Select(u => u.DeepClone().AsObject())] }, CancellationToken.None);
        try
        {
            await fixture.Server.AddLdifTextAsync($"dn: {lab.Ou}\nobjectClass: organizationalUnit\n\n" + ldif(lab), CancellationToken.None);
            await lab.WriteConfigAsync(
                waves?.Invoke(lab) ?? new JsonArray
                {
                    new JsonObject { ["Name"] = "staff", ["Order"] = 1, ["Deadline"] = "2027-04-30", ["BaseDn"] = lab.Ou, ["Filter"] = "(&(objectCategory=person)(objectClass=user))" },
                },
                config => configure?.Invoke(lab, config));
            return lab;
        }
        catch
        {
            await lab.Emulator.DisposeAsync();
            throw;
        }
    }

    private async Task WriteConfigAsync(JsonArray waves, Action<JsonObject> configure)
    {
        var config = new JsonObject
        {
            ["Source"] = new JsonObject
            {
                ["Url"] = SambaAdDc.LdapsUrl,
                ["BindDn"] = Server.AdministratorDn,
                ["PasswordEnvVar"] = "AUTHSPLIT_E2E_AD_PW",
                ["BaseDn"] = Domain,
                ["Dialect"] = "ActiveDirectory",
                ["CaFile"] = Server.CaFile,
                ["TimeoutSeconds"] = 30,
            },
            ["Target"] = ExecutionLab.EmulatorTarget(Emulator.BaseUrl),
            ["Waves"] = waves,
            ["Matching"] = new JsonArray { new JsonObject { ["Source"] = "employeeID", ["Target"] = "employeeId" } },
            ["Safety"] = new JsonObject { ["ProtectedFilter"] = "(department=Legal)", ["MaxDeletesPerWave"] = 100 },
            ["Removal"] = new JsonObject { ["HoldDays"] = 0 },
            ["State"] = new JsonObject { ["BackupKeyEnvVar"] = _backupKeyVariable },
            ["Execution"] = new JsonObject { ["RetryRoundDelaySeconds"] = 1 },
        };
        configure(config);
        await File.WriteAllTextAsync(Config, config.ToJsonString());
    }

    /// <summary>The DN of a CN under <paramref name="parent"/>, escaped as Samba's DN parser wants it ('=' too).</summary>
    public static string Dn(string cn, string parent) => $"CN={DistinguishedName.EscapeValue(cn).Replace("=", "\\=", StringComparison.Ordinal)},{parent}";

    /// <summary>An LDIF user record (DN in base64, so any name goes).</summary>
    public static string User(string dn, string account, int userAccountControl, string? employeeId, string? mail, string? department = null, int? adminCount = null, params (string Name, string Value)[] more)
    {
        var text = new StringBuilder($"dn:: {Base64(dn)}\nobjectClass: user\nsAMAccountName: {account}\nuserAccountControl: {userAccountControl}\n");
        Optional(text, "employeeID", employeeId);
        Optional(text, "mail", mail);
        Optional(text, "department", department);
        Optional(text, "adminCount", adminCount?.ToString(System.Globalization.CultureInfo.InvariantCulture));
        foreach (var (name, value) in more)
        {
            Optional(text, name, value);
        }

        return text.Append('\n').ToString();
    }

    public static string Group(string dn, string account, IEnumerable<string> members) =>
        $"dn:: {Base64(dn)}\nobjectClass: group\nsAMAccountName: {account}\n{string.Concat(members.Select(m => $"member:: {Base64(m)}\n"))}\n";

    private static void Optional(StringBuilder text, string attribute, string? value)
    {
        if (value is not null)
        {
            text.Append(attribute).Append(":: ").Append(Base64(value)).Append('\n');
        }
    }

    private static string Base64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));

    /// <summary>
    /// Adds a user whose objectSid has the given RID of the domain, below 1000 (the range of the domain's
    /// well-known principals): LDAP cannot set objectSid, so this writes to the DC's sam.ldb as the system
    /// does, through Samba's own Python bindings, with the relax control. Samba then answers for it like any
    /// other entry; it carries neither adminCount nor isCriticalSystemObject.
    /// </summary>
    public async Task AddUserWithRidAsync(string dn, string account, int rid)
    {
        const string Script = """
            import sys
            from samba.samdb import SamDB
            from samba.auth import system_session
            from samba.param import LoadParm
            from samba.dcerpc import security
            from samba.ndr import ndr_pack
            lp = LoadParm()
            lp.load(sys.argv[1])
            db = SamDB(url=sys.argv[2], session_info=system_session(), lp=lp)
            sid = security.dom_sid('%s-%s' % (db.get_domain_sid(), sys.argv[5]))
            db.add({'dn': sys.argv[3], 'objectClass': 'user', 'sAMAccountName': sys.argv[4], 'userAccountControl': '512', 'objectSid': ndr_pack(sid)}, controls=['relax:0'])
            """;
        var dc = Path.Combine(Server.Directory, "dc");
        await ProcessRunner.RunCheckedAsync(
            "/usr/bin/python3",
            ["-c", Script, Path.Combine(dc, "etc", "smb.conf"), Path.Combine(dc, "private", "sam.ldb"), dn, account, rid.ToString(System.Globalization.CultureInfo.InvariantCulture)],
            null,
            TimeSpan.FromMinutes(2),
            CancellationToken.None);
    }

    /// <summary>The objectSid of <paramref name="dn"/> in text form, as Samba's own Python bindings render it.</summary>
    public async Task<string> SecurityIdentifierOfAsync(string dn)
    {
        const string Script = """
            import sys
            from samba.samdb import SamDB
            from samba.auth import system_session
            from samba.param import LoadParm
            from samba.dcerpc import security
            from samba.ndr import ndr_unpack
            lp = LoadParm()
            lp.load(sys.argv[1])
            db = SamDB(url=sys.argv[2], session_info=system_session(), lp=lp)
            found = db.search(base=sys.argv[3], scope=0, attrs=['objectSid'])
            print(str(ndr_unpack(security.dom_sid, found[0]['objectSid'][0])))
            """;
        var dc = Path.Combine(Server.Directory, "dc");
        var result = await ProcessRunner.RunCheckedAsync("/usr/bin/python3", ["-c", Script, Path.Combine(dc, "etc", "smb.conf"), Path.Combine(dc, "private", "sam.ldb"), dn], null, TimeSpan.FromMinutes(2), CancellationToken.None);
        return result.Output.Trim();
    }

    /// <summary>
    /// Starts the emulator again with the same users and service principals plus <paramref name="groups"/>, and points
    /// the config at it: cloud groups that carry the SIDs the DC gave the lab's groups once they were added.
    /// </summary>
    public async Task SeedCloudGroupsAsync(IReadOnlyList<JsonObject> groups)
    {
        await Emulator.DisposeAsync();
        Emulator = await GraphEmulator.StartAsync(_seed with { Users = [.. _seed.Users.Select(u => u.DeepClone().AsObject())], Groups = groups }, CancellationToken.None);
        var config = JsonNode.Parse(await File.ReadAllTextAsync(Config))!.AsObject();
        config["Target"] = ExecutionLab.EmulatorTarget(Emulator.BaseUrl);
        await File.WriteAllTextAsync(Config, config.ToJsonString());
    }

    public Task<CliResult> CliAsync(params string[] args) => CliProcess.RunAsync(Work, "077", _environment, args);

    /// <summary>Adds a variable to the CLI's environment (a system account's credential, as an operator exports it).</summary>
    public void SetEnvironment(string name, string value) => _environment[name] = value;

    public CliProcess StartCli(params string[] args) => CliProcess.Start(Work, "077", _environment, args);

    public async Task<PlanDocument> PlanAsync()
    {
        var result = await CliAsync("plan", "--config", Config, "--out", PlanPath);
        result.ExitCode.Should().Be(0, result.ToString());
        return PlanSerializer.Deserialize(await File.ReadAllBytesAsync(PlanPath), PlanPath);
    }

    public async Task ApproveAsync(string by = "alice", string? plan = null)
    {
        var result = await CliAsync("approve", "--config", Config, "--plan", plan ?? PlanPath, "--by", by);
        result.ExitCode.Should().Be(0, result.ToString());
    }

    public string[] Run(string wave, string? plan = null) => ["run", "--config", Config, "--plan", plan ?? PlanPath, "--wave", wave, "--as", "bob"];

    public async Task<JsonObject> StatusAsync(string wave)
    {
        var result = await CliAsync("status", "--config", Config, "--wave", wave, "--format", "json");
        result.ExitCode.Should().Be(0, result.ToString());
        return JsonNode.Parse(result.Output)!.AsObject();
    }

    /// <summary>Each entity of the wave by id: (state, reason) as <c>status --format json</c> gives them.</summary>
    public async Task<Dictionary<string, (string State, string? Reason)>> EntityStatesAsync(string wave)
    {
        var status = await StatusAsync(wave);
        return status["waves"]![0]!["entityList"]!.AsArray().ToDictionary(
            e => e!["id"]!.GetValue<string>(),
            e => (e!["state"]!.GetValue<string>(), e["reason"]?.GetValue<string>()));
    }

    /// <summary>The state store, opened read-side as the CLI opens it (journal and backups).</summary>
    public async Task<IExecutionStore> OpenStoreAsync()
    {
        System.Environment.SetEnvironmentVariable(_backupKeyVariable, _environment[_backupKeyVariable]);
        return await ExecutionStoreFactory.OpenAsync(new StateOptions { BackupKeyEnvVar = _backupKeyVariable }, Work, TimeProvider.System, CancellationToken.None);
    }

    /// <summary>
    /// The domain as ldapsearch gives it (all user attributes, <c>uSNChanged</c> and <c>whenChanged</c>
    /// among them, so any write shows), entry by normalised DN. Deleted objects are not listed (no
    /// show-deleted control), as for any client.
    /// </summary>
    public async Task<Dictionary<string, AdEntry>> ReadDomainAsync() => await SearchAsync(Domain, "sub", "(objectClass=*)");

    /// <summary>One entry as ldapsearch gives it (all user attributes and memberOf), or null when there is none.</summary>
    public async Task<AdEntry?> ReadEntryAsync(string dn) => (await SearchAsync(dn, "base", "(objectClass=*)", allowMissing: true)).Values.SingleOrDefault();

    private async Task<Dictionary<string, AdEntry>> SearchAsync(string baseDn, string scope, string filter, bool allowMissing = false)
    {
        var passwordFile = Path.Combine(Work, "ldapsearch.pw");
        var owner = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            owner.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        await using (var file = new StreamWriter(passwordFile, owner))
        {
            await file.WriteAsync(Server.AdministratorPassword);
        }

        try
        {
            var result = await ProcessRunner.RunAsync(
                RequiredTool.LdapSearch.Find() ?? "ldapsearch",
                ["-x", "-H", SambaAdDc.LdapsUrl, "-D", Server.AdministratorDn, "-y", passwordFile, "-LLL", "-o", "ldif-wrap=no", "-E", "pr=500/noprompt", "-b", baseDn, "-s", scope, filter, "*", "memberOf"],
                new Dictionary<string, string> { ["LDAPTLS_CACERT"] = Server.CaFile, ["LDAPTLS_REQCERT"] = "demand" },
                TimeSpan.FromMinutes(2),
                CancellationToken.None);
            const int NoSuchObject = 32;
            if (result.ExitCode != 0 && !(allowMissing && result.ExitCode == NoSuchObject))
            {
                throw new InvalidOperationException($"ldapsearch -b {baseDn} exited {result.ExitCode}: {result.Error}");
            }

            return AdEntry.Parse(result.Output).ToDictionary(e => DistinguishedName.Normalize(e.Dn));
        }
        finally
        {
            File.Delete(passwordFile);
        }
    }

    public async ValueTask DisposeAsync() => await Emulator.DisposeAsync();
}

/// <summary>An entry of ldapsearch's unwrapped LDIF with its values as bytes (objectGUID and objectSid are binary).</summary>
internal sealed record AdEntry(string Dn, IReadOnlyList<(string Name, byte[] Value)> Attributes)
{
    public IEnumerable<byte[]> Values(string name) => Attributes.Where(a => string.Equals(a.Name, name, StringComparison.OrdinalIgnoreCase)).Select(a => a.Value);

    public IEnumerable<string> Strings(string name) => Values(name).Select(v => Encoding.UTF8.GetString(v));

    public string? String(string name) => Strings(name).FirstOrDefault();

    /// <summary>Every attribute but <paramref name="ignore"/>, one "name: base64" line each, sorted: what "the same entry" means.</summary>
    public string Content(params string[] ignore) => string.Join('\n', Attributes
        .Where(a => !ignore.Contains(a.Name, StringComparer.OrdinalIgnoreCase))
        .Select(a => $"{a.Name.ToLowerInvariant()}: {Convert.ToBase64String(a.Value)}")
        .Order(StringComparer.Ordinal));

    public static IEnumerable<AdEntry> Parse(string ldif)
    {
        foreach (var block in ldif.Replace("\r\n", "\n", StringComparison.Ordinal).Split("\n\n", StringSplitOptions.RemoveEmptyEntries))
        {
            string? dn = null;
            var attributes = new List<(string, byte[])>();
            foreach (var line in block.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                if (line.StartsWith('#'))
                {
                    continue;
                }

                var colon = line.IndexOf(':', StringComparison.Ordinal);
                var name = line[..colon];
                var rest = line[(colon + 1)..];
                var value = rest.StartsWith(':') ? Convert.FromBase64String(rest[1..].Trim()) : Encoding.UTF8.GetBytes(rest.TrimStart(' '));
                if (name == "dn")
                {
                    dn = Encoding.UTF8.GetString(value);
                }
                else if (dn is not null)
                {
                    attributes.Add((name, value));
                }
            }

            if (dn is not null)
            {
                yield return new AdEntry(dn, attributes);
            }
        }
    }
}
