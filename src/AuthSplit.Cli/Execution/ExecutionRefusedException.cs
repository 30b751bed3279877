using AuthSplit.Core.Execution;

namespace AuthSplit.Cli.Execution;

/// <summary>A wave or a plan may not run: the refusal's code decides the exit code (README's table), its message says what to do.</summary>
public sealed class ExecutionRefusedException(ExecutionRefusal refusal) : Exception(refusal.Message)
{
    public ExecutionRefusal Refusal { get; } = refusal;

    public static int ExitCodeOf(ExecutionRefusalCode code) => code switch
    {
        // A plan the store does not hold was never approved here.
        ExecutionRefusalCode.PlanNotApproved or ExecutionRefusalCode.PlanNotFound => ExitCodes.PlanNotApproved,
        ExecutionRefusalCode.PlanTampered => ExitCodes.PlanTampered,
        ExecutionRefusalCode.SelfApproval => ExitCodes.SelfApproval,
        ExecutionRefusalCode.DependencyIncomplete => ExitCodes.DependencyIncomplete,
        ExecutionRefusalCode.WavePaused => ExitCodes.WavePaused,
        ExecutionRefusalCode.WaveUnknown => ExitCodes.BadInput,
        ExecutionRefusalCode.WaveHeldElsewhere => ExitCodes.WaveHeldElsewhere,
        _ => ExitCodes.InternalError,
    };
}
