using AuthSplit.Core.Configuration;
using AuthSplit.Core.Model;
using AuthSplit.Core.Planning;
using AuthSplit.Core.Planning.Decisions;
using AuthSplit.Core.Planning.DryRun;
using AuthSplit.Core.Planning.Format;
using AuthSplit.Testing.Ports;

namespace AuthSplit.Cli.EndToEndTests;

/// <summary>
/// <c>plan show</c> and <c>plan diff</c> over a plan with systems and synchronised groups, made by the
/// dry run through in-memory sources (the Graph snapshot's inventory is built on another branch).
/// </summary>
public sealed class PlanShowSystemsTests
{
    private const string Base = "dc=example,dc=com";
    private static readonly string CrmPrincipal = "6b1f6c2e-3f3a-4a55-9d4e-0c7f2f1c9a11";
    private static readonly string ErpPrincipal = "7c2f7d3f-4a4b-4b66-8e5f-1d8a3a2d0b22";
    private const string SalesGroup = "0b9d6b3a-1c2e-4f5a-9a8b-7c6d5e4f3a2b";

    private static AuthSplitOptions Options()
    {
        var options = new AuthSplitOptions
        {
            Source = new SourceOptions { BaseDn = Base },
            Waves = { new WaveOptions { Name = "hq", Order = 1, Deadline = "2030-04-30", BaseDn = "ou=hq," + Base, Filter = "(objectClass=inetOrgPerson)" } },
            Matching = { new MatchingRuleOptions { Source = "mail", Target = "mail" } },
        };
        foreach (var (id, principal) in new[] { ("crm", CrmPrincipal), ("erp", ErpPrincipal) })
        {
            var system = new SystemOptions { Id = id, Name = id.ToUpperInvariant() + " suite", Wave = "hq", Target = new SystemTargetOptions { ServicePrincipalId = principal } };
            system.LegacyAccounts.Add(new LegacyAccountOptions { Dn = $"uid=svc-{id},ou=services,{Base}" });
            options.Systems.Add(system);
        }

        return options;
    }

    private static async Task<string> WritePlanAsync(string path, bool erpEnabled, IReadOnlyList<Decision> decisions)
    {
        var entries = new[] { ("akira", "inetOrgPerson", "ou=hq"), ("svc-crm", "account", "ou=services"), ("svc-erp", "account", "ou=services") }
            .Select(e => DirectoryEntry.FromStrings($"uid={e.Item1},{e.Item3},{Base}", new Dictionary<string, string[]>
            {
                ["objectClass"] = [e.Item2], ["uid"] = [e.Item1], ["mail"] = [e.Item1 + "@example.com"], ["entryUUID"] = [Guid.NewGuid().ToString()],
            }))
            .ToList();
        var target = new InMemoryTargetDirectory([new TargetUser("t-akira", new Dictionary<string, string?> { ["userPrincipalName"] = "akira@example.com", ["mail"] = "akira@example.com", ["accountEnabled"] = "true", ["onPremisesSyncEnabled"] = "true" })])
        {
            Inventory = new TargetInventory
            {
                Groups = [new(new TargetGroup(SalesGroup, "Sales", true, false, true, "S-1-5-21-1"), ["t-akira"])],
                Applications = [],
                ServicePrincipals = [new(CrmPrincipal, null, "CRM", true, "Application"), new(ErpPrincipal, null, "ERP", erpEnabled, "Application")],
            },
        };
        var outcome = await DryRunPlanning.RunAsync(
            new DryRunRequest { Settings = PlanningSettings.From(Options()), Legacy = new InMemoryLegacyDirectory(entries), Target = target, Decisions = decisions },
            CancellationToken.None);
        await File.WriteAllBytesAsync(path, PlanSerializer.Serialize(PlanSerializer.WithPlanId(outcome.Plan)));
        return path;
    }

    [Fact]
    public async Task Plan_show_lists_systems_and_groups_and_spells_out_each_system_blocker()
    {
        var work = CliRunner.NewWorkDirectory();
        var plan = await WritePlanAsync(Path.Combine(work, "plan.json"), erpEnabled: false, []);

        var result = await CliRunner.RunAsync("plan", "show", plan);

        result.ExitCode.Should().Be(0, result.ToString());
        result.Output.Should().Contain("systems").And.Contain("group switches").And.Contain("2 (1 blocked)");
        result.Output.Should().Contain("System erp (ERP suite, wave hq) is blocked").And.Contain("target-app-disabled: service principal " + ErpPrincipal);
        result.Output.Should().Contain("verify-target-app > verify-legacy-quiet > backup-legacy-entry > disable-legacy-account > probe-legacy-refused");
        result.Output.Should().Contain("Sales").And.Contain(SalesGroup).And.Contain("switched before the wave's deletes");
        result.Output.Should().Contain("1 synchronised cloud group(s) switched to cloud-managed before their wave's deletes (1 people are members)");
    }

    [Fact]
    public async Task Plan_diff_reports_a_system_unblocked_and_one_excepted()
    {
        var work = CliRunner.NewWorkDirectory();
        var before = await WritePlanAsync(Path.Combine(work, "before.json"), erpEnabled: false, []);
        var after = await WritePlanAsync(Path.Combine(work, "after.json"), erpEnabled: true, [new Decision("crm", DecisionKind.ExceptSystem, null, null, "vendor moves it in Q3", "ciso@example.com")]);

        var result = await CliRunner.RunAsync("plan", "diff", before, after);

        result.ExitCode.Should().Be(0, result.ToString());
        result.Output.Should().Contain("system erp changed: disposition blocked -> remove: blockers gone (target-app-disabled)");
        result.Output.Should().Contain("system crm changed: disposition remove -> kept: excepted by ciso@example.com: vendor moves it in Q3");
        result.Output.Should().Contain("target inventory input changed");
    }
}
