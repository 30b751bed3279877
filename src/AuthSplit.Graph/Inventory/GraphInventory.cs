using System.Runtime.CompilerServices;
using AuthSplit.Core.Errors;
using AuthSplit.Core.Model;
using AuthSplit.Graph.Auth;
using AuthSplit.Graph.Resilience;
using Microsoft.Graph.Models;

namespace AuthSplit.Graph.Inventory;

/// <summary>
/// What else the tenant holds, read for the plan's checks: its password-sync state, groups, applications
/// and service principals, each collection paged within the connection's endpoint.
/// </summary>
public sealed class GraphInventory(GraphConnection connection)
{
    public async Task<TenantSyncState> GetTenantSyncStateAsync(CancellationToken cancellationToken)
    {
        var page = await CallAsync(() => connection.Client.Directory.OnPremisesSynchronization.GetAsync(cancellationToken: cancellationToken));
        var sync = page?.Value?.FirstOrDefault()
            ?? throw new ExternalSystemException(connection.Description, "Graph returned no onPremisesSynchronization object for the tenant");
        return new TenantSyncState(sync.Id ?? string.Empty, sync.Features?.PasswordSyncEnabled ?? false);
    }

    public async IAsyncEnumerable<TargetGroup> ReadGroupsAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var groups = ReadAllPagesAsync(
            "groups",
            () => connection.Client.Groups.GetAsync(r =>
            {
                r.QueryParameters.Select = ["id", "displayName", "securityEnabled", "mailEnabled", "onPremisesSyncEnabled", "onPremisesSecurityIdentifier"];
                r.QueryParameters.Top = 999;
            }, cancellationToken),
            next => connection.Client.Groups.WithUrl(next).GetAsync(cancellationToken: cancellationToken),
            page => page.Value);
        await foreach (var group in groups)
        {
            yield return new TargetGroup(Id(group), group.DisplayName, group.SecurityEnabled, group.MailEnabled, group.OnPremisesSyncEnabled, group.OnPremisesSecurityIdentifier);
        }
    }

    public async IAsyncEnumerable<TargetApplication> ReadApplicationsAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var applications = ReadAllPagesAsync(
            "applications",
            () => connection.Client.Applications.GetAsync(r =>
            {
                r.QueryParameters.Select = ["id", "appId", "displayName", "identifierUris"];
                r.QueryParameters.Top = 999;
            }, cancellationToken),
            next => connection.Client.Applications.WithUrl(next).GetAsync(cancellationToken: cancellationToken),
            page => page.Value);
        await foreach (var application in applications)
        {
            yield return new TargetApplication(Id(application), application.AppId, application.DisplayName, [.. application.IdentifierUris ?? []]);
        }
    }

    public async IAsyncEnumerable<TargetServicePrincipal> ReadServicePrincipalsAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var principals = ReadAllPagesAsync(
            "service principals",
            () => connection.Client.ServicePrincipals.GetAsync(r =>
            {
                r.QueryParameters.Select = ["id", "appId", "displayName", "accountEnabled", "servicePrincipalType"];
                r.QueryParameters.Top = 999;
            }, cancellationToken),
            next => connection.Client.ServicePrincipals.WithUrl(next).GetAsync(cancellationToken: cancellationToken),
            page => page.Value);
        await foreach (var principal in principals)
        {
            yield return new TargetServicePrincipal(Id(principal), principal.AppId, principal.DisplayName, principal.AccountEnabled, principal.ServicePrincipalType);
        }
    }

    // Every item of a Graph collection: the first page, then each @odata.nextLink until there is none.
    private async IAsyncEnumerable<TItem> ReadAllPagesAsync<TPage, TItem>(string what, Func<Task<TPage?>> first, Func<string, Task<TPage?>> next, Func<TPage, List<TItem>?> items)
        where TPage : BaseCollectionPaginationCountResponse
    {
        var page = await CallAsync(first);
        while (page is not null)
        {
            foreach (var item in items(page) ?? [])
            {
                yield return item;
            }

            var link = page.OdataNextLink;
            page = string.IsNullOrEmpty(link) ? null : await CallAsync(() => next(connection.Endpoint.RequireOwnLink(link, what + " page")));
        }
    }

    private string Id(Entity entity) => string.IsNullOrEmpty(entity.Id)
        ? throw new ExternalSystemException(connection.Description, $"Graph returned a {entity.GetType().Name} without an id")
        : entity.Id;

    private async Task<T?> CallAsync<T>(Func<Task<T?>> call)
    {
        try
        {
            return await call();
        }
        catch (Exception ex) when (GraphErrors.IsGraphFailure(ex))
        {
            throw GraphErrors.From(connection.Description, ex);
        }
    }
}
