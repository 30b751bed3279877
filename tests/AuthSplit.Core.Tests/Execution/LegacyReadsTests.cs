using AuthSplit.Core.Execution;
using AuthSplit.Core.Planning.Format;

namespace AuthSplit.Core.Tests.Execution;

/// <summary>
/// The LDAP operations a person costs: the entry is read once per run and after each write (a legacy step
/// uses the read the previous legacy step of the same run left), the groups listing it are searched once
/// (the delete uses the backup's search of the same DN), and a new run, or a step after the target steps,
/// reads afresh.
/// </summary>
public sealed class LegacyReadsTests
{
    private static readonly string Akira = ExecutionScenario.DnOf("akira");
    private static readonly string AkiraId = ExecutionScenario.IdFor("akira");
    private static readonly string[] Reads = ["read", "find", "groups"];

    private static List<(string Operation, string Dn)> Watch(ExecutionScenario scenario)
    {
        var operations = new List<(string, string)>();
        scenario.Directory.BeforeOperation = (operation, dn) =>
        {
            lock (operations)
            {
                operations.Add((operation, dn));
            }
        };
        return operations;
    }

    [Fact]
    public async Task A_person_costs_seven_reads_around_its_two_writes()
    {
        var scenario = new ExecutionScenario().Person("akira");
        await scenario.ApproveAsync();
        var operations = Watch(scenario);

        (await scenario.RunAsync()).Kind.Should().Be(WaveResultKind.Completed);

        operations.Should().Equal(
            ("read", Akira),       // the opening check (protection, precondition)
            ("read", Akira),       // backup: read afresh after the target steps
            ("groups", Akira),     // backup: the groups listing it
            ("modify", Akira),     // disable, on the backup's read
            ("read", Akira),       // its read-back
            ("delete", Akira),     // delete, on the disable's read-back and the backup's group search
            ("read", Akira),       // its read-back
            ("find", AkiraId),     // verify-legacy-absent: by identity
            ("read", Akira));      // and at the planned DN
        operations.Count(o => Reads.Contains(o.Operation)).Should().Be(7, "10 before the reads were shared between the steps of a run");
    }

    [Fact]
    public async Task Service_accounts_and_groups_use_the_opening_read_for_their_backup()
    {
        var scenario = new ExecutionScenario().ServiceAccount("backup-svc").Person("yuki", target: false).Group("team", "yuki");
        scenario.Planning.Options.Waves[0].Filter = "(|(objectClass=account)(cn=team))";
        await scenario.ApproveAsync();
        var operations = Watch(scenario);

        (await scenario.RunAsync()).Kind.Should().Be(WaveResultKind.Completed);

        var service = ExecutionScenario.DnOf("backup-svc");
        operations.Where(o => o.Dn == service || o.Dn == ExecutionScenario.IdFor("backup-svc")).Should().Equal(
            ("read", service), ("groups", service), ("modify", service), ("read", service), ("delete", service), ("read", service), ("find", ExecutionScenario.IdFor("backup-svc")), ("read", service));
        var team = "cn=team," + ExecutionScenario.Hq;
        operations.Where(o => o.Dn == team || o.Dn == ExecutionScenario.IdFor("team")).Should().Equal(
            ("read", team), ("groups", team), ("delete", team), ("read", team), ("find", ExecutionScenario.IdFor("team")), ("read", team));
    }

    [Fact]
    public async Task The_delete_cleans_the_groups_the_backup_found_and_still_reads_each_group_for_the_last_member_check()
    {
        var scenario = new ExecutionScenario().Person("akira").Person("yuki", target: false).Group("team", "akira", "yuki");
        scenario.Planning.Options.Waves[0].Filter = "(objectClass=inetOrgPerson)";
        await scenario.ApproveAsync();
        var operations = Watch(scenario);

        (await scenario.RunAsync()).Kind.Should().Be(WaveResultKind.Completed);

        var team = "cn=team," + ExecutionScenario.Hq;
        operations.SkipWhile(o => o.Operation != "modify").Should().Equal(
            ("modify", Akira),     // disable
            ("read", Akira),
            ("read", team),        // the last-member check, on the group as it is now
            ("modify", team),      // akira's DN taken out of it
            ("delete", Akira),
            ("read", Akira),
            ("find", AkiraId),
            ("read", Akira));
        operations.Count(o => o.Operation == "groups").Should().Be(1);
        scenario.Directory.Get(team)!.GetStrings("member").Should().Equal(ExecutionScenario.DnOf("yuki"));
    }

    [Fact]
    public async Task After_a_quarantine_move_the_delete_searches_both_DNs_again()
    {
        var scenario = new ExecutionScenario().WithQuarantine().Person("akira");
        await scenario.ApproveAsync();
        var operations = Watch(scenario);

        (await scenario.RunAsync()).Kind.Should().Be(WaveResultKind.Completed);

        var quarantined = "uid=akira," + ExecutionScenario.Quarantine;
        operations.SkipWhile(o => o.Operation != "move").Should().Equal(
            ("move", Akira),
            ("read", quarantined),   // the move's read-back, which the delete uses
            ("groups", quarantined), // the backup searched the planned DN, before the move: both are searched
            ("groups", Akira),
            ("delete", quarantined),
            ("read", quarantined),
            ("find", AkiraId),
            ("read", Akira),
            ("read", quarantined));
    }

    [Fact]
    public async Task A_run_resumed_after_a_stop_between_steps_reads_the_entry_and_searches_the_groups_afresh()
    {
        var scenario = new ExecutionScenario().Person("akira").Person("yuki", target: false).Group("team", "akira", "yuki");
        scenario.Planning.Options.Waves[0].Filter = "(objectClass=inetOrgPerson)";
        await scenario.ApproveAsync();
        using var cancellation = new CancellationTokenSource();
        scenario.Store.AfterStepRecorded = _ =>
        {
            if (scenario.Store.Steps.Any(s => s.Step == StepAction.DisableLegacyAccount))
            {
                cancellation.Cancel();
            }
        };
        (await scenario.RunAsync(cancellationToken: cancellation.Token)).Kind.Should().Be(WaveResultKind.Interrupted);
        scenario.Store.AfterStepRecorded = null;
        scenario.Entity("akira").LastStep.Should().Be(StepAction.DisableLegacyAccount);

        // Between the runs: akira joins another group, and the entry changes in what the plan did not rely on.
        scenario.DirectoryOnly(Model.DirectoryEntry.FromStrings("cn=late," + ExecutionScenario.Hq, new Dictionary<string, string[]>
        {
            ["objectClass"] = ["top", "groupOfNames"],
            ["cn"] = ["late"],
            ["entryUUID"] = [ExecutionScenario.IdFor("late")],
            ["member"] = [Akira, ExecutionScenario.DnOf("yuki")],
        }));
        var operations = Watch(scenario);

        (await scenario.RunAsync()).Kind.Should().Be(WaveResultKind.Completed);

        operations.TakeWhile(o => o.Operation != "delete").Should().StartWith([("read", Akira), ("groups", Akira)], "a new run reads the entry and searches its groups itself");
        scenario.Journal("akira").Single(s => s.Step == StepAction.DeleteLegacyEntry && s.Outcome == StepOutcome.Done).After
            .Should().Contain("cn=late").And.Contain("cn=team");
        scenario.Directory.Get("cn=late," + ExecutionScenario.Hq)!.GetStrings("member").Should().Equal(ExecutionScenario.DnOf("yuki"));
    }

    [Fact]
    public async Task A_resumed_run_sees_a_change_made_between_the_runs_before_it_writes()
    {
        var scenario = new ExecutionScenario().Person("akira");
        await scenario.ApproveAsync();
        using var cancellation = new CancellationTokenSource();
        scenario.Store.AfterStepRecorded = _ =>
        {
            if (scenario.Store.Steps.Any(s => s.Step == StepAction.DisableLegacyAccount))
            {
                cancellation.Cancel();
            }
        };
        (await scenario.RunAsync(cancellationToken: cancellation.Token)).Kind.Should().Be(WaveResultKind.Interrupted);
        scenario.Store.AfterStepRecorded = null;
        scenario.Directory.Set(Akira, "employeeNumber", "E-other");

        await scenario.RunAsync();

        scenario.Entity("akira").State.Should().Be(EntityState.Stale);
        scenario.Directory.Get(Akira).Should().NotBeNull("a stale entity is never deleted");
        scenario.Directory.Writes.Should().NotContain(w => w.Operation == "delete");
    }

    [Fact]
    public async Task A_change_while_the_target_steps_run_is_seen_by_the_backup_before_any_legacy_write()
    {
        var scenario = new ExecutionScenario().Person("akira");
        await scenario.ApproveAsync();
        scenario.Store.AfterStepRecorded = _ =>
        {
            if (scenario.Store.Steps.Count(s => s.Step == StepAction.StopPasswordSync) == 1 && scenario.Directory.Get(Akira)!.GetString("employeeType") is null)
            {
                scenario.Directory.Set(Akira, "employeeType", "partner");
            }
        };

        await scenario.RunAsync();

        scenario.Entity("akira").State.Should().Be(EntityState.Stale);
        scenario.Entity("akira").LastStep.Should().Be(StepAction.BackupLegacyEntry, "the opening check's read is not carried across the target steps");
        scenario.Directory.Writes.Should().BeEmpty();
        scenario.Store.Backups.Should().BeEmpty();
    }
}
