using AuthSplit.Core.Execution;

namespace AuthSplit.Core.Observability;

/// <summary>Counts a wave as in progress (<c>authsplit.waves.in_progress</c>) while the executor runs it.</summary>
public sealed class MeteredWaveExecution(IWaveExecution inner) : IWaveExecution
{
    public async Task<WaveResult> ExecuteAsync(WaveJobRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        using (AuthSplitMetrics.WaveStarted(request.Wave))
        {
            return await inner.ExecuteAsync(request, cancellationToken);
        }
    }
}
