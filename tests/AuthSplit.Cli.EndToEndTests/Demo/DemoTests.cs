using System.Diagnostics;
using Xunit.Abstractions;

namespace AuthSplit.Cli.EndToEndTests.Demo;

/// <summary>
/// <c>authsplit demo</c>, the README's main command, through the real CLI at a small size: every stage
/// narrated and checked, exit 0, the evidence verified three ways, and nothing left running; and Ctrl+C in
/// the middle of the waves stops everything it started, leaving no runtime file and no half-written file.
/// </summary>
public sealed class DemoTests(ITestOutputHelper output)
{
    private const int Size = 160;

    [Fact]
    public async Task The_demo_runs_every_stage_exits_0_with_the_evidence_verified_and_leaves_nothing_running()
    {
        var work = CliRunner.NewWorkDirectory();
        var dir = Path.Combine(work, "demo");
        var clock = Stopwatch.StartNew();
        CliResult result;
        using (var demo = CliProcess.Start(work, "077", "demo", "--size", Size.ToString(System.Globalization.CultureInfo.InvariantCulture), "--seed", "11", "--dir", dir))
        {
            result = await demo.WaitAsync(TimeSpan.FromMinutes(5));
        }

        output.WriteLine($"demo --size {Size}: {clock.Elapsed.TotalSeconds:F1} s\n{result}");

        result.ExitCode.Should().Be(0, result.ToString());
        var stages = new[]
        {
            "1. The company and the lab", "2. The dry-run plan", "3. Decisions for the blocked ones", "4. Approval", "5. The three waves",
            "6. Systems cut over", "7. The tenant's password-sync gate", "8. Evidence for the auditor", "9. The reports",
        };
        foreach (var stage in stages)
        {
            result.Output.Should().Contain(stage);
        }

        foreach (var check in new[]
        {
            "✔ lab up", "✔ dry-run plan", "✔ blockers found", "✔ decisions resolve every blocker", "✔ approval by one named person", "✔ the approver may not execute",
            "✔ fault survived (directory restart)", "✔ run interrupted", "✔ interrupted run resumed", "✔ wave overseas", "✔ systems cut over with their probes",
            "✔ only the administrator may switch it off", "✔ password-sync gate verified", "✔ everything the demo started is stopped", "Every check held",
        })
        {
            result.Output.Should().Contain(check);
        }

        foreach (var wave in new[] { "hq", "domestic", "overseas" })
        {
            result.Output.Should().Contain($"✔ evidence {wave} verified offline").And.Contain($"✔ evidence {wave} verified live").And.Contain($"✔ evidence {wave} verified with openssl, sha256sum and jq");
            File.Exists(Path.Combine(dir, "evidence", wave, "report.html")).Should().BeTrue();
        }

        result.Output.Should().Contain("Deadline forecast").And.Contain("no-target-account").And.Contain("ambiguous-target-match").And.Contain("target-app-disabled");
        result.Output.Should().NotContain("✘");
        ShouldLeaveNothing(dir);
    }

    [Fact]
    public async Task Ctrl_C_in_the_middle_of_the_waves_stops_everything_the_demo_started_and_leaves_no_half_written_file()
    {
        var work = CliRunner.NewWorkDirectory();
        var dir = Path.Combine(work, "demo");
        using var demo = CliProcess.Start(work, "077", "demo", "--size", Size.ToString(System.Globalization.CultureInfo.InvariantCulture), "--dir", dir);
        for (var i = 0; i < 2400 && !demo.HasExited && !demo.OutputSoFar.Contains("remaining of", StringComparison.Ordinal); i++)
        {
            await Task.Delay(50);
        }

        demo.HasExited.Should().BeFalse(demo.OutputSoFar);
        Running(dir).Should().NotBeEmpty("the lab's servers run while the waves do");
        demo.Signal(CliProcess.SigInt);
        var result = await demo.WaitAsync(TimeSpan.FromMinutes(2));
        output.WriteLine(result.ToString());

        result.ExitCode.Should().Be(130, result.ToString());
        result.Output.Should().Contain("Interrupted: stopping everything the demo started").And.Contain("✔ everything the demo started is stopped");
        result.Error.Should().Contain("interrupted (SIGINT)");
        ShouldLeaveNothing(dir);

        // The interrupted wave is on record and resumable: the state store reads back.
        var status = await CliProcess.RunAsync(work, "077", "status", "--config", Path.Combine(dir, "lab", "authsplit.json"));
        status.ExitCode.Should().Be(0, status.ToString());
    }

    private static void ShouldLeaveNothing(string dir)
    {
        Running(dir).Should().BeEmpty("no process the demo started is left");
        File.Exists(Path.Combine(dir, "lab", "lab.json")).Should().BeFalse("the lab is stopped and its runtime file removed");
        Directory.Exists(Path.Combine(dir, "lab", "slapd")).Should().BeFalse();
        Directory.GetFiles(dir, "*.tmp", SearchOption.AllDirectories).Should().BeEmpty("no half-written file");
    }

    // Every process whose command line names the demo's directory (the slapd, the emulator, a command run by the demo).
    private static List<string> Running(string dir)
    {
        var found = new List<string>();
        foreach (var proc in Directory.GetDirectories("/proc").Where(d => int.TryParse(Path.GetFileName(d), out _)))
        {
            try
            {
                var commandLine = File.ReadAllText(Path.Combine(proc, "cmdline")).Replace('\0', ' ');
                if (commandLine.Contains(dir, StringComparison.Ordinal))
                {
                    found.Add($"{Path.GetFileName(proc)}: {commandLine}");
                }
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }

        return found;
    }
}
