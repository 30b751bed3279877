using Serilog;

namespace AuthSplit.Cli.Planning;

/// <summary>
/// Progress of a long read: a live counter on an interactive terminal, a log line every
/// <see cref="LogEvery"/> entries otherwise (CI logs and redirected output stay readable).
/// </summary>
public sealed class ReadProgress(CliConsole console, ILogger log) : IProgress<int>, IDisposable
{
    private const int LogEvery = 10_000;
    private readonly bool _interactive = ReferenceEquals(console.Error, Console.Error) && !Console.IsErrorRedirected;
    private int _last;

    public void Report(int value)
    {
        if (value - _last < (_interactive ? 1_000 : LogEvery))
        {
            return;
        }

        _last = value;
        if (_interactive)
        {
            console.Error.Write($"\rread {value:N0} entries...");
        }
        else
        {
            log.Information("Read {Count} entries so far", value);
        }
    }

    public void Dispose()
    {
        if (_interactive && _last > 0)
        {
            console.Error.Write("\r" + new string(' ', 40) + "\r");
        }
    }
}
