using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using AuthSplit.Core.Errors;
using AuthSplit.Core.Model;
using AuthSplit.Graph.Auth;
using AuthSplit.Graph.Batching;
using AuthSplit.Graph.Resilience;
using Microsoft.Graph.Models;

namespace AuthSplit.Graph.Inventory;

/// <summary>
/// What else the tenant holds, read for the plan's checks: its password-sync state, groups, applications
/// and service principals, each collection paged within the connection's endpoint.
/// </summary>
public sealed class GraphInventory(GraphConnection connection)
{
    private readonly GraphBatchClient _batches = new(connection);

    /// <summary>
    /// Every group, application and service principal, and the direct user members of each group
    /// synchronised from on-premises (<c>onPremisesSyncEnabled</c> true), each list sorted by id (member ids
    /// too), so the same tenant state reads the same whatever order Graph pages it in. It completes only
    /// when every collection and every group's members were read to their last page; otherwise it throws.
    /// </summary>
    public async Task<TargetInventory> ReadInventoryAsync(CancellationToken cancellationToken)
    {
        var groups = await AllAsync(ReadGroupsAsync(cancellationToken), g => g.Id, "group");
        var members = await ReadUserMembersAsync([.. groups.Where(g => g.OnPremisesSyncEnabled == true).Select(g => g.Id)], cancellationToken);
        var applications = await AllAsync(ReadApplicationsAsync(cancellationToken), a => a.Id, "application");
        var principals = await AllAsync(ReadServicePrincipalsAsync(cancellationToken), p => p.Id, "service principal");
        return new TargetInventory
        {
            Groups = [.. groups.Select(g => new TargetGroupMembers(g, members.TryGetValue(g.Id, out var ids) ? ids : []))],
            Applications = applications,
            ServicePrincipals = principals,
        };
    }

    /// <summary>
    /// The ids of each group's direct user members: <c>GET /groups/{id}/members/microsoft.graph.user?$select=id&amp;$top=999</c>
    /// for every group at once in <c>$batch</c>es of 20, then each group's next page (its <c>@odata.nextLink</c>,
    /// within the endpoint) in the next round, until no group has one. A group whose members cannot be read
    /// ends the read: a group read short would plan its members as not being in it.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, IReadOnlyList<string>>> ReadUserMembersAsync(IReadOnlyList<string> groupIds, CancellationToken cancellationToken)
    {
        var members = groupIds.Distinct(StringComparer.Ordinal).ToDictionary(id => id, _ => new HashSet<string>(StringComparer.OrdinalIgnoreCase), StringComparer.Ordinal);
        var pending = members.Keys.Select(id => (Group: id, Url: $"/groups/{Uri.EscapeDataString(id)}/members/microsoft.graph.user?$select=id&$top=999", Page: 1)).ToList();
        while (pending.Count > 0)
        {
            var answers = await _batches.SendAsync(GraphConnection.Version, [.. pending.Select((p, i) => new GraphBatchRequest(i.ToString(System.Globalization.CultureInfo.InvariantCulture), HttpMethod.Get, p.Url))], cancellationToken);
            var next = new List<(string Group, string Url, int Page)>();
            for (var i = 0; i < pending.Count; i++)
            {
                var (group, _, page) = pending[i];
                var answer = answers[i.ToString(System.Globalization.CultureInfo.InvariantCulture)];
                if (!answer.IsSuccess || answer.Body?["value"] is not JsonArray value)
                {
                    throw new ExternalSystemException(connection.Description, $"reading page {page} of the members of group {group} failed ({answer.Describe()}); the inventory read stops rather than plan from part of it");
                }

                foreach (var member in value)
                {
                    var id = member?["id"]?.GetValue<string>();
                    if (string.IsNullOrEmpty(id))
                    {
                        throw new ExternalSystemException(connection.Description, $"Graph returned a member of group {group} without an id");
                    }

                    if (!members[group].Add(id))
                    {
                        throw new ExternalSystemException(connection.Description, $"Graph returned user {id} twice among the members of group {group} while paging (page {page}); the read is inconsistent, run it again");
                    }
                }

                if (answer.Body?["@odata.nextLink"]?.GetValue<string>() is { Length: > 0 } link)
                {
                    next.Add((group, RelativeToVersion(connection.Endpoint.RequireOwnLink(link, $"members of group {group} page {page}")), page + 1));
                }
            }

            pending = next;
        }

        return members.ToDictionary(m => m.Key, m => (IReadOnlyList<string>)[.. m.Value.Order(StringComparer.Ordinal)], StringComparer.Ordinal);
    }

    // A $batch sub-request's URL is relative to the version root: /groups/... from https://host/v1.0/groups/...
    private string RelativeToVersion(string link)
    {
        var uri = new Uri(link);
        var versionPath = connection.Endpoint.VersionRoot.AbsolutePath;
        return "/" + uri.PathAndQuery[versionPath.Length..];
    }

    private async Task<IReadOnlyList<T>> AllAsync<T>(IAsyncEnumerable<T> items, Func<T, string> id, string what)
    {
        var all = new SortedDictionary<string, T>(StringComparer.Ordinal);
        await foreach (var item in items)
        {
            if (!all.TryAdd(id(item), item))
            {
                throw new ExternalSystemException(connection.Description, $"Graph returned {what} {id(item)} twice while paging; the read is inconsistent, run it again");
            }
        }

        return [.. all.Values];
    }

    public async Task<TenantSyncState> GetTenantSyncStateAsync(CancellationToken cancellationToken)
    {
        var page = await CallAsync(() => connection.Client.Directory.OnPremisesSynchronization.GetAsync(cancellationToken: cancellationToken));
        var sync = page?.Value?.FirstOrDefault()
            ?? throw new ExternalSystemException(connection.Description, "Graph returned no onPremisesSynchronization object for the tenant");
        return new TenantSyncState(sync.Id ?? string.Empty, sync.Features?.PasswordSyncEnabled ?? false, sync.Features?.BlockCloudObjectTakeoverThroughHardMatchEnabled ?? false);
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
