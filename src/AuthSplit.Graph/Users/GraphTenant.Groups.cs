using System.Text.Json.Nodes;
using AuthSplit.Core.Model;
using AuthSplit.Graph.Batching;
using AuthSplit.Graph.Resilience;
using Microsoft.Graph.Models;
using Microsoft.Graph.Models.ODataErrors;

namespace AuthSplit.Graph.Users;

/// <summary>
/// Groups' source of authority (<c>PATCH /groups/{id}/onPremisesSyncBehavior {"isCloudManaged": ...}</c>,
/// permission <c>Group-OnPremisesSyncBehavior.ReadWrite.All</c>), batched, written and read back exactly as
/// users' are (same version choice, same replication wait); and a system's service principal.
/// </summary>
public sealed partial class GraphTenant
{
    public async Task<IReadOnlyList<SourceOfAuthority>> GetGroupSourceOfAuthorityAsync(IReadOnlyList<string> groupIds, CancellationToken cancellationToken)
    {
        var answers = await SyncBehaviorAsync(Requests(groupIds, GroupSyncBehaviorRead), cancellationToken);
        return [.. Distinct(groupIds).Select(id => answers[id] switch
        {
            { IsSuccess: true, Body: var body } when body?["isCloudManaged"] is JsonValue value && value.TryGetValue<bool>(out var cloud) =>
                new SourceOfAuthority(id, cloud, TargetWriteStatus.Verified),
            { IsSuccess: true } answer => new SourceOfAuthority(id, null, TargetWriteStatus.Failed, $"Graph's answer has no isCloudManaged: {answer.Body?.ToJsonString()}"),
            var answer => new SourceOfAuthority(id, null, StatusOf(answer), answer.Describe()),
        })];
    }

    public Task<IReadOnlyList<TargetWriteOutcome>> SetGroupSourceOfAuthorityAsync(IReadOnlyList<string> groupIds, bool cloudManaged, CancellationToken cancellationToken) =>
        WriteThenVerifyAsync(
            SyncBehaviorAsync,
            groupIds,
            "isCloudManaged",
            cloudManaged,
            id => FromBuilder(id, HttpMethod.Patch, connection.Client.Groups[id].OnPremisesSyncBehavior.ToPatchRequestInformation(new OnPremisesSyncBehavior { IsCloudManaged = cloudManaged })),
            GroupSyncBehaviorRead,
            cancellationToken);

    /// <summary>By object id (<c>GET /servicePrincipals/{id}</c>), else by application id (<c>$filter=appId eq '...'</c>); null when there is none.</summary>
    public async Task<TargetServicePrincipal?> GetServicePrincipalAsync(string? servicePrincipalId, string? appId, CancellationToken cancellationToken)
    {
        string[] select = ["id", "appId", "displayName", "accountEnabled", "servicePrincipalType"];
        ServicePrincipal? principal;
        try
        {
            if (!string.IsNullOrEmpty(servicePrincipalId))
            {
                principal = await connection.Client.ServicePrincipals[servicePrincipalId].GetAsync(r => r.QueryParameters.Select = select, cancellationToken);
            }
            else if (!string.IsNullOrEmpty(appId))
            {
                var page = await connection.Client.ServicePrincipals.GetAsync(
                    r =>
                    {
                        r.QueryParameters.Filter = $"appId eq '{appId.Replace("'", "''", StringComparison.Ordinal)}'";
                        r.QueryParameters.Select = select;
                    },
                    cancellationToken);
                principal = page?.Value?.FirstOrDefault();
            }
            else
            {
                throw new ArgumentException("a service principal id or an application id is needed", nameof(servicePrincipalId));
            }
        }
        catch (ODataError error) when (error.ResponseStatusCode == 404)
        {
            return null;
        }
        catch (Exception ex) when (GraphErrors.IsGraphFailure(ex))
        {
            throw GraphErrors.From(connection.Description, ex);
        }

        return principal?.Id is { Length: > 0 } id
            ? new TargetServicePrincipal(id, principal.AppId, principal.DisplayName, principal.AccountEnabled, principal.ServicePrincipalType)
            : null;
    }

    private GraphBatchRequest GroupSyncBehaviorRead(string id) =>
        FromBuilder(id, HttpMethod.Get, connection.Client.Groups[id].OnPremisesSyncBehavior.ToGetRequestInformation(r => r.QueryParameters.Select = ["isCloudManaged"]));
}
