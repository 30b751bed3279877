using AuthSplit.Core.Execution;

namespace AuthSplit.Core.Observability;

/// <summary>
/// The executor's progress reports, fed to <c>authsplit.entities</c> on their way to whatever else
/// watches them (a foreground run's live display; nothing for serve).
/// </summary>
public sealed class WaveProgressMetrics(IProgress<WaveProgress>? next = null) : IProgress<WaveProgress>
{
    public void Report(WaveProgress value)
    {
        AuthSplitMetrics.RecordProgress(value);
        next?.Report(value);
    }
}
