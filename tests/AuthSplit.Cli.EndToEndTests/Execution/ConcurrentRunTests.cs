using AuthSplit.Core.Planning.Format;
using AuthSplit.Graph.Emulator;
using Xunit.Abstractions;

namespace AuthSplit.Cli.EndToEndTests.Execution;

/// <summary>Two operators start the same wave at once on one SQLite state store: the wave's lease lets one run it.</summary>
public sealed class ConcurrentRunTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_second_run_of_a_wave_already_running_is_refused_with_16_naming_the_runner_and_Ctrl_C_gives_the_lease_back()
    {
        // One person at a time, each Graph call 100 ms: the wave takes half a minute, long enough to be caught running.
        await using var lab = await ExecutionLab.StartAsync(people: 300, faults: new GraphFaults { Latency = TimeSpan.FromMilliseconds(100) }, configure: config => config["Execution"]!["Concurrency"] = 1);
        var plan = await lab.PlanAsync();
        var removals = plan.Entities.Where(e => e.Wave == "hq" && e.Disposition == Disposition.Remove).ToList();
        await lab.ApproveAsync("alice");
        var before = await lab.ReadDirectoryAsync();

        using (var first = lab.StartCli(lab.Run("hq")))
        {
            for (var i = 0; i < 900 && !first.HasExited && !first.OutputSoFar.Contains("remaining of", StringComparison.Ordinal); i++)
            {
                await Task.Delay(20);
            }

            var second = await lab.CliAsync(lab.Run("hq", "carol"));
            output.WriteLine(second.ToString());
            first.HasExited.Should().BeFalse("the first run was still running when the second started: " + first.OutputSoFar);
            second.ExitCode.Should().Be(16, second.ToString());
            second.Error.Should().Contain("refused: wave-held-elsewhere").And.Contain($"/{first.Id}/").And.Contain("nothing was written");
            var status = await lab.CliAsync("status", "--config", lab.Config);
            status.Output.Should().Contain($"hq: being run by").And.Contain($"/{first.Id}/");

            first.Signal(CliProcess.SigInt);
            (await first.WaitAsync(TimeSpan.FromSeconds(60))).ExitCode.Should().Be(130);
        }

        // Ctrl-C gave the lease back: the other operator runs it at once.
        (await lab.StatusAsync("hq"))["leases"]!.AsArray().Should().BeEmpty();
        var resumed = await lab.CliAsync(lab.Run("hq", "carol"));
        resumed.ExitCode.Should().Be(0, resumed.ToString());
        ExecutionLab.ShouldBeTheOutcome(before, await lab.ReadDirectoryAsync(), removals);
        await lab.ShouldHaveWrittenOnceAndBackedUpAsync(removals);
    }
}
