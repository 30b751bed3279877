using System.Net;
using System.Text.Json.Nodes;

namespace AuthSplit.Graph.Emulator;

/// <summary>Single users: read, PATCH, and their <c>onPremisesSyncBehavior</c> (a user moved to cloud-managed reads <c>onPremisesSyncEnabled</c> null); every applied write recorded.</summary>
public sealed partial class GraphEmulator
{
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
            if (!_users.TryGetValue(id, out var user))
            {
                return Error(HttpStatusCode.NotFound, "Request_ResourceNotFound", $"Resource '{id}' does not exist.", clientRequestId);
            }

            if (LoseThisWrite())
            {
                return new EmulatorResponse(HttpStatusCode.NoContent, null);
            }

            KeepStale(id);
            var was = _cloudManaged.GetValueOrDefault(id);
            _cloudManaged[id] = cloudManaged;
            if (!cloudManaged && was && _blockHardMatchTakeover && _userSyncedBeforeSwitch.Contains(id))
            {
                // Moved back while the tenant blocks hard-match takeover: the sync engine may not take the
                // cloud object back, so it stays unsynchronised until the block is lifted.
                _awaitingTakeover.Add(id);
            }
            else
            {
                _awaitingTakeover.Remove(id);
                FollowSourceOfAuthority(user, id, was, cloudManaged, _userSyncedBeforeSwitch);
            }
            Record("PATCH", path, body, clientRequestId);
        }

        return new EmulatorResponse(HttpStatusCode.NoContent, null);
    }

    // Under _lock. An object moved to cloud-managed no longer reads as synchronised (onPremisesSyncEnabled
    // null, as Entra shows a cloud object); moved back, the next sync takes it again (here at once).
    private static void FollowSourceOfAuthority(JsonObject item, string id, bool was, bool cloudManaged, HashSet<string> wasSynchronised)
    {
        if (cloudManaged && !was && item["onPremisesSyncEnabled"] is JsonValue synced && synced.TryGetValue<bool>(out var on) && on)
        {
            wasSynchronised.Add(id);
            item["onPremisesSyncEnabled"] = null;
        }
        else if (!cloudManaged && was && wasSynchronised.Remove(id))
        {
            item["onPremisesSyncEnabled"] = true;
        }
    }

    private void Record(string method, string path, JsonNode body, string? clientRequestId) =>
        _writes.Enqueue(new EmulatorWrite(Interlocked.Increment(ref _writeSequence), method, path, body.ToJsonString(Compact), clientRequestId, _options.Time.GetUtcNow()));
}
