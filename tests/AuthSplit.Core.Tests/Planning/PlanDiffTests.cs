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

    [Fact]
    public void Diff_names_systems_and_synchronised_groups_added_removed_and_changed()
    {
        var crmPrincipal = PlanningScenario.IdFor("sp-crm");
        var erpPrincipal = PlanningScenario.IdFor("sp-erp");
        var sales = PlanningScenario.IdFor("g-sales");
        PlanningScenario Base() => new PlanningScenario()
            .Person("akira", employeeNumber: "E1").Target("t1", employeeId: "E1")
            .ServiceAccount("svc-crm").ServiceAccount("svc-erp")
            .ServicePrincipal(crmPrincipal).ServicePrincipal(erpPrincipal);
        var before = Base()
            .System("crm", "hq", crmPrincipal, "uid=svc-crm,ou=services," + PlanningScenario.Base)
            .System("erp", "hq", erpPrincipal, "uid=svc-erp,ou=services," + PlanningScenario.Base)
            .PlanAccepted();
        var after = Base()
            .System("crm", "hq", crmPrincipal, "uid=svc-gone,ou=services," + PlanningScenario.Base)
            .System("hr", "hq", erpPrincipal)
            .Group(sales, "Sales", synchronised: true, "t1")
            .PlanAccepted();

        var comparison = PlanDiff.Compare(before, after);

        comparison.HasChanges.Should().BeTrue();
        comparison.SystemChanges.Select(c => (c.Id, c.Change)).Should().Equal(("crm", "changed"), ("hr", "added"), ("erp", "removed"));
        comparison.SystemChanges[0].Reasons.Should().Contain(r => r.StartsWith("disposition remove -> blocked: legacy-account-missing", StringComparison.Ordinal))
            .And.Contain(r => r.StartsWith("legacy accounts [", StringComparison.Ordinal))
            .And.Contain("new blocker legacy-account-missing");
        comparison.GroupSwitchChanges.Should().ContainSingle().Which.Should().Match<SystemChange>(c => c.Id == sales && c.Change == "added");
        comparison.InputChanges.Should().BeEmpty("the scenario's inputs are fixed strings");
        PlanDiff.Compare(after, after).HasChanges.Should().BeFalse();
    }

    [Fact]
    public void Diff_names_a_changed_cutover_by_what_it_runs()
    {
        var principal = PlanningScenario.IdFor("sp-crm");
        PlanDocument Plan(Core.Configuration.CutoverOptions cutover)
        {
            var scenario = new PlanningScenario()
                .Person("akira", employeeNumber: "E1").Target("t1", employeeId: "E1")
                .ServiceAccount("svc-crm").ServicePrincipal(principal)
                .System("crm", "hq", principal, "uid=svc-crm,ou=services," + PlanningScenario.Base);
            scenario.Options.Systems[0].Cutover = cutover;
            return scenario.PlanAccepted();
        }

        var comparison = PlanDiff.Compare(
            Plan(new() { Command = ["/opt/crm/switch", "--to", "entra"] }),
            Plan(new() { Http = new() { Url = "https://crm.example.com/idp" } }));

        comparison.SystemChanges.Should().ContainSingle().Which.Reasons.Should().Equal("cutover /opt/crm/switch --to entra -> POST https://crm.example.com/idp");
    }
}
