using AuthSplit.Core.Planning.Decisions;
using AuthSplit.Core.Planning.Format;

namespace AuthSplit.Core.Tests.Planning;

public sealed class PlanDiffTests
{
    [Fact]
    public void Diff_names_added_removed_and_changed_entities_with_reasons()
    {
        var before = new PlanningScenario()
            .Person("akira", employeeNumber: "E1")
            .Person("leaver", mail: "gone@example.com")
            .Person("moved", employeeNumber: "E3")
            .Person("o", parent: "ou=overseas," + PlanningScenario.Base, country: "US")
            .Target("t1", employeeId: "E1")
            .Target("t3", employeeId: "E3")
            .PlanAccepted();
        var after = new PlanningScenario()
            .Person("akira", employeeNumber: "E1")
            .Person("leaver", mail: "gone@example.com")
            .Person("newcomer", employeeNumber: "E4")
            .Person("o", parent: "ou=overseas," + PlanningScenario.Base, country: "US")
            .Target("t1", employeeId: "E1")
            .Target("t4", employeeId: "E4")
            .Decide("leaver", DecisionKind.Remove)
            .PlanAccepted();

        var comparison = PlanDiff.Compare(before, after);

        comparison.InputChanges.Should().BeEmpty("the scenario hashes are fixed strings");
        comparison.Changes.Select(c => (c.Change, c.Dn)).Should().BeEquivalentTo(new[]
        {
            ("changed", "uid=leaver,ou=hq,dc=example,dc=com"),
            ("added", "uid=newcomer,ou=hq,dc=example,dc=com"),
            ("removed", "uid=moved,ou=hq,dc=example,dc=com"),
        });
        var leaver = comparison.Changes.Single(c => c.Change == "changed");
        leaver.Reasons.Should().Contain(r => r.StartsWith("disposition blocked -> remove: decision remove by tester@example.com", StringComparison.Ordinal));
        leaver.Reasons.Should().Contain("blocker no-target-account resolved");
    }

    [Fact]
    public void Diff_of_a_plan_with_itself_is_empty()
    {
        var plan = new PlanningScenario().Person("akira", employeeNumber: "E1").Person("o", parent: "ou=overseas," + PlanningScenario.Base, country: "US").Target("t1", employeeId: "E1").PlanAccepted();

        PlanDiff.Compare(plan, plan).HasChanges.Should().BeFalse();
    }
}
