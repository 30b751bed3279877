using System.Globalization;
using AuthSplit.Core.Execution;

namespace AuthSplit.Cli.Execution;

/// <summary>
/// The live view of a foreground run: one status line rewritten in place on a terminal, or a plain line
/// every few seconds when the output is redirected (a log file, a pipe, a CI job), plus the last one.
/// Reports arrive from the wave's workers; the display keeps only the newest and never blocks them.
/// </summary>
public sealed class WaveProgressDisplay(TextWriter output, bool interactive, TimeProvider time) : IProgress<WaveProgress>
{
    private static readonly TimeSpan PlainInterval = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan InteractiveInterval = TimeSpan.FromMilliseconds(250);

    private readonly Lock _gate = new();
    private DateTimeOffset _lastWritten = DateTimeOffset.MinValue;
    private WaveProgress? _latest;
    private bool _lineOpen;
    private (int, int, int, int, int, int, int)? _lastCounts;
    private RetryRound? _lastRetry;

    public void Report(WaveProgress value)
    {
        lock (_gate)
        {
            _latest = value;
            var now = time.GetUtcNow();
            // A wait before a further round is always shown: the run is not stuck, it says why it waits.
            var newRetry = value.Retrying is not null && value.Retrying != _lastRetry;
            if (!newRetry && now - _lastWritten < (interactive ? InteractiveInterval : PlainInterval) && (value.Remaining > 0 || Counts(value) == _lastCounts))
            {
                return;
            }

            _lastWritten = now;
            Write(value);
        }
    }

    /// <summary>Writes the newest state once more and ends the status line.</summary>
    public void Complete()
    {
        lock (_gate)
        {
            // The end state once, not again for each final report (a redirected log showed it three times).
            if (_latest is not null && (interactive || Counts(_latest) != _lastCounts))
            {
                Write(_latest);
            }

            if (_lineOpen)
            {
                output.WriteLine();
                _lineOpen = false;
            }
        }
    }

    public static string Describe(WaveProgress p)
    {
        var eta = p.EstimatedRemaining is { } left ? " ETA " + Duration(left) : "";
        var retry = p.Retrying is { } r
            ? string.Create(CultureInfo.InvariantCulture, $"; retry round {r.Round} of {r.Rounds} for {r.Entities:N0} entit{(r.Entities == 1 ? "y" : "ies")} in {Duration(r.Delay)} ({r.Cause})")
            : "";
        return string.Create(CultureInfo.InvariantCulture,
            $"wave {p.Wave}: {p.Done:N0} done, {p.Stale:N0} stale, {p.Refused:N0} refused, {p.Failed:N0} failed, {p.Held:N0} held, {p.Remaining:N0} remaining of {p.Total:N0} ({p.Excluded:N0} not planned for removal); {p.EntitiesPerSecond:0.0}/s{eta}{retry}");
    }

    public static string Duration(TimeSpan span) => span.TotalHours >= 1
        ? string.Create(CultureInfo.InvariantCulture, $"{(int)span.TotalHours} h {span.Minutes:00} min")
        : span.TotalMinutes >= 1 ? string.Create(CultureInfo.InvariantCulture, $"{(int)span.TotalMinutes} min {span.Seconds:00} s") : string.Create(CultureInfo.InvariantCulture, $"{Math.Max(0, (int)span.TotalSeconds)} s");

    private static (int, int, int, int, int, int, int) Counts(WaveProgress p) => (p.Done, p.Stale, p.Refused, p.Failed, p.Held, p.Remaining, p.Total);

    private void Write(WaveProgress value)
    {
        _lastCounts = Counts(value);
        _lastRetry = value.Retrying;
        var text = Describe(value);
        if (interactive)
        {
            output.Write("\r" + text.PadRight(Math.Min(200, text.Length + 8)));
            output.Flush();
            _lineOpen = true;
        }
        else
        {
            output.WriteLine(text);
        }
    }
}
