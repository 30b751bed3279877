using AuthSplit.Core.Configuration;
using AuthSplit.Core.Execution;
using AuthSplit.Core.Planning.Format;
using AuthSplit.Testing.Execution;

namespace AuthSplit.Core.Tests.Execution;

public sealed class FailureTests
{
    private static ExecutionScenario Two() => new ExecutionScenario().Person("akira").Person("yuki");

    [Fact]
    public async Task A_permanent_refusal_by_Graph_fails_only_that_entity_and_a_rerun_retries_it()
    {
        var scenario = Two();
        scenario.Tenant.Reject("t-akira");

        var result = await scenario.ApproveAndRunAsync();

        result.Kind.Should().Be(WaveResultKind.CompletedWithFailures);
        scenario.Entity("akira").State.Should().Be(EntityState.Failed);
        scenario.Entity("akira").Reason.Should().StartWith(ReasonCodes.Rejected + ":").And.Contain("403");
        scenario.Entity("yuki").State.Should().Be(EntityState.Done);
        scenario.Directory.Get(ExecutionScenario.DnOf("akira")).Should().NotBeNull();
        scenario.Directory.Writes.Should().NotContain(w => w.Dn.Contains("akira", StringComparison.Ordinal));

        scenario.Tenant.Accept("t-akira");
        var retried = await scenario.RunAsync();

        retried.Kind.Should().Be(WaveResultKind.Completed);
        scenario.Journal("akira").Where(s => s.Step == StepAction.StopPasswordSync).Select(s => (s.Attempt, s.Outcome)).Should().Equal((1, StepOutcome.Failed), (2, StepOutcome.Done));
        scenario.Entity("akira").Attempts.Should().Be(8, "verify-target-account twice, stop-password-sync twice, then one attempt at each of the four steps after it");
    }

    [Fact]
    public async Task Throttling_that_outlasts_the_connectors_retries_leaves_the_entity_unfinished_and_the_next_run_finishes_it()
    {
        var scenario = Two();
        scenario.Tenant.ThrottleNext(1);
        // One round per run (no Execution:RetryRounds): what is tested is the next run's resume.
        scenario.Settings = scenario.Settings with { RetryRounds = 0 };

        var result = await scenario.ApproveAndRunAsync();

        result.Kind.Should().Be(WaveResultKind.Interrupted);
        result.Reason.Should().Contain("transient");
        scenario.Entity("akira").State.Should().Be(EntityState.InProgress);
        scenario.Entity("akira").Reason.Should().StartWith(ReasonCodes.Transient + ":");
        scenario.Entity("yuki").State.Should().Be(EntityState.Done, "a transient failure of one entity does not stop the others");

        var resumed = await scenario.RunAsync();

        resumed.Kind.Should().Be(WaveResultKind.Completed);
        scenario.Tenant.Changes.Should().HaveCount(2);
    }

    [Fact]
    public async Task Graph_replication_is_waited_out_by_the_verification_with_one_switch_per_person()
    {
        var scenario = Two();
        scenario.Tenant.ReplicationDelayReads = 2;

        var result = await scenario.ApproveAndRunAsync();

        result.Kind.Should().Be(WaveResultKind.Completed);
        scenario.Tenant.Changes.Should().HaveCount(2);
        scenario.Journal("akira").Single(s => s.Step == StepAction.StopPasswordSync).After.Should().Contain("not yet read back");
    }

    [Fact]
    public async Task A_verification_that_outlasts_its_reads_is_resumed_from_the_switch_without_switching_twice()
    {
        var scenario = Two();
        scenario.Tenant.ReplicationDelayReads = 6;
        // One round per run (no Execution:RetryRounds): what is tested is the next run's resume.
        scenario.Settings = scenario.Settings with { RetryRounds = 0 };

        var first = await scenario.ApproveAndRunAsync();

        first.Kind.Should().Be(WaveResultKind.Interrupted);
        scenario.Entity("akira").Reason.Should().StartWith(ReasonCodes.NotCloudManaged + ":");
        scenario.Directory.Writes.Should().BeEmpty("nothing legacy is touched before the switch is verified");

        var resumed = await scenario.RunAsync();

        resumed.Kind.Should().Be(WaveResultKind.Completed);
        scenario.Tenant.Changes.Should().HaveCount(2, "each person's source of authority changed once");
    }

    [Fact]
    public async Task A_directory_that_goes_away_stops_the_wave_resumably_and_the_rerun_completes_it()
    {
        var scenario = new ExecutionScenario().Person("akira").Person("yuki").Person("ken");
        scenario.Store.AfterStepRecorded = count =>
        {
            if (count == 10)
            {
                scenario.Directory.Unreachable = true;
            }
        };

        var stopped = await scenario.ApproveAndRunAsync();

        stopped.Kind.Should().Be(WaveResultKind.Interrupted);
        stopped.Reason.Should().StartWith("unreachable:").And.Contain("fake-directory");
        scenario.Store.WaveSaves[^1].Status.Should().Be(WaveStatus.Interrupted);
        stopped.Entities.GetValueOrDefault(EntityState.Failed).Should().Be(0, "an unreachable system fails no entity");
        scenario.Store.AfterStepRecorded = null;
        scenario.Directory.Unreachable = false;

        var resumed = await scenario.RunAsync();

        resumed.Kind.Should().Be(WaveResultKind.Completed);
        scenario.Directory.Entries.Should().BeEmpty();
        scenario.Directory.Writes.GroupBy(w => w).Should().OnlyContain(g => g.Count() == 1, "no write is applied twice");
    }

    [Fact]
    public async Task A_delete_whose_answer_was_lost_is_recognised_as_its_own_on_resume_not_as_vanished()
    {
        var scenario = Two();
        scenario.Directory.FailNext("delete", "akira", LegacyFaultKind.ApplyThenUnreachable);
        // One round per run (no Execution:RetryRounds): what is tested is the next run's resume.
        scenario.Settings = scenario.Settings with { RetryRounds = 0 };

        var first = await scenario.ApproveAndRunAsync();
        first.Kind.Should().Be(WaveResultKind.Interrupted);
        scenario.Directory.Get(ExecutionScenario.DnOf("akira")).Should().BeNull();

        var resumed = await scenario.RunAsync();

        resumed.Kind.Should().Be(WaveResultKind.Completed);
        scenario.Entity("akira").State.Should().Be(EntityState.Done);
        scenario.Journal("akira").Where(s => s.Step == StepAction.DeleteLegacyEntry).Select(s => s.Outcome).Should().Equal(StepOutcome.Started, StepOutcome.AlreadyDone);
        scenario.Directory.Writes.Count(w => w.Operation == "delete" && w.Dn.Contains("akira", StringComparison.Ordinal)).Should().Be(1);
    }

    [Fact]
    public async Task A_delete_the_server_rejects_fails_the_entity_and_leaves_it_disabled()
    {
        var scenario = Two();
        scenario.Directory.FailNext("delete", "akira", LegacyFaultKind.Rejected);

        var result = await scenario.ApproveAndRunAsync();

        result.Kind.Should().Be(WaveResultKind.CompletedWithFailures);
        scenario.Entity("akira").Reason.Should().Contain("insufficientAccessRights");
        scenario.Directory.Get(ExecutionScenario.DnOf("akira"))!.GetString("pwdAccountLockedTime").Should().Be("000001010000Z");
    }

    [Fact]
    public async Task The_last_member_of_a_groupOfNames_fails_the_entity_before_any_membership_or_delete_is_written()
    {
        var scenario = new ExecutionScenario().Person("akira").Person("ken", target: false).Group("solo", "akira").Group("team", "akira", "ken");
        scenario.Planning.Options.Waves[0].Filter = "(objectClass=inetOrgPerson)";

        var result = await scenario.ApproveAndRunAsync();

        scenario.Entity("akira").State.Should().Be(EntityState.Failed);
        scenario.Entity("akira").Reason.Should().StartWith(ReasonCodes.LastMember + ":").And.Contain("cn=solo");
        scenario.Directory.Get("cn=solo," + ExecutionScenario.Hq)!.GetStrings("member").Should().Equal(ExecutionScenario.DnOf("akira"));
        scenario.Directory.Get("cn=team," + ExecutionScenario.Hq)!.GetStrings("member").Should().Equal([ExecutionScenario.DnOf("akira"), ExecutionScenario.DnOf("ken")], "no group is half cleaned");
        scenario.Directory.Get(ExecutionScenario.DnOf("akira")).Should().NotBeNull();
        scenario.Journal("akira").Should().NotContain(s => s.Outcome == StepOutcome.Started);
        result.Kind.Should().Be(WaveResultKind.CompletedWithFailures);
    }

    [Fact]
    public async Task A_ppolicy_lock_on_a_server_without_the_overlay_fails_with_a_hint()
    {
        var scenario = Two();
        scenario.Directory.PasswordPolicyLoaded = false;

        await scenario.ApproveAndRunAsync();

        scenario.Entity("akira").State.Should().Be(EntityState.Failed);
        scenario.Entity("akira").Reason.Should().Contain("ppolicy");
    }

    [Fact]
    public async Task The_unusable_password_disable_never_journals_a_password()
    {
        var scenario = Two();
        scenario.Settings = scenario.Settings with { OpenLdapDisable = OpenLdapDisableMethod.UnusablePassword };
        scenario.Planning.Options.Removal.HoldDays = 1;

        await scenario.ApproveAndRunAsync();

        var password = scenario.Directory.Get(ExecutionScenario.DnOf("akira"))!.GetString("userPassword");
        password.Should().StartWith("{CRYPT}!");
        scenario.Store.Steps.Should().NotContain(s => (s.Before + s.After + s.Reason).Contains("secret", StringComparison.Ordinal) || (s.Before + s.After).Contains(password!, StringComparison.Ordinal));
        scenario.Store.Backups.Single(b => b.EntityId == ExecutionScenario.IdFor("akira")).Entry.GetString("userPassword").Should().Be("{SSHA}secret-akira", "the original is in the backup");
    }

    [Fact]
    public async Task Two_members_leaving_a_group_at_once_never_empty_it_and_the_last_one_fails_as_last_member()
    {
        for (var round = 0; round < 20; round++)
        {
            var scenario = new ExecutionScenario().Person("akira").Person("yuki").GroupUnder("ou=groups," + ExecutionScenario.Base, "pair", "akira", "yuki");
            scenario.Settings = scenario.Settings with { Concurrency = 2 };

            await scenario.ApproveAndRunAsync();

            var pair = scenario.Directory.Get("cn=pair,ou=groups," + ExecutionScenario.Base)!;
            pair.GetValues("member").Should().HaveCount(1);
            var failed = new[] { "akira", "yuki" }.Where(n => scenario.Entity(n).State == EntityState.Failed).ToArray();
            failed.Should().ContainSingle();
            scenario.Entity(failed[0]).Reason.Should().StartWith(ReasonCodes.LastMember + ":");
        }
    }

    [Fact]
    public async Task A_tenant_that_cannot_be_reached_stops_the_wave_before_any_legacy_write()
    {
        var scenario = Two();
        scenario.Tenant.Unreachable = true;

        var result = await scenario.ApproveAndRunAsync();

        result.Kind.Should().Be(WaveResultKind.Interrupted);
        result.Reason.Should().Contain("fake-tenant");
        scenario.Directory.Writes.Should().BeEmpty();
        scenario.Store.Steps.Should().BeEmpty("no step finished, so none is journalled");
        scenario.Tenant.Unreachable = false;

        (await scenario.RunAsync()).Kind.Should().Be(WaveResultKind.Completed);
    }
}
