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
}
