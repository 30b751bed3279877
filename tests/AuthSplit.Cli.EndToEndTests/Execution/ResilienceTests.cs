using AuthSplit.Core.Planning.Format;
using AuthSplit.Graph.Emulator;
using Xunit.Abstractions;

namespace AuthSplit.Cli.EndToEndTests.Execution;

/// <summary>The outside systems failing under a running wave: it completes all the same.</summary>
public sealed class ResilienceTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_wave_completes_through_a_slapd_restart_and_Graph_429_storms_and_503s()
    {
        // Scattered: the same rates as every 13th/7th/11th request, without the lockstep in which a lone
        // retrying $batch (a stride of 21 requests) hits the 7th-request fault on every retry.
        var faults = new GraphFaults { ThrottleEvery = 13, RetryAfterSeconds = 1, ThrottleWithoutRetryAfterEvery = 7, ServiceUnavailableEvery = 11, Scattered = true };
        await using var lab = await ExecutionLab.StartAsync(people: 300, faults: faults);
        var plan = await lab.PlanAsync();
        var removals = plan.Entities.Where(e => e.Wave == "hq" && e.Disposition == Disposition.Remove).ToList();
        await lab.ApproveAsync("alice");
        var before = await lab.ReadDirectoryAsync();

        using var run = lab.StartCli(lab.Run("hq"));
        for (var i = 0; i < 600 && !run.HasExited && !run.OutputSoFar.Contains("remaining of", StringComparison.Ordinal); i++)
        {
            await Task.Delay(50);
        }

        await Task.Delay(1500);
        run.HasExited.Should().BeFalse("slapd restarts while the wave runs");
        var oldPid = lab.Server.Pid;
        await lab.Server.StopAsync();
        await Task.Delay(2000);
        await lab.Server.StartAgainAsync(CancellationToken.None);
        lab.Server.Pid.Should().NotBe(oldPid);
        var result = await run.WaitAsync(TimeSpan.FromMinutes(3));
        result.ExitCode.Should().Be(0, result + (await lab.StatusAsync("hq")).ToJsonString());
        output.WriteLine(result.Output);

        ExecutionLab.ShouldBeTheOutcome(before, await lab.ReadDirectoryAsync(), removals);
        (await lab.ShouldAllBeFinalAsync(plan, "hq")).Values.Should().AllBe("done");
        await lab.ShouldHaveWrittenOnceAndBackedUpAsync(removals);
    }
}
