namespace AuthSplit.Core.Planning.Format;

/// <summary>
/// The step actions, in the order they run for each kind; written as <c>verify-target-account</c> etc.
/// (see <see cref="WireName"/>). What each means is in <see cref="StepCatalog"/>.
/// </summary>
public enum StepAction
{
    VerifyTargetAccount,
    StopPasswordSync,
    VerifyCloudManaged,
    BackupLegacyEntry,
    DisableLegacyAccount,
    QuarantineLegacyEntry,
    Hold,
    DeleteLegacyEntry,
    VerifyLegacyAbsent,

    // A synchronised cloud group the wave's people belong to, before their deletes.
    SwitchGroupSourceOfAuthority,
    VerifyGroupCloudManaged,

    // A system (relying party), before its wave's deletes; backup-legacy-entry and
    // disable-legacy-account above are reused for each of its legacy accounts.
    VerifyTargetApp,
    Cutover,
    ProbeTarget,
    VerifyLegacyQuiet,
    ProbeLegacyRefused,
}
