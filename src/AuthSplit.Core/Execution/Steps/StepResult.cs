namespace AuthSplit.Core.Execution.Steps;

/// <summary>What one attempt at one step came to, before it is journalled.</summary>
internal sealed record StepResult(StepOutcome Outcome, string? Before = null, string? After = null, string? Reason = null)
{
    /// <summary>For <see cref="StepOutcome.Failed"/>: safe to try again (throttled, not yet replicated); the entity stays unfinished instead of failed.</summary>
    public bool Transient { get; init; }

    public DateTimeOffset? HoldUntil { get; init; }

    public static StepResult Done(string? before, string? after) => new(StepOutcome.Done, before, after);

    public static StepResult AlreadyDone(string? before) => new(StepOutcome.AlreadyDone, before, before);

    public static StepResult Stale(string reason, string? before = null) => new(StepOutcome.Stale, before, null, reason);

    public static StepResult Refused(string reason, string? before = null) => new(StepOutcome.Refused, before, null, reason);

    public static StepResult Failed(string reason, string? before = null) => new(StepOutcome.Failed, before, null, reason);

    public static StepResult TransientFailure(string reason, string? before = null) =>
        new(StepOutcome.Failed, before, null, reason) { Transient = true };
}
