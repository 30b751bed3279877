namespace AuthSplit.Scheduling.Hosting;

/// <summary>
/// The journal's list of waves a run started and never recorded the end of: a process killed mid-wave.
/// The journal is the source of truth: at start-up <c>run</c> and <c>serve</c> resume each of these
/// that Quartz did not recover itself (quartznet#3759). Answered by the execution store.
/// </summary>
public interface IUnfinishedWaves
{
    /// <summary>Waves whose journal status is <see cref="AuthSplit.Core.Execution.WaveStatus.Running"/>, with the operator who started them.</summary>
    Task<IReadOnlyList<UnfinishedWave>> ListAsync(CancellationToken cancellationToken);
}

public sealed record UnfinishedWave(string PlanId, string Wave, string Operator);
