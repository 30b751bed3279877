using System.Runtime.InteropServices;

namespace AuthSplit.Cli.Output;

/// <summary>What a path is on disk, after following links: its kind, its device and inode (so two names of one file compare equal) and its real path.</summary>
public sealed record FileIdentity(FileKind Kind, string RealPath, ulong Device, ulong Inode, UnixFileMode Mode)
{
    public bool SameFileAs(FileIdentity other) =>
        (Inode != 0 && other.Inode != 0) ? Device == other.Device && Inode == other.Inode : string.Equals(RealPath, other.RealPath, StringComparison.Ordinal);
}

public enum FileKind
{
    Missing,
    Regular,
    Directory,

    /// <summary>A character or block device, FIFO or socket: written as a stream, never replaced.</summary>
    Special,
}

/// <summary>
/// The few POSIX facts .NET does not expose: a file's device and inode (<c>statx</c>, Linux), its file type, the
/// real path through every symbolic link (<c>realpath</c>), and the process umask.
/// </summary>
public static partial class UnixFile
{
    /// <summary>Owner read and write: plans, snapshots and logs hold personal data.</summary>
    public const UnixFileMode OwnerOnlyFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>Owner read, write and search, for directories holding such files.</summary>
    public const UnixFileMode OwnerOnlyDirectory = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>Options that create a file owner-only from its first byte, whatever the umask (Windows: the defaults).</summary>
    public static FileStreamOptions OwnerOnlyOptions(FileMode mode, FileAccess access, FileShare share = FileShare.None, FileOptions options = FileOptions.None)
    {
        var result = new FileStreamOptions { Mode = mode, Access = access, Share = share, BufferSize = 1 << 16, Options = options };
        if (!OperatingSystem.IsWindows())
        {
            result.UnixCreateMode = OwnerOnlyFile;
        }

        return result;
    }

    private const int AtFdCwd = -100;
    private const uint StatxBasicStats = 0x7ff;
    private const ushort TypeMask = 0xF000;
    private const ushort TypeRegular = 0x8000;
    private const ushort TypeDirectory = 0x4000;

    public static FileIdentity Identify(string path)
    {
        var fullPath = Path.GetFullPath(path);
        var realPath = RealPath(fullPath) ?? fullPath;
        if (OperatingSystem.IsLinux() && TryStatx(fullPath, out var mode, out var device, out var inode))
        {
            var kind = (mode & TypeMask) switch
            {
                TypeRegular => FileKind.Regular,
                TypeDirectory => FileKind.Directory,
                _ => FileKind.Special,
            };
            return new FileIdentity(kind, realPath, device, inode, (UnixFileMode)(mode & 0xFFF));
        }

        if (Directory.Exists(fullPath))
        {
            return new FileIdentity(FileKind.Directory, realPath, 0, 0, 0);
        }

        if (File.Exists(fullPath))
        {
            return new FileIdentity(FileKind.Regular, realPath, 0, 0, OperatingSystem.IsWindows() ? 0 : File.GetUnixFileMode(fullPath));
        }

        return new FileIdentity(FileKind.Missing, realPath, 0, 0, 0);
    }

    /// <summary>The canonical path (every link followed) of an existing file, or of a new file's existing parent plus its name.</summary>
    public static string CanonicalPath(string path)
    {
        var fullPath = Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
        if (RealPath(fullPath) is { } real)
        {
            return real;
        }

        var parent = Path.GetDirectoryName(fullPath);
        return parent is null ? fullPath : Path.Combine(CanonicalPath(parent), Path.GetFileName(fullPath));
    }

    /// <summary>Sets the process umask to 077, so that whatever a library creates is owner-only too.</summary>
    public static void RestrictUmask()
    {
        if (!OperatingSystem.IsWindows())
        {
            _ = Umask(0x3F); // 077
        }
    }

    private static string? RealPath(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            return File.Exists(path) || Directory.Exists(path) ? path : null;
        }

        var result = Realpath(path, IntPtr.Zero);
        if (result == IntPtr.Zero)
        {
            return null;
        }

        try
        {
            return Marshal.PtrToStringUTF8(result);
        }
        finally
        {
            Free(result);
        }
    }

    private static bool TryStatx(string path, out ushort mode, out ulong device, out ulong inode)
    {
        // struct statx has one layout on every Linux architecture (unlike struct stat): 256 bytes.
        var buffer = new byte[256];
        try
        {
            if (Statx(AtFdCwd, path, 0, StatxBasicStats, buffer) != 0)
            {
                mode = 0;
                device = inode = 0;
                return false;
            }
        }
        catch (EntryPointNotFoundException)
        {
            mode = 0;
            device = inode = 0;
            return false;
        }

        mode = BitConverter.ToUInt16(buffer, 28);
        inode = BitConverter.ToUInt64(buffer, 32);
        device = ((ulong)BitConverter.ToUInt32(buffer, 136) << 32) | BitConverter.ToUInt32(buffer, 140);
        return true;
    }

    [LibraryImport("libc", EntryPoint = "statx", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Statx(int directoryFd, string path, int flags, uint mask, [Out] byte[] buffer);

    [LibraryImport("libc", EntryPoint = "realpath", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial IntPtr Realpath(string path, IntPtr resolved);

    [LibraryImport("libc", EntryPoint = "free")]
    private static partial void Free(IntPtr pointer);

    [LibraryImport("libc", EntryPoint = "umask")]
    private static partial uint Umask(uint mask);
}
