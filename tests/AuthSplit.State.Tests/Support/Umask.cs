using System.Runtime.InteropServices;

namespace AuthSplit.State.Tests.Support;

/// <summary>The process umask, set for a test and restored after (libc's umask; Linux and macOS).</summary>
internal static class Umask
{
    public static IDisposable Set(uint mask)
    {
        var previous = umask(mask);
        return new Restore(previous);
    }

    public static bool IsRoot => geteuid() == 0;

    [DllImport("libc", EntryPoint = "umask")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern uint umask(uint mask);

    [DllImport("libc", EntryPoint = "geteuid")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern uint geteuid();

    private sealed class Restore(uint previous) : IDisposable
    {
        public void Dispose() => _ = umask(previous);
    }
}
