using System.CommandLine;
using AuthSplit.Cli.Configuration;
using AuthSplit.Cli.Planning;

namespace AuthSplit.Cli;

/// <summary>The command tree. Each command's action returns an exit code from <see cref="ExitCodes"/>.</summary>
public static class AuthSplitCommandLine
{
    public static async Task<int> RunAsync(string[] args, TextWriter? output = null, TextWriter? error = null)
    {
        var console = new CliConsole(output ?? Console.Out, error ?? Console.Error);
        var root = new RootCommand("AuthSplit: take a company's identities out of a shared legacy directory into its own Entra ID, wave by wave, with evidence.")
        {
            PlanCommand.Create(console),
            ConfigCheckCommand.Create(console),
        };

        var parseResult = root.Parse(args);
        if (parseResult.Errors.Count > 0)
        {
            foreach (var parseError in parseResult.Errors)
            {
                await console.Error.WriteLineAsync($"error: {parseError.Message}");
            }

            await console.Error.WriteLineAsync("Run 'authsplit --help' for usage.");
            return ExitCodes.BadInput;
        }

        var invocation = new InvocationConfiguration { Output = console.Output, Error = console.Error, EnableDefaultExceptionHandler = false };
        return await parseResult.InvokeAsync(invocation);
    }
}

/// <summary>Where results (stdout) and diagnostics (stderr) go; tests pass their own writers.</summary>
public sealed record CliConsole(TextWriter Output, TextWriter Error);
