using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace AuthSplit.Cli.Demo;

/// <summary>What one authsplit command printed and how it ended.</summary>
public sealed record DemoCommandResult(IReadOnlyList<string> Arguments, int ExitCode, string Output, string Error)
{
    public string All => Output + Error;

    public string CommandLine => "authsplit " + string.Join(' ', Arguments.Select(a => a.Contains(' ', StringComparison.Ordinal) ? $"\"{a}\"" : a));
}

/// <summary>
/// The demo runs every step as the operator would: the real <c>authsplit</c> command, as its own process
/// (the same build as this one), its output shown indented as it comes. Only one runs at a time; on Ctrl+C
/// the one running gets SIGINT too (it stops between steps, as it does for an operator) and is waited for.
/// </summary>
public sealed partial class DemoChild : IDisposable
{
    private const int SigInt = 2;
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly StringBuilder _error = new();
    private readonly TaskCompletionSource _outputClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _errorClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Action<string> _show;
    private readonly string[] _arguments;

    private DemoChild(Process process, string[] arguments, Action<string> show)
    {
        _process = process;
        _arguments = arguments;
        _show = show;
    }

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>Everything printed so far, both streams.</summary>
    public string SoFar
    {
        get
        {
            lock (_output)
            {
                return _output.ToString() + _error;
            }
        }
    }

    public static DemoChild Start(string workingDirectory, IReadOnlyDictionary<string, string> environment, Action<string> show, params string[] arguments)
    {
        // In a session of its own (setsid): Ctrl+C in the terminal reaches the demo only, which passes exactly
        // one SIGINT on; a second one would make the command leave at once instead of stopping between steps.
        var setsid = File.Exists("/usr/bin/setsid") ? "/usr/bin/setsid" : null;
        var start = new ProcessStartInfo(setsid ?? DotnetHost())
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        if (setsid is not null)
        {
            start.ArgumentList.Add(DotnetHost());
        }

        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "authsplit.dll"));
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var child = new DemoChild(process, arguments, show);
        process.OutputDataReceived += (_, e) => child.Receive(e.Data, child._output, child._outputClosed);
        process.ErrorDataReceived += (_, e) => child.Receive(e.Data, child._error, child._errorClosed);
        process.Start();
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    /// <summary>Waits for the command to end. Cancelling sends it SIGINT and still waits (it cleans up, then exits 130).</summary>
    public async Task<DemoCommandResult> WaitAsync(CancellationToken cancellationToken)
    {
        try
        {
            await _process.WaitForExitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            Interrupt();
            using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            try
            {
                await _process.WaitForExitAsync(grace.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync(CancellationToken.None);
            }

            throw;
        }

        await Task.WhenAll(_outputClosed.Task, _errorClosed.Task).WaitAsync(TimeSpan.FromSeconds(10), CancellationToken.None);
        lock (_output)
        {
            return new DemoCommandResult(_arguments, _process.ExitCode, _output.ToString(), _error.ToString());
        }
    }

    /// <summary>SIGINT, as Ctrl+C in the operator's terminal sends it.</summary>
    public void Interrupt()
    {
        if (!_process.HasExited)
        {
            _ = Kill(_process.Id, SigInt);
        }
    }

    /// <summary>A command still running when the demo leaves it (a stage that failed) is interrupted and waited for, never left behind.</summary>
    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                Interrupt();
                if (!_process.WaitForExit(TimeSpan.FromSeconds(60)))
                {
                    _process.Kill(entireProcessTree: true);
                    _process.WaitForExit();
                }
            }
        }
        catch (InvalidOperationException)
        {
            // Never started.
        }

        _process.Dispose();
    }

    private void Receive(string? line, StringBuilder into, TaskCompletionSource closed)
    {
        if (line is null)
        {
            closed.TrySetResult();
            return;
        }

        lock (_output)
        {
            into.Append(line).Append('\n');
        }

        _show(line);
    }

    // The dotnet host running this CLI, to run the same build's authsplit.dll.
    private static string DotnetHost()
    {
        if (Environment.ProcessPath is { } self && Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            return self;
        }

        foreach (var candidate in new[] { Environment.GetEnvironmentVariable("DOTNET_HOST_PATH"), Environment.GetEnvironmentVariable("DOTNET_ROOT") is { } root ? Path.Combine(root, "dotnet") : null })
        {
            if (candidate is not null && File.Exists(candidate))
            {
                return candidate;
            }
        }

        var beside = Path.GetFullPath(Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), "..", "..", "..", "dotnet"));
        return File.Exists(beside) ? beside : "dotnet";
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
