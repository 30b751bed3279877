using System.Diagnostics;
using System.Text;

namespace AuthSplit.Lab.Servers;

/// <summary>Runs a short-lived command and returns its output; a non-zero exit is an exception with stderr.</summary>
public static class ProcessRunner
{
    public sealed record Result(int ExitCode, string Output, string Error);

    public static async Task<Result> RunAsync(string fileName, IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment, TimeSpan timeout, CancellationToken cancellationToken, string? standardInput = null)
    {
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = standardInput is not null,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }

        using var process = Process.Start(info) ?? throw new LabServerException($"could not start {fileName}");
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var error = process.StandardError.ReadToEndAsync(cancellationToken);
        if (standardInput is not null)
        {
            await process.StandardInput.WriteAsync(standardInput.AsMemory(), cancellationToken);
            process.StandardInput.Close();
        }

        using var timeoutSource = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeoutSource.CancelAfter(timeout);
        try
        {
            await process.WaitForExitAsync(timeoutSource.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new LabServerException($"{Path.GetFileName(fileName)} did not finish within {timeout.TotalSeconds:0} s");
        }

        return new Result(process.ExitCode, await output, await error);
    }

    public static async Task<Result> RunCheckedAsync(string fileName, IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment, TimeSpan timeout, CancellationToken cancellationToken, string? standardInput = null)
    {
        var list = arguments.ToArray();
        var result = await RunAsync(fileName, list, environment, timeout, cancellationToken, standardInput);
        if (result.ExitCode != 0)
        {
            var detail = new StringBuilder().Append(result.Error.Trim());
            if (detail.Length == 0)
            {
                detail.Append(result.Output.Trim());
            }

            throw new LabServerException($"{Path.GetFileName(fileName)} {string.Join(' ', list.Take(3))}... exited with {result.ExitCode}: {Truncate(detail.ToString())}");
        }

        return result;
    }

    private static string Truncate(string text) => text.Length <= 2000 ? text : text[..2000] + "...";
}
