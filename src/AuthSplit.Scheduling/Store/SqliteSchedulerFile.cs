using Microsoft.Data.Sqlite;

namespace AuthSplit.Scheduling.Store;

/// <summary>
/// The SQLite file Quartz shares with the state store: created owner-only (it holds the journal and
/// encrypted backups of personal data), in WAL mode, and reached through a connection string that waits
/// for the other writer instead of failing.
/// </summary>
public static class SqliteSchedulerFile
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>Creates the file (0600) when it does not exist yet; an existing file is left as its owner set it.</summary>
    public static void EnsureCreated(string path)
    {
        var full = Path.GetFullPath(path);
        var directory = Path.GetDirectoryName(full);
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }

        if (!File.Exists(full))
        {
            // Created empty with the mode set at open, never widened later: SQLite's -wal and -shm files
            // copy the database file's permissions, so they are owner-only too.
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = OwnerOnly;
            }

            try
            {
                using (new FileStream(full, options))
                {
                }
            }
            catch (IOException) when (File.Exists(full))
            {
                // Another process (the state store, another scheduler) created it first: keep theirs.
            }
        }

        using var connection = new SqliteConnection(ConnectionString(full, SchedulerStoreDefaults.BusyTimeout));
        connection.Open();
        using var command = connection.CreateCommand();
        // WAL: readers (status, the executor's journal reads) do not block Quartz's writes nor the other way round.
        command.CommandText = "PRAGMA journal_mode=WAL;";
        command.ExecuteNonQuery();
    }

    /// <summary>
    /// The connection string Quartz uses. <c>Default Timeout</c> is Microsoft.Data.Sqlite's busy wait: a
    /// statement that meets SQLITE_BUSY/SQLITE_LOCKED is retried until it elapses.
    /// </summary>
    public static string ConnectionString(string path, TimeSpan busyTimeout) =>
        new SqliteConnectionStringBuilder
        {
            DataSource = Path.GetFullPath(path),
            Mode = SqliteOpenMode.ReadWriteCreate,
            DefaultTimeout = Math.Max(1, (int)Math.Ceiling(busyTimeout.TotalSeconds)),
            Pooling = true,
        }.ToString();
}
