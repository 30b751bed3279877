using AuthSplit.Core.Planning.Decisions;
using AuthSplit.Core.Planning.Format;

namespace AuthSplit.Core.Tests.Planning.Systems;

/// <summary>
/// A plan that has no systems and whose people are in no synchronised group is the plan made before
/// issue 11, byte for byte: the new fields are left out, not written empty.
/// </summary>
public sealed class PlanBeforeSystemsTests
{
    // The id this scenario's plan had at commit 22dcf53 (before the planner knew systems or groups),
    // measured by running Scenario() there. A change on purpose to the plan format changes it: say so
    // in the commit and measure it again.
    private const string PlanIdBeforeSystems = "sha256:4576a6638733b8e1d5d7a9c17db2e1f9930ea3a5f9ff7c925a844bff5f15288a";

    internal static PlanningScenario Scenario() => new PlanningScenario()
        .Person("akira", mail: "akira@example.com", employeeNumber: "E1")
        .Person("yuki", mail: "yuki@example.com")
        .Person("min", country: "KR", employeeNumber: "E3")
        .Person("leaver", mail: "gone@example.com")
        .Person("partner", employeeType: "partner", mail: "p@example.com")
        .Entry("cn=sales,ou=hq,dc=example,dc=com", new Dictionary<string, string[]> { ["objectClass"] = ["groupOfNames"], ["cn"] = ["sales"], ["member"] = ["uid=akira,ou=hq,dc=example,dc=com"], ["entryUUID"] = [PlanningScenario.IdFor("sales")] })
        .Entry("uid=svc-backup,ou=hq,dc=example,dc=com", new Dictionary<string, string[]> { ["objectClass"] = ["account", "simpleSecurityObject"], ["uid"] = ["svc-backup"], ["entryUUID"] = [PlanningScenario.IdFor("svc-backup")] })
        .Target("t1", mail: "akira@example.com", employeeId: "E1")
        .Target("t2", mail: "YUKI@example.com")
        .Target("t3", employeeId: "E3")
        .Decide("leaver", DecisionKind.Remove);

    [Fact]
    public void A_plan_without_systems_or_synchronised_groups_has_the_id_it_had_before_them()
    {
        Scenario().PlanAccepted().PlanId.Should().Be(PlanIdBeforeSystems);
    }

    [Fact]
    public void Reading_an_inventory_without_synchronised_groups_changes_nothing_in_the_plan()
    {
        var without = Scenario().PlanAccepted();
        var with = Scenario().Group(PlanningScenario.IdFor("g-cloud"), "Cloud only", synchronised: false, "t1", "t2").PlanAccepted();

        PlanSerializer.Serialize(with).Should().Equal(PlanSerializer.Serialize(without));
        System.Text.Encoding.UTF8.GetString(PlanSerializer.Serialize(with)).Should().NotContain("systems").And.NotContain("groupSwitches").And.NotContain("passwordSync").And.NotContain("switch-group");
    }
}
