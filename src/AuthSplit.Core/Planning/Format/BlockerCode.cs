namespace AuthSplit.Core.Planning.Format;

/// <summary>Why an entity cannot be removed without a decision; written as <c>missing-identity</c> etc. (see <see cref="WireName"/>).</summary>
public enum BlockerCode
{
    /// <summary>No entryUUID/objectGUID: the executor could not tell the entry from a look-alike. Only <c>keep</c> resolves it.</summary>
    MissingIdentity,
    /// <summary>In the scope of more than one wave: <c>assign-wave</c>.</summary>
    MultipleWaves,
    /// <summary>Not a person, group or service account: <c>keep</c> or <c>remove</c>.</summary>
    UnsupportedKind,
    /// <summary>A matching rule found several target users: <c>use-target</c>.</summary>
    AmbiguousTargetMatch,
    /// <summary>No matching rule found a target user: <c>use-target</c>, or <c>remove</c> for a leaver.</summary>
    NoTargetAccount,
    /// <summary>Another entity has the same target user: <c>use-target</c> or <c>keep</c> for one of them.</summary>
    TargetShared,
    /// <summary>A person whose entry is also a system's legacy account (<c>Systems[].LegacyAccounts</c>): <c>keep</c> it (its system then disables it), or fix the system's config.</summary>
    LegacyAccountOfSystem,
}
