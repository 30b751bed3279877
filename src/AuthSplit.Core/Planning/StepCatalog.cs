using AuthSplit.Core.Model;
using AuthSplit.Core.Planning.Format;

namespace AuthSplit.Core.Planning;

/// <summary>
/// The step actions, in the order they run for each kind, and what each means. The plan carries this
/// catalog once, so every entity's step list stays short while the plan still explains itself.
/// </summary>
public static class StepCatalog
{
    public const string VerifyTargetAccount = "verify-target-account";
    public const string StopPasswordSync = "stop-password-sync";
    public const string VerifyCloudManaged = "verify-cloud-managed";
    public const string BackupLegacyEntry = "backup-legacy-entry";
    public const string DisableLegacyAccount = "disable-legacy-account";
    public const string QuarantineLegacyEntry = "quarantine-legacy-entry";
    public const string Hold = "hold";
    public const string DeleteLegacyEntry = "delete-legacy-entry";
    public const string VerifyLegacyAbsent = "verify-legacy-absent";

    public static IReadOnlyList<StepDescription> Describe(RemovalSettings removal) =>
    [
        new()
        {
            Action = VerifyTargetAccount, System = "target", Destructive = false,
            Description = "Re-read the matched target user and check it is still the one the plan matched.",
            DryRun = DryRunCheck.Checked, DryRunExplanation = "The target read found exactly one user by the matching rule recorded in match.",
        },
        new()
        {
            Action = StopPasswordSync, System = "target", Destructive = false,
            Description = "Move the user's source of authority to the cloud (PATCH /beta/users/{id}/onPremisesSyncBehavior isCloudManaged=true), so the legacy platform no longer writes the user or its password.",
            DryRun = DryRunCheck.Unchecked, DryRunExplanation = "A users read does not carry onPremisesSyncBehavior, and a dry run never writes; the current value is read at execution.",
            Reversal = new Reversal("PATCH onPremisesSyncBehavior isCloudManaged=false (the next sync takes the user back)", "until delete-legacy-entry has run"),
        },
        new()
        {
            Action = VerifyCloudManaged, System = "target", Destructive = false,
            Description = "Read onPremisesSyncBehavior back; the legacy entry is only deleted when isCloudManaged is true, because deleting a still-synchronised entry deletes the cloud account at the next sync.",
            DryRun = DryRunCheck.Unchecked, DryRunExplanation = "Only meaningful after stop-password-sync has run.",
        },
        new()
        {
            Action = BackupLegacyEntry, System = "state", Destructive = false,
            Description = "Store the full legacy entry (all user and operational attributes, group memberships by DN and id) in the state store before anything is changed.",
            DryRun = DryRunCheck.Checked, DryRunExplanation = "The dry run read the entry (whole with --save-snapshot or from an LDIF export, otherwise only the attributes the plan relies on); the precondition fingerprint records those attributes, and the backup itself reads the whole entry at execution.",
        },
        new()
        {
            Action = DisableLegacyAccount, System = "legacy", Destructive = false,
            Description = "Disable the legacy account (AD: userAccountControl ACCOUNTDISABLE; OpenLDAP: lock the password) so nobody can authenticate with it during the hold.",
            DryRun = DryRunCheck.Probed, DryRunExplanation = "The entry was read and is in scope; write access is not tried by a dry run.",
            Reversal = new Reversal("re-enable from the backup's userAccountControl / password attributes", "until delete-legacy-entry has run"),
        },
        new()
        {
            Action = QuarantineLegacyEntry, System = "legacy", Destructive = false,
            Description = $"Move the disabled entry under the quarantine container ({removal.QuarantineDn ?? "not configured"}).",
            DryRun = DryRunCheck.Probed, DryRunExplanation = "The entry was read; the move is not tried by a dry run.",
            Reversal = new Reversal("move the entry back to the DN recorded in the backup", "until delete-legacy-entry has run"),
        },
        new()
        {
            Action = Hold, System = "state", Destructive = false,
            Description = $"Wait {removal.HoldDays} day(s) between disabling and deleting, so a mistake shows up while it is still cheap to undo.",
            DryRun = DryRunCheck.Checked, DryRunExplanation = "A wait needs no check.",
        },
        new()
        {
            Action = DeleteLegacyEntry, System = "legacy", Destructive = true,
            Description = "Delete the entry from the legacy directory (group memberships are cleaned with it), only after its backup is stored and, for people, after verify-cloud-managed.",
            DryRun = DryRunCheck.Probed, DryRunExplanation = "The entry was read and is in scope; the delete itself is not tried by a dry run. The executor refuses it if the precondition fingerprint no longer matches.",
            Reversal = new Reversal(
                "authsplit restore re-creates the entry and its memberships from the backup (on Active Directory a re-created object gets a new objectGUID and objectSid; the original identity comes back only from the AD Recycle Bin within its deleted-object lifetime)",
                $"{removal.BackupRetentionDays} days after the delete (Removal:BackupRetentionDays)"),
        },
        new()
        {
            Action = VerifyLegacyAbsent, System = "legacy", Destructive = false,
            Description = "Search the legacy directory by the entry's identity and DN and record that nothing is found.",
            DryRun = DryRunCheck.Unchecked, DryRunExplanation = "Only meaningful after delete-legacy-entry has run.",
        },
    ];

    /// <summary>The ordered steps for an entity to be removed.</summary>
    public static IReadOnlyList<PlannedStep> For(EntityKind kind, bool hasTarget, RemovalSettings removal)
    {
        var steps = new List<PlannedStep>(9);
        if (kind == EntityKind.Person && hasTarget)
        {
            steps.Add(new PlannedStep(VerifyTargetAccount, DryRunCheck.Checked));
            steps.Add(new PlannedStep(StopPasswordSync, DryRunCheck.Unchecked));
            steps.Add(new PlannedStep(VerifyCloudManaged, DryRunCheck.Unchecked));
        }

        steps.Add(new PlannedStep(BackupLegacyEntry, DryRunCheck.Checked));
        if (kind is EntityKind.Person or EntityKind.ServiceAccount)
        {
            steps.Add(new PlannedStep(DisableLegacyAccount, DryRunCheck.Probed));
            if (removal.QuarantineDn is not null)
            {
                steps.Add(new PlannedStep(QuarantineLegacyEntry, DryRunCheck.Probed));
            }

            if (removal.HoldDays > 0)
            {
                steps.Add(new PlannedStep(Hold, DryRunCheck.Checked));
            }
        }

        steps.Add(new PlannedStep(DeleteLegacyEntry, DryRunCheck.Probed));
        steps.Add(new PlannedStep(VerifyLegacyAbsent, DryRunCheck.Unchecked));
        return steps;
    }
}
