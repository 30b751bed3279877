using AuthSplit.Core.Configuration;
using AuthSplit.Core.Model;
using AuthSplit.Core.Planning.Decisions;
using AuthSplit.Core.Planning.Format;

namespace AuthSplit.Core.Tests.Planning.Systems;

public sealed class GroupSwitchPlannerTests
{
    private static readonly string Sales = PlanningScenario.IdFor("g-sales");
    private static readonly string Vpn = PlanningScenario.IdFor("g-vpn");
    private static readonly string CloudTeam = PlanningScenario.IdFor("g-cloud");

    // akira (hq, wave order 1) and min (overseas, wave order 2) are removed; kenji stays (no target).
    private static PlanningScenario People() => new PlanningScenario()
        .Person("akira", employeeNumber: "E1")
        .Person("min", parent: "ou=kr,dc=example,dc=com", employeeNumber: "E2", country: "KR")
        .Target("t-akira", employeeId: "E1")
        .Target("t-min", employeeId: "E2");

    [Fact]
    public void A_person_in_two_synchronised_groups_has_both_listed_and_each_group_is_switched()
    {
        var plan = People()
            .Group(Sales, "Sales", synchronised: true, "t-akira")
            .Group(Vpn, "VPN users", synchronised: true, "t-akira", "t-someone-else")
            .Group(CloudTeam, "Cloud team", synchronised: false, "t-akira")
            .PlanAccepted();

        plan.Entity("akira").PasswordSync!.SynchronisedGroups.Should().Equal(new[] { Sales, Vpn }.Order(StringComparer.Ordinal), "a cloud-only group does not lose anyone at the delete");
        plan.GroupSwitches!.Select(g => g.GroupId).Should().BeEquivalentTo([Sales, Vpn]);
        var vpn = plan.GroupSwitches!.Single(g => g.GroupId == Vpn);
        vpn.DisplayName.Should().Be("VPN users");
        vpn.OnPremisesSecurityIdentifier.Should().StartWith("S-1-5-21-");
        vpn.MembersInPlan.Should().Be(1, "only the plan's people are counted");
        vpn.Disposition.Should().Be(Disposition.Remove);
        vpn.Steps.Select(s => s.Action).Should().Equal(StepAction.SwitchGroupSourceOfAuthority, StepAction.VerifyGroupCloudManaged);
        plan.Summary.Waves.Single(w => w.Name == "hq").GroupSwitches.Should().Be(2);
        plan.Summary.Waves.Single(w => w.Name == "overseas").GroupSwitches.Should().Be(0);
        plan.StepCatalog.Select(s => s.Action).Should().Contain(StepAction.SwitchGroupSourceOfAuthority).And.NotContain(StepAction.VerifyTargetApp, "no system is configured");
        plan.Systems.Should().BeNull();
    }

    [Fact]
    public void A_group_is_switched_in_the_earliest_wave_of_its_members()
    {
        var plan = People()
            .Group(Sales, "Sales", synchronised: true, "t-min", "t-akira")
            .Group(Vpn, "VPN users", synchronised: true, "t-min")
            .PlanAccepted();

        plan.Entity("min").Wave.Should().Be("overseas");
        plan.GroupSwitches!.Single(g => g.GroupId == Sales).Should().Match<PlannedGroupSwitch>(g => g.Wave == "hq" && g.MembersInPlan == 2);
        plan.GroupSwitches!.Single(g => g.GroupId == Vpn).Wave.Should().Be("overseas");
        plan.GroupSwitches!.Select(g => g.Wave).Should().Equal("hq", "overseas");
    }

    [Fact]
    public void A_synchronised_group_without_removed_members_is_not_switched()
    {
        var plan = People()
            .Decide("akira", DecisionKind.Keep)
            .Group(Sales, "Sales", synchronised: true, "t-akira")
            .PlanAccepted();

        plan.GroupSwitches.Should().BeNull("a kept person is not deleted and so loses nothing");
    }

    [Fact]
    public void An_accept_group_loss_decision_keeps_the_group_unswitched_with_who_and_why()
    {
        var plan = People()
            .Group(Sales, "Sales", synchronised: true, "t-akira")
            .Group(Vpn, "VPN users", synchronised: true, "t-akira")
            .Decide(new Decision(Sales, DecisionKind.AcceptGroupLoss, null, null, "group retired with the legacy CRM", "it-lead@example.com"))
            .Decide(new Decision(CloudTeam, DecisionKind.AcceptGroupLoss, null, null, "typo", "it-lead@example.com"))
            .PlanAccepted();

        var sales = plan.GroupSwitches!.Single(g => g.GroupId == Sales);
        sales.Disposition.Should().Be(Disposition.Kept);
        sales.Decision.Should().Be(new AppliedDecision("accept-group-loss", "group retired with the legacy CRM", "it-lead@example.com", []));
        sales.Steps.Should().BeEmpty();
        plan.Summary.Waves.Single(w => w.Name == "hq").GroupSwitches.Should().Be(1, "an accepted loss is not switched");
        plan.Decisions.Single(d => d.EntityId == Sales).Status.Should().Be(DecisionStatus.Applied);
        plan.Decisions.Single(d => d.EntityId == CloudTeam).Status.Should().Be(DecisionStatus.Unused);
        plan.Entity("akira").PasswordSync!.SynchronisedGroups.Should().Contain(Sales, "the person still drops out of it: the plan says so");
    }

    [Fact]
    public void Each_persons_sync_status_comes_from_the_target_users_onPremisesSyncEnabled()
    {
        var plan = new PlanningScenario()
            .Person("synced", employeeNumber: "E1")
            .Person("cloud", employeeNumber: "E2")
            .Person("stopped", employeeNumber: "E3")
            .Person("unread", employeeNumber: "E4")
            .Target(User("t1", "E1", ("onPremisesSyncEnabled", "true")))
            .Target(User("t2", "E2", ("onPremisesSyncEnabled", null)))
            .Target(User("t3", "E3", ("onPremisesSyncEnabled", "false")))
            .Target(User("t4", "E4"))
            .PlanAccepted();

        plan.Entity("synced").PasswordSync!.Status.Should().Be(TargetSyncStatus.Synchronised);
        plan.Entity("cloud").PasswordSync!.Status.Should().Be(TargetSyncStatus.CloudOnly);
        plan.Entity("stopped").PasswordSync!.Status.Should().Be(TargetSyncStatus.CloudOnly);
        plan.Entity("unread").PasswordSync!.Status.Should().Be(TargetSyncStatus.Unknown);
        plan.Entity("cloud").Actions().Should().Contain(StepAction.StopPasswordSync, "a cloud-only person keeps the step; the executor records it as already cloud-managed");
        plan.Entities.Select(e => e.PasswordSync!.Strategy).Should().AllBeEquivalentTo(PasswordSyncStrategy.SourceOfAuthority);
    }

    [Fact]
    public void The_command_strategy_is_recorded_per_person_even_when_nothing_else_is_known()
    {
        var scenario = new PlanningScenario()
            .Person("akira", employeeNumber: "E1")
            .Person("leaver")
            .Target("t1", employeeId: "E1");
        scenario.Options.PasswordSync = new PasswordSyncOptions { Strategy = PasswordSyncStrategy.Command, Command = { "/opt/sync/stop" }, ReadBackGraphProperty = "onPremisesSyncEnabled" };

        var plan = scenario.PlanAccepted();

        plan.Entity("akira").PasswordSync.Should().BeEquivalentTo(new PersonSyncPlan { Strategy = PasswordSyncStrategy.Command, Status = TargetSyncStatus.Unknown, SynchronisedGroups = [] });
        plan.Entity("leaver").PasswordSync.Should().BeNull("a blocked person has no password sync to stop yet");
    }

    [Fact]
    public void Without_anything_new_to_say_no_person_carries_a_sync_record()
    {
        var plan = People().InventoryRead().Group(CloudTeam, "Cloud team", synchronised: false, "t-akira").PlanAccepted();

        plan.Entities.Should().OnlyContain(e => e.PasswordSync == null);
        plan.GroupSwitches.Should().BeNull();
    }

    private static TargetUser User(string id, string employeeId, params (string Name, string? Value)[] extra)
    {
        var properties = new Dictionary<string, string?> { ["userPrincipalName"] = id + "@example.com", ["employeeId"] = employeeId, ["accountEnabled"] = "true" };
        foreach (var (name, value) in extra)
        {
            properties[name] = value;
        }

        return new TargetUser(id, properties);
    }
}
