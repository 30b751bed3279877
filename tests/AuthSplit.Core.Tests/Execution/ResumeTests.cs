using System.Text;
using AuthSplit.Core.Execution;
using AuthSplit.Testing.Execution;
using FsCheck;
using FsCheck.Fluent;

namespace AuthSplit.Core.Tests.Execution;

/// <summary>
/// Interrupted runs (cancelled between steps, or the process killed at any commit) resumed to the end
/// must equal one uninterrupted run: the same directory, the same tenant, every entity in one final
/// state, no write applied twice, and no delete without its backup stored first.
/// </summary>
public sealed class ResumeTests
{
    private static ExecutionScenario Wave(int concurrency = 1)
    {
        var scenario = new ExecutionScenario()
            .WithQuarantine()
            .Person("akira")
            .Person("yuki")
            .Person("ken", target: false)
            .Person("mei")
            .GroupUnder("ou=groups," + ExecutionScenario.Base, "staff", "akira", "yuki", "ken")
            .Group("team", "mei", "akira")
            .ServiceAccount("backup-svc");
        scenario.Tenant.ReplicationDelayReads = 1;
        scenario.Settings = scenario.Settings with { Concurrency = concurrency };
        return scenario;
    }

    /// <summary>What must be the same after any interrupted-and-resumed run as after an uninterrupted one.</summary>
    private static string EndState(ExecutionScenario scenario, bool withWrites = true)
    {
        var text = new StringBuilder();
        foreach (var entry in scenario.Directory.Entries.OrderBy(e => e.Dn, StringComparer.Ordinal))
        {
            text.Append(entry.Dn).Append('\n');
            foreach (var (name, values) in entry.Attributes.OrderBy(a => a.Key, StringComparer.OrdinalIgnoreCase))
            {
                text.Append("  ").Append(name.ToLowerInvariant()).Append('=').AppendJoin('|', values.Select(v => Encoding.UTF8.GetString(v)).Order(StringComparer.Ordinal)).Append('\n');
            }
        }

        foreach (var user in new[] { "t-akira", "t-yuki", "t-mei" })
        {
            text.Append(user).Append(" cloud-managed=").Append(scenario.Tenant.IsCloudManaged(user)).Append('\n');
        }

        foreach (var entity in scenario.Plan.Entities.OrderBy(e => e.Id, StringComparer.Ordinal))
        {
            text.Append(entity.Dn).Append(" -> ").Append(scenario.EntityById(entity.Id).State).Append('\n');
        }

        if (!withWrites)
        {
            return text.ToString();
        }

        text.Append("writes:\n").AppendJoin('\n', scenario.Directory.Writes.Select(w => $"{w.Operation} {w.Dn} {(w.Detail.Contains("{CRYPT}", StringComparison.Ordinal) ? "(password)" : w.Detail)}").Order(StringComparer.Ordinal));
        text.Append("\nswitches:\n").AppendJoin('\n', scenario.Tenant.Changes.Select(c => c.ToString()).Order(StringComparer.Ordinal));
        return text.ToString();
    }

    private static readonly Lazy<(string EndState, string Directory, int Steps, int Commits)> Reference = new(() =>
    {
        var scenario = Wave();
        var planId = scenario.ApproveAsync().GetAwaiter().GetResult();
        var commitsBefore = scenario.Store.Commits;
        var result = scenario.RunAsync().GetAwaiter().GetResult();
        result.Kind.Should().Be(WaveResultKind.Completed);
        planId.Should().NotBeNull();
        return (EndState(scenario), EndState(scenario, withWrites: false), scenario.Store.Steps.Count, scenario.Store.Commits - commitsBefore);
    });

    // Every delete is checked at the moment it is sent: its entity's backup must already be stored.
    private static List<string> WatchDeletes(ExecutionScenario scenario)
    {
        var violations = new List<string>();
        scenario.Directory.BeforeOperation = (operation, dn) =>
        {
            if (operation != "delete")
            {
                return;
            }

            var entity = scenario.Plan.Entities.Single(e => e.Dn == dn || dn.StartsWith(e.Dn[..e.Dn.IndexOf(',', StringComparison.Ordinal)] + "," + ExecutionScenario.Quarantine, StringComparison.Ordinal));
            if (!scenario.Store.Backups.Any(b => b.EntityId == entity.Id))
            {
                lock (violations)
                {
                    violations.Add(dn);
                }
            }
        };
        return violations;
    }

    // With entities running at once, which member of a group goes last varies from run to run, and so do
    // the group edits: then the directory, tenant and states are compared, not the list of writes.
    private static void ShouldEqualTheUninterruptedRun(ExecutionScenario scenario, List<string> deletesWithoutBackup, bool sameWrites = true)
    {
        if (sameWrites)
        {
            EndState(scenario).Should().Be(Reference.Value.EndState);
        }
        else
        {
            EndState(scenario, withWrites: false).Should().Be(Reference.Value.Directory);
        }

        scenario.Directory.Writes.GroupBy(w => (w.Operation, w.Dn, w.Detail.Contains("{CRYPT}", StringComparison.Ordinal) ? string.Empty : w.Detail)).Should().OnlyContain(g => g.Count() == 1, "no write is applied twice");
        deletesWithoutBackup.Should().BeEmpty();
        foreach (var entity in scenario.Plan.Entities.Where(e => e.Wave == "hq"))
        {
            var state = scenario.EntityById(entity.Id).State;
            state.Should().BeOneOf(EntityState.Done, EntityState.Excluded);
        }
    }

    [Fact]
    public async Task The_uninterrupted_reference_run_removes_the_planned_entries_and_cleans_both_groups()
    {
        var scenario = Wave();

        await scenario.ApproveAndRunAsync();

        scenario.Directory.Entries.Select(e => e.Dn).Should().BeEquivalentTo([ExecutionScenario.DnOf("ken"), "cn=staff,ou=groups," + ExecutionScenario.Base]);
        scenario.Directory.Get("cn=staff,ou=groups," + ExecutionScenario.Base)!.GetStrings("member").Should().Equal(ExecutionScenario.DnOf("ken"));
        EndState(scenario).Should().Be(Reference.Value.EndState);
    }

    [Fact]
    public async Task Cancelling_after_any_number_of_steps_then_resuming_equals_an_uninterrupted_run()
    {
        for (var cut = 0; cut <= Reference.Value.Steps; cut++)
        {
            var scenario = Wave();
            var deletes = WatchDeletes(scenario);
            await scenario.ApproveAsync();
            using var cancellation = new CancellationTokenSource();
            var at = cut;
            scenario.Store.AfterStepRecorded = count =>
            {
                if (count >= at)
                {
                    cancellation.Cancel();
                }
            };

            var interrupted = await scenario.RunAsync(cancellationToken: cancellation.Token);
            if (cut < Reference.Value.Steps)
            {
                interrupted.Kind.Should().Be(WaveResultKind.Interrupted, $"cancelled after {cut} steps");
                interrupted.Reason.Should().StartWith("cancelled");
                scenario.Store.Steps.Count.Should().BeLessThanOrEqualTo(cut + 2, "a begun step finishes, then the run stops");
            }

            scenario.Store.AfterStepRecorded = null;
            var resumed = await scenario.RunAsync();

            resumed.Kind.Should().Be(WaveResultKind.Completed, $"resumed after a cancel at step {cut}");
            ShouldEqualTheUninterruptedRun(scenario, deletes);
        }
    }

    [Fact]
    public async Task A_process_killed_at_any_commit_then_resumed_equals_an_uninterrupted_run()
    {
        for (var kill = 0; kill <= Reference.Value.Commits; kill++)
        {
            var scenario = Wave();
            var deletes = WatchDeletes(scenario);
            await scenario.ApproveAsync();
            scenario.Store.CrashAfterCommits(kill);

            var killed = () => scenario.RunAsync();
            if (kill < Reference.Value.Commits)
            {
                await killed.Should().ThrowAsync<SimulatedCrashException>($"killed at commit {kill}");
            }
            else
            {
                await killed();
            }

            scenario.Store.Revive();
            var resumed = await scenario.RunAsync();

            resumed.Kind.Should().Be(WaveResultKind.Completed, $"resumed after a kill at commit {kill}");
            ShouldEqualTheUninterruptedRun(scenario, deletes);
        }
    }

    [Fact]
    public void Repeated_kills_at_random_commits_with_concurrent_entities_end_like_an_uninterrupted_run()
    {
        var kills = Gen.Choose(0, 12).ListOf().Select(l => l.Take(25).ToArray()).ToArbitrary();
        Prop.ForAll(kills, Gen.Choose(1, 4).ToArbitrary(), (killAfter, concurrency) =>
        {
            var scenario = Wave(concurrency);
            var deletes = WatchDeletes(scenario);
            scenario.ApproveAsync().GetAwaiter().GetResult();
            foreach (var commits in killAfter)
            {
                scenario.Store.CrashAfterCommits(commits);
                try
                {
                    scenario.RunAsync().GetAwaiter().GetResult();
                }
                catch (SimulatedCrashException)
                {
                    // The kill; the next loop is the restart.
                }

                scenario.Store.Revive();
            }

            var resumed = scenario.RunAsync().GetAwaiter().GetResult();
            resumed.Kind.Should().Be(WaveResultKind.Completed);
            ShouldEqualTheUninterruptedRun(scenario, deletes, sameWrites: concurrency == 1);
        }).QuickCheckThrowOnFailure();
    }
}
