using AuthSplit.Core.Configuration;
using AuthSplit.Core.Errors;

namespace AuthSplit.State.Sqlite;

/// <summary>
/// The SQLite file before SQLite opens it: its path (relative to the config file's directory; by default
/// <see cref="StateDefaults.SqliteFileName"/> beside it), a directory only its owner can write to (created
/// 0700 when missing), and the file created 0600 by us so that SQLite, which gives the -wal and -shm files
/// the database file's mode, never creates any of them readable by others. Each failure names the path.
/// </summary>
internal static class SqliteStoreFile
{
    public const string PathIsDirectory = "state-path-is-directory";
    public const string DirectoryUnsafe = "state-directory-unsafe";
    public const string ReadOnly = "state-read-only";
    public const string Unreadable = "state-unreadable";
    public const string NotSqlite = "state-not-sqlite";

    public const UnixFileMode OwnerOnlyFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    public const UnixFileMode OwnerOnlyDirectory = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    private const UnixFileMode GroupOrOthers =
        UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    private static readonly byte[] Header = "SQLite format 3\0"u8.ToArray();

    public static string Resolve(StateOptions options, string configDirectory) =>
        Path.GetFullPath(Path.Combine(configDirectory, string.IsNullOrWhiteSpace(options.Path) ? StateDefaults.SqliteFileName : options.Path));

    public static void Prepare(string path)
    {
        if (System.IO.Directory.Exists(path))
        {
            throw new InputException(PathIsDirectory, "is a directory: State:Path must name the database file (e.g. " + StateDefaults.SqliteFileName + " inside it)", path);
        }

        PrepareDirectory(Path.GetDirectoryName(path)!);
        if (File.Exists(path))
        {
            CheckExisting(path);
        }
        else
        {
            Create(path);
        }

        foreach (var companion in new[] { path + "-wal", path + "-shm" })
        {
            if (File.Exists(companion))
            {
                RestrictToOwner(companion);
            }
        }
    }

    /// <summary>The database's files that SQLite made after opening (-wal, -shm), restricted in case an older version made them wider.</summary>
    public static void RestrictCompanions(string path)
    {
        foreach (var file in new[] { path, path + "-wal", path + "-shm" })
        {
            if (File.Exists(file))
            {
                RestrictToOwner(file);
            }
        }
    }

    private static void PrepareDirectory(string directory)
    {
        if (!System.IO.Directory.Exists(directory))
        {
            try
            {
                if (OperatingSystem.IsWindows())
                {
                    System.IO.Directory.CreateDirectory(directory);
                }
                else
                {
                    // Every missing level 0700, not only the last (CreateDirectory gives the others the umask's mode).
                    var missing = new Stack<string>();
                    for (var level = directory; !string.IsNullOrEmpty(level) && !System.IO.Directory.Exists(level); level = Path.GetDirectoryName(level))
                    {
                        missing.Push(level);
                    }

                    foreach (var level in missing)
                    {
                        System.IO.Directory.CreateDirectory(level, OwnerOnlyDirectory);
                    }
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new InputException(ReadOnly, $"cannot create the directory of the state database: {ex.Message}", directory);
            }

            return;
        }

        if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(directory) & UnixFileMode.OtherWrite) != 0)
        {
            throw new InputException(DirectoryUnsafe,
                "every user can write to this directory, so another user could replace the state database or its -wal file: put State:Path in a directory only you (or your group) can write to",
                directory);
        }
    }

    private static void CheckExisting(string path)
    {
        var header = new byte[Header.Length];
        int read;
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            read = stream.ReadAtLeast(header, header.Length, throwOnEndOfStream: false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new InputException(Unreadable, $"cannot read the state database: {ex.Message}", path);
        }

        if (read > 0 && (read < Header.Length || !header.AsSpan().SequenceEqual(Header)))
        {
            throw new InputException(NotSqlite, "is not a SQLite database: State:Path must name an AuthSplit state database, or a file that does not exist yet", path);
        }

        try
        {
            using var writable = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new InputException(ReadOnly, $"cannot write the state database: {ex.Message}", path);
        }

        RestrictToOwner(path);
    }

    private static void Create(string path)
    {
        try
        {
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.ReadWrite };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = OwnerOnlyFile;
            }

            using var stream = new FileStream(path, options);
        }
        catch (IOException) when (File.Exists(path))
        {
            // Another process created it first: it made it 0600 too, or CheckExisting narrows it.
            CheckExisting(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new InputException(ReadOnly, $"cannot create the state database: {ex.Message}", path);
        }
    }

    private static void RestrictToOwner(string file)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        var mode = File.GetUnixFileMode(file);
        if ((mode & GroupOrOthers) == 0)
        {
            return;
        }

        try
        {
            File.SetUnixFileMode(file, mode & ~GroupOrOthers);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new InputException(Unreadable, $"the state database holds personal data but can be read by others, and its mode cannot be changed: {ex.Message}", file);
        }
    }
}
