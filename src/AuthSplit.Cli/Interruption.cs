using System.Collections.Concurrent;
using System.Runtime.InteropServices;

namespace AuthSplit.Cli;

/// <summary>
/// Ctrl+C (SIGINT) and SIGTERM: the first one cancels the run, which then removes what it had half
/// written and exits 130 or 143; a second one ends the process at once, after deleting the temporary
/// files still open. A file is put in place only under <see cref="CommitGate"/>, which the signal
/// handler also takes, so a plan is either committed before the signal was handled or not at all.
/// </summary>
public sealed class Interruption : IDisposable
{
    private static readonly ConcurrentDictionary<string, byte> PendingFiles = new(StringComparer.Ordinal);

    private readonly CancellationTokenSource _cancellation = new();
    private readonly List<PosixSignalRegistration> _registrations = [];
    private int _signals;

    private Interruption()
    {
    }

    /// <summary>Taken by whoever renames a finished file into place and by the signal handler that cancels.</summary>
    public static Lock CommitGate { get; } = new();

    public CancellationToken Token => _cancellation.Token;

    /// <summary>The signal that cancelled the run, if one did.</summary>
    public PosixSignal? Signal { get; private set; }

    /// <summary>130 after SIGINT, 143 after SIGTERM (128 + the signal number, as shells report it).</summary>
    public int ExitCode => Signal == PosixSignal.SIGTERM ? ExitCodes.Terminated : ExitCodes.Cancelled;

    public static Interruption Register()
    {
        var interruption = new Interruption();
        interruption._registrations.Add(PosixSignalRegistration.Create(PosixSignal.SIGINT, interruption.Handle));
        interruption._registrations.Add(PosixSignalRegistration.Create(PosixSignal.SIGTERM, interruption.Handle));

        return interruption;
    }

    /// <summary>A temporary file that must not outlive the process, whatever ends it.</summary>
    public static void Track(string path) => PendingFiles.TryAdd(path, 0);

    public static void Untrack(string path) => PendingFiles.TryRemove(path, out _);

    public void Dispose()
    {
        foreach (var registration in _registrations)
        {
            registration.Dispose();
        }

        _cancellation.Dispose();
    }

    private void Handle(PosixSignalContext context)
    {
        if (Interlocked.Increment(ref _signals) > 1)
        {
            // The second signal: the operator wants out now. Nothing half-written stays behind.
            DeletePendingFiles();
            context.Cancel = false;
            return;
        }

        context.Cancel = true;
        lock (CommitGate)
        {
            Signal = context.Signal;
            _cancellation.Cancel();
        }
    }

    private static void DeletePendingFiles()
    {
        foreach (var path in PendingFiles.Keys)
        {
            try
            {
                if (Directory.Exists(path))
                {
                    Directory.Delete(path, recursive: true);
                }
                else
                {
                    File.Delete(path);
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Best effort on the way out.
            }
        }
    }
}
