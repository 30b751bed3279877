using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using AuthSplit.Core.Configuration;
using AuthSplit.Core.Execution;
using AuthSplit.Core.Planning.Format;
using AuthSplit.Graph.Emulator;
using AuthSplit.Lab.Data;
using AuthSplit.Lab.Servers;
using AuthSplit.State;

namespace AuthSplit.Cli.EndToEndTests.Execution;

/// <summary>
/// One private world per test: a slapd (ppolicy on) loaded with a generated organisation, the Graph
/// emulator holding its employees, a config that names both, and the CLI run as its own process against
/// them. Every secret reaches the CLI through the environment, as an operator's would.
/// </summary>
internal sealed class ExecutionLab : IAsyncDisposable
{
    public const string Suffix = GeneratedOrganization.Suffix;
    private const string Token = "e2e-exec-graph-token-7c1e";

    private readonly Dictionary<string, string> _environment;

    private ExecutionLab(string work, SlapdServer server, GraphEmulator emulator, int people, Dictionary<string, string> environment)
    {
        Work = work;
        Server = server;
        Emulator = emulator;
        People = people;
        _environment = environment;
    }

    public string Work { get; }

    public SlapdServer Server { get; }

    public GraphEmulator Emulator { get; }

    public int People { get; }

    public string Config => Path.Combine(Work, "authsplit.json");

    public string PlanPath => Path.Combine(Work, "plan.json");

    public IReadOnlyDictionary<string, string> Environment => _environment;

    /// <param name="seedEmulator">Shapes the emulator's seed beyond the generated users (groups, a delegated-admin token, users already cloud-only); it gets the options with those users loaded.</param>
    /// <param name="servicePrincipals">The target tenant's service principals (enterprise applications), for systems to cut over to.</param>
    public static async Task<ExecutionLab> StartAsync(int people, int groupSize = 20, GraphFaults? faults = null, Action<JsonObject>? configure = null, Func<GraphEmulatorOptions, GraphEmulatorOptions>? seedEmulator = null, IReadOnlyList<JsonObject>? servicePrincipals = null)
    {
        var work = CliRunner.NewWorkDirectory();
        var server = await SlapdServer.StartAsync(new SlapdServerOptions { Suffix = Suffix, NoSync = true, CreateSuffixEntry = false, PasswordPolicy = true }, CancellationToken.None);
        GraphEmulator? emulator = null;
        try
        {
            var ldif = Path.Combine(work, "org.ldif");
            await GeneratedOrganization.WriteLdifAsync(ldif, people, groupSize, CancellationToken.None);
            await server.LoadLdifAsync(ldif, CancellationToken.None);
            await server.AddPasswordPolicyAsync(CancellationToken.None);
            await KeepGroupsNonEmptyAsync(server, people, groupSize);
            var target = Path.Combine(work, "target");
            await GeneratedOrganization.WriteTargetSnapshotAsync(target, people, 999, 5, CancellationToken.None);
            var seed = new GraphEmulatorOptions
            {
                AccessToken = Token,
                Users = GraphEmulatorOptions.ReadPages(target),
                Faults = faults ?? GraphFaults.None,
                ServicePrincipals = servicePrincipals ?? [],
            };
            emulator = await GraphEmulator.StartAsync(seedEmulator?.Invoke(seed) ?? seed, CancellationToken.None);
            var environment = new Dictionary<string, string>
            {
                ["AUTHSPLIT_E2E_LDAP_PW"] = server.AdminPassword,
                ["AUTHSPLIT_E2E_GRAPH_TOKEN"] = Token,
                ["AUTHSPLIT_E2E_BACKUP_KEY"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
            };
            var lab = new ExecutionLab(work, server, emulator, people, environment);
            await lab.WriteConfigAsync(configure);
            return lab;
        }
        catch
        {
            if (emulator is not null)
            {
                await emulator.DisposeAsync();
            }

            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// The generated groups hold one unit's people each, so a wave would empty them, and a groupOfNames must
    /// keep a member (the executor then fails the entity, by design): a partner (protected, never removed)
    /// joins every group, as a real directory's groups hold people of other units.
    /// </summary>
    private static async Task KeepGroupsNonEmptyAsync(SlapdServer server, int people, int groupSize)
    {
        var partner = GeneratedOrganization.People(people).First(p => p.Unit == "partner").Dn;
        var changes = new StringBuilder();
        for (var g = 0; g < (people + groupSize - 1) / groupSize; g++)
        {
            foreach (var unit in new[] { "hq", "domestic" })
            {
                changes.Append(System.Globalization.CultureInfo.InvariantCulture, $"dn: cn=group-{unit}-{g:D5},ou={unit},{Suffix}\nchangetype: modify\nadd: member\nmember: {partner}\n\n");
            }
        }

        await server.ModifyAsync(changes.ToString(), CancellationToken.None);
    }

    /// <summary>The config's Target for the Graph emulator: a static token from the environment, quick retries for tests.</summary>
    public static JsonObject EmulatorTarget(Uri baseUrl) => new()
    {
        ["Kind"] = "Graph",
        ["BaseUrl"] = baseUrl.ToString(),
        ["Auth"] = "StaticToken",
        ["TokenEnvVar"] = "AUTHSPLIT_E2E_GRAPH_TOKEN",
        ["AllowInsecureLoopback"] = true,
        ["Limits"] = new JsonObject { ["MaxRetries"] = 8, ["RetryBaseDelaySeconds"] = 0.05, ["MaxRetryDelaySeconds"] = 2, ["ReadBackDelaySeconds"] = 0.05 },
    };

    private async Task WriteConfigAsync(Action<JsonObject>? configure)
    {
        var config = new JsonObject
        {
            ["Source"] = new JsonObject
            {
                ["Url"] = Server.LdapsUrl,
                ["BindDn"] = Server.AdminDn,
                ["PasswordEnvVar"] = "AUTHSPLIT_E2E_LDAP_PW",
                ["BaseDn"] = Suffix,
                ["Dialect"] = "OpenLdap",
                ["CaFile"] = Server.CaFile,
                ["TimeoutSeconds"] = 10,
            },
            ["Target"] = ExecutionLab.EmulatorTarget(Emulator.BaseUrl),
            ["Waves"] = new JsonArray
            {
                new JsonObject { ["Name"] = "hq", ["Order"] = 1, ["Deadline"] = "2027-04-30", ["BaseDn"] = $"ou=hq,{Suffix}", ["Filter"] = "(objectClass=inetOrgPerson)" },
                new JsonObject { ["Name"] = "domestic", ["Order"] = 2, ["Deadline"] = "2027-04-30", ["BaseDn"] = $"ou=domestic,{Suffix}", ["Filter"] = "(objectClass=inetOrgPerson)", ["DependsOn"] = new JsonArray("hq") },
            },
            ["Matching"] = new JsonArray { new JsonObject { ["Source"] = "employeeNumber", ["Target"] = "employeeId" } },
            ["Safety"] = new JsonObject
            {
                ["ProtectedFilter"] = "(employeeType=partner)",
                ["ProtectedDns"] = new JsonArray($"ou=partner,{Suffix}"),
                ["MaxDeletesPerWave"] = 5000,
            },
            ["Removal"] = new JsonObject { ["HoldDays"] = 0, ["OpenLdapDisable"] = "PasswordPolicyLock" },
            ["State"] = new JsonObject { ["BackupKeyEnvVar"] = "AUTHSPLIT_E2E_BACKUP_KEY" },

            // The default rounds, after a short wait (a test's faults are seconds long, not minutes).
            ["Execution"] = new JsonObject { ["RetryRoundDelaySeconds"] = 1 },
        };
        configure?.Invoke(config);
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
        return await ReadPlanAsync(PlanPath);
    }

    public static async Task<PlanDocument> ReadPlanAsync(string path) => PlanSerializer.Deserialize(await File.ReadAllBytesAsync(path), path);

    public async Task ApproveAsync(string by = "alice", string? plan = null)
    {
        var result = await CliAsync("approve", "--config", Config, "--plan", plan ?? PlanPath, "--by", by);
        result.ExitCode.Should().Be(0, result.ToString());
    }

    public string[] Run(string wave, string? @as = "bob", string? plan = null) =>
        @as is null ? ["run", "--config", Config, "--plan", plan ?? PlanPath, "--wave", wave] : ["run", "--config", Config, "--plan", plan ?? PlanPath, "--wave", wave, "--as", @as];

    /// <summary>The directory as <c>ldapsearch -LLL '*' '+'</c> gives it, entry by DN.</summary>
    public async Task<Dictionary<string, LdifEntry>> ReadDirectoryAsync()
    {
        var export = await Server.SearchAsync(["-LLL", "-o", "ldif-wrap=no", "-E", "pr=1000/noprompt", "-b", Suffix, "(objectClass=*)", "*", "+"], CancellationToken.None);
        return LdifEntry.Parse(export.Output).ToDictionary(e => e.Dn.ToLowerInvariant());
    }

    private static readonly JsonSerializerOptions ConfigJson = new() { Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() } };

    /// <summary>The state store, opened read-side as the CLI opens it (for backups and steps).</summary>
    public async Task<IExecutionStore> OpenStoreAsync()
    {
        // The store the config names (SQLite beside it, or the PostgreSQL of a cluster test), with the lab's environment.
        foreach (var (name, value) in _environment)
        {
            System.Environment.SetEnvironmentVariable(name, value);
        }

        var state = JsonNode.Parse(await File.ReadAllTextAsync(Config))!["State"].Deserialize<StateOptions>(ConfigJson)
            ?? new StateOptions { BackupKeyEnvVar = "AUTHSPLIT_E2E_BACKUP_KEY" };
        return await ExecutionStoreFactory.OpenAsync(state, Work, TimeProvider.System, CancellationToken.None);
    }

    public async Task<JsonObject> StatusAsync(string wave)
    {
        var result = await CliAsync("status", "--config", Config, "--wave", wave, "--format", "json");
        result.ExitCode.Should().Be(0, result.ToString());
        return JsonNode.Parse(result.Output)!.AsObject();
    }

    /// <summary>
    /// The directory an uninterrupted wave leaves (proven by the whole-wave test): <paramref name="before"/>
    /// without the removed entries, every group without their DNs, every other entry byte for byte as it
    /// was (change stamps aside for the groups).
    /// </summary>
    public static void ShouldBeTheOutcome(Dictionary<string, LdifEntry> before, Dictionary<string, LdifEntry> after, IEnumerable<PlannedEntity> removals)
    {
        var removed = removals.Select(e => e.Dn.ToLowerInvariant()).ToHashSet();
        before.Keys.Except(after.Keys).Should().BeEquivalentTo(removed, "exactly the planned removals are gone");
        after.Keys.Except(before.Keys).Should().BeEmpty();
        foreach (var (dn, entry) in after)
        {
            if (entry.Values("objectClass").Contains("groupOfNames", StringComparer.OrdinalIgnoreCase))
            {
                var expected = before[dn].Values("member").Where(m => !removed.Contains(m.ToLowerInvariant()));
                entry.Values("member").Should().BeEquivalentTo(expected, $"{dn} keeps every member but the removed");
                entry.Content("member").Should().Be(before[dn].Content("member"), $"{dn} is otherwise untouched");
            }
            else
            {
                entry.Content().Should().Be(before[dn].Content(), $"{dn} is untouched");
            }
        }
    }

    /// <summary>Every planned entity of the wave in exactly one final state (status json), each id once; returns the states.</summary>
    public async Task<Dictionary<string, string>> ShouldAllBeFinalAsync(PlanDocument plan, string wave)
    {
        var status = await StatusAsync(wave);
        var list = status["waves"]![0]!["entityList"]!.AsArray().Select(e => (Id: e!["id"]!.GetValue<string>(), State: e["state"]!.GetValue<string>())).ToList();
        list.Select(e => e.Id).Should().OnlyHaveUniqueItems();
        list.Where(e => e.State is not ("done" or "stale" or "refused" or "failed" or "excluded")).Should().BeEmpty(status.ToJsonString());
        list.Where(e => e.State != "excluded").Select(e => e.Id).Should().BeEquivalentTo(plan.Entities.Where(e => e.Wave == wave && e.Disposition == Disposition.Remove).Select(e => e.Id));
        return list.ToDictionary(e => e.Id, e => e.State);
    }

    /// <summary>One applied source-of-authority write per removed person, none twice; every deleted entry has its backup.</summary>
    public async Task ShouldHaveWrittenOnceAndBackedUpAsync(IReadOnlyList<PlannedEntity> removals)
    {
        var switches = Emulator.Writes.Where(w => w.Path.Contains("onPremisesSyncBehavior", StringComparison.Ordinal)).Select(w => w.Path).ToList();
        switches.Should().OnlyHaveUniqueItems("no write is applied twice");
        switches.Should().HaveCount(removals.Count(e => e.Kind == Core.Model.EntityKind.Person), "one source-of-authority switch per removed person");
        var store = await OpenStoreAsync();
        await using (store as IAsyncDisposable)
        {
            foreach (var entity in removals)
            {
                (await store.GetBackupAsync(entity.Id, CancellationToken.None)).Should().NotBeNull($"{entity.Dn} was deleted, so its backup is stored");
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Emulator.DisposeAsync();
        await Server.DisposeAsync();
    }
}

/// <summary>An entry of unwrapped LDIF (<c>-o ldif-wrap=no</c>): its DN and its "attr: value" lines, base64 values decoded.</summary>
internal sealed record LdifEntry(string Dn, IReadOnlyList<(string Name, string Value)> Attributes)
{
    private static readonly HashSet<string> ChangeStamps = new(StringComparer.OrdinalIgnoreCase)
    {
        "entryCSN", "modifyTimestamp", "modifiersName", "createTimestamp", "creatorsName", "structuralObjectClass", "subschemaSubentry", "hasSubordinates", "entryDN", "contextCSN",
    };

    public IEnumerable<string> Values(string name) => Attributes.Where(a => string.Equals(a.Name, name, StringComparison.OrdinalIgnoreCase)).Select(a => a.Value);

    /// <summary>Every attribute but the change stamps slapd sets on each write, sorted: what "the same entry" means.</summary>
    public string Content(params string[] alsoIgnore) => string.Join('\n', Attributes
        .Where(a => !ChangeStamps.Contains(a.Name) && !alsoIgnore.Contains(a.Name, StringComparer.OrdinalIgnoreCase))
        .Select(a => $"{a.Name.ToLowerInvariant()}: {a.Value}")
        .Order(StringComparer.Ordinal));

    public static IEnumerable<LdifEntry> Parse(string ldif)
    {
        foreach (var block in ldif.Replace("\r\n", "\n", StringComparison.Ordinal).Split("\n\n", StringSplitOptions.RemoveEmptyEntries))
        {
            string? dn = null;
            var attributes = new List<(string, string)>();
            foreach (var line in block.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                if (line.StartsWith('#'))
                {
                    continue;
                }

                var colon = line.IndexOf(':', StringComparison.Ordinal);
                var name = line[..colon];
                var value = line[(colon + 1)..];
                value = value.StartsWith(':') ? Encoding.UTF8.GetString(Convert.FromBase64String(value[1..].Trim())) : value.TrimStart(' ');
                if (dn is null && name == "dn")
                {
                    dn = value;
                }
                else
                {
                    attributes.Add((name, value));
                }
            }

            if (dn is not null)
            {
                yield return new LdifEntry(dn, attributes);
            }
        }
    }
}
