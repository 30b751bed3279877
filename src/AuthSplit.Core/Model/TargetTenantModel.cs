namespace AuthSplit.Core.Model;

/// <summary>A user's source of authority; <see cref="IsCloudManaged"/> is null when it could not be read (see <see cref="Problem"/>).</summary>
public sealed record SourceOfAuthority(string UserId, bool? IsCloudManaged, TargetWriteStatus Status, string? Problem = null);

/// <summary>
/// One user property as read now: <see cref="Value"/> is its JSON value as text (<c>true</c>, <c>false</c>, a string)
/// or null when the property is null or absent; <see cref="Status"/> is <see cref="TargetWriteStatus.Verified"/> when read.
/// </summary>
public sealed record TargetUserProperty(string UserId, string? Value, TargetWriteStatus Status, string? Problem = null);

/// <summary>What became of one write to the target, after reading it back.</summary>
public sealed record TargetWriteOutcome(string UserId, TargetWriteStatus Status, string? Problem = null)
{
    public bool Verified => Status == TargetWriteStatus.Verified;
}

public enum TargetWriteStatus
{
    /// <summary>Written (or read) and read back with the wanted value.</summary>
    Verified,

    /// <summary>The user does not exist in the tenant.</summary>
    NotFound,

    /// <summary>Graph refused it (400, 403...); retrying will not help.</summary>
    Rejected,

    /// <summary>Still throttled or failing after every retry; safe to run again.</summary>
    Failed,

    /// <summary>The write was accepted but reading it back shows another value.</summary>
    Mismatch,
}

/// <summary>The tenant's directory synchronisation (<c>GET /directory/onPremisesSynchronization</c>).</summary>
/// <param name="TenantId">The synchronisation object's id (the tenant's id).</param>
/// <param name="PasswordSyncEnabled"><c>features.passwordSyncEnabled</c>.</param>
/// <param name="BlockCloudObjectTakeoverThroughHardMatchEnabled">
/// <c>features.blockCloudObjectTakeoverThroughHardMatchEnabled</c>: while true, the sync engine may not take
/// a cloud object back by hard match, so a user switched back to on-premises authority (rollback) is not
/// synchronised again; Entra's source-of-authority guide has it set false for the rollback, then back.
/// </param>
public sealed record TenantSyncState(string TenantId, bool PasswordSyncEnabled, bool BlockCloudObjectTakeoverThroughHardMatchEnabled = false);

public sealed record TargetGroup(string Id, string? DisplayName, bool? SecurityEnabled, bool? MailEnabled, bool? OnPremisesSyncEnabled, string? OnPremisesSecurityIdentifier);

public sealed record TargetApplication(string Id, string? AppId, string? DisplayName, IReadOnlyList<string> IdentifierUris);

public sealed record TargetServicePrincipal(string Id, string? AppId, string? DisplayName, bool? AccountEnabled, string? ServicePrincipalType);

/// <summary>
/// What the planner reads of the target besides its users: the groups still synchronised from
/// on-premises with their members, and the applications and service principals systems cut over to.
/// </summary>
public sealed record TargetInventory
{
    /// <summary>Every group; <see cref="TargetGroupMembers.MemberIds"/> is read only for the synchronised ones.</summary>
    public required IReadOnlyList<TargetGroupMembers> Groups { get; init; }

    public required IReadOnlyList<TargetApplication> Applications { get; init; }

    public required IReadOnlyList<TargetServicePrincipal> ServicePrincipals { get; init; }
}

/// <summary>A group and, when it is synchronised from on-premises, the ids of its user members (direct).</summary>
public sealed record TargetGroupMembers(TargetGroup Group, IReadOnlyList<string> MemberIds);
