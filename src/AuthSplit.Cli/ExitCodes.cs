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

    /// <summary>Stopped by Ctrl+C (SIGINT) before finishing; nothing half-written was left.</summary>
    public const int Cancelled = 130;

    /// <summary>Stopped by SIGTERM before finishing; nothing half-written was left.</summary>
    public const int Terminated = 143;
}
