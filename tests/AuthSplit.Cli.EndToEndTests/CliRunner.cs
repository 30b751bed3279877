using System.Text;
using AuthSplit.Testing;

namespace AuthSplit.Cli.EndToEndTests;

/// <summary>Runs the real command tree in-process with captured stdout/stderr and a private work folder.</summary>
internal static class CliRunner
{
    static CliRunner()
    {
        // Logs of every test go to one private folder instead of the user's state directory.
        Environment.SetEnvironmentVariable("AUTHSPLIT_LOG_DIR", Path.Combine(Path.GetTempPath(), "authsplit-e2e-logs"));
    }

    public static string RepositoryRoot => TestPaths.RepositoryRoot;

    public static string Samples => TestPaths.Samples;

    public static async Task<CliResult> RunAsync(params string[] args)
    {
        var output = new StringWriter(new StringBuilder());
        var error = new StringWriter(new StringBuilder());
        var exitCode = await AuthSplitCommandLine.RunAsync(args, output, error);
        return new CliResult(exitCode, output.ToString(), error.ToString());
    }

    public static string NewWorkDirectory() => TestPaths.NewWorkDirectory();
}

internal sealed record CliResult(int ExitCode, string Output, string Error)
{
    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Output}\n--- stderr\n{Error}";
}
