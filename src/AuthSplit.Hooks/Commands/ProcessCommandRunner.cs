using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using AuthSplit.Core.Configuration;
using AuthSplit.Core.Execution.Systems;
using AuthSplit.Hooks.Output;

namespace AuthSplit.Hooks.Commands;

/// <summary>
/// Runs a hook program directly (argv, no shell: nothing in a configured argument is ever interpreted),
/// with AuthSplit's environment plus the step's variables. Its whole process tree is killed at the
/// timeout and on cancellation, so a cutover script's children never outlive the step that gave up on it.
/// </summary>
public sealed class ProcessCommandRunner(HookSecrets secrets, TimeProvider time) : ICommandRunner
{
    private const int NotFound = 2;
    private const int PermissionDenied = 13;

    // How long output may still arrive after the program ended: a background child it left behind can
    // hold the pipes open for ever, and the step must not wait for that.
    private static readonly TimeSpan OutputGrace = TimeSpan.FromSeconds(2);

    public ProcessCommandRunner()
        : this(HookSecrets.None, TimeProvider.System)
    {
    }

    public async Task<HookOutcome> RunAsync(IReadOnlyList<string> command, IReadOnlyDictionary<string, string> environment, string? standardInput, TimeSpan timeout, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfZero(command.Count, nameof(command));
        cancellationToken.ThrowIfCancellationRequested();
        var mask = secrets.Resolve();
        var program = command[0];
        if (string.IsNullOrWhiteSpace(program))
        {
            return Outcome(HookStatus.Unavailable, null, time.GetTimestamp(), null, mask, "no program given: the command's first element is empty");
        }

        var what = mask.Apply(string.Join(' ', command.Select(Quote)));
        var started = time.GetTimestamp();

        var startInfo = new ProcessStartInfo(program)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            CreateNoWindow = true,
        };
        foreach (var argument in command.Skip(1))
        {
            startInfo.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment)
        {
            startInfo.Environment[name] = value;
        }

        using var process = new Process { StartInfo = startInfo };
        try
        {
            process.Start();
        }
        catch (Win32Exception ex)
        {
            // The message names the program and why, never the environment (PATH included).
            var why = ex.NativeErrorCode switch
            {
                NotFound => "no such program (not on PATH, or the path does not exist)",
                PermissionDenied => "it is not executable (permission denied)",
                _ => $"error {ex.NativeErrorCode.ToString(CultureInfo.InvariantCulture)}",
            };
            return Outcome(HookStatus.Unavailable, null, started, null, mask, $"cannot start {Quote(program)}: {why}");
        }

        using var capture = new OutputCapture(SystemDefaults.OutputExcerptBytes + mask.Margin);
        using var standardError = new SpooledBuffer();
        using var stopReading = new CancellationTokenSource();
        var gate = new Lock();
        var closed = false;
        void Sink(Action write)
        {
            lock (gate)
            {
                if (!closed)
                {
                    write();
                }
            }
        }

        var input = WriteInputAsync(process.StandardInput, standardInput);
        var output = Task.WhenAll(
            PumpAsync(process.StandardOutput.BaseStream, bytes => Sink(() => capture.Append(bytes.Span)), stopReading.Token),
            PumpAsync(process.StandardError.BaseStream, bytes => Sink(() => standardError.Append(bytes.Span)), stopReading.Token));

        using var deadline = new CancellationTokenSource(timeout, time);
        using var waiting = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, cancellationToken);
        var timedOut = false;
        try
        {
            await process.WaitForExitAsync(waiting.Token);
        }
        catch (OperationCanceledException)
        {
            KillTree(process);
            timedOut = !cancellationToken.IsCancellationRequested;
            if (!timedOut)
            {
                await FinishReadingAsync(process, output, input, stopReading);
                throw;
            }
        }

        var elapsed = time.GetElapsedTime(started);
        var outputComplete = await FinishReadingAsync(process, output, input, stopReading);
        lock (gate)
        {
            // A read that ignored its cancellation must not write into what is now being summed up.
            closed = true;
        }

        // What the program printed on stdout alone (a read-back hook's answer), before stderr joins the excerpt.
        var standardOutput = mask.Excerpt(capture.Head);
        standardError.CopyTo(capture);
        var printed = string.Create(CultureInfo.InvariantCulture, $"printed {capture.TotalBytes:N0} bytes{(outputComplete ? string.Empty : " (a process it left behind kept its output open; the rest is not read)")}");
        var seconds = Seconds(elapsed);
        if (timedOut)
        {
            return Outcome(HookStatus.TimedOut, null, elapsed, capture, mask, $"{what} did not finish within {Seconds(timeout)} s and was killed with its child processes; {printed}") with { StandardOutput = standardOutput };
        }

        var exitCode = process.ExitCode;
        return (exitCode == 0
            ? Outcome(HookStatus.Succeeded, 0, elapsed, capture, mask, $"{what} exited 0 after {seconds} s; {printed}")
            : Outcome(HookStatus.Refused, exitCode, elapsed, capture, mask, $"{what} exited {exitCode.ToString(CultureInfo.InvariantCulture)} after {seconds} s; {printed}")) with { StandardOutput = standardOutput };
    }

    private HookOutcome Outcome(HookStatus status, int? exitCode, long started, OutputCapture? capture, SecretMask mask, string detail) =>
        Outcome(status, exitCode, time.GetElapsedTime(started), capture, mask, detail);

    private static HookOutcome Outcome(HookStatus status, int? exitCode, TimeSpan duration, OutputCapture? capture, SecretMask mask, string detail)
    {
        using var empty = capture is null ? new OutputCapture(0) : null;
        var output = capture ?? empty!;
        return new HookOutcome
        {
            Status = status,
            ExitCode = exitCode,
            Duration = duration,
            OutputSha256 = output.Sha256(),
            OutputExcerpt = mask.Excerpt(output.Head),
            Detail = mask.Apply(detail),
        };
    }

    private static void KillTree(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // It ended on its own in the meantime.
        }
    }

    /// <summary>Waits for the process to be reaped and for its output to end, at most <see cref="OutputGrace"/>; false when output was left unread.</summary>
    private static async Task<bool> FinishReadingAsync(Process process, Task output, Task input, CancellationTokenSource stopReading)
    {
        try
        {
            await process.WaitForExitAsync(CancellationToken.None).WaitAsync(OutputGrace);
        }
        catch (TimeoutException)
        {
            // Killed but not yet reaped; the output wait below is bounded too.
        }

        var complete = true;
        try
        {
            await output.WaitAsync(OutputGrace);
        }
        catch (TimeoutException)
        {
            complete = false;
        }

        await stopReading.CancelAsync();
        try
        {
            await Task.WhenAll(output, input).WaitAsync(OutputGrace);
        }
        catch (Exception ex) when (ex is OperationCanceledException or TimeoutException)
        {
        }
        catch (IOException)
        {
            // The pipe broke when the process died: what was read is what there is.
        }

        return complete;
    }

    private static async Task PumpAsync(Stream stream, Action<ReadOnlyMemory<byte>> sink, CancellationToken cancellationToken)
    {
        var buffer = new byte[16 * 1024];
        int read;
        while ((read = await stream.ReadAsync(buffer, cancellationToken)) > 0)
        {
            sink(buffer.AsMemory(0, read));
        }
    }

    private static async Task WriteInputAsync(StreamWriter writer, string? text)
    {
        try
        {
            if (text is not null)
            {
                await writer.BaseStream.WriteAsync(Encoding.UTF8.GetBytes(text));
            }
        }
        catch (IOException)
        {
            // The program ended (or closed its input) without reading it all; its exit says the rest.
        }
        finally
        {
            try
            {
                writer.Close();
            }
            catch (IOException)
            {
            }
        }
    }

    private static string Seconds(TimeSpan duration) => duration.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture);

    private static string Quote(string argument) =>
        argument.Length > 0 && !argument.Any(c => char.IsWhiteSpace(c) || c is '"' or '\'') ? argument : "\"" + argument.Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
}
