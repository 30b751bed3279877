using AuthSplit.Core.Execution;
using AuthSplit.Core.Planning.Format;
using AuthSplit.Testing.Execution;

namespace AuthSplit.Core.Tests.Execution;

public sealed class WaveExecutionTests
{
    private static ExecutionScenario Organisation() => new ExecutionScenario()
        .Person("akira")
        .Person("yuki")
        .Person("ken", target: false)          // blocked: no target account
        .Person("partner", employeeType: "partner") // protected by Safety:ProtectedFilter
        .Person("min", parent: "ou=sales," + ExecutionScenario.Base) // outside every wave
        .Group("team", "akira", "yuki", "ken")
        .Group("solo", "yuki", "ken")
        .ServiceAccount("backup-svc");

    [Fact]
    public async Task A_whole_wave_removes_exactly_the_planned_entries_with_one_authority_switch_per_person_and_a_backup_for_every_delete()
    {
        var scenario = Organisation();
        var before = scenario.Directory.Entries.Select(e => e.Dn).ToHashSet();

        var result = await scenario.ApproveAndRunAsync();

        result.Kind.Should().Be(WaveResultKind.Completed);
        var planned = scenario.Plan.Entities.Where(e => e.Wave == "hq" && e.Disposition == Disposition.Remove).ToArray();
        planned.Select(e => e.Dn).Should().BeEquivalentTo(
            [ExecutionScenario.DnOf("akira"), ExecutionScenario.DnOf("yuki"), ExecutionScenario.DnOf("backup-svc"), "cn=team," + ExecutionScenario.Hq, "cn=solo," + ExecutionScenario.Hq]);
        var after = scenario.Directory.Entries.Select(e => e.Dn).ToHashSet();
        after.Should().BeEquivalentTo(before.Except(planned.Select(e => e.Dn)), "exactly the planned removals are gone");
        scenario.Tenant.Changes.Should().BeEquivalentTo([new SoaChange("t-akira", true), new SoaChange("t-yuki", true)]);
        scenario.Store.Backups.Select(b => b.EntityId).Should().BeEquivalentTo(planned.Select(e => e.Id));
        var deletes = scenario.Directory.Writes.Where(w => w.Operation == "delete").Select(w => w.Dn).ToArray();
        deletes.Should().BeEquivalentTo(planned.Select(e => e.Dn));
        result.Entities[EntityState.Done].Should().Be(5);
        result.Entities[EntityState.Excluded].Should().Be(2, "ken (blocked) and partner (protected) are in the wave but not removed");
        scenario.Entity("ken").Reason.Should().StartWith(ReasonCodes.ExcludedBlocked);
        scenario.Entity("partner").Reason.Should().StartWith(ReasonCodes.ExcludedProtected);
    }

    [Fact]
    public async Task A_legacy_entry_is_deleted_only_after_its_backup_and_the_verified_cloud_switch()
    {
        var scenario = Organisation();

        await scenario.ApproveAndRunAsync();

        scenario.Journal("akira").Select(s => (s.Step, s.Outcome)).Should().Equal(
            (StepAction.VerifyTargetAccount, StepOutcome.Done),
            (StepAction.StopPasswordSync, StepOutcome.Done),
            (StepAction.VerifyCloudManaged, StepOutcome.Done),
            (StepAction.BackupLegacyEntry, StepOutcome.Done),
            (StepAction.DisableLegacyAccount, StepOutcome.Done),
            (StepAction.DeleteLegacyEntry, StepOutcome.Started),
            (StepAction.DeleteLegacyEntry, StepOutcome.Done),
            (StepAction.VerifyLegacyAbsent, StepOutcome.Done));
        scenario.Journal("akira").Should().OnlyContain(s => s.Attempt == 1 && s.Actor.Operator == "bob" && s.Actor.Node == "test-node");
        var disable = scenario.Journal("akira").Single(s => s.Step == StepAction.DisableLegacyAccount);
        disable.Before.Should().Contain("\"pwdAccountLockedTime\":null");
        disable.After.Should().Contain("000001010000Z");
        scenario.Journal("akira").Single(s => s.Step == StepAction.BackupLegacyEntry).After.Should().Contain("sha256:").And.Contain("cn=team");
    }

    [Fact]
    public async Task Group_memberships_are_cleaned_before_a_delete_on_OpenLDAP_and_recorded()
    {
        var scenario = new ExecutionScenario().Person("akira").Person("yuki", target: false).Group("team", "akira", "yuki");
        scenario.Planning.Options.Waves[0].Filter = "(objectClass=inetOrgPerson)";

        await scenario.ApproveAndRunAsync();

        var team = scenario.Directory.Get("cn=team," + ExecutionScenario.Hq)!;
        team.GetStrings("member").Should().Equal(ExecutionScenario.DnOf("yuki"));
        scenario.Journal("akira").Single(s => s.Step == StepAction.DeleteLegacyEntry && s.Outcome == StepOutcome.Done).After.Should().Contain("\"groupsCleaned\":[\"cn=team,ou=hq,dc=example,dc=com\"]");
    }

    [Fact]
    public async Task A_finished_wave_run_again_writes_nothing_and_says_so()
    {
        var scenario = Organisation();
        await scenario.ApproveAndRunAsync();
        var writes = scenario.Directory.Writes.Count;
        var commits = scenario.Store.Commits;
        var requests = scenario.Tenant.WriteRequests;

        var again = await scenario.RunAsync();

        again.NothingToDo.Should().BeTrue();
        again.Kind.Should().Be(WaveResultKind.Completed);
        scenario.Directory.Writes.Should().HaveCount(writes);
        scenario.Store.Commits.Should().Be(commits, "not even a wave record is written");
        scenario.Tenant.WriteRequests.Should().Be(requests);
    }

    [Fact]
    public async Task Service_accounts_and_groups_follow_their_shorter_step_lists()
    {
        var scenario = Organisation();

        await scenario.ApproveAndRunAsync();

        scenario.Journal("backup-svc").Where(s => s.Outcome != StepOutcome.Started).Select(s => s.Step).Should().Equal(
            StepAction.BackupLegacyEntry, StepAction.DisableLegacyAccount, StepAction.DeleteLegacyEntry, StepAction.VerifyLegacyAbsent);
        scenario.Journal("team").Where(s => s.Outcome != StepOutcome.Started).Select(s => s.Step).Should().Equal(
            StepAction.BackupLegacyEntry, StepAction.DeleteLegacyEntry, StepAction.VerifyLegacyAbsent);
    }

    [Fact]
    public async Task Progress_reports_every_entity_as_it_ends_with_the_counts_the_display_shows()
    {
        var scenario = Organisation();
        var reports = new List<WaveProgress>();

        await scenario.ApproveAsync();
        await scenario.RunAsync(progress: new Synchronous<WaveProgress>(reports.Add));

        reports.Should().HaveCountGreaterThan(5);
        reports[0].Remaining.Should().Be(5);
        reports[0].Excluded.Should().Be(2);
        reports[^1].Should().Match<WaveProgress>(p => p.Done == 5 && p.Remaining == 0 && p.Total == 7 && p.FinishedThisRun == 5);
    }

    [Fact]
    public async Task Self_approval_runs_only_when_allowed_and_is_recorded_in_the_journal_and_ledger()
    {
        var scenario = Organisation();
        scenario.Settings = scenario.Settings with { AllowSelfApproval = true };
        await scenario.ApproveAsync();

        var result = await scenario.RunAsync(by: ExecutionScenario.Approver);

        result.Kind.Should().Be(WaveResultKind.Completed);
        scenario.Store.WaveSaves[0].SelfApproved.Should().BeTrue();
        scenario.Store.WaveSaves[0].Reason.Should().StartWith("self-approved: alice");
        scenario.Store.Ledger.Should().Contain(r => r.Kind == LedgerKind.WaveStarted && r.Data!.Contains("\"selfApproved\":true"));
    }

    [Fact]
    public async Task Several_entities_run_at_once_and_the_wave_ends_the_same()
    {
        var scenario = new ExecutionScenario();
        for (var i = 0; i < 40; i++)
        {
            scenario.Person($"p{i:00}");
        }

        scenario.Settings = scenario.Settings with { Concurrency = 8 };

        var result = await scenario.ApproveAndRunAsync();

        result.Entities[EntityState.Done].Should().Be(40);
        scenario.Directory.Entries.Should().BeEmpty();
        scenario.Tenant.Changes.Should().HaveCount(40);
    }

    [Fact]
    public async Task Entities_in_flight_together_share_their_target_writes()
    {
        var scenario = new ExecutionScenario();
        for (var i = 0; i < 12; i++)
        {
            scenario.Person($"p{i:00}");
        }

        // A long linger, so a loaded machine still gathers the twelve entities' calls.
        scenario.Settings = scenario.Settings with { Concurrency = 12, TargetBatchLinger = TimeSpan.FromMilliseconds(500) };

        var result = await scenario.ApproveAndRunAsync();

        result.Entities[EntityState.Done].Should().Be(12);
        scenario.Tenant.Changes.Should().HaveCount(12);
        scenario.Tenant.WriteCalls.Should().BeLessThan(12, "the twelve switches are written in gathered calls, not one call per person");
    }

    /// <summary>Reports on the caller's thread (Progress&lt;T&gt; posts to the thread pool, which a test cannot wait for).</summary>
    private sealed class Synchronous<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
