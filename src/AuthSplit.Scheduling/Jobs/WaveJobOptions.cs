namespace AuthSplit.Scheduling.Jobs;

/// <summary>How the wave job treats an exception that escapes the wave execution.</summary>
public sealed class WaveJobOptions
{
    /// <summary>
    /// Times a firing is run again after an unexpected exception (the execution reports every expected
    /// ending, an unreachable system included, as a <see cref="AuthSplit.Core.Execution.WaveResult"/>, so
    /// what escapes is a fault to retry a few times, not to loop on).
    /// </summary>
    public int MaxRefires { get; set; } = WaveJobDefaults.MaxRefires;

    /// <summary>Wait before each refire, so a store or directory that just failed gets a moment.</summary>
    public TimeSpan RefireDelay { get; set; } = WaveJobDefaults.RefireDelay;
}

public static class WaveJobDefaults
{
    public const int MaxRefires = 3;

    public static readonly TimeSpan RefireDelay = TimeSpan.FromSeconds(5);
}
