using AuthSplit.Testing;
using AuthSplit.Core.Planning.Format;
using Xunit.Abstractions;

namespace AuthSplit.Cli.EndToEndTests.Execution;

/// <summary>
/// The executor killed (SIGKILL: no handler runs) or interrupted (SIGINT) at random moments of a wave and
/// resumed each time by the same command: it ends as an uninterrupted run would.
/// </summary>
public sealed class CrashResumeTests(ITestOutputHelper output)
{
    private const int SigKill = 9;

    [Fact]
    public Task A_wave_killed_5_times_at_random_moments_ends_as_an_uninterrupted_run() => KillAndResumeAsync(kills: 5, people: 300, seed: 5);

    [LongFact]
    [Trait("Category", "Soak")]
    public Task A_wave_killed_25_times_at_random_moments_ends_as_an_uninterrupted_run() => KillAndResumeAsync(kills: 25, people: 1600, seed: 25);

    [Theory]
    [InlineData(CliProcess.SigInt, 130)]
    [InlineData(CliProcess.SigTerm, 143)]
    public async Task Ctrl_C_or_SIGTERM_during_a_run_exits_130_or_143_and_the_same_command_resumes_to_exit_0(int signal, int exitCode)
    {
        await using var lab = await ExecutionLab.StartAsync(people: 300);
        var plan = await lab.PlanAsync();
        var removals = plan.Entities.Where(e => e.Wave == "hq" && e.Disposition == Disposition.Remove).ToList();
        await lab.ApproveAsync("alice");
        var before = await lab.ReadDirectoryAsync();

        using (var run = lab.StartCli(lab.Run("hq")))
        {
            await WaitForStartAsync(run);
            await Task.Delay(1500);
            run.HasExited.Should().BeFalse("the signal arrives while the wave runs");
            run.Signal(signal);
            var interrupted = await run.WaitAsync(TimeSpan.FromMinutes(2));
            interrupted.ExitCode.Should().Be(exitCode, interrupted.ToString());
            interrupted.Error.Should().Contain("resumes");
        }

        // status forecasts the work the interrupted wave still has ahead, against its deadline.
        var stopped = (await lab.StatusAsync("hq"))["waves"]![0]!["forecast"]!.GetValue<string>();
        stopped.Should().MatchRegex("^needs ~[1-9][0-9]* (s|min|h)", "steps are left after the interrupt");
        stopped.Should().Contain("deadline");

        var resumed = await lab.CliAsync(lab.Run("hq"));
        resumed.ExitCode.Should().Be(0, resumed.ToString());
        (await lab.StatusAsync("hq"))["waves"]![0]!["forecast"]!.GetValue<string>().Should().StartWith("needs ~0 s of execution", "nothing is left once the wave completed");
        ExecutionLab.ShouldBeTheOutcome(before, await lab.ReadDirectoryAsync(), removals);
        await lab.ShouldAllBeFinalAsync(plan, "hq");
        await lab.ShouldHaveWrittenOnceAndBackedUpAsync(removals);
    }

    private async Task KillAndResumeAsync(int kills, int people, int seed)
    {
        var random = new Random(seed);
        await using var lab = await ExecutionLab.StartAsync(people);
        var plan = await lab.PlanAsync();
        var removals = plan.Entities.Where(e => e.Wave == "hq" && e.Disposition == Disposition.Remove).ToList();
        await lab.ApproveAsync("alice");
        var before = await lab.ReadDirectoryAsync();

        var killed = 0;
        CliResult? finishedEarly = null;
        for (var attempt = 0; attempt < kills * 3 && killed < kills; attempt++)
        {
            using var run = lab.StartCli(lab.Run("hq"));
            await WaitForStartAsync(run);
            await Task.Delay(random.Next(0, 800));
            if (run.HasExited)
            {
                var early = finishedEarly = await run.WaitAsync(TimeSpan.FromSeconds(10));
                early.ExitCode.Should().Be(0, "a run that ended before its kill finished the wave: " + early);
                break;
            }

            run.Signal(SigKill);
            var result = await run.WaitAsync(TimeSpan.FromSeconds(30));
            result.ExitCode.Should().Be(128 + SigKill, result.ToString());
            killed++;
            output.WriteLine($"kill {killed}: {lab.Emulator.Writes.Count} Graph writes so far");
        }

        var final = await lab.CliAsync(lab.Run("hq"));
        final.ExitCode.Should().Be(0, final + (await lab.StatusAsync("hq")).ToJsonString());
        if (finishedEarly is null)
        {
            final.Output.Should().Contain("Wave hq complete").And.NotContain("nothing was changed", "this run finished the wave");
        }

        output.WriteLine($"{killed} kills; final run:\n{final.Output}");
        killed.Should().BeGreaterThan(kills / 2, "the kills landed while the wave was running");
        ExecutionLab.ShouldBeTheOutcome(before, await lab.ReadDirectoryAsync(), removals);
        (await lab.ShouldAllBeFinalAsync(plan, "hq")).Values.Should().AllBe("done");
        await lab.ShouldHaveWrittenOnceAndBackedUpAsync(removals);
    }

    private static async Task WaitForStartAsync(CliProcess run)
    {
        for (var i = 0; i < 600 && !run.HasExited && !run.OutputSoFar.Contains("remaining of", StringComparison.Ordinal); i++)
        {
            await Task.Delay(50);
        }
    }
}

/// <summary>Four eyes hold after a crash: the start-up recovery does not execute a killed operator's wave for someone else.</summary>
public sealed class RecoveryFourEyesTests
{
    [Fact]
    public async Task The_approver_running_a_wave_another_operator_left_killed_is_refused_and_nothing_more_is_done()
    {
        await using var lab = await ExecutionLab.StartAsync(people: 300);
        await lab.PlanAsync();
        await lab.ApproveAsync("alice");
        using (var run = lab.StartCli(lab.Run("hq", "bob")))
        {
            for (var i = 0; i < 600 && !run.HasExited && !run.OutputSoFar.Contains("remaining of", StringComparison.Ordinal); i++)
            {
                await Task.Delay(50);
            }

            await Task.Delay(300);
            run.Signal(9);
            (await run.WaitAsync(TimeSpan.FromSeconds(30))).ExitCode.Should().Be(137);
        }

        var directory = await lab.ReadDirectoryAsync();
        var writes = lab.Emulator.Writes.Count;

        var self = await lab.CliAsync(lab.Run("hq", "alice"));

        self.ExitCode.Should().Be(12, self.ToString());
        lab.Emulator.Writes.Should().HaveCount(writes, "alice's process executes nothing, not even bob's left-over run");
        (await lab.ReadDirectoryAsync()).Keys.Should().BeEquivalentTo(directory.Keys);
        var resumed = await lab.CliAsync(lab.Run("hq", "bob"));
        resumed.ExitCode.Should().Be(0, resumed.ToString());
    }
}
