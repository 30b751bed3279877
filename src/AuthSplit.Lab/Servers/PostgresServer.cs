using System.Globalization;
using System.Security.Cryptography;
using Npgsql;

namespace AuthSplit.Lab.Servers;

public sealed record PostgresServerOptions
{
    /// <summary>fsync, synchronous_commit and full_page_writes off: much faster, no durability across a machine crash. Tests only.</summary>
    public bool NoSync { get; init; }

    /// <summary>Progress and install messages (e.g. a test's output); null for none.</summary>
    public TextWriter? Log { get; init; }

    /// <summary>How long the server has to accept connections before start fails with its log's tail.</summary>
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Further server settings (<c>name=value</c>, passed as <c>-c</c>), after the lab's own.</summary>
    public IReadOnlyList<string> Settings { get; init; } = [];
}

/// <summary>
/// A private PostgreSQL from Debian's <c>postgresql</c> package: its own cluster made by <c>initdb</c> in a
/// temp folder, listening on 127.0.0.1 on a free high port only (its Unix socket in that folder), TLS on
/// with a lab CA's certificate and only TLS connections with a password (scram-sha-256) accepted over
/// TCP, so clients verify the server the way the product does (<c>SslMode=VerifyFull</c>). initdb and the
/// server refuse to run as root: as root they run as the <c>postgres</c> user the package creates (setpriv,
/// which execs, so the PID we hold is the postmaster's). Stopped by PID (fast shutdown) and its folder
/// removed on dispose.
/// </summary>
public sealed class PostgresServer : IAsyncDisposable
{
    public const string AdminUser = "authsplit_admin";
    private const string ServiceUser = "postgres";
    private static readonly RequiredTool[] Tools = [RequiredTool.PostgresInitdb, RequiredTool.Postgres];
    private readonly PostgresServerOptions _options;
    private readonly IReadOnlyDictionary<string, string> _tools;
    private readonly bool _asServiceUser;
    private ServerProcess? _process;
    private NpgsqlDataSource? _admin;

    private PostgresServer(PostgresServerOptions options, IReadOnlyDictionary<string, string> tools, string directory, LabCertificateAuthority authority, bool asServiceUser)
    {
        _options = options;
        _tools = tools;
        Directory = directory;
        Authority = authority;
        _asServiceUser = asServiceUser;
        AdminPassword = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
    }

    public string Directory { get; }

    public LabCertificateAuthority Authority { get; }

    public string CaFile => Authority.CaFile;

    public string DataDirectory => Path.Combine(Directory, "data");

    public string SocketDirectory => Path.Combine(Directory, "socket");

    public int Port { get; private set; }

    public int Pid => _process?.Pid ?? 0;

    /// <summary>A random password of this private server's superuser (test secret; never a real one).</summary>
    public string AdminPassword { get; }

    /// <summary>The server's log so far (its stderr), last part.</summary>
    public string RecentLog => _process?.RecentOutput ?? string.Empty;

    public static async Task<PostgresServer> StartAsync(PostgresServerOptions options, CancellationToken cancellationToken)
    {
        var tools = await DebianPackages.EnsureAsync(Tools, options.Log, cancellationToken);
        var directory = System.IO.Directory.CreateTempSubdirectory("authsplit-postgres-").FullName;
        var authority = LabCertificateAuthority.Create(Path.Combine(directory, "tls"), "127.0.0.1");
        var server = new PostgresServer(options, tools, directory, authority, IsRoot());
        var clock = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            await server.InitializeClusterAsync(cancellationToken);
            var initialized = clock.Elapsed;
            await server.StartProcessAsync(cancellationToken);
            options.Log?.WriteLine($"postgres ready in {clock.Elapsed.TotalSeconds:0.0} s (initdb {initialized.TotalSeconds:0.0} s)");
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>A connection string for <paramref name="database"/> as the superuser, over TLS verified against the lab CA.</summary>
    public string ConnectionString(string database = "postgres") => new NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1",
        Port = Port,
        Database = database,
        Username = AdminUser,
        Password = AdminPassword,
        SslMode = SslMode.VerifyFull,
        RootCertificate = CaFile,
        Timeout = 15,
    }.ConnectionString;

    /// <summary>Creates an empty database (a file copy of template1: fast for a small cluster) and returns its name.</summary>
    public async Task<string> CreateDatabaseAsync(string prefix, CancellationToken cancellationToken)
    {
        var name = $"{prefix}_{Guid.NewGuid():N}"[..Math.Min(63, prefix.Length + 33)].ToLowerInvariant();
        await ExecuteAsync($"CREATE DATABASE \"{name}\" STRATEGY FILE_COPY", cancellationToken);
        return name;
    }

    public Task DropDatabaseAsync(string name, CancellationToken cancellationToken) =>
        ExecuteAsync($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)", cancellationToken);

    /// <summary>Runs one statement as the superuser in the <c>postgres</c> database.</summary>
    public async Task ExecuteAsync(string sql, CancellationToken cancellationToken)
    {
        _admin ??= NpgsqlDataSource.Create(ConnectionString());
        await using var command = _admin.CreateCommand(sql);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Starts the server again after <see cref="StopAsync"/>, on the same port and data (a database back after an outage).</summary>
    public async Task StartAgainAsync(CancellationToken cancellationToken)
    {
        if (_process is not null)
        {
            throw new InvalidOperationException("postgres is running");
        }

        await StartProcessAsync(cancellationToken, keepPort: true);
    }

    /// <summary>Stops the server (fast shutdown: sessions are ended), keeping its data: a database that is down, as clients see it.</summary>
    public async Task StopAsync()
    {
        if (_admin is not null)
        {
            await _admin.DisposeAsync();
            _admin = null;
        }

        if (_process is not null)
        {
            await _process.StopAsync(TimeSpan.FromSeconds(20), ServerProcess.SigInt);
            await _process.DisposeAsync();
            _process = null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private async Task InitializeClusterAsync(CancellationToken cancellationToken)
    {
        System.IO.Directory.CreateDirectory(SocketDirectory);
        var passwordFile = Path.Combine(Directory, "admin.pw");
        await File.WriteAllTextAsync(passwordFile, AdminPassword + "\n", cancellationToken);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(passwordFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            File.SetUnixFileMode(Directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        if (_asServiceUser)
        {
            // The folder stays 0700: only the postgres user (and root, the test) can reach the cluster, its key and its socket.
            await ProcessRunner.RunCheckedAsync("/bin/chown", ["-R", $"{ServiceUser}:{ServiceUser}", Directory], null, TimeSpan.FromMinutes(1), cancellationToken);
        }

        var (program, arguments) = AsServiceUser(_tools["initdb"],
            ["-D", DataDirectory, "-U", AdminUser, "--pwfile", passwordFile, "--auth-host=scram-sha-256", "--auth-local=trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-instructions", "--no-sync"]);
        await ProcessRunner.RunCheckedAsync(program, arguments, null, TimeSpan.FromMinutes(3), cancellationToken);
        File.Delete(passwordFile);

        // TCP: TLS with a password only; the Unix socket sits in the 0700 folder, so trust there reaches only its owner and root.
        await File.WriteAllTextAsync(Path.Combine(DataDirectory, "pg_hba.conf"), """
            local     all all                 trust
            hostssl   all all 127.0.0.1/32    scram-sha-256
            hostnossl all all 127.0.0.1/32    reject

            """, cancellationToken);
    }

    private async Task StartProcessAsync(CancellationToken cancellationToken, bool keepPort = false)
    {
        for (var attempt = 1; ; attempt++)
        {
            if (!keepPort || Port == 0)
            {
                Port = ServerProcess.FreePort();
            }

            string[] settings =
            [
                "listen_addresses=127.0.0.1",
                $"port={Port.ToString(CultureInfo.InvariantCulture)}",
                $"unix_socket_directories={SocketDirectory}",
                "ssl=on",
                $"ssl_cert_file={Authority.CertificateFile}",
                $"ssl_key_file={Authority.KeyFile}",
                "max_connections=200",
                "logging_collector=off",
                "log_min_messages=warning",
                .. _options.NoSync ? new[] { "fsync=off", "synchronous_commit=off", "full_page_writes=off" } : [],
                .. _options.Settings,
            ];
            var (program, arguments) = AsServiceUser(_tools["postgres"], ["-D", DataDirectory, .. settings.SelectMany(s => new[] { "-c", s })]);
            _process = ServerProcess.Start(program, arguments);
            var what = $"postgres (pid {_process.Pid}, data {DataDirectory})";
            try
            {
                await _process.WaitForPortAsync(Port, _options.StartTimeout, what, cancellationToken);

                // A port picked free can be taken by someone else before the postmaster binds it; its own
                // socket file (named after the port, in our folder) proves it is this server that listens.
                await _process.WaitForUnixSocketAsync(Path.Combine(SocketDirectory, $".s.PGSQL.{Port}"), TimeSpan.FromSeconds(10), what, cancellationToken);
                await WaitUntilAcceptingAsync(what, cancellationToken);
                _options.Log?.WriteLine($"postgres pid {_process.Pid} listening on 127.0.0.1:{Port} (TLS)");
                return;
            }
            catch (LabServerException ex) when (attempt < 3 && !keepPort && (ex.ExitedDuringStartup || _process.RecentOutput.Contains("already in use", StringComparison.Ordinal)))
            {
                _options.Log?.WriteLine($"postgres did not start on port {Port} ({ex.Message}); trying another port");
                await _process.DisposeAsync();
                _process = null;
            }
        }
    }

    // The port accepts before recovery ends ("the database system is starting up"): wait for a real session, bounded.
    private async Task WaitUntilAcceptingAsync(string what, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + _options.StartTimeout;
        while (true)
        {
            try
            {
                await using var connection = new NpgsqlConnection(ConnectionString());
                await connection.OpenAsync(cancellationToken);
                return;
            }
            catch (NpgsqlException ex) when (DateTime.UtcNow < deadline && _process is { HasExited: false })
            {
                _ = ex;
                await Task.Delay(100, cancellationToken);
            }
            catch (NpgsqlException ex)
            {
                throw new LabServerException($"{what} does not accept sessions: {ex.Message}; its log: {_process?.RecentOutput}", ex);
            }
        }
    }

    private (string Program, string[] Arguments) AsServiceUser(string program, string[] arguments) =>
        _asServiceUser
            ? ("/usr/bin/setpriv", [$"--reuid={ServiceUser}", $"--regid={ServiceUser}", "--init-groups", "--", program, .. arguments])
            : (program, arguments);

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
}
