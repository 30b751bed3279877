using AuthSplit.Core.Model;
using AuthSplit.Core.Planning.Format;

namespace AuthSplit.Core.Planning;

/// <summary>
/// What each <see cref="StepAction"/> means, and the order the actions run for each kind. The plan
/// carries this catalog once, so every entity's step list stays short while the plan still explains
/// itself. Each step's dry-run check is stated here once: the catalog and every entity's steps read it
/// from the same definition.
/// </summary>
public static class StepCatalog
{
    private static readonly StepDefinition[] Definitions =
    [
        new(StepAction.VerifyTargetAccount, "target", Destructive: false, DryRunCheck.Checked,
            "The target read found exactly one user by the matching rule recorded in match.",
            _ => "Re-read the matched target user and check it is still the one the plan matched."),
        new(StepAction.StopPasswordSync, "target", Destructive: false, DryRunCheck.Unchecked,
            "A users read does not carry onPremisesSyncBehavior, and a dry run never writes; the current value is read at execution.",
            _ => "Move the user's source of authority to the cloud (PATCH /v1.0/users/{id}/onPremisesSyncBehavior isCloudManaged=true; beta only where the tenant refuses v1.0), so the legacy platform no longer writes the user or its password.",
            _ => new Reversal("PATCH onPremisesSyncBehavior isCloudManaged=false (the next sync takes the user back)", "until delete-legacy-entry has run")),
        new(StepAction.VerifyCloudManaged, "target", Destructive: false, DryRunCheck.Unchecked,
            "Only meaningful after stop-password-sync has run.",
            _ => "Read onPremisesSyncBehavior back; the legacy entry is only deleted when isCloudManaged is true, because deleting a still-synchronised entry deletes the cloud account at the next sync."),
        new(StepAction.BackupLegacyEntry, "state", Destructive: false, DryRunCheck.Checked,
            "The dry run read the entry (whole with --save-snapshot or from an LDIF export, otherwise only the attributes the plan relies on); the precondition fingerprint records those attributes, and the backup itself reads the whole entry at execution.",
            _ => "Store the full legacy entry (all user and operational attributes, group memberships by DN and id) in the state store before anything is changed."),
        new(StepAction.DisableLegacyAccount, "legacy", Destructive: false, DryRunCheck.Probed,
            "The entry was read and is in scope; write access is not tried by a dry run.",
            _ => "Disable the legacy account (AD: userAccountControl ACCOUNTDISABLE; OpenLDAP: lock the password) so nobody can authenticate with it during the hold.",
            _ => new Reversal("re-enable from the backup's userAccountControl / password attributes", "until delete-legacy-entry has run")),
        new(StepAction.QuarantineLegacyEntry, "legacy", Destructive: false, DryRunCheck.Probed,
            "The entry was read; the move is not tried by a dry run.",
            removal => $"Move the disabled entry under the quarantine container ({removal.QuarantineDn ?? "not configured"}).",
            _ => new Reversal("move the entry back to the DN recorded in the backup", "until delete-legacy-entry has run")),
        new(StepAction.Hold, "state", Destructive: false, DryRunCheck.Checked,
            "A wait needs no check.",
            removal => $"Wait {removal.HoldDays} day(s) between disabling and deleting, so a mistake shows up while it is still cheap to undo."),
        new(StepAction.DeleteLegacyEntry, "legacy", Destructive: true, DryRunCheck.Probed,
            "The entry was read and is in scope; the delete itself is not tried by a dry run. The executor refuses it if the precondition fingerprint no longer matches.",
            _ => "Delete the entry from the legacy directory (group memberships are cleaned with it), only after its backup is stored and, for people, after verify-cloud-managed.",
            removal => new Reversal(
                "authsplit restore re-creates the entry and its memberships from the backup (on Active Directory a re-created object gets a new objectGUID and objectSid; the original identity comes back only from the AD Recycle Bin within its deleted-object lifetime)",
                $"{removal.BackupRetentionDays} days after the delete (Removal:BackupRetentionDays)")),
        new(StepAction.VerifyLegacyAbsent, "legacy", Destructive: false, DryRunCheck.Unchecked,
            "Only meaningful after delete-legacy-entry has run.",
            _ => "Search the legacy directory by the entry's identity and DN and record that nothing is found."),
        new(StepAction.SwitchGroupSourceOfAuthority, "target", Destructive: false, DryRunCheck.Checked,
            "The target read found the group synchronised from on-premises (onPremisesSyncEnabled true) with members among the plan's people; the write is not tried by a dry run.",
            _ => "Move the cloud group's source of authority to the cloud (PATCH /v1.0/groups/{id}/onPremisesSyncBehavior isCloudManaged=true) before the wave's people are deleted, so they do not drop out of it when their legacy entries go.",
            _ => new Reversal("PATCH onPremisesSyncBehavior isCloudManaged=false (the next sync takes the group back)", "until the legacy group or its members' legacy entries are deleted")),
        new(StepAction.VerifyGroupCloudManaged, "target", Destructive: false, DryRunCheck.Unchecked,
            "Only meaningful after switch-group-source-of-authority has run.",
            _ => "Read the group's onPremisesSyncBehavior back; the wave's people are deleted only once it reads isCloudManaged true (or a decision accepts the loss)."),
        new(StepAction.VerifyTargetApp, "target", Destructive: false, DryRunCheck.Checked,
            "The target read found the system's service principal and whether it is enabled.",
            _ => "Re-read the system's service principal and check that it exists and is enabled before anything is switched."),
        new(StepAction.Cutover, "system", Destructive: false, DryRunCheck.Unchecked,
            "A dry run never calls the cutover hook.",
            _ => "Run the system's configured cutover (a command, or an HTTP call) that points it at the target IdP; its exit code or status, duration and a hash of its output are journalled.",
            _ => new Reversal("the system owner's own rollback (the journal holds what the hook printed); once its legacy accounts are disabled, re-enable them from their backups first", "as long as the legacy directory is kept")),
        new(StepAction.ProbeTarget, "system", Destructive: false, DryRunCheck.Unchecked,
            "Probes run only at execution.",
            _ => "Run the system's probes of the new path (LDAP bind, HTTP or command); a failing probe keeps the system failed, with its output in the journal."),
        new(StepAction.VerifyLegacyQuiet, "legacy", Destructive: false, DryRunCheck.Probed,
            "The dry run read the accounts; whether they authenticated after the cutover is only known at execution.",
            _ => "Read the legacy accounts' last authentication (AD lastLogonTimestamp, OpenLDAP pwdLastSuccess or authTimestamp where the server keeps them) and check none is after the cutover; where the server keeps none, say that it cannot be checked here."),
        new(StepAction.ProbeLegacyRefused, "legacy", Destructive: false, DryRunCheck.Unchecked,
            "Only meaningful after disable-legacy-account has run.",
            _ => "Try a bind as each disabled legacy account when its credential is supplied, and require it to fail; otherwise read the disabled state back."),
    ];

    // One immutable step per action (indexed by the action), shared by every entity's step list.
    private static readonly PlannedStep[] Steps = [.. Enum.GetValues<StepAction>().Select(a => Definitions.Single(d => d.Action == a)).Select(d => new PlannedStep(d.Action, d.DryRun))];

    /// <summary>
    /// The catalog a plan carries: the entity steps always; the group and system steps only when the plan
    /// has synchronised groups or systems (a plan without them reads exactly as before they existed).
    /// </summary>
    public static IReadOnlyList<StepDescription> Describe(RemovalSettings removal, bool groups = false, bool systems = false, PasswordSyncHookSpec? passwordSyncHook = null) =>
    [
        .. Definitions.Where(d => IsEntityStep(d.Action) || (groups && IsGroupSwitchStep(d.Action)) || (systems && IsSystemStep(d.Action)))
            .Where(d => passwordSyncHook is null || d.Action != StepAction.VerifyCloudManaged)
            .Select(d => passwordSyncHook is not null && d.Action == StepAction.StopPasswordSync ? StopByHook(d, passwordSyncHook) : new StepDescription
            {
                Action = d.Action,
                System = d.System,
                Description = d.Description(removal),
                Destructive = d.Destructive,
                DryRun = d.DryRun,
                DryRunExplanation = d.DryRunExplanation,
                Reversal = d.Reversal?.Invoke(removal),
            }),
    ];

    // The Command strategy's stop-password-sync: the approved hook, an ensure like the Graph switch (the
    // read-back first, the hook only for those not yet stopped, the read-back again), confirmed per person.
    private static StepDescription StopByHook(StepDefinition definition, PasswordSyncHookSpec hook) => new()
    {
        Action = definition.Action,
        System = "hook",
        Description = $"Read back whether each person's password sync is stopped ({(hook.ReadBackCommand is { } readBack ? "the read-back command " + string.Join(' ', readBack) : $"the Graph user property {hook.ReadBackGraphProperty} {(hook.ReadBackGraphValue is { } value ? "= " + value : "null or false")}")}); for those not yet stopped run the configured hook ({string.Join(' ', hook.Command)}) once per batch of up to {hook.BatchSize} people (their target ids on stdin and in AUTHSPLIT_USER_IDS), then read back again: a person whose stop the read-back does not confirm fails, with the hook's exit code and output in the journal.",
        Destructive = false,
        DryRun = DryRunCheck.Unchecked,
        DryRunExplanation = "A dry run never runs the hook or its read-back.",
        Reversal = new Reversal("the sync engine's own way of taking the person back into its scope (the journal holds what the hook printed)", "until delete-legacy-entry has run"),
    };

    public static bool IsEntityStep(StepAction action) => action <= StepAction.VerifyLegacyAbsent;

    public static bool IsGroupSwitchStep(StepAction action) => action is StepAction.SwitchGroupSourceOfAuthority or StepAction.VerifyGroupCloudManaged;

    /// <summary>The steps of a system; <see cref="StepAction.BackupLegacyEntry"/> and <see cref="StepAction.DisableLegacyAccount"/> are shared with entities.</summary>
    public static bool IsSystemStep(StepAction action) => action >= StepAction.VerifyTargetApp;

    /// <summary>How far a dry run checks <paramref name="action"/>.</summary>
    public static DryRunCheck DryRunOf(StepAction action) => Step(action).DryRun;

    /// <summary>The ordered steps for an entity to be removed.</summary>
    /// <param name="passwordSyncByHook">The Command strategy: its stop-password-sync confirms itself by read-back, and the person's source of authority is not the tool's to verify.</param>
    public static IReadOnlyList<PlannedStep> For(EntityKind kind, bool hasTarget, RemovalSettings removal, bool passwordSyncByHook = false)
    {
        var steps = new List<PlannedStep>(9);
        if (kind == EntityKind.Person && hasTarget)
        {
            steps.Add(Step(StepAction.VerifyTargetAccount));
            steps.Add(Step(StepAction.StopPasswordSync));
            if (!passwordSyncByHook)
            {
                steps.Add(Step(StepAction.VerifyCloudManaged));
            }
        }

        steps.Add(Step(StepAction.BackupLegacyEntry));
        if (kind is EntityKind.Person or EntityKind.ServiceAccount)
        {
            steps.Add(Step(StepAction.DisableLegacyAccount));
            if (removal.QuarantineDn is not null)
            {
                steps.Add(Step(StepAction.QuarantineLegacyEntry));
            }

            if (removal.HoldDays > 0)
            {
                steps.Add(Step(StepAction.Hold));
            }
        }

        steps.Add(Step(StepAction.DeleteLegacyEntry));
        steps.Add(Step(StepAction.VerifyLegacyAbsent));
        return steps;
    }

    /// <summary>
    /// The ordered steps of a system to be cut over: the target app checked, the cutover (when one is
    /// configured), the new path probed (when a probe expects success), then each legacy account made quiet,
    /// backed up, disabled and tried (a system that binds as its users has no account of its own: those
    /// steps are left out, except the refusal probes it configures).
    /// </summary>
    public static IReadOnlyList<PlannedStep> ForSystem(bool hasCutover, bool probesTarget, bool hasLegacyAccounts, bool probesLegacyRefused)
    {
        var steps = new List<PlannedStep>(7) { Step(StepAction.VerifyTargetApp) };
        if (hasCutover)
        {
            steps.Add(Step(StepAction.Cutover));
        }

        if (probesTarget)
        {
            steps.Add(Step(StepAction.ProbeTarget));
        }

        if (hasLegacyAccounts)
        {
            steps.Add(Step(StepAction.VerifyLegacyQuiet));
            steps.Add(Step(StepAction.BackupLegacyEntry));
            steps.Add(Step(StepAction.DisableLegacyAccount));
        }

        if (hasLegacyAccounts || probesLegacyRefused)
        {
            steps.Add(Step(StepAction.ProbeLegacyRefused));
        }

        return steps;
    }

    /// <summary>The steps of a synchronised group switched before its wave's deletes.</summary>
    public static IReadOnlyList<PlannedStep> ForGroupSwitch() => [Step(StepAction.SwitchGroupSourceOfAuthority), Step(StepAction.VerifyGroupCloudManaged)];

    private static PlannedStep Step(StepAction action) => Steps[(int)action];

    private sealed record StepDefinition(
        StepAction Action,
        string System,
        bool Destructive,
        DryRunCheck DryRun,
        string DryRunExplanation,
        Func<RemovalSettings, string> Description,
        Func<RemovalSettings, Reversal>? Reversal = null);
}
