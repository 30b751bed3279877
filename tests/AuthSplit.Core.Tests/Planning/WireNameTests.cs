using System.Text.Json;
using AuthSplit.Core.Model;
using AuthSplit.Core.Planning;
using AuthSplit.Core.Planning.Decisions;
using AuthSplit.Core.Planning.Format;

namespace AuthSplit.Core.Tests.Planning;

public sealed class WireNameTests
{
    [Fact]
    public void Every_code_has_the_name_the_plan_file_writes()
    {
        WireName.Of(MatchStatus.NotApplicable).Should().Be("not-applicable");
        WireName.Of(EntityKind.ServiceAccount).Should().Be("service-account");
        WireName.Of(BlockerCode.TargetShared).Should().Be("target-shared");
        WireName.Of(StepAction.DeleteLegacyEntry).Should().Be("delete-legacy-entry");
        WireName.Of(DecisionKind.AssignWave).Should().Be("assign-wave");
        foreach (var code in Enum.GetValues<BlockerCode>())
        {
            JsonSerializer.Serialize(new Blocker(code, "m"), PlanSerializer.Options).Should().Contain($"\"code\": \"{WireName.Of(code)}\"");
            WireName.TryParse<BlockerCode>(WireName.Of(code), out var back).Should().BeTrue();
            back.Should().Be(code);
        }
    }

    [Fact]
    public void The_step_catalog_describes_each_action_once_with_the_dry_run_every_entity_step_carries()
    {
        var removal = new RemovalSettings("ou=quarantine,dc=example,dc=com", 7, 400);
        var catalog = StepCatalog.Describe(removal, groups: true, systems: true);

        catalog.Select(s => s.Action).Should().Equal(Enum.GetValues<StepAction>());
        StepCatalog.Describe(removal).Select(s => s.Action).Should().Equal(Enum.GetValues<StepAction>().Where(StepCatalog.IsEntityStep), "a plan without systems or synchronised groups carries the entity steps only, as before they existed");
        foreach (var kind in Enum.GetValues<EntityKind>())
        {
            foreach (var step in StepCatalog.For(kind, hasTarget: true, removal))
            {
                step.DryRun.Should().Be(catalog.Single(c => c.Action == step.Action).DryRun, $"{step.Action} of a {kind}");
            }
        }
    }

    [Fact]
    public void Diff_spells_kinds_and_match_states_as_the_plan_does()
    {
        static PlanDocument Plan(string[] objectClasses) => new PlanningScenario()
            .Entry("cn=x,ou=hq," + PlanningScenario.Base, new() { ["objectClass"] = objectClasses, ["cn"] = ["x"], ["sn"] = ["x"], ["uid"] = ["x"], ["entryUUID"] = [PlanningScenario.IdFor("x")] })
            .Person("o", parent: "ou=overseas," + PlanningScenario.Base, country: "US")
            .PlanAccepted();

        var comparison = PlanDiff.Compare(Plan(["groupOfNames"]), Plan(["inetOrgPerson", "person"]));

        var reasons = comparison.Changes.Single(c => c.Id == PlanningScenario.IdFor("x")).Reasons;
        reasons.Should().Contain("kind group -> person");
        reasons.Should().Contain("match not-applicable - -> none -");
        reasons.Should().Contain(r => r.StartsWith("disposition remove -> blocked: no-target-account: ", StringComparison.Ordinal));
    }
}
