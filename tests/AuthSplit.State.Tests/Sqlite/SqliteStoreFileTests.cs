using System.Diagnostics;
using System.Runtime.Versioning;
using AuthSplit.Core.Configuration;
using AuthSplit.Core.Errors;
using AuthSplit.Core.Execution;
using AuthSplit.State.Dialects;
using AuthSplit.State.Tests.Support;
using AuthSplit.Testing;
using Microsoft.Data.Sqlite;

namespace AuthSplit.State.Tests.Sqlite;

/// <summary>Where the SQLite file goes, who can read it, and what an operator is told when it cannot be used.</summary>
[UnsupportedOSPlatform("windows")]
public sealed class SqliteStoreFileTests : IAsyncLifetime
{
    private readonly string _work = TestPaths.NewWorkDirectory();
    private readonly List<AdoExecutionStore> _stores = [];
    private readonly List<string> _immutable = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var store in _stores)
        {
            await store.DisposeAsync();
        }

        foreach (var path in _immutable)
        {
            Run("chattr", "-i", path);
        }
    }

    private async Task<AdoExecutionStore> OpenAsync(StateOptions options, string configDirectory, TimeSpan? busyTimeout = null)
    {
        var store = await ExecutionStoreFactory.OpenStoreAsync(options, configDirectory, TimeProvider.System, new ExecutionStoreSettings { BusyTimeout = busyTimeout ?? TimeSpan.FromSeconds(5) }, CancellationToken.None);
        _stores.Add(store);
        return store;
    }

    private static StateOptions Sqlite(string? path = null) => new() { Provider = StateProvider.Sqlite, Path = path };

    [Fact]
    public async Task The_default_database_is_beside_the_config_file_and_a_relative_path_is_relative_to_its_directory()
    {
        var configDirectory = Path.Combine(_work, "etc");
        Directory.CreateDirectory(configDirectory);

        var byDefault = await OpenAsync(Sqlite(), configDirectory);
        var relative = await OpenAsync(Sqlite("../var/state.db"), configDirectory);

        byDefault.Description.Should().Be(Path.Combine(configDirectory, StateDefaults.SqliteFileName));
        File.Exists(byDefault.Description).Should().BeTrue();
        relative.Description.Should().Be(Path.Combine(_work, "var", "state.db"));
        File.Exists(relative.Description).Should().BeTrue();
    }

    [Fact]
    public async Task With_umask_022_the_database_its_wal_and_shm_are_0600_in_a_new_0700_directory()
    {
        var path = Path.Combine(_work, "new", "deeper", "state.db");
        AdoExecutionStore store;
        using (Umask.Set(0x12) /* 022 */)
        {
            store = await OpenAsync(Sqlite(path), _work);
            await store.SetPauseAsync(new WavePause("wave-1", true, "carol", Some.Start), CancellationToken.None);
        }

        File.Exists(path + "-wal").Should().BeTrue("the store is in WAL mode");
        File.Exists(path + "-shm").Should().BeTrue();
        foreach (var file in new[] { path, path + "-wal", path + "-shm" })
        {
            File.GetUnixFileMode(file).Should().Be(UnixFileMode.UserRead | UnixFileMode.UserWrite, file);
        }

        File.GetUnixFileMode(Path.GetDirectoryName(path)!).Should().Be(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        File.GetUnixFileMode(Path.Combine(_work, "new")).Should().Be(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    [Fact]
    public async Task An_existing_database_readable_by_others_is_narrowed_to_its_owner()
    {
        var path = Path.Combine(_work, "state.db");
        await (await OpenAsync(Sqlite(path), _work)).DisposeAsync();
        _stores.Clear();
        File.SetUnixFileMode(path, (UnixFileMode)0x1A4 /* 644 */);

        await OpenAsync(Sqlite(path), _work);

        File.GetUnixFileMode(path).Should().Be(UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }

    [Fact]
    public async Task A_world_writable_directory_is_refused()
    {
        var directory = Path.Combine(_work, "shared");
        Directory.CreateDirectory(directory);
        File.SetUnixFileMode(directory, (UnixFileMode)0x1FF /* 777 */);

        var act = () => OpenAsync(Sqlite("shared/state.db"), _work);

        (await act.Should().ThrowAsync<InputException>()).Which.Should().BeEquivalentTo(new { Code = "state-directory-unsafe", Origin = directory });
        File.Exists(Path.Combine(directory, "state.db")).Should().BeFalse();
    }

    [Fact]
    public async Task A_directory_given_as_the_database_path_is_refused()
    {
        Directory.CreateDirectory(Path.Combine(_work, "state"));

        var act = () => OpenAsync(Sqlite("state"), _work);

        (await act.Should().ThrowAsync<InputException>()).Which.Should().BeEquivalentTo(new { Code = "state-path-is-directory", Origin = Path.Combine(_work, "state") });
    }

    [Fact]
    public async Task A_file_that_is_not_sqlite_is_refused_and_left_as_it_was()
    {
        var path = Path.Combine(_work, "authsplit.json");
        await File.WriteAllTextAsync(path, "{ \"Source\": { } } this is the config, named by mistake");

        var act = () => OpenAsync(Sqlite("authsplit.json"), _work);

        (await act.Should().ThrowAsync<InputException>()).Which.Should().BeEquivalentTo(new { Code = "state-not-sqlite", Origin = path });
        (await File.ReadAllTextAsync(path)).Should().StartWith("{ \"Source\"");
    }

    [Fact]
    public async Task An_unreadable_database_file_is_refused_naming_it()
    {
        var path = Path.Combine(_work, "state.db");
        await (await OpenAsync(Sqlite(path), _work)).DisposeAsync();
        _stores.Clear();

        if (Umask.IsRoot)
        {
            // Root reads every file whatever its mode: what SQLite reports for a file it cannot open is checked instead.
            var translated = new SqliteDialect(new ExecutionStoreSettings()).Translate(new SqliteException("unable to open database file", 14), path);
            translated.Should().BeOfType<InputException>().Which.Should().BeEquivalentTo(new { Code = "state-unreadable", Origin = path });
            return;
        }

        File.SetUnixFileMode(path, UnixFileMode.None);
        var act = () => OpenAsync(Sqlite(path), _work);

        (await act.Should().ThrowAsync<InputException>()).Which.Should().BeEquivalentTo(new { Code = "state-unreadable", Origin = path });
    }

    [Fact]
    public async Task A_read_only_location_is_refused_naming_it()
    {
        var directory = Path.Combine(_work, "readonly");
        Directory.CreateDirectory(directory);
        MakeReadOnly(directory);

        var act = () => OpenAsync(Sqlite("readonly/state.db"), _work);

        (await act.Should().ThrowAsync<InputException>()).Which.Should().BeEquivalentTo(new { Code = "state-read-only", Origin = Path.Combine(directory, "state.db") });
    }

    [Fact]
    public async Task A_database_locked_beyond_the_timeout_fails_saying_another_process_holds_it()
    {
        var path = Path.Combine(_work, "state.db");
        var store = await OpenAsync(Sqlite(path), _work, busyTimeout: TimeSpan.FromSeconds(1));
        await using var holder = new SqliteConnection($"Data Source={path};Pooling=False");
        await holder.OpenAsync();
        await using var transaction = holder.BeginTransaction(deferred: false);
        var clock = Stopwatch.StartNew();

        var act = () => store.SetPauseAsync(new WavePause("wave-1", true, "carol", Some.Start), CancellationToken.None);

        var thrown = (await act.Should().ThrowAsync<ExternalSystemException>()).Which;
        thrown.System.Should().Be(path);
        thrown.Message.Should().Contain("state-locked").And.Contain("another authsplit");
        clock.Elapsed.Should().BeGreaterThan(TimeSpan.FromSeconds(0.9)).And.BeLessThan(TimeSpan.FromSeconds(10));
        transaction.Rollback();
        await store.SetPauseAsync(new WavePause("wave-1", true, "carol", Some.Start), CancellationToken.None);
    }

    [Fact]
    public async Task A_database_of_a_newer_schema_version_is_refused()
    {
        var path = Path.Combine(_work, "state.db");
        await (await OpenAsync(Sqlite(path), _work)).DisposeAsync();
        _stores.Clear();
        Raw(path, "INSERT INTO authsplit_schema_version (version, applied_at) VALUES (99, '2030-01-01T00:00:00.0000000Z')");

        var act = () => OpenAsync(Sqlite(path), _work);

        (await act.Should().ThrowAsync<InputException>()).Which.Should().BeEquivalentTo(new { Code = "state-schema-newer", Origin = path });
    }

    [Fact]
    public async Task Opening_creates_the_schema_once_records_its_version_and_leaves_other_tables_alone()
    {
        var path = Path.Combine(_work, "state.db");
        File.Create(path).Dispose();
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        Raw(path, "CREATE TABLE QRTZ_LOCKS (SCHED_NAME TEXT NOT NULL, LOCK_NAME TEXT NOT NULL); INSERT INTO QRTZ_LOCKS VALUES ('s', 'TRIGGER_ACCESS')");

        await (await OpenAsync(Sqlite(path), _work)).DisposeAsync();
        _stores.Clear();
        await OpenAsync(Sqlite(path), _work);

        Raw(path, "SELECT group_concat(version) FROM authsplit_schema_version").Should().Be("1,2,3,4,5", "001-initial, 002-steps-by-wave, 003-work-leases, 004-write-grants and 005-write-budget-limit, each once");
        Raw(path, "SELECT COUNT(*) FROM QRTZ_LOCKS").Should().Be("1");
        Raw(path, "PRAGMA journal_mode").Should().Be("wal");
        Raw(path, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'authsplit_%' AND name <> 'QRTZ_LOCKS'").Should().Be("0");
    }

    [Fact]
    public async Task The_backup_key_is_read_from_the_environment_variable_named_by_the_config()
    {
        var key = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        var options = Sqlite("state.db");
        options.BackupKeyEnvVar = "AUTHSPLIT_TEST_BACKUP_KEY";
        var store = await ExecutionStoreFactory.OpenStoreAsync(options, _work, TimeProvider.System,
            new ExecutionStoreSettings { Environment = name => name == "AUTHSPLIT_TEST_BACKUP_KEY" ? key : null }, CancellationToken.None);
        _stores.Add(store);

        var stored = await store.StoreBackupAsync(Some.Backup(Some.PlanId(), "e1"), CancellationToken.None);

        (await store.GetBackupAsync("e1", CancellationToken.None))!.Sha256.Should().Be(stored.Sha256);
    }

    [Theory]
    [InlineData("dGhpcyBpcyBub3QgMzIgYnl0ZXM=", 0x180 /* 600 */, "backup-key-invalid")]
    [InlineData("not base64 at all!", 0x180 /* 600 */, "backup-key-invalid")]
    [InlineData(null, 0x1A0 /* 640 */, "backup-key-exposed")]
    public async Task An_unusable_backup_key_file_is_refused_before_anything_is_stored(string? content, int mode, string code)
    {
        var keyFile = Path.Combine(_work, "backup.key");
        await File.WriteAllTextAsync(keyFile, (content ?? Convert.ToBase64String(new byte[32])) + "\n");
        File.SetUnixFileMode(keyFile, (UnixFileMode)mode);
        var options = Sqlite("state.db");
        options.BackupKeyFile = "backup.key";
        var store = await OpenAsync(options, _work);

        var act = () => store.StoreBackupAsync(Some.Backup(Some.PlanId(), "e1"), CancellationToken.None);

        (await act.Should().ThrowAsync<InputException>()).Which.Code.Should().Be(code);
        Raw(store.Description, "SELECT COUNT(*) FROM authsplit_backups").Should().Be("0");
    }

    private void MakeReadOnly(string directory)
    {
        if (Umask.IsRoot)
        {
            // Root writes through any mode; the immutable attribute stops root too.
            Run("chattr", "+i", directory).Should().Be(0, "chattr +i needs an ext2/3/4 or similar file system");
            _immutable.Add(directory);
        }
        else
        {
            File.SetUnixFileMode(directory, UnixFileMode.UserRead | UnixFileMode.UserExecute);
        }
    }

    private static int Run(string file, params string[] args)
    {
        using var process = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardError = true })!;
        process.WaitForExit();
        return process.ExitCode;
    }

    private static string? Raw(string path, string sql)
    {
        using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToString(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }
}
