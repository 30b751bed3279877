namespace AuthSplit.Core.Execution;

/// <summary>
/// The stable codes that open every journalled reason (<c>stale-moved: planned at …, found at …</c>):
/// status, evidence and tests group by the code, the rest of the text is for people.
/// </summary>
public static class ReasonCodes
{
    public const string StaleMoved = "stale-moved";
    public const string StaleChanged = "stale-changed";
    public const string StaleReplaced = "stale-replaced";
    public const string StaleVanished = "stale-vanished";
    public const string StaleAmbiguous = "stale-ambiguous";
    public const string StaleTargetVanished = "stale-target-vanished";
    public const string StaleTargetChanged = "stale-target-changed";

    public const string Protected = "protected";
    public const string OutsideWave = "outside-wave";
    public const string DeleteBudget = "delete-budget";
    public const string NoBackup = "no-backup";
    public const string NotCloudManaged = "not-cloud-managed";

    /// <summary>Not a fault: a step found its switch already made (an already-done record that says why nothing was written).</summary>
    public const string AlreadyCloudManaged = "already-cloud-managed";

    public const string LastMember = "last-member";
    public const string Rejected = "rejected";
    public const string Transient = "transient";
    public const string StillPresent = "still-present";

    public const string DeleteHeld = "delete-held";

    /// <summary>Not a fault: a step done under an earlier approved plan of the same wave, put on record under this plan instead of being run again.</summary>
    public const string CarriedOver = "carried-over";

    /// <summary>Command strategy: the read-back does not confirm the person's password-sync stop after the hook ran.</summary>
    public const string SyncStopUnconfirmed = "sync-stop-unconfirmed";

    /// <summary>Command strategy: the read-back showed the person's password sync stopped before the hook ran.</summary>
    public const string AlreadyStopped = "already-stopped";
    public const string TargetAppMissing = "target-app-missing";
    public const string CutoverFailed = "cutover-failed";
    public const string ProbeFailed = "probe-failed";
    public const string LegacyNotQuiet = "legacy-not-quiet";
    public const string LegacyBindAccepted = "legacy-bind-accepted";
    public const string GroupSwitchRefused = "group-switch-refused";
    public const string ExcludedExcepted = "excluded-excepted";

    /// <summary>
    /// An entity or system an operator rolled back (<c>authsplit rollback</c>): final under its plan, which never
    /// redoes it; removing it again takes a new plan and a new approval.
    /// </summary>
    public const string RolledBack = "rolled-back";

    public const string ExcludedProtected = "excluded-protected";
    public const string ExcludedBlocked = "excluded-blocked";
    public const string ExcludedKept = "excluded-kept";

    public static string Format(string code, string detail) => code + ": " + detail;

    /// <summary>The code a reason opens with (the text before the first colon).</summary>
    public static string? CodeOf(string? reason)
    {
        if (reason is null)
        {
            return null;
        }

        var colon = reason.IndexOf(':', StringComparison.Ordinal);
        return colon < 0 ? reason : reason[..colon];
    }
}
