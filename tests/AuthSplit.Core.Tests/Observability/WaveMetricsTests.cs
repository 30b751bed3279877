using System.Diagnostics.Metrics;
using AuthSplit.Core.Execution;
using AuthSplit.Core.Observability;

namespace AuthSplit.Core.Tests.Observability;

/// <summary>
/// The executor's side of the metrics: a wave counts as in progress exactly while it executes, and its
/// entity counts reach <c>authsplit.entities</c> from the progress reports, which still reach the display.
/// Each test uses a wave name of its own: the meter is process-wide and other tests record into it.
/// </summary>
public sealed class WaveMetricsTests
{
    [Fact]
    public async Task A_wave_is_in_progress_while_it_executes_and_not_after_even_when_it_throws()
    {
        var wave = "w-" + Guid.NewGuid().ToString("N")[..8];
        using var listener = new Recorder("authsplit.waves.in_progress", wave);
        var during = 0L;
        var execution = new MeteredWaveExecution(new Execution(_ => { during = listener.Total; return Task.FromResult(Result(wave)); }));

        await execution.ExecuteAsync(new WaveJobRequest("sha256:ab", wave, "ops", Recovering: false), CancellationToken.None);
        during.Should().Be(1);
        listener.Total.Should().Be(0);

        var failing = new MeteredWaveExecution(new Execution(_ => throw new InvalidOperationException("boom")));
        await failing.Invoking(e => e.ExecuteAsync(new WaveJobRequest("sha256:ab", wave, "ops", Recovering: false), CancellationToken.None)).Should().ThrowAsync<InvalidOperationException>();
        listener.Total.Should().Be(0, "a wave that failed is not left in progress");
    }

    [Fact]
    public void Progress_reports_set_the_entities_gauge_per_state_and_still_reach_the_display()
    {
        var wave = "w-" + Guid.NewGuid().ToString("N")[..8];
        var display = new List<WaveProgress>();
        var progress = new WaveProgressMetrics(new Progress(display.Add));

        progress.Report(Report(wave, done: 3, remaining: 7));
        progress.Report(Report(wave, done: 9, remaining: 0, failed: 1));

        display.Should().HaveCount(2);
        using var listener = new Recorder("authsplit.entities", wave);
        listener.Observe();
        listener.ByState.Should().Contain(new KeyValuePair<string, long>("done", 9))
            .And.Contain(new KeyValuePair<string, long>("pending", 0))
            .And.Contain(new KeyValuePair<string, long>("failed", 1), "the latest report wins");
    }

    private static WaveResult Result(string wave) => new() { Kind = WaveResultKind.Completed, PlanId = "sha256:ab", Wave = wave, Entities = new Dictionary<EntityState, int>() };

    private static WaveProgress Report(string wave, int done, int remaining, int failed = 0) => new()
    {
        PlanId = "sha256:ab",
        Wave = wave,
        Total = done + remaining + failed,
        Done = done,
        Stale = 0,
        Refused = 0,
        Failed = failed,
        Excluded = 0,
        Held = 0,
        Remaining = remaining,
        FinishedThisRun = done,
        Elapsed = TimeSpan.FromSeconds(1),
        LdapOperationsPerSecond = 0,
    };

    private sealed class Execution(Func<WaveJobRequest, Task<WaveResult>> run) : IWaveExecution
    {
        public Task<WaveResult> ExecuteAsync(WaveJobRequest request, CancellationToken cancellationToken) => run(request);
    }

    private sealed class Progress(Action<WaveProgress> report) : IProgress<WaveProgress>
    {
        public void Report(WaveProgress value) => report(value);
    }

    /// <summary>One instrument's measurements for one wave (the <c>authsplit.wave</c> tag).</summary>
    private sealed class Recorder : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly string _wave;
        private long _total;

        public Recorder(string instrument, string wave)
        {
            _wave = wave;
            _listener.InstrumentPublished = (i, l) =>
            {
                if (i.Meter.Name == AuthSplitMetrics.MeterName && i.Name == instrument)
                {
                    l.EnableMeasurementEvents(i);
                }
            };
            _listener.SetMeasurementEventCallback<long>(OnMeasurement);
            _listener.Start();
        }

        public long Total => Interlocked.Read(ref _total);

        public Dictionary<string, long> ByState { get; } = [];

        public void Observe() => _listener.RecordObservableInstruments();

        public void Dispose() => _listener.Dispose();

        private void OnMeasurement(Instrument instrument, long value, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
        {
            string? wave = null, entityState = null;
            foreach (var tag in tags)
            {
                if (tag.Key == "authsplit.wave")
                {
                    wave = tag.Value as string;
                }
                else if (tag.Key == "authsplit.entity.state")
                {
                    entityState = tag.Value as string;
                }
            }

            if (wave != _wave)
            {
                return;
            }

            if (entityState is not null)
            {
                ByState[entityState] = value;
            }
            else
            {
                Interlocked.Add(ref _total, value);
            }
        }
    }
}
