using AuthSplit.Core.Model;

namespace AuthSplit.Core.Execution;

/// <summary>
/// The target tenant as the executor's steps use it: the per-user source-of-authority switch, account
/// state, the tenant's password sync state and the objects system cutover checks. Every write is read
/// back before it is reported <see cref="TargetWriteStatus.Verified"/>. Methods take many users at once
/// so the adapter can batch them; each user gets its own outcome (one failure never hides another).
/// </summary>
public interface ITargetTenant
{
    /// <summary>What this tenant is, for messages and evidence (never a credential).</summary>
    string Description { get; }

    /// <summary>Each user's source of authority: cloud-managed or synchronised from on-premises.</summary>
    Task<IReadOnlyList<SourceOfAuthority>> GetSourceOfAuthorityAsync(IReadOnlyList<string> userIds, CancellationToken cancellationToken);

    /// <summary>Sets each user's source of authority, then reads it back.</summary>
    Task<IReadOnlyList<TargetWriteOutcome>> SetSourceOfAuthorityAsync(IReadOnlyList<string> userIds, bool cloudManaged, CancellationToken cancellationToken);

    /// <summary>
    /// One property of each user as it is now (the Command password-sync strategy's read-back,
    /// <c>PasswordSync:ReadBackGraphProperty</c>); <see cref="TargetWriteStatus.NotFound"/> for a user the tenant does not have.
    /// </summary>
    Task<IReadOnlyList<TargetUserProperty>> GetUserPropertyAsync(IReadOnlyList<string> userIds, string property, CancellationToken cancellationToken);

    /// <summary>The users as they are now, with the snapshot's properties (absent ones are not returned).</summary>
    Task<IReadOnlyList<TargetUser>> GetUsersAsync(IReadOnlyList<string> userIds, CancellationToken cancellationToken);

    /// <summary>Enables or disables each user's sign-in (<c>accountEnabled</c>), then reads it back.</summary>
    Task<IReadOnlyList<TargetWriteOutcome>> SetAccountEnabledAsync(IReadOnlyList<string> userIds, bool enabled, CancellationToken cancellationToken);

    /// <summary>
    /// The tenant-wide directory synchronisation features: password hash sync on or off, and whether the
    /// sync engine is blocked from taking cloud objects over by hard match (what a rollback of the
    /// source-of-authority switch needs off). Read only: Graph lets only a delegated Global Administrator
    /// write them, which the tool never is.
    /// </summary>
    Task<TenantSyncState> GetTenantSyncStateAsync(CancellationToken cancellationToken);

    IAsyncEnumerable<TargetGroup> ReadGroupsAsync(CancellationToken cancellationToken);

    IAsyncEnumerable<TargetApplication> ReadApplicationsAsync(CancellationToken cancellationToken);

    IAsyncEnumerable<TargetServicePrincipal> ReadServicePrincipalsAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Each group's source of authority (<c>onPremisesSyncBehavior</c>); the records' <see cref="SourceOfAuthority.UserId"/>
    /// holds the group id. <see cref="TargetWriteStatus.NotFound"/> for a group the tenant does not have.
    /// </summary>
    Task<IReadOnlyList<SourceOfAuthority>> GetGroupSourceOfAuthorityAsync(IReadOnlyList<string> groupIds, CancellationToken cancellationToken);

    /// <summary>
    /// Sets each group's source of authority, then reads it back (ids in <see cref="TargetWriteOutcome.UserId"/> are group ids).
    /// A switch the tenant refuses (403: the group is not one Entra lets move, or the permission
    /// <c>Group-OnPremisesSyncBehavior.ReadWrite.All</c> is missing) is <see cref="TargetWriteStatus.Rejected"/>.
    /// </summary>
    Task<IReadOnlyList<TargetWriteOutcome>> SetGroupSourceOfAuthorityAsync(IReadOnlyList<string> groupIds, bool cloudManaged, CancellationToken cancellationToken);

    /// <summary>
    /// The service principal with object id <paramref name="servicePrincipalId"/>, or else the one of application
    /// (client) id <paramref name="appId"/>, as it is now; null when the tenant has none. At least one must be given.
    /// </summary>
    Task<TargetServicePrincipal?> GetServicePrincipalAsync(string? servicePrincipalId, string? appId, CancellationToken cancellationToken);
}
