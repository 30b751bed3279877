using System.Runtime.InteropServices;

namespace AuthSplit.Ldap;

/// <summary>
/// Makes libldap wait again when a signal interrupts its wait for the server, instead of calling the
/// connection dead (Linux, where System.DirectoryServices.Protocols runs on libldap).
/// </summary>
/// <remarks>
/// libldap waits for a response in poll(2), and by default (LDAP_OPT_RESTART off) a poll that returns
/// EINTR ends the call with LDAP_SERVER_DOWN (result.c, wait4msg). .NET installs signal handlers (SIGCHLD
/// to reap children, others such as SIGWINCH for the console), and the kernel sends a child's SIGCHLD to
/// the thread that started it: a pool thread, which may by then be waiting inside libldap for us. So any
/// child process ending at the wrong moment "lost the connection" to a healthy server, or made a silent
/// server look down at once instead of timing out. Measured here (SignalInterruptionTests, short-lived
/// children started from pool threads): StartTLS opens against a silent server failed as "server down"
/// exactly one child lifetime (0.5 s) into their wait, in 4 runs of 4; LDAPS paged reads of 3,257 entries
/// were "lost" after 400-3,000 entries in 3 runs of 3. The full suite, which runs slapadd, ldapmodify and
/// openssl throughout, saw a 40,000-entry read lost after 12,600 entries. With LDAP_OPT_RESTART on, an
/// interrupted wait resumes with what remains of its timeout. The option is set on libldap's global
/// defaults, which every handle copies when it is created, so it must be set before the first connection.
/// </remarks>
internal static class LibLdapRestart
{
    private const int LdapOptRestart = 0x09;
    private const int LdapOptSuccess = 0;

    // The names System.DirectoryServices.Protocols 10 loads, in its order, so this sets the options of
    // the same library instance (a name already loaded resolves to the loaded copy).
    private static readonly string[] LibraryNames = ["libldap.so.2", "libldap-2.6.so.0", "libldap-2.5.so.0", "libldap-2.4.so.2"];

    private static readonly Lazy<bool> Applied = new(Apply, LazyThreadSafetyMode.ExecutionAndPublication);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate int SetOption(IntPtr ld, int option, IntPtr value);

    /// <summary>
    /// Turns LDAP_OPT_RESTART on for every connection opened from now on; once per process. Nothing to do
    /// where libldap is not used (Windows) or cannot be loaded (S.DS.P then reports that itself).
    /// </summary>
    public static void EnsureApplied() => _ = Applied.Value;

    private static bool Apply()
    {
        if (!TryLoad(out var library))
        {
            return false;
        }

        var set = Marshal.GetDelegateForFunctionPointer<SetOption>(NativeLibrary.GetExport(library, "ldap_set_option"));

        // A bool option is on for any non-null value pointer (LDAP_OPT_ON is the address of a constant).
        var rc = set(IntPtr.Zero, LdapOptRestart, new IntPtr(1));
        return rc == LdapOptSuccess
            ? true
            : throw new InvalidOperationException($"libldap refused LDAP_OPT_RESTART (result {rc})");
    }

    private static bool TryLoad(out IntPtr library)
    {
        library = IntPtr.Zero;
        if (!OperatingSystem.IsLinux())
        {
            return false;
        }

        foreach (var name in LibraryNames)
        {
            if (NativeLibrary.TryLoad(name, out library))
            {
                return true;
            }
        }

        return false;
    }
}
