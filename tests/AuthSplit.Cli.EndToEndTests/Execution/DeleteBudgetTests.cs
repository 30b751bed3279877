using System.Text.Json.Nodes;
using AuthSplit.Core.Planning.Format;

namespace AuthSplit.Cli.EndToEndTests.Execution;

/// <summary>
/// <c>Safety:MaxDeletesPerWave</c> enforced while executing: the approved plan's budget, not the config's,
/// and the entities beyond it refused before their first step.
/// </summary>
public sealed class DeleteBudgetTests
{
    private const int Budget = 4;

    [Fact]
    public async Task A_wave_stops_deleting_at_its_budget_leaves_the_rest_untouched_and_a_higher_budget_needs_a_new_plan_and_approval()
    {
        await using var lab = await ExecutionLab.StartAsync(people: 40, configure: config => config["Safety"]!["MaxDeletesPerWave"] = Budget);
        var plan = await lab.PlanAsync();
        plan.Settings.Safety.MaxDeletesPerWave.Should().Be(Budget);
        var removals = plan.Entities.Where(e => e.Wave == "hq" && e.Disposition == Disposition.Remove).ToList();
        removals.Should().HaveCountGreaterThan(Budget + 2);
        var approve = await lab.CliAsync("approve", "--config", lab.Config, "--plan", lab.PlanPath, "--by", "alice");
        approve.ExitCode.Should().Be(0, approve.ToString());
        approve.Output.Should().Contain($"{removals.Count} deletes exceed the budget of {Budget}: the wave will stop there", "the approver is told");
        var before = await lab.ReadDirectoryAsync();

        var run = await lab.CliAsync(lab.Run("hq"));

        // docs/exit-codes.md: refused is a final state; runbook 04: delete-budget is final, not retried.
        run.ExitCode.Should().Be(0, run.ToString());
        run.Output.Should().Contain($"{Budget} done, 0 stale, {removals.Count - Budget} refused, 0 failed")
            .And.Contain($"The delete budget (Safety:MaxDeletesPerWave {Budget}) was reached", "the operator sees why at once: " + run);
        var states = await lab.ShouldAllBeFinalAsync(plan, "hq");
        states.Values.Count(s => s == "done").Should().Be(Budget);
        var status = await lab.StatusAsync("hq");
        var refusedRows = status["waves"]![0]!["entityList"]!.AsArray().Where(e => e!["state"]!.GetValue<string>() == "refused").ToList();
        refusedRows.Should().HaveCount(removals.Count - Budget).And.AllSatisfy(e => e!["reason"]!.GetValue<string>().Should().StartWith("delete-budget:"));
        status["waves"]![0]!["reason"]!.GetValue<string>().Should().Contain("MaxDeletesPerWave");

        var deleted = removals.Where(e => states[e.Id] == "done").ToList();
        var refused = removals.Where(e => states[e.Id] == "refused").ToList();
        var after = await lab.ReadDirectoryAsync();
        ExecutionLab.ShouldBeTheOutcome(before, after, deleted);
        foreach (var entity in refused)
        {
            var dn = entity.Dn.ToLowerInvariant();
            string.Join('\n', after[dn].Attributes).Should().Be(string.Join('\n', before[dn].Attributes), $"{entity.Dn} is beyond the budget: not even disabled");
            lab.Emulator.Writes.Should().NotContain(w => w.Path.Contains(entity.Match.TargetId!, StringComparison.Ordinal), $"{entity.Dn} is not switched in the target either");
        }

        await lab.ShouldHaveWrittenOnceAndBackedUpAsync(deleted);
        var store = await lab.OpenStoreAsync();
        await using (store as IAsyncDisposable)
        {
            (await store.CountDeletesAsync(plan.PlanId!, "hq", CancellationToken.None)).Should().Be(Budget);
            foreach (var entity in refused)
            {
                (await store.GetBackupAsync(entity.Id, CancellationToken.None)).Should().BeNull($"{entity.Dn} was not touched, so not even read for a backup");
            }
        }

        // Again, and with the budget raised in the config only: the approved plan's budget holds.
        var writes = lab.Emulator.Writes.Count;
        var again = await lab.CliAsync(lab.Run("hq"));
        again.ExitCode.Should().Be(0, again.ToString());
        again.Output.Should().Contain("already complete").And.Contain("nothing was changed");
        var raised = JsonNode.Parse(await File.ReadAllTextAsync(lab.Config))!.AsObject();
        raised["Safety"]!["MaxDeletesPerWave"] = 1000;
        await File.WriteAllTextAsync(lab.Config, raised.ToJsonString());
        var oldPlan = await lab.CliAsync(lab.Run("hq"));
        oldPlan.ExitCode.Should().Be(0, oldPlan.ToString());
        oldPlan.Output.Should().Contain("nothing was changed", "a config edit does not raise an approved plan's budget");
        lab.Emulator.Writes.Should().HaveCount(writes);
        (await lab.ReadDirectoryAsync()).Keys.Should().BeEquivalentTo(after.Keys);

        // A new plan with the higher budget: refused until approved, then it removes the rest.
        var newPlanPath = Path.Combine(lab.Work, "plan-raised.json");
        var replan = await lab.CliAsync("plan", "--config", lab.Config, "--out", newPlanPath);
        replan.ExitCode.Should().Be(0, replan.ToString());
        var newPlan = await ExecutionLab.ReadPlanAsync(newPlanPath);
        newPlan.PlanId.Should().NotBe(plan.PlanId);
        newPlan.Settings.Safety.MaxDeletesPerWave.Should().Be(1000);
        var rest = newPlan.Entities.Where(e => e.Wave == "hq" && e.Disposition == Disposition.Remove).ToList();
        rest.Select(e => e.Dn).Should().BeEquivalentTo(refused.Select(e => e.Dn), "what the budget left is what the new plan removes");
        var unapproved = await lab.CliAsync(lab.Run("hq", plan: newPlanPath));
        unapproved.ExitCode.Should().Be(10, "a bigger budget needs a new approval: " + unapproved);
        unapproved.Error.Should().MatchRegex("refused: plan-not-(found|approved): ").And.Contain("authsplit approve");
        lab.Emulator.Writes.Should().HaveCount(writes);

        await lab.ApproveAsync("alice", newPlanPath);
        var rerun = await lab.CliAsync(lab.Run("hq", plan: newPlanPath));
        rerun.ExitCode.Should().Be(0, rerun.ToString());
        rerun.Output.Should().Contain($"{rest.Count} done, 0 stale, 0 refused, 0 failed");
        ExecutionLab.ShouldBeTheOutcome(before, await lab.ReadDirectoryAsync(), removals);
        await lab.ShouldHaveWrittenOnceAndBackedUpAsync(removals);
    }

    [Fact]
    public async Task A_wave_killed_and_resumed_several_times_deletes_exactly_its_budget_in_all()
    {
        const int budget = 40;
        await using var lab = await ExecutionLab.StartAsync(people: 300, configure: config => config["Safety"]!["MaxDeletesPerWave"] = budget);
        var plan = await lab.PlanAsync();
        var removals = plan.Entities.Where(e => e.Wave == "hq" && e.Disposition == Disposition.Remove).ToList();
        removals.Should().HaveCountGreaterThan(budget * 2);
        await lab.ApproveAsync("alice");
        var before = await lab.ReadDirectoryAsync();

        var random = new Random(40);
        var kills = 0;
        for (var attempt = 0; attempt < 6 && kills < 3; attempt++)
        {
            using var run = lab.StartCli(lab.Run("hq"));
            for (var i = 0; i < 600 && !run.HasExited && !run.OutputSoFar.Contains("remaining of", StringComparison.Ordinal); i++)
            {
                await Task.Delay(50);
            }

            await Task.Delay(random.Next(200, 900));
            if (run.HasExited)
            {
                break;
            }

            run.Signal(9);
            var ended = await run.WaitAsync(TimeSpan.FromSeconds(30));
            if (ended.ExitCode == 0)
            {
                // It finished between the look and the signal (a budget of 40 is reached in seconds): no kill landed.
                break;
            }

            ended.ExitCode.Should().Be(137, ended.ToString());
            kills++;
            var deletedSoFar = before.Keys.Except((await lab.ReadDirectoryAsync()).Keys).Count();
            deletedSoFar.Should().BeLessThanOrEqualTo(budget, $"after kill {kills}");
        }

        var final = await lab.CliAsync(lab.Run("hq"));
        final.ExitCode.Should().Be(0, final.ToString());
        var states = await lab.ShouldAllBeFinalAsync(plan, "hq");
        var deleted = removals.Where(e => states[e.Id] == "done").ToList();
        deleted.Should().HaveCount(budget, $"{kills} kills, then the budget is reached exactly: " + final.Output);
        states.Values.Count(s => s == "refused").Should().Be(removals.Count - budget);
        ExecutionLab.ShouldBeTheOutcome(before, await lab.ReadDirectoryAsync(), deleted);
        await lab.ShouldHaveWrittenOnceAndBackedUpAsync(deleted);
        kills.Should().BeGreaterThan(0, "the kills landed while the wave ran");
    }

    [Fact]
    public async Task With_a_hold_period_the_entities_beyond_the_budget_are_not_switched_nor_disabled_while_the_others_are_held()
    {
        await using var lab = await ExecutionLab.StartAsync(people: 40, configure: config =>
        {
            config["Safety"]!["MaxDeletesPerWave"] = Budget;
            config["Removal"]!["HoldDays"] = 7;
            // Fewer entities at once than the budget (as with any budget above Execution:Concurrency): each
            // entity must keep its slot while held, or the next one takes it.
            config["Execution"]!["Concurrency"] = 2;
        });
        var plan = await lab.PlanAsync();
        var removals = plan.Entities.Where(e => e.Wave == "hq" && e.Disposition == Disposition.Remove).ToList();
        await lab.ApproveAsync("alice");
        var before = await lab.ReadDirectoryAsync();

        var run = await lab.CliAsync(lab.Run("hq"));

        run.ExitCode.Should().Be(6, run.ToString());
        var states = (await lab.StatusAsync("hq"))["waves"]![0]!["entityList"]!.AsArray()
            .ToDictionary(e => e!["id"]!.GetValue<string>(), e => e!["state"]!.GetValue<string>());
        removals.Count(e => states[e.Id] == "held").Should().Be(Budget, "only the entities the budget can delete start: " + run.Output);
        var after = await lab.ReadDirectoryAsync();
        foreach (var entity in removals.Where(e => states[e.Id] != "held"))
        {
            states[entity.Id].Should().Be("refused");
            var dn = entity.Dn.ToLowerInvariant();
            string.Join('\n', after[dn].Attributes).Should().Be(string.Join('\n', before[dn].Attributes), $"{entity.Dn} is beyond the budget: not disabled");
            lab.Emulator.Writes.Should().NotContain(w => w.Path.Contains(entity.Match.TargetId!, StringComparison.Ordinal), $"{entity.Dn} is beyond the budget: not switched");
        }
    }
}
