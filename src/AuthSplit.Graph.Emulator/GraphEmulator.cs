using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AuthSplit.Graph.Emulator;

/// <summary>
/// A STAND-IN for Microsoft Graph (Entra ID), for tests, benchmarks and rehearsals only: no tenant is
/// reachable from these machines. It speaks Graph's wire format for the subset AuthSplit uses (users,
/// groups, applications, service principals, OData paging with <c>@odata.nextLink</c>, <c>$select</c>,
/// <c>$top</c>, <c>$filter</c> with <c>eq</c>, <c>$batch</c>, <c>onPremisesSyncBehavior</c> on v1.0 and beta,
/// <c>directory/onPremisesSynchronization</c>, Graph error bodies), injects faults on demand
/// (<see cref="GraphFaults"/>) and records every request it receives and every write it applies. It
/// listens on 127.0.0.1 only.
/// </summary>
public sealed class GraphEmulator : IAsyncDisposable
{
    private const int MaxTop = 999;
    private const int DefaultTop = 100;
    private const int MaxBatch = 20;
    // Graph sends UTF-8 text as is (Japanese names are not \u-escaped); only what JSON requires is escaped.
    private static readonly JsonSerializerOptions Compact = new() { WriteIndented = false, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly GraphEmulatorOptions _options;
    private readonly object _lock = new();
    private readonly Dictionary<string, JsonObject> _users = new(StringComparer.OrdinalIgnoreCase);
    // The same objects in Graph's (stable) listing order; the set of users never changes after seeding.
    private readonly List<JsonObject> _usersInOrder;
    private readonly Dictionary<string, bool> _cloudManaged = new(StringComparer.OrdinalIgnoreCase);
    // What single-user reads return while a write replicates (ReadLagAfterWrite): the state before it.
    private readonly Dictionary<string, (DateTimeOffset Until, JsonObject User, bool CloudManaged)> _stale = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, List<JsonObject>> _collections = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentQueue<EmulatorWrite> _writes = new();
    private readonly ConcurrentQueue<EmulatorRequest> _received = new();
    private readonly Queue<DateTimeOffset> _recentWrites = new();
    private WebApplication? _app;
    private long _requests;
    private long _throttled;
    private long _writeSequence;
    private long _writeAttempts;

    private GraphEmulator(GraphEmulatorOptions options)
    {
        _options = options;
        Faults = options.Faults;
        foreach (var user in options.Users)
        {
            var id = user["id"]?.GetValue<string>() ?? throw new ArgumentException("every seeded user needs an id", nameof(options));
            _users[id] = user.DeepClone().AsObject();
        }

        _usersInOrder = [.. _users.Values.OrderBy(u => u["id"]!.GetValue<string>(), StringComparer.Ordinal)];
        _collections["groups"] = InOrder(options.Groups);
        _collections["applications"] = InOrder(options.Applications);
        _collections["servicePrincipals"] = InOrder(options.ServicePrincipals);
    }

    private static List<JsonObject> InOrder(IEnumerable<JsonObject> items) =>
        [.. items.Select(i => i.DeepClone().AsObject()).OrderBy(i => i["id"]?.GetValue<string>(), StringComparer.Ordinal)];

    /// <summary>The root, e.g. <c>http://127.0.0.1:41234/</c>; Graph's versions are under it (<c>v1.0/</c>, <c>beta/</c>).</summary>
    public Uri BaseUrl { get; private set; } = new("http://127.0.0.1/");

    /// <summary>The faults of this run; may be changed between requests.</summary>
    public GraphFaults Faults { get; set; }

    public long RequestCount => Interlocked.Read(ref _requests);

    /// <summary>How many requests and sub-requests were answered 429 (injected faults and the write quota).</summary>
    public long ThrottledCount => Interlocked.Read(ref _throttled);

    /// <summary>Every write applied, in order.</summary>
    public IReadOnlyList<EmulatorWrite> Writes => [.. _writes];

    /// <summary>Every request and <c>$batch</c> sub-request received, with the answer it got, in order.</summary>
    public IReadOnlyList<EmulatorRequest> Received => [.. _received.OrderBy(r => r.Sequence)];

    public static async Task<GraphEmulator> StartAsync(GraphEmulatorOptions options, CancellationToken cancellationToken)
    {
        var emulator = new GraphEmulator(options);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, options.Port));
        var app = builder.Build();
        app.Map("/{**path}", emulator.HandleHttpAsync);
        await app.StartAsync(cancellationToken);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        emulator.BaseUrl = new Uri(address.TrimEnd('/') + "/");
        emulator._app = app;
        return emulator;
    }

    public JsonObject? User(string id)
    {
        lock (_lock)
        {
            return _users.TryGetValue(id, out var user) ? user.DeepClone().AsObject() : null;
        }
    }

    public bool IsCloudManaged(string id)
    {
        lock (_lock)
        {
            return _cloudManaged.GetValueOrDefault(id);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
            _app = null;
        }
    }

    private async Task HandleHttpAsync(HttpContext context)
    {
        var sequence = Interlocked.Increment(ref _requests);
        var request = context.Request;
        var clientRequestId = request.Headers["client-request-id"].FirstOrDefault();
        var faults = Faults;
        if (faults.Latency > TimeSpan.Zero)
        {
            await Task.Delay(faults.Latency, context.RequestAborted);
        }

        var authorization = request.Headers.Authorization.FirstOrDefault();
        var pathAndQuery = (request.Path.Value ?? "/") + request.QueryString.Value;
        if (faults.DropConnectionEvery > 0 && sequence % faults.DropConnectionEvery == 0)
        {
            _received.Enqueue(new EmulatorRequest(sequence, request.Method, pathAndQuery, 0, false, authorization, false));
            context.Abort();
            return;
        }

        if (!string.Equals(authorization, "Bearer " + _options.AccessToken, StringComparison.Ordinal))
        {
            await WriteAsync(context, Answered(sequence, request.Method, pathAndQuery, authorization, inBatch: false, Error(HttpStatusCode.Unauthorized, "InvalidAuthenticationToken", authorization is null ? "Access token is empty." : "Access token validation failure. Invalid audience.", clientRequestId)));
            return;
        }

        JsonNode? body = null;
        if (request.ContentLength is > 0 || request.Headers.TransferEncoding.Count > 0)
        {
            try
            {
                body = await JsonNode.ParseAsync(request.Body, cancellationToken: context.RequestAborted);
            }
            catch (JsonException ex)
            {
                await WriteAsync(context, Answered(sequence, request.Method, pathAndQuery, authorization, inBatch: false, Error(HttpStatusCode.BadRequest, "BadRequest", "Invalid JSON: " + ex.Message, clientRequestId)));
                return;
            }
        }

        var path = request.Path.Value ?? "/";
        var root = _options.NextLinkRoot?.GetLeftPart(UriPartial.Authority) ?? $"{request.Scheme}://{request.Host}";
        var response = path.EndsWith("/$batch", StringComparison.Ordinal) && HttpMethods.IsPost(request.Method)
            ? Batch(path[..^"/$batch".Length], body, root, clientRequestId, sequence, authorization)
            : Dispatch(request.Method, pathAndQuery, body, root, clientRequestId, sequence);
        await WriteAsync(context, Answered(sequence, request.Method, pathAndQuery, authorization, inBatch: false, response));
    }

    private EmulatorResponse Answered(long sequence, string method, string pathAndQuery, string? authorization, bool inBatch, EmulatorResponse response)
    {
        if (response.Status == (HttpStatusCode)429)
        {
            Interlocked.Increment(ref _throttled);
        }

        _received.Enqueue(new EmulatorRequest(sequence, method, pathAndQuery, (int)response.Status, inBatch, authorization, response.Headers.Any(h => h.Key == "Retry-After")));
        return response;
    }

    private static async Task WriteAsync(HttpContext context, EmulatorResponse response)
    {
        context.Response.StatusCode = (int)response.Status;
        foreach (var (name, value) in response.Headers)
        {
            context.Response.Headers[name] = value;
        }

        if (response.Body is not null)
        {
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(response.Body.ToJsonString(Compact), context.RequestAborted);
        }
    }

    private EmulatorResponse Batch(string versionPath, JsonNode? body, string root, string? clientRequestId, long sequence, string? authorization)
    {
        var fault = Fault(sequence, isWrite: false);
        if (fault is not null)
        {
            return fault;
        }

        if (body?["requests"] is not JsonArray requests)
        {
            return Error(HttpStatusCode.BadRequest, "BadRequest", "Invalid batch payload format.", clientRequestId);
        }

        if (requests.Count > MaxBatch)
        {
            return Error(HttpStatusCode.BadRequest, "BadRequest", $"The number of batch requests exceeds {MaxBatch}.", clientRequestId);
        }

        var responses = new JsonArray();
        foreach (var item in requests)
        {
            var id = item?["id"]?.ToString() ?? string.Empty;
            var method = item?["method"]?.GetValue<string>() ?? "GET";
            var url = item?["url"]?.GetValue<string>() ?? "/";
            var subSequence = Interlocked.Increment(ref _requests);
            var subClientId = item?["headers"]?["client-request-id"]?.GetValue<string>();
            var subPath = versionPath + (url.StartsWith('/') ? url : "/" + url);
            var result = Answered(subSequence, method, subPath, authorization, inBatch: true, Dispatch(method, subPath, item?["body"]?.DeepClone(), root, subClientId, subSequence));
            var headers = new JsonObject();
            foreach (var (name, value) in result.Headers)
            {
                headers[name] = value;
            }

            var response = new JsonObject { ["id"] = id, ["status"] = (int)result.Status, ["headers"] = headers };
            if (result.Body is not null)
            {
                response["body"] = result.Body;
            }

            responses.Add(response);
        }

        return new EmulatorResponse(HttpStatusCode.OK, new JsonObject { ["responses"] = responses });
    }

    private EmulatorResponse Dispatch(string method, string pathAndQuery, JsonNode? body, string root, string? clientRequestId, long sequence)
    {
        var question = pathAndQuery.IndexOf('?', StringComparison.Ordinal);
        var path = (question < 0 ? pathAndQuery : pathAndQuery[..question]).Trim('/');
        var query = ParseQuery(question < 0 ? string.Empty : pathAndQuery[(question + 1)..]);
        var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries).Select(Uri.UnescapeDataString).ToArray();
        if (segments.Length < 2 || (segments[0] != "v1.0" && segments[0] != "beta"))
        {
            return Error(HttpStatusCode.NotFound, "BadRequest", $"Invalid version or resource: /{path}", clientRequestId);
        }

        var version = segments[0];
        var isWrite = !HttpMethods.IsGet(method);
        var fault = Fault(sequence, isWrite);
        if (fault is not null)
        {
            return fault;
        }

        var context = $"{root}/{version}/$metadata";
        switch (segments[1..])
        {
            case ["users"] when HttpMethods.IsGet(method):
                lock (_lock)
                {
                    // Under the lock: a PATCH never changes a user while its page is projected.
                    return List(_usersInOrder, query, root, version, "users", context + "#users", clientRequestId);
                }

            case ["users", var id] when HttpMethods.IsGet(method):
                return GetUser(id, query, context, clientRequestId);
            case ["users", var id] when HttpMethods.IsPatch(method):
                return PatchUser(id, body, pathAndQuery, clientRequestId);
            case ["users", _, "onPremisesSyncBehavior"] when version == "v1.0" && !_options.SyncBehaviorOnV1:
                // A tenant (or a national cloud) whose v1.0 does not have it yet answers as Graph does for an unknown segment.
                return Error(HttpStatusCode.BadRequest, "BadRequest", "Resource not found for the segment 'onPremisesSyncBehavior'.", clientRequestId);
            case ["users", var id, "onPremisesSyncBehavior"] when HttpMethods.IsGet(method):
                return SyncBehavior(id, query, context, clientRequestId);
            case ["users", var id, "onPremisesSyncBehavior"] when HttpMethods.IsPatch(method):
                return PatchSyncBehavior(id, body, pathAndQuery, clientRequestId);
            case ["groups" or "applications" or "servicePrincipals"] when HttpMethods.IsGet(method):
                lock (_lock)
                {
                    return List(_collections[segments[1]], query, root, version, segments[1], context + "#" + segments[1], clientRequestId);
                }

            case ["directory", "onPremisesSynchronization"] when HttpMethods.IsGet(method):
                return new EmulatorResponse(HttpStatusCode.OK, new JsonObject
                {
                    ["@odata.context"] = context + "#directory/onPremisesSynchronization",
                    ["value"] = new JsonArray(new JsonObject
                    {
                        ["id"] = _options.TenantId,
                        ["features"] = new JsonObject { ["passwordSyncEnabled"] = _options.PasswordSyncEnabled, ["directoryExtensionsEnabled"] = false },
                    }),
                });
            default:
                return Error(HttpStatusCode.NotFound, "Request_ResourceNotFound", $"Resource '/{path}' ({method}) is not supported by the emulator.", clientRequestId);
        }
    }

    private EmulatorResponse? Fault(long sequence, bool isWrite)
    {
        var faults = Faults;
        if (isWrite && faults.ThrottleWrites)
        {
            return Throttled(faults.RetryAfterSeconds);
        }

        if (faults.ThrottleEvery > 0 && sequence % faults.ThrottleEvery == 0)
        {
            return Throttled(faults.RetryAfterSeconds);
        }

        if (faults.ThrottleWithoutRetryAfterEvery > 0 && sequence % faults.ThrottleWithoutRetryAfterEvery == 0)
        {
            return Throttled(null);
        }

        if (faults.ServiceUnavailableEvery > 0 && sequence % faults.ServiceUnavailableEvery == 0)
        {
            return Error(HttpStatusCode.ServiceUnavailable, "serviceNotAvailable", "The service is temporarily unavailable.", null);
        }

        if (faults.GatewayTimeoutEvery > 0 && sequence % faults.GatewayTimeoutEvery == 0)
        {
            return Error(HttpStatusCode.GatewayTimeout, "gatewayTimeout", "The gateway timed out.", null);
        }

        if (isWrite && faults.WriteQuota > 0)
        {
            var now = _options.Time.GetUtcNow();
            lock (_recentWrites)
            {
                while (_recentWrites.Count > 0 && _recentWrites.Peek() <= now - faults.WriteQuotaWindow)
                {
                    _recentWrites.Dequeue();
                }

                if (_recentWrites.Count >= faults.WriteQuota)
                {
                    var wait = _recentWrites.Peek() + faults.WriteQuotaWindow - now;
                    return Throttled((int)Math.Max(1, Math.Ceiling(wait.TotalSeconds)));
                }

                _recentWrites.Enqueue(now);
            }
        }

        return null;
    }

    private static EmulatorResponse Throttled(int? retryAfterSeconds)
    {
        var response = Error((HttpStatusCode)429, "TooManyRequests", "Too many requests. Please retry after the time in the Retry-After header.", null);
        return retryAfterSeconds is { } seconds
            ? response with { Headers = [.. response.Headers, new("Retry-After", seconds.ToString(CultureInfo.InvariantCulture))] }
            : response;
    }

    private static EmulatorResponse List(List<JsonObject> items, Dictionary<string, string> query, string root, string version, string resource, string context, string? clientRequestId)
    {
        IEnumerable<JsonObject> selected = items;
        if (query.TryGetValue("$filter", out var filter))
        {
            if (!EqFilter.TryParse(filter, out var eq, out var problem))
            {
                return Error(HttpStatusCode.BadRequest, "Request_UnsupportedQuery", $"Unsupported or invalid query filter clause specified: {problem}", clientRequestId);
            }

            selected = selected.Where(eq.Matches);
        }

        var top = DefaultTop;
        if (query.TryGetValue("$top", out var topText) && (!int.TryParse(topText, CultureInfo.InvariantCulture, out top) || top < 1 || top > MaxTop))
        {
            return Error(HttpStatusCode.BadRequest, "Request_BadRequest", $"Invalid page size specified: '{topText}'. Must be between 1 and {MaxTop} inclusive.", clientRequestId);
        }

        var skip = 0;
        if (query.TryGetValue("$skiptoken", out var token) && !TryDecodeSkipToken(token, out skip))
        {
            return Error(HttpStatusCode.BadRequest, "Directory_ExpiredPageToken", "The specified page token value has expired or is invalid.", clientRequestId);
        }

        var all = selected as List<JsonObject> ?? selected.ToList();
        var page = all.Skip(skip).Take(top).ToList();
        var select = query.TryGetValue("$select", out var selectText) ? selectText.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) : null;
        var value = new JsonArray([.. page.Select(i => (JsonNode)Project(i, select))]);
        var result = new JsonObject { ["@odata.context"] = context, ["value"] = value };
        if (skip + page.Count < all.Count)
        {
            var next = new Dictionary<string, string>(query, StringComparer.Ordinal) { ["$skiptoken"] = EncodeSkipToken(skip + page.Count), ["$top"] = top.ToString(CultureInfo.InvariantCulture) };
            var nextQuery = string.Join('&', next.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => Uri.EscapeDataString(p.Key) + "=" + Uri.EscapeDataString(p.Value)));
            result["@odata.nextLink"] = $"{root}/{version}/{resource}?{nextQuery}";
        }

        return new EmulatorResponse(HttpStatusCode.OK, result);
    }

    private EmulatorResponse GetUser(string id, Dictionary<string, string> query, string context, string? clientRequestId)
    {
        JsonObject? user;
        lock (_lock)
        {
            user = _users.TryGetValue(id, out var current) ? (Stale(id)?.User ?? current).DeepClone().AsObject() : null;
        }

        if (user is null)
        {
            return Error(HttpStatusCode.NotFound, "Request_ResourceNotFound", $"Resource '{id}' does not exist or one of its queried reference-property objects are not present.", clientRequestId);
        }

        var select = query.TryGetValue("$select", out var selectText) ? selectText.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) : null;
        var projected = Project(user, select);
        projected.Insert(0, "@odata.context", context + "#users/$entity");
        return new EmulatorResponse(HttpStatusCode.OK, projected);
    }

    private EmulatorResponse PatchUser(string id, JsonNode? body, string path, string? clientRequestId)
    {
        if (body is not JsonObject changes || changes.Count == 0)
        {
            return Error(HttpStatusCode.BadRequest, "Request_BadRequest", "The request body must be a non-empty JSON object.", clientRequestId);
        }

        if (changes.ContainsKey("id"))
        {
            return Error(HttpStatusCode.BadRequest, "Request_BadRequest", "Property 'id' is read-only and cannot be set.", clientRequestId);
        }

        lock (_lock)
        {
            if (!_users.TryGetValue(id, out var user))
            {
                return Error(HttpStatusCode.NotFound, "Request_ResourceNotFound", $"Resource '{id}' does not exist or one of its queried reference-property objects are not present.", clientRequestId);
            }

            if (LoseThisWrite())
            {
                return new EmulatorResponse(HttpStatusCode.NoContent, null);
            }

            KeepStale(id);
            foreach (var (name, value) in changes)
            {
                user[name] = value?.DeepClone();
            }

            Record("PATCH", path, changes, clientRequestId);
        }

        return new EmulatorResponse(HttpStatusCode.NoContent, null);
    }

    private EmulatorResponse SyncBehavior(string id, Dictionary<string, string> query, string context, string? clientRequestId)
    {
        lock (_lock)
        {
            if (!_users.ContainsKey(id))
            {
                return Error(HttpStatusCode.NotFound, "Request_ResourceNotFound", $"Resource '{id}' does not exist.", clientRequestId);
            }

            var behavior = new JsonObject { ["id"] = id, ["isCloudManaged"] = Stale(id)?.CloudManaged ?? _cloudManaged.GetValueOrDefault(id) };
            var select = query.TryGetValue("$select", out var selectText) ? selectText.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) : null;
            var projected = Project(behavior, select);
            projected.Insert(0, "@odata.context", context + $"#users('{id}')/onPremisesSyncBehavior/$entity");
            return new EmulatorResponse(HttpStatusCode.OK, projected);
        }
    }

    private EmulatorResponse PatchSyncBehavior(string id, JsonNode? body, string path, string? clientRequestId)
    {
        if (body?["isCloudManaged"] is not JsonValue value || !value.TryGetValue<bool>(out var cloudManaged))
        {
            return Error(HttpStatusCode.BadRequest, "Request_BadRequest", "isCloudManaged (a boolean) is required.", clientRequestId);
        }

        lock (_lock)
        {
            if (!_users.ContainsKey(id))
            {
                return Error(HttpStatusCode.NotFound, "Request_ResourceNotFound", $"Resource '{id}' does not exist.", clientRequestId);
            }

            if (LoseThisWrite())
            {
                return new EmulatorResponse(HttpStatusCode.NoContent, null);
            }

            KeepStale(id);
            _cloudManaged[id] = cloudManaged;
            Record("PATCH", path, body, clientRequestId);
        }

        return new EmulatorResponse(HttpStatusCode.NoContent, null);
    }

    // Under _lock. The state reads return while a write to the user replicates, or null when there is none.
    private (DateTimeOffset Until, JsonObject User, bool CloudManaged)? Stale(string id) =>
        _stale.TryGetValue(id, out var stale) && stale.Until > _options.Time.GetUtcNow() ? stale : null;

    // Under _lock, before a write is applied: reads keep seeing the state before the first write of the lag.
    private void KeepStale(string id)
    {
        var lag = Faults.ReadLagAfterWrite;
        if (lag > TimeSpan.Zero && Stale(id) is null)
        {
            _stale[id] = (_options.Time.GetUtcNow() + lag, _users[id].DeepClone().AsObject(), _cloudManaged.GetValueOrDefault(id));
        }
    }

    private bool LoseThisWrite() => Faults.LoseWriteEvery > 0 && Interlocked.Increment(ref _writeAttempts) % Faults.LoseWriteEvery == 0;

    private void Record(string method, string path, JsonNode body, string? clientRequestId) =>
        _writes.Enqueue(new EmulatorWrite(Interlocked.Increment(ref _writeSequence), method, path, body.ToJsonString(Compact), clientRequestId, _options.Time.GetUtcNow()));

    private static JsonObject Project(JsonObject item, string[]? select)
    {
        if (select is null)
        {
            return item.DeepClone().AsObject();
        }

        var projected = new JsonObject();
        foreach (var name in select.Prepend("id").Distinct(StringComparer.OrdinalIgnoreCase))
        {
            var property = item.FirstOrDefault(p => string.Equals(p.Key, name, StringComparison.OrdinalIgnoreCase));
            projected[property.Key ?? name] = property.Value?.DeepClone();
        }

        return projected;
    }

    private static Dictionary<string, string> ParseQuery(string query)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in query.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            var key = Uri.UnescapeDataString((equals < 0 ? pair : pair[..equals]).Replace('+', ' '));
            var value = equals < 0 ? string.Empty : Uri.UnescapeDataString(pair[(equals + 1)..].Replace('+', ' '));
            result[key] = value;
        }

        return result;
    }

    private static string EncodeSkipToken(int offset) => "X" + Convert.ToHexString(Encoding.UTF8.GetBytes("skip:" + offset.ToString(CultureInfo.InvariantCulture)));

    private static bool TryDecodeSkipToken(string token, out int offset)
    {
        offset = 0;
        try
        {
            var text = Encoding.UTF8.GetString(Convert.FromHexString(token.TrimStart('X')));
            return text.StartsWith("skip:", StringComparison.Ordinal) && int.TryParse(text.AsSpan(5), NumberStyles.None, CultureInfo.InvariantCulture, out offset);
        }
        catch (FormatException)
        {
            return false;
        }
    }

    private static EmulatorResponse Error(HttpStatusCode status, string code, string message, string? clientRequestId)
    {
        var requestId = Guid.NewGuid().ToString();
        var inner = new JsonObject
        {
            ["date"] = DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss", CultureInfo.InvariantCulture),
            ["request-id"] = requestId,
            ["client-request-id"] = clientRequestId ?? requestId,
        };
        return new EmulatorResponse(status, new JsonObject { ["error"] = new JsonObject { ["code"] = code, ["message"] = message, ["innerError"] = inner } });
    }
}

internal sealed record EmulatorResponse(HttpStatusCode Status, JsonObject? Body)
{
    public IReadOnlyList<KeyValuePair<string, string>> Headers { get; init; } = [];
}
