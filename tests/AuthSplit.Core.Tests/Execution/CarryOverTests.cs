using AuthSplit.Core.Execution;
using AuthSplit.Core.Planning.Format;
using AuthSplit.Testing.Execution;

namespace AuthSplit.Core.Tests.Execution;

/// <summary>
/// A new plan of a wave begun under another (re-planned after a decision, approved again): the steps the
/// earlier plan did are carried over on record, not run again, so backups stay those taken before the disables.
/// </summary>
public sealed class CarryOverTests
{
    [Fact]
    public async Task The_new_plan_deletes_with_the_backup_taken_before_the_disable_and_writes_nothing_twice()
    {
        var scenario = new ExecutionScenario().Person("akira").Person("yuki");
        scenario.Settings = scenario.Settings with { RetryRounds = 0 };
        scenario.Directory.FailNext("delete", "akira", LegacyFaultKind.Unreachable);
        (await scenario.ApproveAndRunAsync()).Kind.Should().Be(WaveResultKind.Interrupted);
        var firstPlan = scenario.Plan.PlanId!;
        var backup = await scenario.Store.GetBackupAsync(ExecutionScenario.IdFor("akira"), CancellationToken.None);
        backup!.PlanId.Should().Be(firstPlan);
        var writesBefore = scenario.Directory.Writes.Count;
        var switchesBefore = scenario.Tenant.Changes.Count;

        scenario.EditPlan(plan => plan with { Inputs = plan.Inputs with { ConfigSha256 = "sha256:" + new string('c', 64) }, Entities = [.. plan.Entities.Where(e => e.Dn != ExecutionScenario.DnOf("yuki"))] });
        var second = await scenario.ApproveAndRunAsync();

        second.Kind.Should().Be(WaveResultKind.Completed, second.Reason);
        var journal = scenario.Store.Steps.Where(s => s.PlanId == scenario.Plan.PlanId && s.EntityId == ExecutionScenario.IdFor("akira")).ToList();
        journal.Select(s => (s.Step, s.Outcome)).Should().Equal(
            (StepAction.VerifyTargetAccount, StepOutcome.AlreadyDone),
            (StepAction.StopPasswordSync, StepOutcome.AlreadyDone),
            (StepAction.VerifyCloudManaged, StepOutcome.AlreadyDone),
            (StepAction.BackupLegacyEntry, StepOutcome.AlreadyDone),
            (StepAction.DisableLegacyAccount, StepOutcome.AlreadyDone),
            (StepAction.DeleteLegacyEntry, StepOutcome.Started),
            (StepAction.DeleteLegacyEntry, StepOutcome.Done),
            (StepAction.VerifyLegacyAbsent, StepOutcome.Done));
        journal.Take(5).Should().OnlyContain(s => s.Reason!.StartsWith(ReasonCodes.CarriedOver + ": done under plan " + firstPlan, StringComparison.Ordinal));
        (await scenario.Store.GetBackupAsync(ExecutionScenario.IdFor("akira"), CancellationToken.None))!.PlanId.Should().Be(firstPlan, "no backup is taken again of the disabled entry");
        scenario.Directory.Writes.Skip(writesBefore).Should().ContainSingle().Which.Operation.Should().Be("delete", "only the delete is left to do");
        scenario.Tenant.Changes.Should().HaveCount(switchesBefore, "no source-of-authority switch is written again under the new plan");
    }

    [Fact]
    public async Task A_wave_run_under_one_plan_only_carries_nothing()
    {
        var scenario = new ExecutionScenario().Person("akira");

        (await scenario.ApproveAndRunAsync()).Kind.Should().Be(WaveResultKind.Completed);

        scenario.Store.Steps.Should().NotContain(s => s.Reason != null && s.Reason.StartsWith(ReasonCodes.CarriedOver, StringComparison.Ordinal));
    }
}
