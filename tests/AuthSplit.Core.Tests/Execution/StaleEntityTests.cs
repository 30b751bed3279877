using AuthSplit.Core.Execution;
using AuthSplit.Core.Planning.Format;

namespace AuthSplit.Core.Tests.Execution;

public sealed class StaleEntityTests
{
    private static ExecutionScenario Two() => new ExecutionScenario().Person("akira").Person("yuki");

    private static void ShouldBeStaleUntouched(ExecutionScenario scenario, WaveResult result, string name, string code)
    {
        result.Entities[EntityState.Stale].Should().Be(1);
        result.Entities[EntityState.Done].Should().Be(1, "one stale entity never stops the others");
        scenario.Entity(name).State.Should().Be(EntityState.Stale);
        scenario.Entity(name).Reason.Should().StartWith(code + ":");
        scenario.Tenant.Changes.Should().NotContain(c => c.UserId == ExecutionScenario.TargetIdOf(name), "a stale entity is stopped before anything is done to it");
        scenario.Directory.Writes.Should().NotContain(w => w.Dn.Contains(name, StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_entry_moved_after_planning_is_stale_with_where_it_is_now()
    {
        var scenario = Two();
        await scenario.ApproveAsync();
        scenario.Directory.Rename(ExecutionScenario.DnOf("akira"), ExecutionScenario.DnOf("akira", "ou=sales," + ExecutionScenario.Base));

        var result = await scenario.RunAsync();

        ShouldBeStaleUntouched(scenario, result, "akira", ReasonCodes.StaleMoved);
        scenario.Entity("akira").Reason.Should().Contain("ou=sales");
        scenario.Directory.Get(ExecutionScenario.DnOf("akira", "ou=sales," + ExecutionScenario.Base)).Should().NotBeNull();
    }

    [Fact]
    public async Task An_entry_changed_in_what_the_plan_relied_on_is_stale_with_the_live_values_journalled()
    {
        var scenario = Two();
        await scenario.ApproveAsync();
        scenario.Directory.Set(ExecutionScenario.DnOf("akira"), "employeeType", "partner");

        var result = await scenario.RunAsync();

        ShouldBeStaleUntouched(scenario, result, "akira", ReasonCodes.StaleChanged);
        scenario.Journal("akira").Single().Before.Should().Contain("\"employeetype\":[\"partner\"]");
    }

    [Fact]
    public async Task A_change_the_plan_did_not_rely_on_is_not_stale()
    {
        var scenario = Two();
        await scenario.ApproveAsync();
        scenario.Directory.Set(ExecutionScenario.DnOf("akira"), "telephoneNumber", "+81 3 0000");

        var result = await scenario.RunAsync();

        result.Entities[EntityState.Done].Should().Be(2);
    }

    [Fact]
    public async Task An_entry_that_vanished_is_stale()
    {
        var scenario = Two();
        await scenario.ApproveAsync();
        scenario.Directory.Remove(ExecutionScenario.DnOf("akira"));

        var result = await scenario.RunAsync();

        ShouldBeStaleUntouched(scenario, result, "akira", ReasonCodes.StaleVanished);
    }

    [Fact]
    public async Task Another_object_at_the_planned_DN_is_stale_as_replaced()
    {
        var scenario = Two();
        await scenario.ApproveAsync();
        scenario.Directory.Set(ExecutionScenario.DnOf("akira"), "entryUUID", Guid.NewGuid().ToString());

        var result = await scenario.RunAsync();

        ShouldBeStaleUntouched(scenario, result, "akira", ReasonCodes.StaleReplaced);
    }

    [Fact]
    public async Task A_target_account_that_no_longer_exists_is_stale()
    {
        var scenario = Two();
        await scenario.ApproveAsync();
        scenario.Tenant.RemoveUser("t-akira");

        var result = await scenario.RunAsync();

        ShouldBeStaleUntouched(scenario, result, "akira", ReasonCodes.StaleTargetVanished);
        scenario.Directory.Get(ExecutionScenario.DnOf("akira")).Should().NotBeNull();
    }

    [Fact]
    public async Task A_target_account_that_is_now_another_user_is_stale()
    {
        var scenario = Two();
        await scenario.ApproveAsync();
        scenario.Tenant.AddUser("t-akira", "someone.else@example.com");

        var result = await scenario.RunAsync();

        ShouldBeStaleUntouched(scenario, result, "akira", ReasonCodes.StaleTargetChanged);
        scenario.Entity("akira").LastStep.Should().Be(StepAction.VerifyTargetAccount);
    }

    [Fact]
    public async Task An_entry_changed_during_its_hold_is_stale_before_the_delete()
    {
        var scenario = Two();
        scenario.Planning.Options.Removal.HoldDays = 2;
        await scenario.ApproveAsync();
        (await scenario.RunAsync()).Kind.Should().Be(WaveResultKind.Holding);
        scenario.Directory.Set(ExecutionScenario.DnOf("akira"), "employeeNumber", "E-other");
        scenario.Clock.Advance(TimeSpan.FromDays(2));

        var result = await scenario.RunAsync();

        scenario.Entity("akira").State.Should().Be(EntityState.Stale);
        scenario.Directory.Get(ExecutionScenario.DnOf("akira")).Should().NotBeNull("a stale entity is never deleted");
        result.Entities[EntityState.Done].Should().Be(1);
    }

    [Fact]
    public async Task Resuming_after_its_own_disable_is_not_stale_even_when_the_plan_relied_on_the_disable_attribute()
    {
        var scenario = new ExecutionScenario().Person("akira");
        scenario.Planning.Options.Waves[0].Filter = "(&(objectClass=inetOrgPerson)(!(pwdAccountLockedTime=*)))";
        scenario.Plan.Settings.FingerprintAttributes.Should().Contain("pwdaccountlockedtime");
        await scenario.ApproveAsync();
        scenario.Directory.FailNext("delete", "akira", Testing.Execution.LegacyFaultKind.Unreachable);
        // One round per run (no Execution:RetryRounds): what is tested is the next run's resume.
        scenario.Settings = scenario.Settings with { RetryRounds = 0 };

        var first = await scenario.RunAsync();
        first.Kind.Should().Be(WaveResultKind.Interrupted);
        scenario.Directory.Get(ExecutionScenario.DnOf("akira"))!.GetString("pwdAccountLockedTime").Should().Be("000001010000Z");

        var resumed = await scenario.RunAsync();

        resumed.Kind.Should().Be(WaveResultKind.Completed);
        scenario.Entity("akira").State.Should().Be(EntityState.Done);
    }

    [Fact]
    public async Task Someone_elses_lock_on_an_attribute_the_plan_relied_on_is_stale()
    {
        var scenario = new ExecutionScenario().Person("akira");
        scenario.Planning.Options.Waves[0].Filter = "(&(objectClass=inetOrgPerson)(!(pwdAccountLockedTime=*)))";
        await scenario.ApproveAsync();
        scenario.Directory.Set(ExecutionScenario.DnOf("akira"), "pwdAccountLockedTime", "20261130000000Z");

        var result = await scenario.RunAsync();

        result.Entities[EntityState.Stale].Should().Be(1);
    }
}
