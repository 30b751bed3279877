using System.Diagnostics;

namespace AuthSplit.Lab.Servers;

/// <summary>A program a lab server needs and the Debian packages (space-separated) that make it work.</summary>
public sealed record RequiredTool(string Name, string Package, params string[] Locations)
{
    public static RequiredTool Slapd { get; } = new("slapd", "slapd", "/usr/sbin/slapd");
    public static RequiredTool Slapadd { get; } = new("slapadd", "slapd", "/usr/sbin/slapadd");
    public static RequiredTool LdapSearch { get; } = new("ldapsearch", "ldap-utils", "/usr/bin/ldapsearch");
    public static RequiredTool LdapAdd { get; } = new("ldapadd", "ldap-utils", "/usr/bin/ldapadd");
    public static RequiredTool LdapModify { get; } = new("ldapmodify", "ldap-utils", "/usr/bin/ldapmodify");
    // samba-ad-provision holds the provisioning templates; it is only a recommendation of samba.
    public static RequiredTool SambaTool { get; } = new("samba-tool", "samba samba-ad-provision samba-dsdb-modules", "/usr/bin/samba-tool");
    public static RequiredTool Samba { get; } = new("samba", "samba", "/usr/sbin/samba");

    // Debian keeps PostgreSQL's server programs per major version, off the PATH; bookworm ships 15.
    public static RequiredTool PostgresInitdb { get; } = new("initdb", "postgresql", PostgresBinaries("initdb"));
    public static RequiredTool Postgres { get; } = new("postgres", "postgresql", PostgresBinaries("postgres"));

    private static string[] PostgresBinaries(string name) =>
        Enumerable.Range(13, 6).Reverse().Select(version => $"/usr/lib/postgresql/{version}/bin/{name}").ToArray();

    public string? Find() =>
        Locations.FirstOrDefault(File.Exists)
        ?? (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(directory => Path.Combine(directory, Name))
            .FirstOrDefault(File.Exists);
}

/// <summary>
/// Finds the programs lab servers need and installs the missing ones from Debian's packages (as root
/// on Debian/Ubuntu), so a fresh machine with only the .NET SDK can run every test. Elsewhere it fails
/// with the exact command to run. Package scripts are kept from starting system daemons, which would
/// take the ports (389, 636) the private servers need.
/// </summary>
public static class DebianPackages
{
    private const string LockPath = "/tmp/authsplit-apt.lock";
    private const string PolicyPath = "/usr/sbin/policy-rc.d";
    private static readonly SemaphoreSlim Gate = new(1, 1);

    public static async Task<IReadOnlyDictionary<string, string>> EnsureAsync(IEnumerable<RequiredTool> tools, TextWriter? log, CancellationToken cancellationToken)
    {
        var required = tools.ToArray();
        var missing = required.Where(t => t.Find() is null).ToArray();
        if (missing.Length > 0)
        {
            await InstallAsync(missing.SelectMany(t => t.Package.Split(' ')).Distinct().ToArray(), log, cancellationToken);
        }

        var found = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var tool in required)
        {
            found[tool.Name] = tool.Find() ?? throw new LabServerException($"{tool.Name} is still missing after installing the Debian packages {tool.Package}");
        }

        return found;
    }

    private static async Task InstallAsync(string[] packages, TextWriter? log, CancellationToken cancellationToken)
    {
        var command = $"apt-get install -y {string.Join(' ', packages)}";
        if (!File.Exists("/etc/debian_version") || !File.Exists("/usr/bin/apt-get"))
        {
            throw new LabServerException($"the lab servers need {string.Join(", ", packages)}; this is not a Debian/Ubuntu machine: install the equivalent packages (on Debian: sudo {command})");
        }

        if (Environment.UserName != "root" && !IsRoot())
        {
            throw new LabServerException($"the lab servers need {string.Join(", ", packages)}, which are not installed; run: sudo {command}");
        }

        await Gate.WaitAsync(cancellationToken);
        try
        {
            using var machineLock = await AcquireMachineLockAsync(cancellationToken);
            log?.WriteLine($"installing {string.Join(' ', packages)} from Debian's packages (needed by the lab servers)");
            var createdPolicy = false;
            if (!File.Exists(PolicyPath))
            {
                // Keep package scripts from starting the system slapd/samba on 389/636.
                await File.WriteAllTextAsync(PolicyPath, "#!/bin/sh\nexit 101\n", cancellationToken);
                if (!OperatingSystem.IsWindows())
                {
                    File.SetUnixFileMode(PolicyPath, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
                }

                createdPolicy = true;
            }

            try
            {
                var environment = new Dictionary<string, string> { ["DEBIAN_FRONTEND"] = "noninteractive" };
                await ProcessRunner.RunCheckedAsync("/usr/bin/apt-get", ["-o", "DPkg::Lock::Timeout=600", "update", "-qq"], environment, TimeSpan.FromMinutes(10), cancellationToken);
                await ProcessRunner.RunCheckedAsync("/usr/bin/apt-get", ["-o", "DPkg::Lock::Timeout=600", "install", "-y", "-qq", .. packages], environment, TimeSpan.FromMinutes(20), cancellationToken);
            }
            finally
            {
                if (createdPolicy)
                {
                    File.Delete(PolicyPath);
                }
            }
        }
        finally
        {
            Gate.Release();
        }
    }

    private static bool IsRoot()
    {
        try
        {
            return File.ReadLines("/proc/self/status").Any(l => l.StartsWith("Uid:", StringComparison.Ordinal) && l.Split('\t', StringSplitOptions.RemoveEmptyEntries)[1] == "0");
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>Several test processes may start at once; only one runs apt at a time.</summary>
    internal static async Task<FileStream> AcquireMachineLockAsync(CancellationToken cancellationToken, string path = LockPath)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (deadline.Elapsed < TimeSpan.FromMinutes(30))
            {
                await Task.Delay(250, cancellationToken);
            }
        }
    }
}

public sealed class LabServerException : Exception
{
    public LabServerException(string message)
        : base(message)
    {
    }

    public LabServerException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public LabServerException()
    {
    }

    /// <summary>The server process ended before it listened (a port taken between picking it and binding it, among others).</summary>
    public bool ExitedDuringStartup { get; init; }
}
