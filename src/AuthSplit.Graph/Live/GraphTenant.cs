using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using AuthSplit.Core.Errors;
using AuthSplit.Core.Model;
using AuthSplit.Core.Steps;
using AuthSplit.Graph.Snapshots;
using Microsoft.Extensions.Logging;
using Microsoft.Graph.Models;

namespace AuthSplit.Graph.Live;

/// <summary>
/// The target tenant through Microsoft Graph. The source-of-authority switch is beta-only
/// (<c>PATCH /beta/users/{id}/onPremisesSyncBehavior {"isCloudManaged": ...}</c>) and goes as raw
/// requests through the same client; users are written and read back in <c>$batch</c>es of 20.
/// </summary>
public sealed partial class GraphTenant(GraphConnection connection) : ITargetTenant
{
    private readonly GraphBatchClient _batches = new(connection);

    private const string Beta = "beta";
    private const string V1 = "v1.0";

    public string Description => connection.Description;

    public async Task<IReadOnlyList<SourceOfAuthority>> GetSourceOfAuthorityAsync(IReadOnlyList<string> userIds, CancellationToken cancellationToken)
    {
        var answers = await _batches.SendAsync(Beta, Requests(userIds, id => new GraphBatchRequest(id, HttpMethod.Get, $"/users/{Escape(id)}/onPremisesSyncBehavior")), cancellationToken);
        return [.. Distinct(userIds).Select(id => answers[id] switch
        {
            { IsSuccess: true, Body: var body } when body?["isCloudManaged"] is JsonValue value && value.TryGetValue<bool>(out var cloud) =>
                new SourceOfAuthority(id, cloud, TargetWriteStatus.Verified),
            { IsSuccess: true } answer => new SourceOfAuthority(id, null, TargetWriteStatus.Failed, $"Graph's answer has no isCloudManaged: {answer.Body?.ToJsonString()}"),
            var answer => new SourceOfAuthority(id, null, StatusOf(answer), answer.Describe()),
        })];
    }

    public Task<IReadOnlyList<TargetWriteOutcome>> SetSourceOfAuthorityAsync(IReadOnlyList<string> userIds, bool cloudManaged, CancellationToken cancellationToken) =>
        WriteThenVerifyAsync(
            Beta,
            userIds,
            "isCloudManaged",
            cloudManaged,
            id => new GraphBatchRequest(id, HttpMethod.Patch, $"/users/{Escape(id)}/onPremisesSyncBehavior", new JsonObject { ["isCloudManaged"] = cloudManaged }),
            id => new GraphBatchRequest(id, HttpMethod.Get, $"/users/{Escape(id)}/onPremisesSyncBehavior"),
            cancellationToken);

    public async Task<IReadOnlyList<TargetUser>> GetUsersAsync(IReadOnlyList<string> userIds, CancellationToken cancellationToken)
    {
        var select = string.Join(',', GraphTargetDirectory.SnapshotProperties);
        var answers = await _batches.SendAsync(V1, Requests(userIds, id => new GraphBatchRequest(id, HttpMethod.Get, $"/users/{Escape(id)}?$select={select}")), cancellationToken);
        var users = new List<TargetUser>();
        foreach (var id in Distinct(userIds))
        {
            var answer = answers[id];
            if (answer.Status == 404)
            {
                continue;
            }

            if (!answer.IsSuccess || answer.Body is not JsonObject body)
            {
                throw new ExternalSystemException(connection.Description, $"reading user {id} failed: {answer.Describe()}");
            }

            try
            {
                users.Add(GraphUserSnapshot.ParseUser(JsonSerializer.SerializeToElement(body), $"user {id}", connection.Description));
            }
            catch (InputException ex)
            {
                throw new ExternalSystemException(connection.Description, $"Graph's answer for user {id} is not a user: {ex.Message}", ex);
            }
        }

        return users;
    }

    public Task<IReadOnlyList<TargetWriteOutcome>> SetAccountEnabledAsync(IReadOnlyList<string> userIds, bool enabled, CancellationToken cancellationToken) =>
        WriteThenVerifyAsync(
            V1,
            userIds,
            "accountEnabled",
            enabled,
            id => new GraphBatchRequest(id, HttpMethod.Patch, $"/users/{Escape(id)}", new JsonObject { ["accountEnabled"] = enabled }),
            id => new GraphBatchRequest(id, HttpMethod.Get, $"/users/{Escape(id)}?$select=id,accountEnabled"),
            cancellationToken);

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
    private async IAsyncEnumerable<TItem> ReadAllPagesAsync<TPage, TItem>(Func<Task<TPage?>> first, Func<string, Task<TPage?>> next, Func<TPage, List<TItem>?> items)
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
            page = string.IsNullOrEmpty(link) ? null : await CallAsync(() => next(link));
        }
    }

    /// <summary>
    /// Writes one boolean per user in <c>$batch</c>es, then reads back every user whose write succeeded:
    /// a write is <see cref="TargetWriteStatus.Verified"/> only when Graph reads back what was written.
    /// Graph replicates writes, so a read right after one may still show the old value: users that read
    /// back the old value are read again after <see cref="GraphResilienceOptions.ReadBackDelay"/>,
    /// doubling, up to <see cref="GraphResilienceOptions.ReadBackAttempts"/> reads, before they are
    /// reported <see cref="TargetWriteStatus.Mismatch"/>.
    /// </summary>
    private async Task<IReadOnlyList<TargetWriteOutcome>> WriteThenVerifyAsync(
        string version,
        IReadOnlyList<string> userIds,
        string property,
        bool expected,
        Func<string, GraphBatchRequest> write,
        Func<string, GraphBatchRequest> readBack,
        CancellationToken cancellationToken)
    {
        var writes = await _batches.SendAsync(version, Requests(userIds, write), cancellationToken);
        var outcomes = new Dictionary<string, TargetWriteOutcome>(StringComparer.Ordinal);
        foreach (var (id, answer) in writes.Where(w => !w.Value.IsSuccess))
        {
            outcomes[id] = new TargetWriteOutcome(id, StatusOf(answer), answer.Describe());
        }

        var unverified = Distinct(userIds).Where(id => writes[id].IsSuccess).ToList();
        var options = connection.Resilience;
        for (var read = 1; unverified.Count > 0; read++)
        {
            var reads = await _batches.SendAsync(version, Requests(unverified, readBack), cancellationToken);
            foreach (var id in unverified)
            {
                outcomes[id] = reads[id] switch
                {
                    { IsSuccess: true, Body: var body } when body?[property] is JsonValue value && value.TryGetValue<bool>(out var actual) =>
                        actual == expected
                            ? new TargetWriteOutcome(id, TargetWriteStatus.Verified)
                            : new TargetWriteOutcome(id, TargetWriteStatus.Mismatch, $"written {property}={Bool(expected)}, read back {Bool(actual)} {read} time(s) over {ReadBackSpan(options, read).TotalSeconds:0.#} s"),
                    { IsSuccess: true } answer => new TargetWriteOutcome(id, TargetWriteStatus.Failed, $"written, but Graph's read-back has no {property}: {answer.Body?.ToJsonString()}"),
                    var answer => new TargetWriteOutcome(id, StatusOf(answer), "written, but the read-back failed: " + answer.Describe()),
                };
            }

            unverified = [.. unverified.Where(id => outcomes[id].Status == TargetWriteStatus.Mismatch)];
            if (unverified.Count == 0 || read >= options.ReadBackAttempts)
            {
                break;
            }

            var delay = options.ReadBackDelay * Math.Pow(2, read - 1);
            LogReadBackLag(connection.Logger, unverified.Count, property, delay.TotalSeconds);
            await Task.Delay(delay, connection.Time, cancellationToken);
        }

        return [.. Distinct(userIds).Select(id => outcomes[id])];
    }

    // How long the reads so far have waited for replication in all.
    private static TimeSpan ReadBackSpan(GraphResilienceOptions options, int reads) => options.ReadBackDelay * (Math.Pow(2, reads - 1) - 1);

    [LoggerMessage(EventId = 3110, Level = LogLevel.Information, Message = "{Count} users still read back the old {Property} after the write (Graph replicates writes); reading them again in {DelaySeconds:0.0} s")]
    private static partial void LogReadBackLag(ILogger logger, int count, string property, double delaySeconds);

    private static List<GraphBatchRequest> Requests(IReadOnlyList<string> userIds, Func<string, GraphBatchRequest> request) => [.. Distinct(userIds).Select(request)];

    private static IEnumerable<string> Distinct(IReadOnlyList<string> userIds) => userIds.Distinct(StringComparer.Ordinal);

    private static string Escape(string id) => Uri.EscapeDataString(id);

    private static string Bool(bool value) => value ? "true" : "false";

    private static TargetWriteStatus StatusOf(GraphBatchResponse answer) => answer.Status switch
    {
        404 => TargetWriteStatus.NotFound,
        429 or >= 500 => TargetWriteStatus.Failed,
        _ => TargetWriteStatus.Rejected,
    };

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
