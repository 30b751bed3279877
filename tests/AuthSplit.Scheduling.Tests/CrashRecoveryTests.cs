using System.Diagnostics;
using AuthSplit.Testing;

namespace AuthSplit.Scheduling.Tests;

/// <summary>
/// The proof issue 10 asks for, rather than trusting RequestsRecovery (quartznet#3759): a child process
/// hosts the scheduler on a SQLite file and runs a slow wave; it is SIGKILLed mid-wave and started again
/// on the same file.
/// Alone in its collection: a starved poll would see the wave finish before the kill.
/// </summary>
[Collection(ChildProcessCollection.Name)]
public sealed class CrashRecoveryTests
{
    private static readonly string CrashHost = Path.Combine(AppContext.BaseDirectory, "AuthSplit.Scheduling.CrashHost.dll");

    [Fact]
    public async Task A_wave_killed_mid_run_is_fired_again_by_quartz_as_recovering_when_the_process_starts_again()
    {
        var (database, log) = NewFiles();

        await KillMidWaveAsync("schedule", database, log);
        using (var second = Start("serve", database, log))
        {
            await ExitAsync(second);
        }

        var lines = await File.ReadAllLinesAsync(log);
        lines.Where(line => line.StartsWith("start", StringComparison.Ordinal)).Should().HaveCount(2)
            .And.SatisfyRespectively(
                first => first.Should().StartWith("start recovering=False operator=crash-test"),
                again => again.Should().StartWith("start recovering=True operator=crash-test"));
        lines.Should().ContainSingle(line => line == "done");
        lines[^1].Should().Be("done");
    }

    [Fact]
    public async Task A_wave_killed_mid_run_runs_again_once_when_the_journal_check_and_quartz_both_know_it()
    {
        var (database, log) = NewFiles();

        await KillMidWaveAsync("schedule", database, log);
        using (var second = Start("serve-journal", database, log))
        {
            await ExitAsync(second);
        }

        var lines = await File.ReadAllLinesAsync(log);
        lines.Where(line => line.StartsWith("start", StringComparison.Ordinal)).Should().HaveCount(2);
        lines.Where(line => line.StartsWith("start", StringComparison.Ordinal)).Last().Should().StartWith("start recovering=True");
        lines.Should().ContainSingle(line => line == "done");
    }

    [Fact]
    public async Task A_foreground_run_killed_mid_wave_is_recovered_by_the_next_run_before_its_own_firing()
    {
        var (database, log) = NewFiles();

        await KillMidWaveAsync("run", database, log);
        using (var second = Start("run", database, log))
        {
            await ExitAsync(second);
        }

        // Quartz's recovery fires first (the journal makes it finish the wave), then the new run's own
        // firing, which in life finds nothing left to do; DisallowConcurrentExecution keeps them apart.
        var starts = (await File.ReadAllLinesAsync(log)).Where(line => line.StartsWith("start", StringComparison.Ordinal) || line == "done").ToArray();
        starts.Select(line => line.Split(" pid=")[0]).Should().Equal(
            "start recovering=False operator=crash-test",
            "start recovering=True operator=crash-test",
            "done",
            "start recovering=False operator=crash-test",
            "done");
    }

    [Fact]
    public async Task A_wave_scheduled_by_another_process_is_run_by_the_serving_one()
    {
        var (database, log) = NewFiles();
        using var serve = Start("serve", database, log);
        using (var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
        {
            while (!File.Exists(database))
            {
                await Task.Delay(25, deadline.Token);
            }
        }

        using (var schedule = Start("schedule-only", database, log))
        {
            await ExitAsync(schedule);
        }

        await ExitAsync(serve);
        var lines = await File.ReadAllLinesAsync(log);
        lines.Should().ContainSingle(line => line.StartsWith("start", StringComparison.Ordinal)).Which.Should().StartWith("start recovering=False operator=crash-test");
        lines[^1].Should().Be("done");
    }

    private static (string Database, string Log) NewFiles()
    {
        var directory = TestPaths.NewWorkDirectory();
        return (Path.Combine(directory, "authsplit-state.db"), Path.Combine(directory, "wave.log"));
    }

    private static async Task KillMidWaveAsync(string mode, string database, string log)
    {
        using var first = Start(mode, database, log);
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (!File.Exists(log) || !(await File.ReadAllLinesAsync(log, deadline.Token)).Contains("step 2"))
        {
            if (first.HasExited)
            {
                Assert.Fail("the child ended before the kill: " + await first.StandardError.ReadToEndAsync(deadline.Token));
            }

            await Task.Delay(25, deadline.Token);
        }

        first.Kill(); // SIGKILL on Linux: no shutdown, no finally, no flush
        await first.WaitForExitAsync(deadline.Token);
        (await File.ReadAllLinesAsync(log, deadline.Token)).Should().NotContain("done", "the kill came mid-wave");
    }

    private static Process Start(string mode, string database, string log)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { CrashHost, mode, database, log, Waves.PlanId, Waves.Wave })
        {
            start.ArgumentList.Add(argument);
        }

        return Process.Start(start)!;
    }

    private static async Task ExitAsync(Process process)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(45));
        var stderr = process.StandardError.ReadToEndAsync(deadline.Token);
        var stdout = process.StandardOutput.ReadToEndAsync(deadline.Token);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill();
            throw;
        }

        process.ExitCode.Should().Be(0, "the restarted child runs the wave to its end: {0}{1}", await stdout, await stderr);
    }
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ChildProcessCollection
{
    public const string Name = "child processes";
}
