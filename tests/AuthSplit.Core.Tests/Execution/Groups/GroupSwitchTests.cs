using AuthSplit.Core.Configuration;
using AuthSplit.Core.Execution;
using AuthSplit.Core.Planning;
using AuthSplit.Core.Planning.Format;

namespace AuthSplit.Core.Tests.Execution.Groups;

public sealed class GroupSwitchTests
{
    private const string Sales = "8b000000-0000-4000-8000-00000000a1e5";
    private const string Vpn = "8b000000-0000-4000-8000-000000000f11";

    // akira is in both synchronised groups, min in none; the plan switches both in hq.
    private static ExecutionScenario Scenario(Disposition vpn = Disposition.Remove)
    {
        var scenario = new ExecutionScenario().Person("akira").Person("min");
        scenario.Tenant.AddGroup(Sales);
        scenario.Tenant.AddGroup(Vpn);
        PlannedGroupSwitch Switch(string id, string name, Disposition disposition) => new()
        {
            GroupId = id,
            DisplayName = name,
            Wave = "hq",
            MembersInPlan = 1,
            Disposition = disposition,
            Decision = disposition == Disposition.Kept ? new AppliedDecision("accept-group-loss", "the VPN group is rebuilt in the cloud next week", "carol", []) : null,
            Steps = disposition == Disposition.Remove ? [new PlannedStep(StepAction.SwitchGroupSourceOfAuthority, DryRunCheck.Checked), new PlannedStep(StepAction.VerifyGroupCloudManaged, DryRunCheck.Unchecked)] : [],
        };
        return scenario.EditPlan(plan => plan with
        {
            GroupSwitches = [Switch(Sales, "sales", Disposition.Remove), Switch(Vpn, "vpn", vpn)],
            Entities = [.. plan.Entities.Select(e => e.Id == ExecutionScenario.IdFor("akira")
                ? e with { PasswordSync = new PersonSyncPlan { Strategy = PasswordSyncStrategy.SourceOfAuthority, Status = TargetSyncStatus.Synchronised, SynchronisedGroups = [Sales, Vpn] } }
                : e)],
            StepCatalog = StepCatalog.Describe(plan.Settings.Removal, groups: true),
        });
    }

    [Fact]
    public async Task The_waves_synchronised_groups_are_switched_and_verified_before_their_members_are_deleted()
    {
        var scenario = Scenario();

        var result = await scenario.ApproveAndRunAsync();

        result.Kind.Should().Be(WaveResultKind.Completed, result.Reason);
        scenario.Tenant.IsGroupCloudManaged(Sales).Should().BeTrue();
        scenario.Tenant.IsGroupCloudManaged(Vpn).Should().BeTrue();
        scenario.Tenant.GroupChanges.Should().HaveCount(2, "each group switched once");
        var lastSwitch = scenario.Store.Steps.Where(s => s.EntityId.StartsWith("group-switch:", StringComparison.Ordinal)).Max(s => s.At);
        scenario.Store.Steps.Single(s => s.EntityId == ExecutionScenario.IdFor("akira") && s.Step == StepAction.DeleteLegacyEntry && s.Outcome == StepOutcome.Done).At.Should().BeOnOrAfter(lastSwitch);
        (await scenario.Store.GetEntityAsync(scenario.Plan.PlanId!, "group-switch:" + Sales, CancellationToken.None))!.State.Should().Be(EntityState.Done);
    }

    [Fact]
    public async Task A_refused_group_switch_holds_only_its_members_deletes_and_says_why()
    {
        var scenario = Scenario();
        scenario.Tenant.RejectGroup(Vpn);

        var result = await scenario.ApproveAndRunAsync();

        result.Kind.Should().Be(WaveResultKind.Interrupted);
        result.Reason.Should().Contain("vpn");
        var vpn = (await scenario.Store.GetEntityAsync(scenario.Plan.PlanId!, "group-switch:" + Vpn, CancellationToken.None))!;
        vpn.State.Should().Be(EntityState.Failed);
        vpn.Reason.Should().StartWith(ReasonCodes.GroupSwitchRefused).And.Contain("accept-group-loss");
        var akira = scenario.Entity("akira");
        akira.State.Should().Be(EntityState.InProgress);
        akira.Reason.Should().StartWith(ReasonCodes.DeleteHeld).And.Contain("vpn").And.NotContain("sales (");
        scenario.Directory.Get(ExecutionScenario.DnOf("akira")).Should().NotBeNull();
        scenario.Entity("min").State.Should().Be(EntityState.Done, "min is in no synchronised group");
        scenario.Directory.Get(ExecutionScenario.DnOf("min")).Should().BeNull();
    }

    [Fact]
    public async Task A_group_whose_loss_a_decision_accepts_is_not_switched_and_does_not_hold_the_delete()
    {
        var scenario = Scenario(vpn: Disposition.Kept);

        var result = await scenario.ApproveAndRunAsync();

        result.Kind.Should().Be(WaveResultKind.Completed, result.Reason);
        scenario.Tenant.IsGroupCloudManaged(Vpn).Should().BeFalse();
        (await scenario.Store.GetEntityAsync(scenario.Plan.PlanId!, "group-switch:" + Vpn, CancellationToken.None))!.Reason.Should().Contain("rebuilt in the cloud next week");
        scenario.Directory.Get(ExecutionScenario.DnOf("akira")).Should().BeNull();
    }
}
