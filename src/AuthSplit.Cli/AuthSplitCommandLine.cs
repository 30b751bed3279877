using System.CommandLine;
using AuthSplit.Cli.Configuration;
using AuthSplit.Cli.Evidence;
using AuthSplit.Cli.Execution;
using AuthSplit.Cli.Logging;
using AuthSplit.Cli.Planning;

namespace AuthSplit.Cli;

/// <summary>The command tree. Each command's action returns an exit code from <see cref="ExitCodes"/>.</summary>
public static class AuthSplitCommandLine
{
    public static async Task<int> RunAsync(string[] args, TextWriter? output = null, TextWriter? error = null, Interruption? interruption = null)
    {
        var console = new CliConsole(output ?? Console.Out, error ?? Console.Error) { Interruption = interruption };
        var root = new RootCommand("AuthSplit: take a company's identities out of a shared legacy directory into its own Entra ID, wave by wave, with evidence.")
        {
            PlanCommand.Create(console),
            ConfigCheckCommand.Create(console),
            ApproveCommand.Create(console),
            RunCommand.Create(console),
            ScheduleCommand.Schedule(console),
            ScheduleCommand.Serve(console),
            RestoreCommand.Create(console),
            RollbackCommand.Create(console),
            StatusCommand.Create(console),
            PauseCommands.Pause(console),
            PauseCommands.Resume(console),
            GateCommand.Create(console),
            EvidenceCommand.Create(console),
            Rehearsal.LabCommand.Create(console),
            Demo.DemoCommand.Create(console),
        };

        var parseResult = root.Parse(args);
        if (parseResult.Errors.Count > 0)
        {
            foreach (var parseError in parseResult.Errors)
            {
                await console.Error.WriteLineAsync($"error: {parseError.Message}");
            }

            await console.Error.WriteLineAsync("Run 'authsplit --help' for usage.");

            // Input errors go to the JSON log too (the default directory: the command line naming another was not understood).
            await using var log = LoggingSetup.Create(TextWriter.Null, null, verbose: false);
            foreach (var parseError in parseResult.Errors)
            {
                log.Logger.FileOnly().Error("Command line error: {Message}", parseError.Message);
            }

            return ExitCodes.BadInput;
        }

        var invocation = new InvocationConfiguration { Output = console.Output, Error = console.Error, EnableDefaultExceptionHandler = false };
        if (interruption is null)
        {
            return await parseResult.InvokeAsync(invocation);
        }

        // Our own handler, not System.CommandLine's: it would end the process after a timeout, leaving temporary files behind.
        invocation.ProcessTerminationTimeout = null;
        return await parseResult.InvokeAsync(invocation, interruption.Token);
    }
}

/// <summary>Where results (stdout) and diagnostics (stderr) go; tests pass their own writers.</summary>
public sealed record CliConsole(TextWriter Output, TextWriter Error)
{
    /// <summary>The process's signal handling, when the CLI runs as its own process (null in-process).</summary>
    public Interruption? Interruption { get; init; }
}
