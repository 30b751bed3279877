using AuthSplit.Core.Configuration;

namespace AuthSplit.Core.Planning.Format;

// The plan's systems, synchronised groups and per-person password-sync stop (issue 11). Same rules as
// PlanDocument.cs: records in JSON property order, lists rather than dictionaries, enums by WireName.

/// <summary>A system cut over in one wave: what the plan found of it, its steps, and why it may be blocked.</summary>
public sealed record PlannedSystem
{
    /// <summary>The configured <c>Systems[].Id</c>.</summary>
    public required string Id { get; init; }

    public required string Name { get; init; }

    public required string Wave { get; init; }

    /// <summary><see cref="Disposition.Remove"/> means "cut over"; <see cref="Disposition.Blocked"/> with <see cref="Blockers"/>; <see cref="Disposition.Kept"/> by a decision that excepts it.</summary>
    public required Disposition Disposition { get; init; }

    public required SystemTargetPlan Target { get; init; }

    public required IReadOnlyList<SystemLegacyAccount> LegacyAccounts { get; init; }

    /// <summary>The cutover as configured (no secret: headers name their environment variable or file); null when the system's owners switch it themselves.</summary>
    public CutoverSpec? Cutover { get; init; }

    public required IReadOnlyList<ProbeSpec> Probes { get; init; }

    public required IReadOnlyList<SystemBlocker> Blockers { get; init; }

    /// <summary>A decision that excepts the system (its people's deletes then do not wait for it): who, why.</summary>
    public AppliedDecision? Decision { get; init; }

    public required IReadOnlyList<PlannedStep> Steps { get; init; }
}

/// <summary>The system's service principal as the target read found it (dry run: <c>verify-target-app</c>).</summary>
public sealed record SystemTargetPlan
{
    public string? ServicePrincipalId { get; init; }

    public string? AppId { get; init; }

    /// <summary>Whether the target read found the service principal.</summary>
    public required bool Found { get; init; }

    public string? DisplayName { get; init; }

    public bool? AccountEnabled { get; init; }
}

/// <summary>A legacy bind account of a system, as the legacy read found it; the executor re-checks its precondition before the disable.</summary>
public sealed record SystemLegacyAccount
{
    public required string Dn { get; init; }

    /// <summary>entryUUID/objectGUID; null when the read did not find the entry (a blocker).</summary>
    public string? Id { get; init; }

    /// <summary>The environment variable or file the probe's credential comes from (never the credential); null: the disabled state is read back instead of trying a bind.</summary>
    public string? CredentialSource { get; init; }

    /// <summary>How the server records the account's last authentication: <c>lastLogonTimestamp</c>, <c>pwdLastSuccess</c>, <c>authTimestamp</c>, or null when it cannot be checked here.</summary>
    public string? LastAuthenticationAttribute { get; init; }

    public Precondition? Precondition { get; init; }
}

public enum CutoverKind
{
    Command,
    Http,
}

public sealed record CutoverSpec
{
    public required CutoverKind Kind { get; init; }

    /// <summary><see cref="CutoverKind.Command"/>: program and arguments.</summary>
    public IReadOnlyList<string>? Command { get; init; }

    public HttpCallSpec? Http { get; init; }

    public required int TimeoutSeconds { get; init; }
}

public sealed record HttpCallSpec
{
    public required string Method { get; init; }

    public required string Url { get; init; }

    public required IReadOnlyList<HttpHeaderSpec> Headers { get; init; }

    public string? Body { get; init; }

    public int? ExpectStatus { get; init; }

    public string? BodyContains { get; init; }
}

/// <summary>A header: its value when not secret, otherwise where the value comes from (<c>env:NAME</c> or <c>file:PATH</c>).</summary>
public sealed record HttpHeaderSpec(string Name, string? Value, string? ValueSource);

public sealed record ProbeSpec
{
    public required string Name { get; init; }

    public required ProbeKind Kind { get; init; }

    public required ProbeExpectation Expect { get; init; }

    public string? Url { get; init; }

    public string? BindDn { get; init; }

    /// <summary><c>env:NAME</c> or <c>file:PATH</c>; never the credential.</summary>
    public string? CredentialSource { get; init; }

    public string? CaFile { get; init; }

    public HttpCallSpec? Http { get; init; }

    public IReadOnlyList<string>? Command { get; init; }

    public required int TimeoutSeconds { get; init; }
}

public enum SystemBlockerCode
{
    /// <summary>The target read has no such service principal (or application).</summary>
    TargetAppMissing,
    /// <summary>The service principal exists but is disabled.</summary>
    TargetAppDisabled,
    /// <summary>A legacy account is not in the legacy read.</summary>
    LegacyAccountMissing,
    /// <summary>A legacy account has no entryUUID/objectGUID: the executor could not tell it from a look-alike.</summary>
    LegacyAccountMissingIdentity,
    /// <summary>A legacy account is also a person of the wave (it would be deleted as a person).</summary>
    LegacyAccountIsPerson,
    /// <summary>A legacy account is protected by the rails.</summary>
    LegacyAccountProtected,
    /// <summary>Two systems claim one legacy account.</summary>
    LegacyAccountShared,
    /// <summary>The system's wave is not a configured wave.</summary>
    WaveUnknown,
}

public sealed record SystemBlocker(SystemBlockerCode Code, string Message);

/// <summary>
/// A cloud group still synchronised from the legacy directory that some of a wave's people belong to:
/// deleting their legacy entries would drop them from it, so it is switched to cloud-managed before the
/// wave's deletes, unless a decision accepts the loss.
/// </summary>
public sealed record PlannedGroupSwitch
{
    public required string GroupId { get; init; }

    public string? DisplayName { get; init; }

    public string? OnPremisesSecurityIdentifier { get; init; }

    /// <summary>The first wave whose people are members: the group is switched there.</summary>
    public required string Wave { get; init; }

    /// <summary>How many of the plan's people (by target id) are members, per wave.</summary>
    public required int MembersInPlan { get; init; }

    /// <summary><see cref="Disposition.Remove"/>: switch it; <see cref="Disposition.Kept"/>: a decision accepts the loss.</summary>
    public required Disposition Disposition { get; init; }

    public AppliedDecision? Decision { get; init; }

    public required IReadOnlyList<PlannedStep> Steps { get; init; }
}

/// <summary>How a person's password sync is stopped, and what the target read said of the person.</summary>
public sealed record PersonSyncPlan
{
    public required PasswordSyncStrategy Strategy { get; init; }

    /// <summary>What the target read showed: synchronised from on-premises, already cloud-only, or unknown.</summary>
    public required TargetSyncStatus Status { get; init; }

    /// <summary>Ids of the synchronised cloud groups the person would drop out of if their group were not switched first.</summary>
    public required IReadOnlyList<string> SynchronisedGroups { get; init; }
}

public enum TargetSyncStatus
{
    /// <summary><c>onPremisesSyncEnabled</c> true: the legacy platform still writes the user.</summary>
    Synchronised,
    /// <summary><c>onPremisesSyncEnabled</c> null or false: nothing to stop; the step records "already cloud-managed".</summary>
    CloudOnly,
    /// <summary>The read did not carry <c>onPremisesSyncEnabled</c>.</summary>
    Unknown,
}

/// <summary>
/// The <c>Command</c> password-sync strategy as approved (<c>PasswordSync</c> in the config): the hook run per
/// batch of people (their target ids one per line on stdin and comma-separated in <c>AUTHSPLIT_USER_IDS</c>),
/// and how the stop is confirmed: a read-back command that prints the stopped ids one per line, or a Graph
/// user property read back. Present in a plan only when the strategy is <c>Command</c>.
/// </summary>
public sealed record PasswordSyncHookSpec
{
    public required IReadOnlyList<string> Command { get; init; }

    public IReadOnlyList<string>? ReadBackCommand { get; init; }

    public string? ReadBackGraphProperty { get; init; }

    /// <summary>The value of <see cref="ReadBackGraphProperty"/> that confirms the stop; null: confirmed when the property is null or false.</summary>
    public string? ReadBackGraphValue { get; init; }

    public required int BatchSize { get; init; }

    public required int TimeoutSeconds { get; init; }
}
