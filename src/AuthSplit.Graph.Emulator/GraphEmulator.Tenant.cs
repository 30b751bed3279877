using System.Net;
using System.Text.Json.Nodes;

namespace AuthSplit.Graph.Emulator;

/// <summary>
/// Single applications and service principals (<c>GET /servicePrincipals/{id}</c>), and the tenant's
/// <c>directory/onPremisesSynchronization</c>: readable with either token, writable (its
/// <c>features.passwordSyncEnabled</c> and <c>features.blockCloudObjectTakeoverThroughHardMatchEnabled</c>)
/// only with the delegated-admin token, as Graph allows only a delegated Global Administrator to write
/// them; an app-only call is answered 403.
/// </summary>
public sealed partial class GraphEmulator
{
    private EmulatorResponse GetDirectoryObject(string collection, string id, Dictionary<string, string> query, string context, string? clientRequestId)
    {
        lock (_lock)
        {
            if (!_byId[collection].TryGetValue(id, out var item))
            {
                return NotFound(id, clientRequestId);
            }

            var projected = Project(item, Select(query));
            projected.Insert(0, "@odata.context", context + $"#{collection}/$entity");
            return new EmulatorResponse(HttpStatusCode.OK, projected);
        }
    }

    private JsonObject Synchronization()
    {
        lock (_lock)
        {
            return new JsonObject
            {
                ["id"] = _options.TenantId,
                ["features"] = new JsonObject
                {
                    ["passwordSyncEnabled"] = _passwordSyncEnabled,
                    ["directoryExtensionsEnabled"] = false,
                    ["blockCloudObjectTakeoverThroughHardMatchEnabled"] = _blockHardMatchTakeover,
                },
            };
        }
    }

    private EmulatorResponse GetSynchronization(string? id, string context, string? clientRequestId)
    {
        if (id is null)
        {
            return new EmulatorResponse(HttpStatusCode.OK, new JsonObject { ["@odata.context"] = context + "#directory/onPremisesSynchronization", ["value"] = new JsonArray(Synchronization()) });
        }

        if (!string.Equals(id, _options.TenantId, StringComparison.OrdinalIgnoreCase))
        {
            return NotFound(id, clientRequestId);
        }

        var item = Synchronization();
        item.Insert(0, "@odata.context", context + "#directory/onPremisesSynchronization/$entity");
        return new EmulatorResponse(HttpStatusCode.OK, item);
    }

    private EmulatorResponse PatchSynchronization(string id, JsonNode? body, bool delegatedAdmin, string path, string? clientRequestId)
    {
        if (!delegatedAdmin)
        {
            // Graph: "application permissions are not supported" for this write; an app-only token is refused.
            return Error(HttpStatusCode.Forbidden, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.", clientRequestId);
        }

        if (!string.Equals(id, _options.TenantId, StringComparison.OrdinalIgnoreCase))
        {
            return NotFound(id, clientRequestId);
        }

        var features = body?["features"] as JsonObject;
        bool? passwordSync = null, blockTakeover = null;
        foreach (var (name, node) in features?.ToList() ?? [])
        {
            if (node is not JsonValue value || !value.TryGetValue<bool>(out var flag))
            {
                return Error(HttpStatusCode.BadRequest, "Request_BadRequest", $"features.{name} must be a boolean.", clientRequestId);
            }

            switch (name)
            {
                case "passwordSyncEnabled":
                    passwordSync = flag;
                    break;
                case "blockCloudObjectTakeoverThroughHardMatchEnabled":
                    blockTakeover = flag;
                    break;
            }
        }

        if (passwordSync is null && blockTakeover is null)
        {
            return Error(HttpStatusCode.BadRequest, "Request_BadRequest", "features.passwordSyncEnabled or features.blockCloudObjectTakeoverThroughHardMatchEnabled (a boolean) is required.", clientRequestId);
        }

        lock (_lock)
        {
            _passwordSyncEnabled = passwordSync ?? _passwordSyncEnabled;
            if (blockTakeover is { } block)
            {
                _blockHardMatchTakeover = block;
                if (!block)
                {
                    // The next sync cycle (here at once) takes back the users that were waiting for it.
                    foreach (var waiting in _awaitingTakeover)
                    {
                        if (_users.TryGetValue(waiting, out var user) && !_cloudManaged.GetValueOrDefault(waiting))
                        {
                            FollowSourceOfAuthority(user, waiting, was: true, cloudManaged: false, _userSyncedBeforeSwitch);
                        }
                    }

                    _awaitingTakeover.Clear();
                }
            }

            Record("PATCH", path, body!, clientRequestId);
        }

        return new EmulatorResponse(HttpStatusCode.NoContent, null);
    }

    /// <summary>The tenant's <c>blockCloudObjectTakeoverThroughHardMatchEnabled</c> as <c>directory/onPremisesSynchronization</c> reads now.</summary>
    public bool BlockCloudObjectTakeoverThroughHardMatchEnabled
    {
        get
        {
            lock (_lock)
            {
                return _blockHardMatchTakeover;
            }
        }
    }

    /// <summary>The tenant's password hash sync as <c>directory/onPremisesSynchronization</c> reads now.</summary>
    public bool PasswordSyncEnabled
    {
        get
        {
            lock (_lock)
            {
                return _passwordSyncEnabled;
            }
        }
    }
}
