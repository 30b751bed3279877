using AuthSplit.Core.Model;

namespace AuthSplit.Core.Execution.Batching;

/// <summary>
/// The target tenant as many entities' steps call it at once: their single-user reads and writes are
/// gathered (<see cref="RequestCoalescer{TAnswer}"/>) into the list calls the adapter turns into Graph
/// <c>$batch</c>es, so a wave of N people costs about N/20 round trips per step instead of N. Each
/// entity still gets only its own user's answer and outcome; pacing under the tenant's write limit
/// stays the adapter's.
/// </summary>
public sealed class CoalescingTargetTenant : ITargetTenant
{
    private readonly ITargetTenant _inner;
    private readonly RequestCoalescer<SourceOfAuthority> _sourceOfAuthority;
    private readonly RequestCoalescer<TargetWriteOutcome> _cloudManaged;
    private readonly RequestCoalescer<TargetWriteOutcome> _synchronised;
    private readonly RequestCoalescer<TargetUser> _users;

    /// <param name="inner">The adapter.</param>
    /// <param name="maxBatch">Ids gathered into one call at most (Graph: 20 per <c>$batch</c>).</param>
    /// <param name="linger">How long a first caller waits for others before its call is sent anyway.</param>
    public CoalescingTargetTenant(ITargetTenant inner, int maxBatch, TimeSpan linger)
    {
        ArgumentNullException.ThrowIfNull(inner);
        _inner = inner;
        _sourceOfAuthority = new(ids => inner.GetSourceOfAuthorityAsync(ids, CancellationToken.None), a => a.UserId, maxBatch, linger);
        _cloudManaged = new(ids => inner.SetSourceOfAuthorityAsync(ids, true, CancellationToken.None), o => o.UserId, maxBatch, linger);
        _synchronised = new(ids => inner.SetSourceOfAuthorityAsync(ids, false, CancellationToken.None), o => o.UserId, maxBatch, linger);
        _users = new(ids => inner.GetUsersAsync(ids, CancellationToken.None), u => u.Id, maxBatch, linger);
    }

    public string Description => _inner.Description;

    // The executor calls these with CancellationToken.None (a begun step finishes); a gathered call is
    // shared, so one caller's token could not cancel it for the others anyway.
    public Task<IReadOnlyList<SourceOfAuthority>> GetSourceOfAuthorityAsync(IReadOnlyList<string> userIds, CancellationToken cancellationToken) =>
        _sourceOfAuthority.GetAsync(userIds);

    public Task<IReadOnlyList<TargetWriteOutcome>> SetSourceOfAuthorityAsync(IReadOnlyList<string> userIds, bool cloudManaged, CancellationToken cancellationToken) =>
        (cloudManaged ? _cloudManaged : _synchronised).GetAsync(userIds);

    public Task<IReadOnlyList<TargetUser>> GetUsersAsync(IReadOnlyList<string> userIds, CancellationToken cancellationToken) =>
        _users.GetAsync(userIds);

    // Called with a whole batch already (the password-sync hook's read-back): passed through.
    public Task<IReadOnlyList<TargetUserProperty>> GetUserPropertyAsync(IReadOnlyList<string> userIds, string property, CancellationToken cancellationToken) =>
        _inner.GetUserPropertyAsync(userIds, property, cancellationToken);

    public Task<IReadOnlyList<TargetWriteOutcome>> SetAccountEnabledAsync(IReadOnlyList<string> userIds, bool enabled, CancellationToken cancellationToken) =>
        _inner.SetAccountEnabledAsync(userIds, enabled, cancellationToken);

    public Task<TenantSyncState> GetTenantSyncStateAsync(CancellationToken cancellationToken) => _inner.GetTenantSyncStateAsync(cancellationToken);

    public IAsyncEnumerable<TargetGroup> ReadGroupsAsync(CancellationToken cancellationToken) => _inner.ReadGroupsAsync(cancellationToken);

    public IAsyncEnumerable<TargetApplication> ReadApplicationsAsync(CancellationToken cancellationToken) => _inner.ReadApplicationsAsync(cancellationToken);

    public IAsyncEnumerable<TargetServicePrincipal> ReadServicePrincipalsAsync(CancellationToken cancellationToken) => _inner.ReadServicePrincipalsAsync(cancellationToken);

    // A wave switches a handful of groups and checks a few systems: passed through as they are called.
    public Task<IReadOnlyList<SourceOfAuthority>> GetGroupSourceOfAuthorityAsync(IReadOnlyList<string> groupIds, CancellationToken cancellationToken) =>
        _inner.GetGroupSourceOfAuthorityAsync(groupIds, cancellationToken);

    public Task<IReadOnlyList<TargetWriteOutcome>> SetGroupSourceOfAuthorityAsync(IReadOnlyList<string> groupIds, bool cloudManaged, CancellationToken cancellationToken) =>
        _inner.SetGroupSourceOfAuthorityAsync(groupIds, cloudManaged, cancellationToken);

    public Task<TargetServicePrincipal?> GetServicePrincipalAsync(string? servicePrincipalId, string? appId, CancellationToken cancellationToken) =>
        _inner.GetServicePrincipalAsync(servicePrincipalId, appId, cancellationToken);
}
