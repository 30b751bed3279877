using AuthSplit.Testing;
using System.Diagnostics;
using AuthSplit.Core.Planning.Format;
using Xunit.Abstractions;

namespace AuthSplit.Cli.EndToEndTests.Execution;

/// <summary>A whole wave of a generated organisation through the real CLI, on slapd and the Graph emulator.</summary>
public sealed class WholeWaveTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_whole_wave_removes_exactly_the_planned_people_once_and_a_second_run_changes_nothing()
    {
        await using var lab = await ExecutionLab.StartAsync(people: 300);
        var plan = await lab.PlanAsync();
        var removals = plan.Entities.Where(e => e.Wave == "hq" && e.Disposition == Disposition.Remove).ToList();
        removals.Should().HaveCountGreaterThan(50, "the hq wave of 300 people plans its employees' removal");
        await lab.ApproveAsync("alice");
        var before = await lab.ReadDirectoryAsync();

        var clock = Stopwatch.StartNew();
        var run = await lab.CliAsync(lab.Run("hq", "bob"));
        clock.Stop();
        run.ExitCode.Should().Be(0, run + (await lab.StatusAsync("hq")).ToJsonString());
        output.WriteLine($"{removals.Count} removals in {clock.Elapsed.TotalSeconds:F1} s (process included): {removals.Count / clock.Elapsed.TotalSeconds:F1} entities/s\n{run.Output}");

        run.Output.Split('\n').Count(l => l.StartsWith("wave hq:", StringComparison.Ordinal) && l.Contains(" 0 remaining", StringComparison.Ordinal))
            .Should().Be(1, "the redirected progress shows the end state once: " + run.Output);
        var after = await lab.ReadDirectoryAsync();
        ExecutionLab.ShouldBeTheOutcome(before, after, removals);

        var writes = lab.Emulator.Writes;
        writes.Where(w => w.Path.Contains("onPremisesSyncBehavior", StringComparison.Ordinal)).Select(w => w.Path)
            .Should().OnlyHaveUniqueItems().And.HaveCount(removals.Count(e => e.Kind == Core.Model.EntityKind.Person), "one source-of-authority switch per removed person");
        foreach (var person in removals.Where(e => e.Kind == Core.Model.EntityKind.Person))
        {
            writes.Should().ContainSingle(w => w.Path.Contains(person.Match.TargetId!, StringComparison.Ordinal), person.Dn);
        }

        var status = await lab.StatusAsync("hq");
        var wave = status["waves"]!.AsArray().Single()!;
        var entities = wave["entityList"]!.AsArray();
        entities.Select(e => e!["state"]!.GetValue<string>()).Distinct().Should().Equal(["done"], wave.ToJsonString());
        var store = await lab.OpenStoreAsync();
        await using (store as IAsyncDisposable)
        {
            foreach (var entity in removals)
            {
                var backup = await store.GetBackupAsync(entity.Id, CancellationToken.None);
                backup.Should().NotBeNull($"{entity.Dn} was deleted, so its backup is stored");
            }
        }

        var writeCount = writes.Count;
        var again = await lab.CliAsync(lab.Run("hq", "bob"));
        again.ExitCode.Should().Be(0, again.ToString());
        again.Output.Should().Contain("already complete").And.Contain("nothing was changed");
        lab.Emulator.Writes.Should().HaveCount(writeCount, "a second run writes nothing to Graph");
        var third = await lab.ReadDirectoryAsync();
        third.Keys.Should().BeEquivalentTo(after.Keys);
        foreach (var (dn, entry) in third)
        {
            string.Join('\n', entry.Attributes).Should().Be(string.Join('\n', after[dn].Attributes), $"{dn} is not written by the second run (not even a change stamp)");
        }
    }

    [LongFact]
    [Trait("Category", "Soak")]
    public async Task A_wave_of_2000_people_with_the_Graph_write_limit_off_completes_and_reports_its_rate()
    {
        await using var lab = await ExecutionLab.StartAsync(people: 2000, groupSize: 50, configure: config =>
            config["Target"]!["Limits"]!["WritesPerWindow"] = 100_000);
        var plan = await lab.PlanAsync();
        var removals = plan.Entities.Where(e => e.Wave == "hq" && e.Disposition == Disposition.Remove).ToList();
        await lab.ApproveAsync("alice");
        var before = await lab.ReadDirectoryAsync();

        var clock = Stopwatch.StartNew();
        var run = await lab.CliAsync(lab.Run("hq", "bob"));
        clock.Stop();

        run.ExitCode.Should().Be(0, run.ToString());
        output.WriteLine($"{removals.Count} removals in {clock.Elapsed.TotalSeconds:F1} s (process included): {removals.Count / clock.Elapsed.TotalSeconds:F1} entities/s\n{run.Output}");
        ExecutionLab.ShouldBeTheOutcome(before, await lab.ReadDirectoryAsync(), removals);
        await lab.ShouldHaveWrittenOnceAndBackedUpAsync(removals);
    }
}
