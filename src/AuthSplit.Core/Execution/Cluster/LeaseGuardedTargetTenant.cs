using AuthSplit.Core.Model;

namespace AuthSplit.Core.Execution.Cluster;

/// <summary>The target tenant as a leased run sees it: every write asks the lease first (just before the batch leaves), reads go straight through.</summary>
internal sealed class LeaseGuardedTargetTenant(ITargetTenant inner, WorkLease lease) : ITargetTenant
{
    public string Description => inner.Description;

    public Task<IReadOnlyList<SourceOfAuthority>> GetSourceOfAuthorityAsync(IReadOnlyList<string> userIds, CancellationToken cancellationToken) => inner.GetSourceOfAuthorityAsync(userIds, cancellationToken);

    public Task<IReadOnlyList<TargetWriteOutcome>> SetSourceOfAuthorityAsync(IReadOnlyList<string> userIds, bool cloudManaged, CancellationToken cancellationToken)
    {
        lease.ThrowIfNotHeld();
        return inner.SetSourceOfAuthorityAsync(userIds, cloudManaged, cancellationToken);
    }

    public Task<IReadOnlyList<TargetUserProperty>> GetUserPropertyAsync(IReadOnlyList<string> userIds, string property, CancellationToken cancellationToken) => inner.GetUserPropertyAsync(userIds, property, cancellationToken);

    public Task<IReadOnlyList<TargetUser>> GetUsersAsync(IReadOnlyList<string> userIds, CancellationToken cancellationToken) => inner.GetUsersAsync(userIds, cancellationToken);

    public Task<IReadOnlyList<TargetWriteOutcome>> SetAccountEnabledAsync(IReadOnlyList<string> userIds, bool enabled, CancellationToken cancellationToken)
    {
        lease.ThrowIfNotHeld();
        return inner.SetAccountEnabledAsync(userIds, enabled, cancellationToken);
    }

    public Task<TenantSyncState> GetTenantSyncStateAsync(CancellationToken cancellationToken) => inner.GetTenantSyncStateAsync(cancellationToken);

    public IAsyncEnumerable<TargetGroup> ReadGroupsAsync(CancellationToken cancellationToken) => inner.ReadGroupsAsync(cancellationToken);

    public IAsyncEnumerable<TargetApplication> ReadApplicationsAsync(CancellationToken cancellationToken) => inner.ReadApplicationsAsync(cancellationToken);

    public IAsyncEnumerable<TargetServicePrincipal> ReadServicePrincipalsAsync(CancellationToken cancellationToken) => inner.ReadServicePrincipalsAsync(cancellationToken);

    public Task<IReadOnlyList<SourceOfAuthority>> GetGroupSourceOfAuthorityAsync(IReadOnlyList<string> groupIds, CancellationToken cancellationToken) => inner.GetGroupSourceOfAuthorityAsync(groupIds, cancellationToken);

    public Task<IReadOnlyList<TargetWriteOutcome>> SetGroupSourceOfAuthorityAsync(IReadOnlyList<string> groupIds, bool cloudManaged, CancellationToken cancellationToken)
    {
        lease.ThrowIfNotHeld();
        return inner.SetGroupSourceOfAuthorityAsync(groupIds, cloudManaged, cancellationToken);
    }

    public Task<TargetServicePrincipal?> GetServicePrincipalAsync(string? servicePrincipalId, string? appId, CancellationToken cancellationToken) => inner.GetServicePrincipalAsync(servicePrincipalId, appId, cancellationToken);
}
