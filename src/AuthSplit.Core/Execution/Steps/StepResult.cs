namespace AuthSplit.Core.Execution.Steps;

/// <summary>What one attempt at one step came to, before it is journalled.</summary>
internal sealed record StepResult(StepOutcome Outcome, string? Before = null, string? After = null, string? Reason = null)
{
    /// <summary>For <see cref="StepOutcome.Failed"/>: safe to try again (throttled, not yet replicated); the entity stays unfinished instead of failed.</summary>
    public bool Transient { get; init; }

    public DateTimeOffset? HoldUntil { get; init; }

    /// <summary>
    /// The entity's reason after this step: none once a step is done, whatever its record says (an entity's
    /// reason tells why it is not moving on; status and the forecast read it so).
    /// </summary>
    public string? ProgressReason => Outcome is StepOutcome.Done or StepOutcome.AlreadyDone ? null : Reason;

    public static StepResult Done(string? before, string? after) => new(StepOutcome.Done, before, after);

    public static StepResult AlreadyDone(string? before) => new(StepOutcome.AlreadyDone, before, before);

    /// <summary>Nothing to write, and the journal says why (<c>already-cloud-managed: …</c>), for the evidence.</summary>
    public static StepResult AlreadyDone(string? before, string reason) => new(StepOutcome.AlreadyDone, before, before, reason);

    public static StepResult Stale(string reason, string? before = null) => new(StepOutcome.Stale, before, null, reason);

    public static StepResult Refused(string reason, string? before = null) => new(StepOutcome.Refused, before, null, reason);

    public static StepResult Failed(string reason, string? before = null) => new(StepOutcome.Failed, before, null, reason);

    public static StepResult TransientFailure(string reason, string? before = null) =>
        new(StepOutcome.Failed, before, null, reason) { Transient = true };
}
