using AuthSplit.Core.Errors;
using AuthSplit.Core.Execution;
using AuthSplit.Core.Model;

namespace AuthSplit.Cli.Execution;

/// <summary>
/// Stands in for the target when the config has no <c>Target</c> section: a wave of service accounts and
/// groups needs none, and a person's first target step fails with what to configure.
/// </summary>
internal sealed class MissingTargetTenant : ITargetTenant
{
    public string Description => "no target configured";

    public Task<IReadOnlyList<SourceOfAuthority>> GetSourceOfAuthorityAsync(IReadOnlyList<string> userIds, CancellationToken cancellationToken) => throw Missing();

    public Task<IReadOnlyList<TargetWriteOutcome>> SetSourceOfAuthorityAsync(IReadOnlyList<string> userIds, bool cloudManaged, CancellationToken cancellationToken) => throw Missing();

    public Task<IReadOnlyList<TargetUser>> GetUsersAsync(IReadOnlyList<string> userIds, CancellationToken cancellationToken) => throw Missing();

    public Task<IReadOnlyList<TargetUserProperty>> GetUserPropertyAsync(IReadOnlyList<string> userIds, string property, CancellationToken cancellationToken) => throw Missing();

    public Task<IReadOnlyList<TargetWriteOutcome>> SetAccountEnabledAsync(IReadOnlyList<string> userIds, bool enabled, CancellationToken cancellationToken) => throw Missing();

    public Task<TenantSyncState> GetTenantSyncStateAsync(CancellationToken cancellationToken) => throw Missing();

    public IAsyncEnumerable<TargetGroup> ReadGroupsAsync(CancellationToken cancellationToken) => throw Missing();

    public IAsyncEnumerable<TargetApplication> ReadApplicationsAsync(CancellationToken cancellationToken) => throw Missing();

    public IAsyncEnumerable<TargetServicePrincipal> ReadServicePrincipalsAsync(CancellationToken cancellationToken) => throw Missing();

    public Task<IReadOnlyList<SourceOfAuthority>> GetGroupSourceOfAuthorityAsync(IReadOnlyList<string> groupIds, CancellationToken cancellationToken) => throw Missing();

    public Task<IReadOnlyList<TargetWriteOutcome>> SetGroupSourceOfAuthorityAsync(IReadOnlyList<string> groupIds, bool cloudManaged, CancellationToken cancellationToken) => throw Missing();

    public Task<TargetServicePrincipal?> GetServicePrincipalAsync(string? servicePrincipalId, string? appId, CancellationToken cancellationToken) => throw Missing();

    private static InputException Missing() =>
        new("target-missing", "this wave switches sources of authority (people's or groups') or checks systems' service principals in the target, and the config has no Target section: configure Target (the Graph connector) and run the wave again");
}
