using AuthSplit.Core.Configuration;
using AuthSplit.Core.Errors;
using AuthSplit.Core.Model;
using AuthSplit.Core.Planning;
using AuthSplit.Core.Planning.DryRun;
using AuthSplit.Core.Planning.Format;
using AuthSplit.Testing.Ports;

namespace AuthSplit.Core.Tests.Planning.DryRun;

/// <summary>The dry run's read of the target inventory: when it is read, recorded, and what its absence means.</summary>
public sealed class DryRunInventoryTests
{
    private const string Base = PlanningScenario.Base;
    private static readonly string CrmPrincipal = PlanningScenario.IdFor("sp-crm");
    private static readonly string Sales = PlanningScenario.IdFor("g-sales");

    private static List<DirectoryEntry> Entries() =>
    [
        DirectoryEntry.FromStrings("uid=akira,ou=hq," + Base, new Dictionary<string, string[]>
        {
            ["objectClass"] = ["inetOrgPerson"], ["uid"] = ["akira"], ["mail"] = ["akira@example.com"], ["entryUUID"] = [PlanningScenario.IdFor("akira")],
        }),
        DirectoryEntry.FromStrings("uid=svc-crm,ou=services," + Base, new Dictionary<string, string[]>
        {
            ["objectClass"] = ["account", "simpleSecurityObject"], ["uid"] = ["svc-crm"], ["entryUUID"] = [PlanningScenario.IdFor("svc-crm")],
        }),
    ];

    private static InMemoryTargetDirectory Target() =>
        new([new TargetUser("t-akira", new Dictionary<string, string?> { ["userPrincipalName"] = "akira@example.com", ["mail"] = "akira@example.com", ["accountEnabled"] = "true" })]);

    private static AuthSplitOptions Options(bool withSystem)
    {
        var options = new PlanningScenario().Options;
        if (withSystem)
        {
            var crm = new SystemOptions { Id = "crm", Wave = "hq", Target = new SystemTargetOptions { ServicePrincipalId = CrmPrincipal } };
            crm.LegacyAccounts.Add(new LegacyAccountOptions { Dn = "uid=svc-crm,ou=services," + Base });
            options.Systems.Add(crm);
        }

        AuthSplitOptionsValidator.Validate(options, requireLiveSource: false).Should().BeEmpty();
        return options;
    }

    private static Task<DryRunOutcome> RunAsync(AuthSplitOptions options, InMemoryTargetDirectory target, InMemoryLegacyDirectory? legacy = null, IDryRunObserver? observer = null) =>
        DryRunPlanning.RunAsync(new DryRunRequest { Settings = PlanningSettings.From(options), Legacy = legacy ?? new InMemoryLegacyDirectory(Entries()), Target = target, Observer = observer }, CancellationToken.None);

    [Fact]
    public async Task The_inventory_is_read_even_without_systems_but_recorded_only_when_it_bears_on_the_plan()
    {
        var target = Target();
        target.Inventory = new TargetInventory { Groups = [new(new TargetGroup(PlanningScenario.IdFor("g-cloud"), "Cloud", true, false, null, null), ["t-akira"])], Applications = [], ServicePrincipals = [] };

        var outcome = await RunAsync(Options(withSystem: false), target);

        target.InventoryReads.Should().Be(1, "whether the plan's people are in synchronised groups is only known once both sides are read");
        outcome.Inputs.TargetInventory.Should().BeNull("no system and no synchronised group: the plan reads as it did before inventories");
        outcome.Plan.GroupSwitches.Should().BeNull();
    }

    [Fact]
    public async Task Synchronised_groups_record_the_inventory_read_and_plan_their_switch()
    {
        var target = Target();
        target.Inventory = new TargetInventory { Groups = [new(new TargetGroup(Sales, "Sales", true, false, true, "S-1-5-21-9"), ["t-akira"])], Applications = [], ServicePrincipals = [] };

        var outcome = await RunAsync(Options(withSystem: false), target);

        outcome.Inputs.TargetInventory.Should().Be(target.DescribeInventoryRead());
        outcome.Inputs.TargetInventory!.Kind.Should().Be("graph-inventory");
        outcome.Plan.GroupSwitches!.Single().GroupId.Should().Be(Sales);
    }

    [Fact]
    public async Task Without_systems_a_target_that_has_no_inventory_gives_a_plan_and_a_warning()
    {
        var target = Target();
        target.InventoryFailure = new InputException("target-inventory-missing", "the snapshot holds no groups, applications or service principals; save it again", "target/");
        var observer = new InventoryObserver();

        var outcome = await RunAsync(Options(withSystem: false), target, observer: observer);

        outcome.Refused.Should().BeFalse();
        outcome.Plan.Entities.Should().NotBeEmpty();
        outcome.Inputs.TargetInventory.Should().BeNull();
        observer.Unavailable.Should().ContainSingle().Which.Should().Contain("save it again");
    }

    [Fact]
    public async Task A_target_source_without_an_inventory_read_is_a_warning_too()
    {
        var target = Target();
        target.InventoryFailure = new NotSupportedException("no inventory read");
        var observer = new InventoryObserver();

        (await RunAsync(Options(withSystem: false), target, observer: observer)).Refused.Should().BeFalse();
        observer.Unavailable.Should().ContainSingle();
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task With_systems_a_target_that_has_no_inventory_is_an_input_error(bool notSupported)
    {
        var target = Target();
        target.InventoryFailure = notSupported ? new NotSupportedException("no inventory read") : new InputException("target-inventory-missing", "the snapshot holds no service principals; save it again");

        var run = () => RunAsync(Options(withSystem: true), target);

        (await run.Should().ThrowAsync<InputException>()).Which.Message.Should().Contain(notSupported ? "system(s) are configured" : "save it again");
    }

    [Fact]
    public async Task With_systems_the_inventory_is_recorded_and_the_live_read_asks_for_the_last_authentication_attributes()
    {
        var target = Target();
        target.Inventory = new TargetInventory { Groups = [], Applications = [], ServicePrincipals = [new TargetServicePrincipal(CrmPrincipal, null, "CRM", true, "Application")] };
        var legacy = new InMemoryLegacyDirectory(Entries());
        var options = Options(withSystem: true);

        var outcome = await RunAsync(options, target, legacy);

        outcome.Inputs.TargetInventory.Should().NotBeNull();
        outcome.Plan.Systems!.Single().Disposition.Should().Be(Disposition.Remove);
        legacy.Reads.Single().Attributes.Should().Contain(["pwdlastsuccess", "authtimestamp"]).And.Contain(PlanningSettings.From(options).FingerprintAttributes);
    }

    private sealed class InventoryObserver : IDryRunObserver
    {
        public List<string> Unavailable { get; } = [];

        public void TargetInventoryUnavailable(ITargetDirectorySource target, string reason) => Unavailable.Add(reason);
    }
}
