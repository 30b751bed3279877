using System.Diagnostics;

namespace AuthSplit.Cli.EndToEndTests;

/// <summary>
/// Runs the built <c>authsplit</c> as its own process (<c>dotnet exec authsplit.dll</c>), with its own
/// environment and working directory, as an operator's shell would: exit code, stdout and stderr.
/// </summary>
internal static class OperatorProcess
{
    private static readonly Lazy<string> Assembly = new(FindAssembly);

    public static string Dotnet => Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";

    public static Task<CliResult> RunAsync(IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null, string? workingDirectory = null) =>
        RunProgramAsync(Dotnet, ["exec", Assembly.Value, .. args], environment, workingDirectory);

    /// <summary>Runs any program (dotnet, sed, the installed tool) with a timeout, capturing its output.</summary>
    public static async Task<CliResult> RunProgramAsync(string program, IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null, string? workingDirectory = null, TimeSpan? timeout = null)
    {
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? CliRunner.RepositoryRoot,
        };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["AUTHSPLIT_LOG_DIR"] = Path.Combine(Path.GetTempPath(), "authsplit-e2e-logs");
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"cannot start {program}");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(timeout ?? TimeSpan.FromMinutes(3));
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(' ', start.ArgumentList)} did not finish in time");
        }

        return new CliResult(process.ExitCode, await output, await error);
    }

    // The CLI's own build output, in the configuration this test was built in (bin/<Configuration>/net10.0).
    private static string FindAssembly()
    {
        var here = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var candidates = new[]
        {
            Path.Combine(CliRunner.RepositoryRoot, "src", "AuthSplit.Cli", "bin", here.Parent!.Name, here.Name, "authsplit.dll"),
            Path.Combine(AppContext.BaseDirectory, "authsplit.dll"),
        };
        return candidates.FirstOrDefault(c => File.Exists(c) && File.Exists(Path.ChangeExtension(c, ".runtimeconfig.json")))
            ?? throw new InvalidOperationException("the built authsplit.dll was not found: " + string.Join(", ", candidates));
    }
}
