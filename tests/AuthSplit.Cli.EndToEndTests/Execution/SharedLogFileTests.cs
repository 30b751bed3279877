using System.Text.Json;

namespace AuthSplit.Cli.EndToEndTests.Execution;

/// <summary>One day's log file, written by several authsplit processes at once: serve all day, operators' commands beside it.</summary>
public sealed class SharedLogFileTests
{
    [Fact]
    public async Task Commands_run_while_serve_runs_append_whole_lines_to_the_days_log_and_tear_none()
    {
        await using var lab = await ExecutionLab.StartAsync(people: 10);
        using var serve = lab.StartCli("serve", "--config", lab.Config);
        for (var i = 0; i < 600 && !serve.HasExited && !serve.OutputSoFar.Contains("Serving scheduled waves", StringComparison.Ordinal); i++)
        {
            await Task.Delay(50);
        }

        serve.HasExited.Should().BeFalse(serve.OutputSoFar);

        // Before serve wrote and the commands shared the file, each process appended at its own offset and
        // overwrote the others' lines: 4 of 47 torn with six status commands beside serve.
        var commands = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => lab.CliAsync("status", "--config", lab.Config)));
        commands.Should().AllSatisfy(c => c.ExitCode.Should().Be(0, c.ToString()));
        serve.Signal(CliProcess.SigTerm);
        (await serve.WaitAsync(TimeSpan.FromSeconds(60))).ExitCode.Should().Be(143);

        var lines = Directory.GetFiles(Path.Combine(lab.Work, "logs"), "authsplit-*.log").SelectMany(File.ReadAllLines).ToList();
        lines.Should().HaveCountGreaterThan(14, "serve and six status commands each logged");
        foreach (var line in lines)
        {
            var parse = () => JsonDocument.Parse(line).Dispose();
            parse.Should().NotThrow("every line of the log is one whole JSON event: " + line);
        }
    }
}
