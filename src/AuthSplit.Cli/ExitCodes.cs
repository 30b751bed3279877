namespace AuthSplit.Cli;

/// <summary>The process exit codes, documented in the README; scripts and runbooks depend on them.</summary>
public static class ExitCodes
{
    public const int Success = 0;

    /// <summary>A defect in AuthSplit itself: the message says so and the log has the stack trace.</summary>
    public const int InternalError = 1;

    /// <summary>Bad input the user can fix: config, LDIF, snapshot, decisions or plan file, command line, an output path.</summary>
    public const int BadInput = 2;

    /// <summary>The planner refused: the read looks incomplete or unsafe (empty wave, sharp drop).</summary>
    public const int Refused = 3;

    /// <summary>An outside system (directory, Graph) failed or could not be reached.</summary>
    public const int ExternalFailure = 4;

    /// <summary>The wave ran to the end but some entities failed (each with its reason in <c>status</c>); running it again retries them.</summary>
    public const int WaveFailures = 5;

    /// <summary>The wave stopped before every entity reached a final state (paused, an unreachable system, a hold period); running it again resumes.</summary>
    public const int WaveUnfinished = 6;

    /// <summary>The plan was never approved (<c>authsplit approve</c>), or not this plan: the id approved differs.</summary>
    public const int PlanNotApproved = 10;

    /// <summary>The plan's bytes no longer hash to its <c>planId</c>: it was edited after it was made.</summary>
    public const int PlanTampered = 11;

    /// <summary>The operator executing is the plan's approver and <c>Execution:AllowSelfApproval</c> is off.</summary>
    public const int SelfApproval = 12;

    /// <summary>A wave this one depends on (<c>DependsOn</c>) is not complete.</summary>
    public const int DependencyIncomplete = 13;

    /// <summary>The wave is paused (<c>authsplit resume</c> lifts it).</summary>
    public const int WavePaused = 14;

    /// <summary>
    /// <c>evidence verify</c>: the pack fails a check (signature, a file's digest, the ledger's chain or end,
    /// the manifest's counts), each named on stderr. <c>evidence export</c>: the state store's own ledger is
    /// not intact, so no pack was written.
    /// </summary>
    public const int EvidenceInvalid = 15;

    /// <summary>Another process holds the wave's lease in the state store (it is running the wave, or died less than a lease ago): nothing was written.</summary>
    public const int WaveHeldElsewhere = 16;

    /// <summary><c>authsplit demo</c>: a check of the demo did not hold (each failed check named on stderr); everything it started is stopped.</summary>
    public const int DemoCheckFailed = 17;

    /// <summary>Stopped by Ctrl+C (SIGINT) before finishing; nothing half-written was left.</summary>
    public const int Cancelled = 130;

    /// <summary>Stopped by SIGTERM before finishing; nothing half-written was left.</summary>
    public const int Terminated = 143;
}
