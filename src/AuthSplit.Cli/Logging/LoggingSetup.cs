using System.Globalization;
using AuthSplit.Cli.Output;
using Serilog;
using Serilog.Core;
using Serilog.Events;
using Serilog.Formatting.Display;
using Serilog.Formatting.Compact;

namespace AuthSplit.Cli.Logging;

/// <summary>
/// Operational logs: human-readable lines on stderr (stdout is for results a script may parse) and
/// structured JSON in a rolling file. Logs never carry a secret: adapters hold passwords and tokens in
/// types that render as <c>***</c>, and the CLI only ever logs the names of the variables that hold them.
/// Log files hold personal data (DNs, names): the directory is created 0700 and each file 0600.
/// </summary>
public static class LoggingSetup
{
    /// <summary>Marks an event whose line the CLI already printed on the console itself: it goes to the log file only.</summary>
    public const string ConsoleShownProperty = "ConsoleShown";

    public static string DefaultDirectory =>
        Environment.GetEnvironmentVariable("AUTHSPLIT_LOG_DIR") is { Length: > 0 } configured
            ? configured
            : Path.Combine(
                Environment.GetEnvironmentVariable("XDG_STATE_HOME") is { Length: > 0 } state ? state : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "state"),
                "authsplit",
                "logs");

    /// <summary>The logger for events already shown on the console (errors, warnings the CLI prints in its own words).</summary>
    public static ILogger FileOnly(this ILogger log) => log.ForContext(ConsoleShownProperty, true);

    /// <summary>
    /// The run's logger. When the log directory cannot be created or written, a warning says so on the
    /// console and <see cref="CliLog.FileDirectory"/> is null: nothing may then claim that a log file has details.
    /// </summary>
    public static CliLog Create(TextWriter error, string? directory, bool verbose)
    {
        var configuration = new LoggerConfiguration()
            .MinimumLevel.Is(verbose ? LogEventLevel.Debug : LogEventLevel.Information)
            .Enrich.FromLogContext()
            .WriteTo.Logger(console => console
                .Filter.ByExcluding(e => e.Properties.ContainsKey(ConsoleShownProperty))
                .WriteTo.Sink(new TextWriterSink(error), verbose ? LogEventLevel.Debug : LogEventLevel.Warning));
        var logDirectory = directory ?? DefaultDirectory;
        string? fileDirectory = null;
        try
        {
            if (string.IsNullOrWhiteSpace(logDirectory))
            {
                throw new IOException("the path is empty");
            }

            if (OperatingSystem.IsWindows())
            {
                Directory.CreateDirectory(logDirectory);
            }
            else
            {
                Directory.CreateDirectory(logDirectory, UnixFile.OwnerOnlyDirectory);
            }

            // Today's file is created here, owner-only, so that the sink only ever appends to it, and so
            // that a directory we cannot write is found now rather than swallowed by the sink.
            var today = Path.Combine(logDirectory, $"authsplit-{TimeProvider.System.GetLocalNow():yyyyMMdd}.log");
            using (new FileStream(today, UnixFile.OwnerOnlyOptions(FileMode.Append, FileAccess.Write, FileShare.ReadWrite)))
            {
            }

            configuration = configuration.WriteTo.File(
                new CompactJsonFormatter(),
                Path.Combine(logDirectory, "authsplit-.log"),
                rollingInterval: RollingInterval.Day,
                retainedFileCountLimit: 31,
                // serve runs all day while operators run status, approve or plan: several processes append
                // to one day's file. Unshared, each wrote at its own offset and overwrote the others' lines
                // (measured: 4 of 47 lines torn with serve and six status at once); shared appends each event
                // at the end under a system-wide lock.
                shared: true);
            fileDirectory = logDirectory;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            // A log directory we cannot create must not stop a plan; but the operator must know there is no log file.
            error.WriteLine($"warning: cannot write logs to \"{logDirectory}\" ({ex.Message}); this run logs to the console only (set --log-dir or AUTHSPLIT_LOG_DIR)");
        }

        return new CliLog(configuration.CreateLogger(), fileDirectory);
    }
}

/// <summary>The run's logger and, when there is one, the directory of its JSON log file.</summary>
public sealed class CliLog(Logger logger, string? fileDirectory) : IAsyncDisposable
{
    public ILogger Logger => logger;

    public string? FileDirectory => fileDirectory;

    public ValueTask DisposeAsync() => logger.DisposeAsync();
}

/// <summary>Human-readable log lines on the CLI's error writer (a test can capture it).</summary>
internal sealed class TextWriterSink(TextWriter writer) : ILogEventSink
{
    private readonly MessageTemplateTextFormatter _formatter = new("{Level:u3} {Message:lj}{NewLine}", CultureInfo.InvariantCulture);

    public void Emit(LogEvent logEvent)
    {
        lock (writer)
        {
            _formatter.Format(logEvent, writer);
        }
    }
}
