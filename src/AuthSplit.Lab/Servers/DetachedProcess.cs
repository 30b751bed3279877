using System.Globalization;
using System.Runtime.InteropServices;

namespace AuthSplit.Lab.Servers;

/// <summary>
/// Who a process is, beyond its PID: the kernel's start time of that PID (clock ticks after boot, field 22
/// of <c>/proc/PID/stat</c>) and the boot it belongs to. A PID is reused after its process ends; the triple
/// is not, so a process recorded by one command can be stopped by another without ever hitting a stranger.
/// </summary>
public sealed record ProcessIdentity(int Pid, long StartTicks, string BootId)
{
    /// <summary>The identity of the running process <paramref name="pid"/>, or null when there is none (or only its zombie).</summary>
    public static ProcessIdentity? Of(int pid)
    {
        var stat = ReadStat(pid);
        if (stat is null || stat.Value.State == 'Z')
        {
            return null;
        }

        return new ProcessIdentity(pid, stat.Value.StartTicks, CurrentBootId());
    }

    /// <summary>True while this very process (same PID, start time and boot) runs; a zombie has stopped.</summary>
    public bool IsRunning()
    {
        var now = Of(Pid);
        return now is not null && now.StartTicks == StartTicks && string.Equals(now.BootId, BootId, StringComparison.Ordinal);
    }

    public static string CurrentBootId()
    {
        try
        {
            return File.ReadAllText("/proc/sys/kernel/random/boot_id").Trim();
        }
        catch (IOException)
        {
            return "unknown";
        }
    }

    private static (char State, long StartTicks)? ReadStat(int pid)
    {
        string text;
        try
        {
            text = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        // The command name (field 2) may hold spaces and parentheses: the fields after it follow the last ')'.
        var afterName = text.LastIndexOf(')');
        if (afterName < 0)
        {
            return null;
        }

        var fields = text[(afterName + 2)..].Split(' ');

        // fields[0] is field 3 (state); field 22 (starttime) is fields[19].
        return fields.Length > 19 && long.TryParse(fields[19], NumberStyles.None, CultureInfo.InvariantCulture, out var ticks)
            ? (fields[0][0], ticks)
            : null;
    }
}

/// <summary>Stops a process another command started, by its <see cref="ProcessIdentity"/>: SIGTERM, then SIGKILL after a grace period.</summary>
public static partial class DetachedProcess
{
    private const int SigTerm = 15;
    private const int SigKill = 9;

    /// <summary>
    /// Stops <paramref name="identity"/> if it still runs; true if it was running. Each signal is sent only
    /// after checking that the PID is still that process, so a reused PID is never signalled.
    /// </summary>
    public static async Task<bool> StopAsync(ProcessIdentity identity, TimeSpan grace, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(identity);
        if (!identity.IsRunning())
        {
            return false;
        }

        _ = Kill(identity.Pid, SigTerm);
        var deadline = DateTime.UtcNow + grace;
        while (identity.IsRunning())
        {
            if (DateTime.UtcNow > deadline)
            {
                _ = Kill(identity.Pid, SigKill);
                deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
            }

            await Task.Delay(50, cancellationToken);
        }

        return true;
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
