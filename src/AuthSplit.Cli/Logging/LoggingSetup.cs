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
/// </summary>
public static class LoggingSetup
{
    public static string DefaultDirectory =>
        Environment.GetEnvironmentVariable("AUTHSPLIT_LOG_DIR") is { Length: > 0 } configured
            ? configured
            : Path.Combine(
                Environment.GetEnvironmentVariable("XDG_STATE_HOME") is { Length: > 0 } state ? state : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "state"),
                "authsplit",
                "logs");

    public static ILogger Create(TextWriter error, string? directory, bool verbose)
    {
        var configuration = new LoggerConfiguration()
            .MinimumLevel.Is(verbose ? LogEventLevel.Debug : LogEventLevel.Information)
            .Enrich.FromLogContext()
            .WriteTo.Sink(new TextWriterSink(error), verbose ? LogEventLevel.Debug : LogEventLevel.Warning);
        var logDirectory = directory ?? DefaultDirectory;
        try
        {
            Directory.CreateDirectory(logDirectory);
            configuration = configuration.WriteTo.File(
                new CompactJsonFormatter(),
                Path.Combine(logDirectory, "authsplit-.log"),
                rollingInterval: RollingInterval.Day,
                retainedFileCountLimit: 31);
        }
        catch (IOException)
        {
            // A log directory we cannot create must not stop a plan; the console still gets warnings.
        }
        catch (UnauthorizedAccessException)
        {
        }

        return configuration.CreateLogger();
    }
}

/// <summary>Human-readable log lines on the CLI's error writer (a test can capture it).</summary>
internal sealed class TextWriterSink(TextWriter writer) : ILogEventSink
{
    private readonly MessageTemplateTextFormatter _formatter = new("{Level:u3} {Message:lj}{NewLine}", System.Globalization.CultureInfo.InvariantCulture);

    public void Emit(LogEvent logEvent)
    {
        lock (writer)
        {
            _formatter.Format(logEvent, writer);
        }
    }
}
