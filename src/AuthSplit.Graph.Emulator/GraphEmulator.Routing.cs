using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace AuthSplit.Graph.Emulator;

/// <summary>Requests and <c>$batch</c> sub-requests to resources, each logged with its answer; Graph's error bodies.</summary>
public sealed partial class GraphEmulator
{
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

        if (Unauthenticated(authorization, clientRequestId) is { } refused)
        {
            await WriteAsync(context, Answered(sequence, request.Method, pathAndQuery, authorization, inBatch: false, refused));
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
            : Dispatch(request.Method, pathAndQuery, body, root, clientRequestId, sequence, IsDelegatedAdmin(authorization));
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
            var result = Answered(subSequence, method, subPath, authorization, inBatch: true, Dispatch(method, subPath, item?["body"]?.DeepClone(), root, subClientId, subSequence, IsDelegatedAdmin(authorization)));
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

    private EmulatorResponse Dispatch(string method, string pathAndQuery, JsonNode? body, string root, string? clientRequestId, long sequence, bool delegatedAdmin)
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

            case ["groups", var id] when HttpMethods.IsGet(method):
                return GetGroup(id, query, context, clientRequestId);
            case ["groups", var id, "members"] when HttpMethods.IsGet(method):
                return GroupMembers(id, usersOnly: false, query, root, version, context, clientRequestId);
            case ["groups", var id, "members", "microsoft.graph.user"] when HttpMethods.IsGet(method):
                return GroupMembers(id, usersOnly: true, query, root, version, context, clientRequestId);
            case ["groups", var id, "onPremisesSyncBehavior"] when HttpMethods.IsGet(method):
                return GroupSyncBehavior(id, query, context, clientRequestId);
            case ["groups", var id, "onPremisesSyncBehavior"] when HttpMethods.IsPatch(method):
                return PatchGroupSyncBehavior(id, body, pathAndQuery, clientRequestId);
            case ["applications" or "servicePrincipals", var id] when HttpMethods.IsGet(method):
                return GetDirectoryObject(segments[1], id, query, context, clientRequestId);
            case ["directory", "onPremisesSynchronization"] when HttpMethods.IsGet(method):
                return GetSynchronization(null, context, clientRequestId);
            case ["directory", "onPremisesSynchronization", var id] when HttpMethods.IsGet(method):
                return GetSynchronization(id, context, clientRequestId);
            case ["directory", "onPremisesSynchronization", var id] when HttpMethods.IsPatch(method):
                return PatchSynchronization(id, body, delegatedAdmin, pathAndQuery, clientRequestId);
            default:
                return Error(HttpStatusCode.NotFound, "Request_ResourceNotFound", $"Resource '/{path}' ({method}) is not supported by the emulator.", clientRequestId);
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
