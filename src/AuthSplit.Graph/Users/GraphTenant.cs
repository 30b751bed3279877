using System.Text.Json;
using System.Text.Json.Nodes;
using AuthSplit.Core.Errors;
using AuthSplit.Core.Model;
using AuthSplit.Core.Execution;
using AuthSplit.Graph.Auth;
using AuthSplit.Graph.Batching;
using AuthSplit.Graph.Inventory;
using AuthSplit.Graph.Resilience;
using AuthSplit.Graph.Snapshots;
using Microsoft.Extensions.Logging;
using Microsoft.Graph.Models;
using Microsoft.Kiota.Abstractions;
using Polly;
using Polly.Retry;

namespace AuthSplit.Graph.Users;

/// <summary>
/// The target tenant through Microsoft Graph; users are written and read back in <c>$batch</c>es of 20.
/// The source-of-authority switch is v1.0's <c>PATCH /users/{id}/onPremisesSyncBehavior {"isCloudManaged": ...}</c>
/// (read with <c>?$select=isCloudManaged</c>; permission <c>User-OnPremisesSyncBehavior.ReadWrite.All</c>),
/// described by the SDK's typed builder; beta only when v1.0 refuses it (400/404) and beta answers, which
/// the connection then remembers.
/// </summary>
/// <remarks>
/// Why <c>$batch</c> and not the builder's own <c>PatchAsync</c>: Graph counts each sub-request against
/// its 3,000 writes per 150 s, so batching gains no quota, but it carries 20 writes per round trip. At
/// the paced 19.7 writes/s one request per user would need a round trip every 50 ms, i.e. many requests
/// in flight at once; batches of 20 keep one request in flight, retry only the sub-requests that failed,
/// and match the write limiter's bucket (<see cref="WritePacing"/>). The builder still describes each
/// sub-request (its URL template, <c>$select</c> and the body's serialisation), so the typed v1.0 API is
/// what is sent.
/// </remarks>
public sealed partial class GraphTenant(GraphConnection connection) : ITargetTenant
{
    private readonly GraphBatchClient _batches = new(connection);
    private readonly GraphInventory _inventory = new(connection);

    private const string Beta = "beta";
    private const string V1 = GraphConnection.Version;

    public string Description => connection.Description;

    public async Task<IReadOnlyList<SourceOfAuthority>> GetSourceOfAuthorityAsync(IReadOnlyList<string> userIds, CancellationToken cancellationToken)
    {
        var answers = await SyncBehaviorAsync(Requests(userIds, SyncBehaviorRead), cancellationToken);
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
            SyncBehaviorAsync,
            userIds,
            "isCloudManaged",
            cloudManaged,
            id => SyncBehaviorWrite(id, cloudManaged),
            SyncBehaviorRead,
            cancellationToken);

    public async Task<IReadOnlyList<TargetUserProperty>> GetUserPropertyAsync(IReadOnlyList<string> userIds, string property, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(property);
        var select = Uri.EscapeDataString(property);
        var answers = await _batches.SendAsync(V1, Requests(userIds, id => new GraphBatchRequest(id, HttpMethod.Get, $"/users/{Escape(id)}?$select=id,{select}")), cancellationToken);
        return [.. Distinct(userIds).Select(id => answers[id] switch
        {
            { IsSuccess: true, Body: JsonObject body } => new TargetUserProperty(id, ValueText(body[property]), TargetWriteStatus.Verified),
            { IsSuccess: true } answer => new TargetUserProperty(id, null, TargetWriteStatus.Failed, $"Graph's answer is not a user: {answer.Body?.ToJsonString()}"),
            var answer => new TargetUserProperty(id, null, StatusOf(answer), answer.Describe()),
        })];
    }

    // A property as text: a JSON string as it is, true/false/numbers as written, null or absent as null.
    private static string? ValueText(JsonNode? node) => node switch
    {
        null => null,
        JsonValue value when value.TryGetValue<string>(out var text) => text,
        JsonValue value => value.ToJsonString(),
        _ => node.ToJsonString(),
    };

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
            (requests, ct) => _batches.SendAsync(V1, requests, ct),
            userIds,
            "accountEnabled",
            enabled,
            id => new GraphBatchRequest(id, HttpMethod.Patch, $"/users/{Escape(id)}", new JsonObject { ["accountEnabled"] = enabled }),
            id => new GraphBatchRequest(id, HttpMethod.Get, $"/users/{Escape(id)}?$select=id,accountEnabled"),
            cancellationToken);

    public Task<TenantSyncState> GetTenantSyncStateAsync(CancellationToken cancellationToken) => _inventory.GetTenantSyncStateAsync(cancellationToken);

    public IAsyncEnumerable<TargetGroup> ReadGroupsAsync(CancellationToken cancellationToken) => _inventory.ReadGroupsAsync(cancellationToken);

    public IAsyncEnumerable<TargetApplication> ReadApplicationsAsync(CancellationToken cancellationToken) => _inventory.ReadApplicationsAsync(cancellationToken);

    public IAsyncEnumerable<TargetServicePrincipal> ReadServicePrincipalsAsync(CancellationToken cancellationToken) => _inventory.ReadServicePrincipalsAsync(cancellationToken);

    /// <summary>
    /// Writes one boolean per user in <c>$batch</c>es, then reads back every user whose write succeeded:
    /// a write is <see cref="TargetWriteStatus.Verified"/> only when Graph reads back what was written.
    /// Graph replicates writes, so a read right after one may still show the old value: users that read
    /// back the old value are read again after <see cref="GraphResilienceOptions.ReadBackDelay"/>,
    /// doubling, up to <see cref="GraphResilienceOptions.ReadBackAttempts"/> reads, before they are
    /// reported <see cref="TargetWriteStatus.Mismatch"/>.
    /// </summary>
    private async Task<IReadOnlyList<TargetWriteOutcome>> WriteThenVerifyAsync(
        Func<IReadOnlyList<GraphBatchRequest>, CancellationToken, Task<IReadOnlyDictionary<string, GraphBatchResponse>>> send,
        IReadOnlyList<string> userIds,
        string property,
        bool expected,
        Func<string, GraphBatchRequest> write,
        Func<string, GraphBatchRequest> readBack,
        CancellationToken cancellationToken)
    {
        var writes = await send(Requests(userIds, write), cancellationToken);
        var outcomes = new Dictionary<string, TargetWriteOutcome>(StringComparer.Ordinal);
        foreach (var (id, answer) in writes.Where(w => !w.Value.IsSuccess))
        {
            outcomes[id] = new TargetWriteOutcome(id, StatusOf(answer), answer.Describe());
        }

        var unverified = Distinct(userIds).Where(id => writes[id].IsSuccess).ToList();
        var options = connection.Resilience;
        var read = 0;
        if (unverified.Count > 0)
        {
            await ReadBackPipeline(property).ExecuteAsync(
                async ct =>
                {
                    read++;
                    var reads = await send(Requests(unverified, readBack), ct);
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
                    return unverified.Count;
                },
                cancellationToken);
        }

        return [.. Distinct(userIds).Select(id => outcomes[id])];
    }

    /// <summary>
    /// Sends <c>onPremisesSyncBehavior</c> sub-requests where this tenant serves them: v1.0 until it is
    /// known not to. While unknown, sub-requests v1.0 answered 400/404 (with no success beside them) are
    /// sent again on beta; if beta answers any with success, the connection uses beta from then on and
    /// says so once; if v1.0 answered any with success, 400 and 404 are final answers (an unknown user).
    /// A refused PATCH was not applied, so sending it again on beta writes nothing twice.
    /// </summary>
    private async Task<IReadOnlyDictionary<string, GraphBatchResponse>> SyncBehaviorAsync(IReadOnlyList<GraphBatchRequest> requests, CancellationToken cancellationToken)
    {
        var known = connection.SyncBehaviorVersion;
        var answers = await _batches.SendAsync(known ?? V1, requests, cancellationToken);
        if (known is not null)
        {
            return answers;
        }

        if (answers.Values.Any(a => a.IsSuccess))
        {
            connection.SyncBehaviorVersion = V1;
            return answers;
        }

        var refused = requests.Where(r => answers[r.Id].Status is 400 or 404).ToList();
        if (refused.Count == 0)
        {
            return answers;
        }

        var beta = await _batches.SendAsync(Beta, refused, cancellationToken);
        if (!beta.Values.Any(a => a.IsSuccess))
        {
            // Beta is no better (every user unknown, say): v1.0's answers stand and the question stays open.
            return answers;
        }

        connection.SyncBehaviorVersion = Beta;
        var first = answers[refused[0].Id];
        LogBetaFallback(connection.Logger, first.Describe());
        var merged = new Dictionary<string, GraphBatchResponse>(answers, StringComparer.Ordinal);
        foreach (var (id, answer) in beta)
        {
            merged[id] = answer with { Attempts = answer.Attempts + answers[id].Attempts };
        }

        return merged;
    }

    // The SDK's typed v1.0 builder describes the request; $batch carries it (the version is chosen when it is sent).
    private GraphBatchRequest SyncBehaviorRead(string id) =>
        FromBuilder(id, HttpMethod.Get, connection.Client.Users[id].OnPremisesSyncBehavior.ToGetRequestInformation(r => r.QueryParameters.Select = ["isCloudManaged"]));

    private GraphBatchRequest SyncBehaviorWrite(string id, bool cloudManaged) =>
        FromBuilder(id, HttpMethod.Patch, connection.Client.Users[id].OnPremisesSyncBehavior.ToPatchRequestInformation(new OnPremisesSyncBehavior { IsCloudManaged = cloudManaged }));

    // A builder's request as a $batch sub-request: its URL relative to the version root, its serialised body.
    private GraphBatchRequest FromBuilder(string id, HttpMethod method, RequestInformation information)
    {
        var versionRoot = connection.Endpoint.VersionRoot;
        information.PathParameters["baseurl"] = versionRoot.ToString().TrimEnd('/');
        var uri = information.URI;
        var url = uri.AbsoluteUri.StartsWith(versionRoot.AbsoluteUri, StringComparison.Ordinal)
            ? "/" + uri.AbsoluteUri[versionRoot.AbsoluteUri.Length..]
            : throw new InvalidOperationException($"the SDK built {uri} outside {versionRoot}");
        JsonNode? body = null;
        if (information.Content is { Length: > 0 } content)
        {
            // Kiota leaves its serialised body's stream at the end.
            content.Position = 0;
            body = JsonNode.Parse(content);
        }

        return new GraphBatchRequest(id, method, url, body);
    }

    [LoggerMessage(EventId = 3111, Level = LogLevel.Warning, Message = "Graph's v1.0 refused onPremisesSyncBehavior ({Answer}) and beta served it: this connection switches sources of authority on beta")]
    private static partial void LogBetaFallback(ILogger logger, string answer);

    /// <summary>
    /// The wait for replication as a Polly retry: the outcome is how many users still read back the old
    /// value; they are read again after <see cref="GraphResilienceOptions.ReadBackDelay"/>, doubling, up to
    /// <see cref="GraphResilienceOptions.ReadBackAttempts"/> reads in all. A read that fails (429, 5xx) is
    /// not a reason to read again here: it was already retried within its own request budget.
    /// </summary>
    private ResiliencePipeline<int> ReadBackPipeline(string property)
    {
        var options = connection.Resilience;
        var builder = new ResiliencePipelineBuilder<int> { TimeProvider = connection.Time };
        if (options.ReadBackAttempts > 1)
        {
            builder.AddRetry(new RetryStrategyOptions<int>
            {
                ShouldHandle = args => ValueTask.FromResult(args.Outcome.Result > 0),
                MaxRetryAttempts = options.ReadBackAttempts - 1,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = false,
                Delay = options.ReadBackDelay,
                OnRetry = args =>
                {
                    LogReadBackLag(connection.Logger, args.Outcome.Result, property, args.RetryDelay.TotalSeconds);
                    return ValueTask.CompletedTask;
                },
            });
        }

        return builder.Build();
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
}
