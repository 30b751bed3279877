using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;

namespace AuthSplit.Lab.Servers;

/// <summary>
/// A long-running server process started by the lab: its output is kept (the last lines go into
/// start-up errors), it is stopped with SIGTERM and then SIGKILL, and a zombie counts as stopped.
/// </summary>
public sealed partial class ServerProcess : IAsyncDisposable
{
    public const int SigInt = 2;
    private const int SigTerm = 15;
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private static readonly string[] SetsidLocations = ["/usr/bin/setsid", "/bin/setsid"];
    private readonly string? _logFile;
    private bool _detached;

    private ServerProcess(Process process, string? logFile = null)
    {
        _process = process;
        _logFile = logFile;
    }

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited || IsZombie(_process.Id);

    public string RecentOutput
    {
        get
        {
            if (_logFile is not null)
            {
                return TailOf(_logFile);
            }

            lock (_output)
            {
                var text = _output.ToString();
                return text.Length <= 4000 ? text : text[^4000..];
            }
        }
    }

    public static ServerProcess Start(string fileName, IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo(fileName) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }

        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var server = new ServerProcess(process);
        process.OutputDataReceived += (_, e) => server.Append(e.Data);
        process.ErrorDataReceived += (_, e) => server.Append(e.Data);
        if (!process.Start())
        {
            throw new LabServerException($"could not start {fileName}");
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return server;
    }

    /// <summary>
    /// Starts a server that outlives this process (<c>authsplit lab start</c>): in a session of its own (so
    /// a Ctrl+C meant for the terminal's next command does not reach it), stdin from /dev/null and its
    /// output appended to <paramref name="logFile"/> rather than to this process's pipes, which a caller
    /// waiting for our output to end would otherwise wait on forever. The PID is the server's own:
    /// setsid and sh both exec, neither forks.
    /// </summary>
    public static ServerProcess StartDetached(string fileName, IEnumerable<string> arguments, string logFile, IReadOnlyDictionary<string, string>? environment = null)
    {
        var setsid = SetsidLocations.FirstOrDefault(File.Exists);
        var info = new ProcessStartInfo(setsid ?? "/bin/sh") { UseShellExecute = false };
        if (setsid is not null)
        {
            info.ArgumentList.Add("/bin/sh");
        }

        // The log's path travels in the environment, so no quoting of it is needed.
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add("exec \"$0\" \"$@\" </dev/null >>\"$AUTHSPLIT_LAB_LOG\" 2>&1");
        info.ArgumentList.Add(fileName);
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment["AUTHSPLIT_LAB_LOG"] = logFile;
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }

        var process = new Process { StartInfo = info };
        if (!process.Start())
        {
            throw new LabServerException($"could not start {fileName}");
        }

        return new ServerProcess(process, logFile);
    }

    /// <summary>Leaves the server running when this object goes (a detached lab server); it is stopped later by its <see cref="ProcessIdentity"/>.</summary>
    public void Detach()
    {
        _detached = true;
        _process.Dispose();
    }

    /// <summary>
    /// Waits until a connection to the server's own Unix socket succeeds. Unlike a TCP port picked free a
    /// moment earlier, nobody else can be listening there, so it proves this process is up (slapd opens
    /// its listeners in order and exits when one cannot be bound).
    /// </summary>
    public async Task WaitForUnixSocketAsync(string path, TimeSpan timeout, string what, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            if (HasExited)
            {
                throw new LabServerException($"{what} exited during start-up: {RecentOutput}") { ExitedDuringStartup = true };
            }

            using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), cancellationToken);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(50, cancellationToken);
            }
        }

        throw new LabServerException($"{what} did not listen on {path} within {timeout.TotalSeconds:0} s: {RecentOutput}");
    }

    /// <summary>Waits until a TCP connection to 127.0.0.1:<paramref name="port"/> succeeds.</summary>
    public async Task WaitForPortAsync(int port, TimeSpan timeout, string what, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            if (HasExited)
            {
                // Its last lines arrive asynchronously: wait (bounded) for the output to drain so the message says why.
                using (var drained = new CancellationTokenSource(TimeSpan.FromSeconds(2)))
                {
                    try
                    {
                        await _process.WaitForExitAsync(drained.Token);
                    }
                    catch (OperationCanceledException)
                    {
                        // A zombie not yet reaped: say what there is.
                    }
                }

                throw new LabServerException($"{what} exited during start-up: {RecentOutput}") { ExitedDuringStartup = true };
            }

            using var client = new TcpClient();
            try
            {
                await client.ConnectAsync(IPAddress.Loopback, port, cancellationToken);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(20, cancellationToken);
            }
        }

        throw new LabServerException($"{what} did not listen on 127.0.0.1:{port} within {timeout.TotalSeconds:0} s: {RecentOutput}");
    }

    /// <summary>Sends <paramref name="signal"/> (SIGTERM unless said; PostgreSQL's fast shutdown is SIGINT), then SIGKILL to the tree after <paramref name="grace"/>.</summary>
    public async Task StopAsync(TimeSpan? grace = null, int signal = SigTerm)
    {
        if (HasExited)
        {
            return;
        }

        _ = Kill(_process.Id, signal);
        using var wait = new CancellationTokenSource(grace ?? TimeSpan.FromSeconds(10));
        try
        {
            while (!HasExited)
            {
                await Task.Delay(20, wait.Token);
            }
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync(CancellationToken.None);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_detached)
        {
            return;
        }

        await StopAsync();
        _process.Dispose();
    }

    private static string TailOf(string path)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            stream.Seek(Math.Max(0, stream.Length - 4000), SeekOrigin.Begin);
            using var reader = new StreamReader(stream);
            return reader.ReadToEnd();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return string.Empty;
        }
    }

    /// <summary>A free TCP port on 127.0.0.1 (free when asked; callers retry if it is taken before use).</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    /// <summary>True if something accepts connections on 127.0.0.1:<paramref name="port"/>.</summary>
    public static bool IsListening(int port)
    {
        using var client = new TcpClient();
        try
        {
            client.Connect(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    // PID 1 on these machines reaps late: a stopped server can linger as a zombie.
    private static bool IsZombie(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var afterName = stat.LastIndexOf(')');
            return afterName > 0 && afterName + 2 < stat.Length && stat[afterName + 2] == 'Z';
        }
        catch (IOException)
        {
            return true;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
            if (_output.Length > 64_000)
            {
                _output.Remove(0, _output.Length - 32_000);
            }
        }
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
