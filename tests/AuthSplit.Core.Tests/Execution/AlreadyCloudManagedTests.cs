using AuthSplit.Core.Execution;
using AuthSplit.Core.Model;
using AuthSplit.Core.Planning.Format;
using AuthSplit.Testing.Execution;

namespace AuthSplit.Core.Tests.Execution;

/// <summary>
/// A switch found already made writes nothing, and its already-done record says why: a person whose target
/// account is cloud-only ("already cloud-managed", as the plan foretold), one switched outside AuthSplit, and a
/// group already moved.
/// </summary>
public sealed class AlreadyCloudManagedTests
{
    [Fact]
    public async Task A_cloud_only_person_gets_no_switch_and_the_journal_records_already_cloud_managed()
    {
        var scenario = new ExecutionScenario().Person("akira", target: false).Person("yuki");
        scenario.Planning.Target(new TargetUser(ExecutionScenario.TargetIdOf("akira"), new Dictionary<string, string?>
        {
            ["userPrincipalName"] = "akira@example.com",
            ["employeeId"] = "E-akira",
            ["accountEnabled"] = "true",
            ["onPremisesSyncEnabled"] = null,
        }));
        scenario.Tenant.AddUser(ExecutionScenario.TargetIdOf("akira"), "akira@example.com", cloudManaged: true);
        scenario.Plan.Entities.Single(e => e.Id == ExecutionScenario.IdFor("akira")).PasswordSync!.Status.Should().Be(TargetSyncStatus.CloudOnly);

        var result = await scenario.ApproveAndRunAsync();

        result.Kind.Should().Be(WaveResultKind.Completed);
        scenario.Tenant.Changes.Should().Equal(new SoaChange(ExecutionScenario.TargetIdOf("yuki"), true));
        var stop = scenario.Journal("akira").Single(s => s.Step == StepAction.StopPasswordSync);
        stop.Outcome.Should().Be(StepOutcome.AlreadyDone);
        stop.Reason.Should().StartWith(ReasonCodes.AlreadyCloudManaged + ":").And.Contain("t-akira is cloud-only").And.Contain("nothing was written");
        stop.Before.Should().Contain("\"isCloudManaged\":true");
        scenario.Journal("yuki").Single(s => s.Step == StepAction.StopPasswordSync).Should().Match<StepRecord>(s => s.Outcome == StepOutcome.Done && s.Reason == null);
        scenario.Entity("akira").State.Should().Be(EntityState.Done);
        scenario.Entity("akira").Reason.Should().BeNull("a done entity has no reason to show");
    }

    [Fact]
    public async Task A_person_switched_outside_AuthSplit_is_recorded_as_already_cloud_managed_without_calling_it_cloud_only()
    {
        var scenario = new ExecutionScenario().Person("akira");
        scenario.Tenant.AddUser(ExecutionScenario.TargetIdOf("akira"), "akira@example.com", cloudManaged: true);

        var result = await scenario.ApproveAndRunAsync();

        result.Kind.Should().Be(WaveResultKind.Completed);
        scenario.Tenant.Changes.Should().BeEmpty();
        var stop = scenario.Journal("akira").Single(s => s.Step == StepAction.StopPasswordSync);
        stop.Outcome.Should().Be(StepOutcome.AlreadyDone);
        stop.Reason.Should().StartWith(ReasonCodes.AlreadyCloudManaged + ": target user t-akira already reads isCloudManaged=true").And.NotContain("cloud-only");
    }

    [Fact]
    public async Task A_synchronised_group_already_cloud_managed_is_not_switched_again_and_says_so()
    {
        var scenario = new ExecutionScenario().Person("akira");
        scenario.Planning.Group("g-sales", "Sales", synchronised: true, ExecutionScenario.TargetIdOf("akira")).InventoryRead();
        scenario.Tenant.AddGroup("g-sales", cloudManaged: true);

        var result = await scenario.ApproveAndRunAsync();

        result.Kind.Should().Be(WaveResultKind.Completed);
        scenario.Tenant.GroupChanges.Should().BeEmpty();
        var journal = scenario.Store.Steps.Where(s => s.EntityId == "group-switch:g-sales").ToList();
        journal.Select(s => (s.Step, s.Outcome)).Should().Equal(
            (StepAction.SwitchGroupSourceOfAuthority, StepOutcome.AlreadyDone),
            (StepAction.VerifyGroupCloudManaged, StepOutcome.Done));
        journal[0].Reason.Should().Be(ReasonCodes.AlreadyCloudManaged + ": group Sales (g-sales) already reads isCloudManaged=true; nothing was written");
        scenario.EntityById("group-switch:g-sales").Reason.Should().BeNull();
    }
}

/// <summary>
/// A person whose delete a refused group switch held, released by a new plan (the accept-group-loss decision):
/// the new plan carries the first plan's backup (taken before the disable) over, and the restore takes it.
/// </summary>
public sealed class ReplannedHeldDeleteTests
{
    [Fact]
    public async Task The_backup_of_a_new_plan_keeps_the_entry_as_it_was_before_the_first_plan_disabled_it()
    {
        var scenario = new ExecutionScenario().Person("akira").Person("yuki");
        scenario.Planning.Group("g-vpn", "VPN users", synchronised: true, ExecutionScenario.TargetIdOf("akira")).InventoryRead();
        scenario.Tenant.AddGroup("g-vpn");
        scenario.Tenant.RejectGroup("g-vpn");
        var first = await scenario.ApproveAndRunAsync();
        first.Kind.Should().Be(WaveResultKind.Interrupted);
        var firstPlan = scenario.Plan.PlanId;
        scenario.Directory.Get(ExecutionScenario.DnOf("akira"))!.GetString("pwdAccountLockedTime").Should().Be("000001010000Z", "disabled, its delete held");

        scenario.EditPlan(p => p with
        {
            GroupSwitches = [p.GroupSwitches!.Single() with { Disposition = Disposition.Kept, Steps = [], Decision = new AppliedDecision("accept-group-loss", "retired", "dana", []) }],
        });
        var second = await scenario.ApproveAndRunAsync();

        second.Kind.Should().Be(WaveResultKind.Completed, second.Reason);
        scenario.Directory.Get(ExecutionScenario.DnOf("akira")).Should().BeNull();
        var backup = (await scenario.Store.GetBackupAsync(ExecutionScenario.IdFor("akira"), CancellationToken.None))!;
        backup.PlanId.Should().Be(firstPlan, "the new plan carries the first plan's backup over instead of taking another of the disabled entry");
        backup.Entry.GetString("pwdAccountLockedTime").Should().BeNull("a restore brings the account back as it was before AuthSplit disabled it");
        backup.Entry.GetString("userPassword").Should().Be("{SSHA}secret-akira");
        scenario.Store.Steps.Last(s => s.EntityId == ExecutionScenario.IdFor("akira") && s.Step == StepAction.BackupLegacyEntry)
            .Reason.Should().StartWith($"{ReasonCodes.CarriedOver}: done under plan {firstPlan}");
    }
}
