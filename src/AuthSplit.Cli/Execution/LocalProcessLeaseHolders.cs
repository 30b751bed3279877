using System.Diagnostics;
using System.Globalization;
using AuthSplit.Core.Execution.Cluster;

namespace AuthSplit.Cli.Execution;

/// <summary>
/// A lease holder named <c>machine/pid/start</c> (the process's start time in ticks, so a reused pid is not
/// mistaken for the holder). A holder of this machine whose process no longer runs, or runs as another
/// process, is gone: after a crash or a SIGKILL the next run takes its wave at once instead of waiting
/// for the lease to lapse. A holder of another machine is never known to be gone here.
/// </summary>
internal sealed class LocalProcessLeaseHolders : ILeaseHolders
{
    // Start times read from /proc may differ by a clock tick between readings.
    private static readonly TimeSpan StartTolerance = TimeSpan.FromSeconds(1);

    private LocalProcessLeaseHolders(string me) => Me = me;

    public string Me { get; }

    public static LocalProcessLeaseHolders ForThisProcess()
    {
        using var self = Process.GetCurrentProcess();
        return new LocalProcessLeaseHolders(Name(Environment.MachineName, self.Id, self.StartTime.ToUniversalTime()));
    }

    public static string Name(string machine, int pid, DateTime startedUtc) =>
        string.Create(CultureInfo.InvariantCulture, $"{machine}/{pid}/{startedUtc.Ticks}");

    public bool IsGone(string holder)
    {
        var parts = holder.Split('/');
        if (parts.Length != 3
            || !string.Equals(parts[0], Environment.MachineName, StringComparison.OrdinalIgnoreCase)
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
            || !long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var ticks))
        {
            return false;
        }

        try
        {
            using var process = Process.GetProcessById(pid);
            return process.HasExited || (process.StartTime.ToUniversalTime() - new DateTime(ticks, DateTimeKind.Utc)).Duration() > StartTolerance;
        }
        catch (ArgumentException)
        {
            return true; // no process with that id runs
        }
        catch (InvalidOperationException)
        {
            return true; // it ended while being looked at
        }
    }
}
