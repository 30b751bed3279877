using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace AuthSplit.Cli.EndToEndTests;

/// <summary>
/// Runs the built CLI (<c>authsplit.dll</c> from its project's output) as its own process, as an operator does: its
/// own signal handling, umask and exit code. Started through <c>sh -c 'umask …; exec dotnet …'</c>, so the
/// process id is the CLI's own.
/// </summary>
internal sealed partial class CliProcess : IDisposable
{
    public const int SigInt = 2;
    public const int SigTerm = 15;

    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly StringBuilder _error = new();

    private CliProcess(Process process)
    {
        _process = process;
    }

    public int Id => _process.Id;

    /// <summary>The CLI as its own project built it (with its own deps.json), in this test run's configuration.</summary>
    public static string CliDll
    {
        get
        {
            var framework = new DirectoryInfo(AppContext.BaseDirectory);
            var configuration = framework.Parent!.Name;
            return Path.Combine(CliRunner.RepositoryRoot, "src", "AuthSplit.Cli", "bin", configuration, framework.Name, "authsplit.dll");
        }
    }

    public bool HasExited => _process.HasExited;

    /// <summary>What the process wrote to stdout so far (to act at a moment of its progress).</summary>
    public string OutputSoFar
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public static CliProcess Start(string workDirectory, string umask, params string[] args) => Start(workDirectory, umask, null, args);

    public static CliProcess Start(string workDirectory, string umask, IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        var dll = CliDll;
        // A test run started in the background by a non-interactive shell (`dotnet test … &`, some CI
        // runners) inherits SIGINT ignored, and an ignored signal stays ignored across exec: the CLI would
        // never see the Ctrl+C these tests send. perl (Debian's essential perl-base) restores the default
        // disposition before it execs the CLI, as an operator's terminal has it.
        var command = $"umask {umask}; exec perl -e '$SIG{{INT}} = $SIG{{TERM}} = \"DEFAULT\"; exec {{ $ARGV[0] }} @ARGV or die \"exec: $!\"' dotnet {Quote(dll)} {string.Join(' ', args.Select(Quote))}";
        var info = new ProcessStartInfo("/bin/sh", ["-c", command])
        {
            WorkingDirectory = workDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.Environment["AUTHSPLIT_LOG_DIR"] = Path.Combine(workDirectory, "logs");
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        // serve's health and metrics endpoint on a free loopback port, not the default 9464: tests run several
        // serve processes at once. A test that wants an address of its own sets this variable (or Serve:Http) itself.
        info.Environment["AUTHSPLIT__Serve__Http__Urls"] = "http://127.0.0.1:0";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }

        var process = new Process { StartInfo = info };
        var cli = new CliProcess(process);
        process.OutputDataReceived += (_, e) => Append(cli._output, e.Data);
        process.ErrorDataReceived += (_, e) => Append(cli._error, e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return cli;
    }

    public static Task<CliResult> RunAsync(string workDirectory, string umask, params string[] args) => RunAsync(workDirectory, umask, null, args);

    public static async Task<CliResult> RunAsync(string workDirectory, string umask, IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        using var process = Start(workDirectory, umask, environment, args);
        return await process.WaitAsync(TimeSpan.FromMinutes(2));
    }

    /// <summary>Runs a shell command (e.g. <c>ln</c>) and returns its exit code.</summary>
    public static async Task<int> RunShellAsync(string workDirectory, string command)
    {
        using var process = Process.Start(new ProcessStartInfo("/bin/sh", ["-c", command]) { WorkingDirectory = workDirectory, UseShellExecute = false })!;
        await process.WaitForExitAsync();
        return process.ExitCode;
    }

    public void Signal(int signal)
    {
        if (Kill(_process.Id, signal) != 0)
        {
            throw new InvalidOperationException($"kill({_process.Id}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    public async Task<CliResult> WaitAsync(TimeSpan timeout)
    {
        using var cancellation = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cancellation.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
            throw new TimeoutException($"authsplit did not exit within {timeout}:\n{_error}");
        }

        _process.WaitForExit(); // drains the redirected output
        lock (_output)
        {
            lock (_error)
            {
                return new CliResult(_process.ExitCode, _output.ToString(), _error.ToString());
            }
        }
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        _process.Dispose();
    }

    private static void Append(StringBuilder builder, string? line)
    {
        if (line is not null)
        {
            lock (builder)
            {
                builder.Append(line).Append('\n');
            }
        }
    }

    private static string Quote(string argument) => "'" + argument.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
