using AuthSplit.Core.Configuration;
using AuthSplit.Core.Directory;
using AuthSplit.Core.Errors;
using AuthSplit.Core.Model;
using AuthSplit.Core.Planning;
using AuthSplit.Core.Planning.Decisions;
using AuthSplit.Core.Planning.DryRun;
using AuthSplit.Core.Planning.Format;
using AuthSplit.Testing.Ports;

namespace AuthSplit.Core.Tests.Planning.DryRun;

/// <summary>
/// The planning use case driven without the CLI, through in-memory sources at its ports: what the executor
/// and <c>evidence verify --live</c> will call.
/// </summary>
public sealed class DryRunPlanningTests
{
    private const string Base = PlanningScenario.Base;
    private const string AdRoot = "DC=corp,DC=example";
    private const string AdSchema = "CN=Schema,CN=Configuration," + AdRoot;

    private static PlanningSettings OpenLdapSettings() => PlanningSettings.From(new PlanningScenario().Options);

    private static List<DirectoryEntry> People() =>
    [
        Person("akira", "akira@example.com"),
        Person("hana", "hana@example.com"),
        Person("kenji", "kenji@example.com"),
    ];

    private static DirectoryEntry Person(string uid, string mail) => DirectoryEntry.FromStrings($"uid={uid},ou=hq,{Base}", new Dictionary<string, string[]>
    {
        ["objectClass"] = ["top", "person", "organizationalPerson", "inetOrgPerson"],
        ["uid"] = [uid],
        ["cn"] = [uid],
        ["sn"] = [uid],
        ["mail"] = [mail],
        ["entryUUID"] = [PlanningScenario.IdFor(uid)],
    });

    private static List<TargetUser> TargetUsers() =>
    [
        new("t-akira", new Dictionary<string, string?> { ["userPrincipalName"] = "akira@example.com", ["mail"] = "akira@example.com", ["accountEnabled"] = "true" }),
        new("t-hana", new Dictionary<string, string?> { ["userPrincipalName"] = "hana@example.com", ["mail"] = "hana@example.com", ["accountEnabled"] = "true" }),
    ];

    [Fact]
    public async Task A_dry_run_records_what_each_source_says_it_read()
    {
        var legacy = new InMemoryLegacyDirectory(People());
        var target = new InMemoryTargetDirectory(TargetUsers());
        var decisionsInput = new InputDescription { Kind = "decisions", Location = "decisions.json", Sha256 = "sha256:decisions", Count = 0 };

        var outcome = await DryRunPlanning.RunAsync(
            new DryRunRequest { Settings = OpenLdapSettings(), Legacy = legacy, Target = target, DecisionsInput = decisionsInput },
            CancellationToken.None);

        outcome.Refused.Should().BeFalse();
        outcome.Plan.Inputs.Should().Be(outcome.Inputs);
        outcome.Plan.Inputs.Source.Should().Be(await ReadAsync(new InMemoryLegacyDirectory(People())), "the source's own description of its read");
        outcome.Plan.Inputs.Source.Count.Should().Be(3);
        outcome.Plan.Inputs.Source.Schema.Should().BeNull("an OpenLDAP source has no class map");
        outcome.Plan.Inputs.Target.Should().Be(await ReadAsync(new InMemoryTargetDirectory(TargetUsers())), "the target's own description of its read");
        outcome.Plan.Inputs.Decisions.Should().Be(decisionsInput);
        outcome.Plan.Inputs.ConfigSha256.Should().Be(PlanSerializer.HashSettings(outcome.Plan.Settings));
        outcome.Plan.PlanId.Should().BeNullOrEmpty("the plan id is computed when the plan is written");
        outcome.Plan.Entities.Should().HaveCount(3);
    }

    [Fact]
    public async Task A_dry_run_gives_byte_for_byte_the_plan_the_planner_gives_from_the_same_reads()
    {
        var settings = OpenLdapSettings();
        var legacy = new InMemoryLegacyDirectory(People());
        var target = new InMemoryTargetDirectory(TargetUsers());
        var decisions = new List<Decision> { new(PlanningScenario.IdFor("kenji"), DecisionKind.Keep, null, null, "contractor", "tester@example.com") };

        var outcome = await DryRunPlanning.RunAsync(
            new DryRunRequest { Settings = settings, Legacy = legacy, Target = target, Decisions = decisions },
            CancellationToken.None);

        var planner = new Planner(settings, TargetUsers(), decisions);
        foreach (var entry in People())
        {
            planner.Add(entry);
        }

        var direct = planner.Complete(outcome.Inputs, null, acceptScopeDrop: false, computePlanId: false);
        var (viaDryRun, viaDryRunId) = await SerializeAsync(outcome.Plan);
        var (viaPlanner, viaPlannerId) = await SerializeAsync(direct.Plan);
        viaDryRunId.Should().Be(viaPlannerId);
        viaDryRun.Should().Equal(viaPlanner);
        outcome.Plan.Decisions.Should().ContainSingle(d => d.Status == DecisionStatus.Applied);
    }

    [Fact]
    public async Task Without_a_snapshot_only_the_attributes_the_plan_relies_on_are_read()
    {
        var settings = OpenLdapSettings();
        var legacy = new InMemoryLegacyDirectory(People());

        await DryRunPlanning.RunAsync(
            new DryRunRequest { Settings = settings, Legacy = legacy, Target = new InMemoryTargetDirectory(TargetUsers()) },
            CancellationToken.None);

        legacy.Reads.Should().ContainSingle().Which.Should().Be(("planning", (IReadOnlyCollection<string>?)settings.FingerprintAttributes));
    }

    [Fact]
    public async Task With_a_snapshot_whole_entries_are_read_and_the_snapshot_is_committed_once_both_sides_were_read()
    {
        var legacy = new InMemoryLegacyDirectory(People());
        var snapshot = new RecordingSnapshot();

        var outcome = await DryRunPlanning.RunAsync(
            new DryRunRequest { Settings = OpenLdapSettings(), Legacy = legacy, Target = new InMemoryTargetDirectory(TargetUsers()), Snapshot = snapshot },
            CancellationToken.None);

        outcome.Refused.Should().BeFalse();
        legacy.Reads.Should().ContainSingle().Which.Attributes.Should().BeNull("a snapshot holds whole entries");
        snapshot.Commits.Should().Be(1);
        snapshot.CommittedObjectCategories.Should().BeNull("OpenLDAP has no class map to save");
    }

    [Fact]
    public async Task A_read_that_fails_leaves_the_snapshot_uncommitted_and_no_plan()
    {
        var legacy = new InMemoryLegacyDirectory(People()) { FailAfter = 2 };
        var snapshot = new RecordingSnapshot();

        var run = () => DryRunPlanning.RunAsync(
            new DryRunRequest { Settings = OpenLdapSettings(), Legacy = legacy, Target = new InMemoryTargetDirectory(TargetUsers()), Snapshot = snapshot },
            CancellationToken.None);

        await run.Should().ThrowAsync<ExternalSystemException>().WithMessage("*lost after 2 entries*");
        snapshot.Commits.Should().Be(0, "a short read must never replace the saved snapshot");
    }

    [Fact]
    public async Task A_refusal_is_a_value_carrying_the_planners_refusals()
    {
        var settings = OpenLdapSettings();
        var outsideHq = People().Select(e => DirectoryEntry.FromStrings(e.Dn.Replace("ou=hq", "ou=branch", StringComparison.Ordinal), e.Attributes.ToDictionary(a => a.Key, a => a.Value.Select(v => System.Text.Encoding.UTF8.GetString(v)).ToArray())));

        var outcome = await DryRunPlanning.RunAsync(
            new DryRunRequest { Settings = settings, Legacy = new InMemoryLegacyDirectory(outsideHq), Target = new InMemoryTargetDirectory(TargetUsers()) },
            CancellationToken.None);

        outcome.Refused.Should().BeTrue();
        outcome.Refusals.Should().ContainSingle(r => r.Kind == RefusalCode.EmptyWaveScope && r.Message.Contains("wave hq", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Progress_is_told_every_entry_planned()
    {
        var seen = new List<int>();

        await DryRunPlanning.RunAsync(
            new DryRunRequest { Settings = OpenLdapSettings(), Legacy = new InMemoryLegacyDirectory(People()), Target = new InMemoryTargetDirectory(TargetUsers()), Progress = new Recorder(seen) },
            CancellationToken.None);

        seen.Should().Equal(1, 2, 3);
    }

    [Fact]
    public async Task Active_Directory_filters_resolve_objectCategory_with_the_class_map_the_source_gives_and_the_plan_records_it()
    {
        var map = ObjectCategoryMap.ActiveDirectoryDefault(DistinguishedName.Parse(AdRoot));
        var legacy = new InMemoryLegacyDirectory([AdUser("Taro"), AdUser("Hanako"), AdComputer("PC1")]) { ObjectCategories = map };
        var snapshot = new RecordingSnapshot();

        var outcome = await DryRunPlanning.RunAsync(
            new DryRunRequest { Settings = ActiveDirectorySettings("(objectCategory=person)"), Legacy = legacy, Target = new InMemoryTargetDirectory([]), Snapshot = snapshot },
            CancellationToken.None);

        outcome.Refused.Should().BeFalse(string.Join("; ", outcome.Refusals.Select(r => r.Message)));
        outcome.Plan.Summary.Waves.Single().InScope.Should().Be(2, "objectCategory=person means CN=Person in AD: the two users, not the computer");
        outcome.Inputs.Source.Schema.Should().Be(new SchemaDescription { Origin = map.Origin, Sha256 = map.Sha256, Classes = map.Classes.Count });
        snapshot.CommittedObjectCategories.Should().BeSameAs(map, "the saved snapshot keeps the map its filters were compiled against");
    }

    [Fact]
    public async Task An_in_chain_filter_reads_the_links_first_then_plans_from_a_second_read()
    {
        var group = AdEntry("CN=Staff,OU=Groups," + AdRoot, "group");
        var legacy = new InMemoryLegacyDirectory([group, AdUser("Taro", memberOf: "CN=Staff,OU=Groups," + AdRoot), AdUser("Hanako")]);
        var observer = new RecordingObserver();

        var outcome = await DryRunPlanning.RunAsync(
            new DryRunRequest
            {
                Settings = ActiveDirectorySettings($"(&(objectCategory=person)(memberOf:1.2.840.113556.1.4.1941:=CN=Staff,OU=Groups,{AdRoot}))"),
                Legacy = legacy,
                Target = new InMemoryTargetDirectory([]),
                Observer = observer,
            },
            CancellationToken.None);

        legacy.Reads.Select(r => r.Purpose).Should().Equal("links", "planning");
        legacy.Reads[0].Attributes.Should().Contain("memberOf");
        observer.LinkPasses.Should().ContainSingle().Which.Should().Contain("memberOf");
        outcome.Plan.Summary.Waves.Single().InScope.Should().Be(1, "only Taro is a member of Staff");
    }

    [Fact]
    public async Task A_snapshot_that_changed_between_the_link_pass_and_the_planning_pass_is_refused()
    {
        var group = AdEntry("CN=Staff,OU=Groups," + AdRoot, "group");
        var legacy = new InMemoryLegacyDirectory([group, AdUser("Taro", memberOf: "CN=Staff,OU=Groups," + AdRoot)])
        {
            IsSnapshot = true,
            Kind = "ldif",
            Location = "export.ldif",
            AfterEachRead = d => d.Entries.Add(AdUser("Late")),
        };

        var run = () => DryRunPlanning.RunAsync(
            new DryRunRequest
            {
                Settings = ActiveDirectorySettings($"(memberOf:1.2.840.113556.1.4.1941:=CN=Staff,OU=Groups,{AdRoot})"),
                Legacy = legacy,
                Target = new InMemoryTargetDirectory([]),
            },
            CancellationToken.None);

        (await run.Should().ThrowAsync<InputException>()).Which.Code.Should().Be("source-changed");
    }

    [Fact]
    public async Task A_live_directory_may_change_between_the_two_passes()
    {
        var group = AdEntry("CN=Staff,OU=Groups," + AdRoot, "group");
        var legacy = new InMemoryLegacyDirectory([group, AdUser("Taro", memberOf: "CN=Staff,OU=Groups," + AdRoot)]) { AfterEachRead = d => d.Entries.Add(AdUser("Late" + d.Entries.Count)) };

        var outcome = await DryRunPlanning.RunAsync(
            new DryRunRequest
            {
                Settings = ActiveDirectorySettings($"(memberOf:1.2.840.113556.1.4.1941:=CN=Staff,OU=Groups,{AdRoot})"),
                Legacy = legacy,
                Target = new InMemoryTargetDirectory([]),
            },
            CancellationToken.None);

        outcome.Inputs.Source.Count.Should().Be(3, "the planned read is the second one, which saw the new entry");
    }

    [Fact]
    public async Task An_in_chain_filter_outside_Active_Directory_is_a_config_error_before_anything_is_planned()
    {
        var scenario = new PlanningScenario();
        scenario.Options.Waves[0].Filter = "(memberOf:1.2.840.113556.1.4.1941:=cn=staff,ou=groups," + Base + ")";
        var legacy = new InMemoryLegacyDirectory(People());

        var run = () => DryRunPlanning.RunAsync(
            new DryRunRequest { Settings = PlanningSettings.From(scenario.Options), Legacy = legacy, Target = new InMemoryTargetDirectory(TargetUsers()) },
            CancellationToken.None);

        (await run.Should().ThrowAsync<InputException>()).Which.Code.Should().Be("config-invalid");
        legacy.Reads.Should().BeEmpty();
    }

    [Fact]
    public async Task A_source_describes_no_read_before_one_completed()
    {
        var legacy = new InMemoryLegacyDirectory(People()).OpenPlanningRead(null);

        legacy.Invoking(s => s.DescribeRead()).Should().Throw<InvalidOperationException>();
        await foreach (var _ in legacy.ReadEntriesAsync(CancellationToken.None))
        {
        }

        legacy.DescribeRead().Count.Should().Be(3);
    }

    private static PlanningSettings ActiveDirectorySettings(string filter) => PlanningSettings.From(new AuthSplitOptions
    {
        Source = new SourceOptions { BaseDn = AdRoot, Dialect = DirectoryDialect.ActiveDirectory, BindDn = "CN=reader,OU=Service," + AdRoot },
        Waves = { new WaveOptions { Name = "people", Order = 1, Deadline = "2026-04-30", BaseDn = AdRoot, Filter = filter } },
        Matching = { new MatchingRuleOptions { Source = "mail", Target = "mail" } },
    });

    private static DirectoryEntry AdUser(string cn, string? memberOf = null) =>
        AdEntry(
            $"CN={cn},OU=People,{AdRoot}",
            "user",
            [("objectCategory", "CN=Person," + AdSchema), ("mail", cn.ToLowerInvariant() + "@corp.example"), .. memberOf is null ? Array.Empty<(string, string)>() : [("memberOf", memberOf)]]);

    private static DirectoryEntry AdComputer(string cn) =>
        AdEntry($"CN={cn},OU=People,{AdRoot}", "computer", ("objectCategory", "CN=Computer," + AdSchema));

    private static DirectoryEntry AdEntry(string dn, string objectClass, params (string Name, string Value)[] attributes)
    {
        var classes = objectClass switch
        {
            "user" => new[] { "top", "person", "organizationalPerson", "user" },
            "computer" => ["top", "person", "organizationalPerson", "user", "computer"],
            _ => ["top", objectClass],
        };
        var all = classes.Select(c => ("objectClass", c))
            .Append(("objectGUID", PlanningScenario.IdFor(dn)))
            .Concat(attributes);
        return DirectoryEntry.FromStrings(dn, all.GroupBy(a => a.Item1).Select(g => KeyValuePair.Create(g.Key, g.Select(a => a.Item2).ToArray())));
    }

    private static async Task<InputDescription> ReadAsync(InMemoryLegacyDirectory legacy)
    {
        var source = legacy.OpenPlanningRead(null);
        await foreach (var _ in source.ReadEntriesAsync(CancellationToken.None))
        {
        }

        return source.DescribeRead();
    }

    private static async Task<InputDescription> ReadAsync(InMemoryTargetDirectory target)
    {
        await foreach (var _ in target.ReadUsersAsync(CancellationToken.None))
        {
        }

        return target.DescribeRead();
    }

    private static async Task<(byte[] Bytes, string? PlanId)> SerializeAsync(PlanDocument plan)
    {
        using var destination = new MemoryStream();
        await using var scratch = new MemoryStream();
        var written = await PlanSerializer.WriteWithPlanIdAsync(plan, destination, scratch, CancellationToken.None);
        return (destination.ToArray(), written.PlanId);
    }

    private sealed class Recorder(List<int> seen) : IProgress<int>
    {
        public void Report(int value) => seen.Add(value);
    }

    private sealed class RecordingObserver : IDryRunObserver
    {
        public List<IReadOnlyCollection<string>> LinkPasses { get; } = [];

        public void LinkPassStarting(IReadOnlyCollection<string> attributes) => LinkPasses.Add([.. attributes]);
    }
}
