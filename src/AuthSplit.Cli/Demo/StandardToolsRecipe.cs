using System.Diagnostics;
using System.Reflection;
using System.Text;
using AuthSplit.Lab.Servers;

namespace AuthSplit.Cli.Demo;

/// <summary>
/// Runbook 09's check of an evidence pack with standard tools only (openssl, sha256sum, jq, bash), taken
/// from the runbook itself (embedded in the CLI at build time), so what the demo runs is what the auditor
/// reads. Run with bash, PACK and FINGERPRINT in its environment, as the runbook says.
/// </summary>
public static class StandardToolsRecipe
{
    public static IReadOnlyList<RequiredTool> Tools { get; } =
    [
        new("openssl", "openssl", "/usr/bin/openssl"),
        new("jq", "jq", "/usr/bin/jq"),
    ];

    /// <summary>The runbook's one <c>```bash</c> block.</summary>
    public static string Script()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("AuthSplit.Cli.Demo.runbook-09.md")
            ?? throw new InvalidOperationException("runbook 09 is not embedded in this build");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var text = reader.ReadToEnd().Replace("\r\n", "\n", StringComparison.Ordinal);
        var start = text.IndexOf("```bash\n", StringComparison.Ordinal);
        var end = start < 0 ? -1 : text.IndexOf("\n```", start + 8, StringComparison.Ordinal);
        return start < 0 || end < 0
            ? throw new InvalidOperationException("runbook 09 holds no ```bash block")
            : text[(start + 8)..(end + 1)];
    }

    public static async Task<DemoCommandResult> RunAsync(string pack, string fingerprint, IReadOnlyDictionary<string, string> tools, Action<string> show, CancellationToken cancellationToken)
    {
        var script = Path.Combine(Path.GetDirectoryName(pack)!, "runbook-09-recipe.sh");
        await File.WriteAllTextAsync(script, Script(), cancellationToken);
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(script);
        start.Environment["PACK"] = pack;
        start.Environment["FINGERPRINT"] = fingerprint;
        var paths = tools.Values.Select(Path.GetDirectoryName).Where(d => d is not null).Distinct();
        start.Environment["PATH"] = string.Join(':', paths.Append(Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin"));
        using var process = Process.Start(start) ?? throw new InvalidOperationException("bash did not start");
        var output = new StringBuilder();
        var error = new StringBuilder();
        async Task Pump(StreamReader from, StringBuilder into)
        {
            while (await from.ReadLineAsync(CancellationToken.None) is { } line)
            {
                lock (output)
                {
                    into.Append(line).Append('\n');
                }

                show(line);
            }
        }

        var pumps = Task.WhenAll(Pump(process.StandardOutput, output), Pump(process.StandardError, error));
        try
        {
            await process.WaitForExitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
            throw;
        }

        await pumps;
        return new DemoCommandResult(["bash", script], process.ExitCode, output.ToString(), error.ToString());
    }
}
