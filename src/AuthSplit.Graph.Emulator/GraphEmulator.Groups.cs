using System.Net;
using System.Text.Json.Nodes;

namespace AuthSplit.Graph.Emulator;

/// <summary>
/// Groups: a single group, its members (all, or cast to users) paged as Graph pages them, and its
/// <c>onPremisesSyncBehavior</c>. Moving a group to cloud-managed makes it read <c>onPremisesSyncEnabled</c>
/// null, as Entra shows a group it no longer synchronises; moving it back lets the next sync take it again
/// (here at once). <see cref="GraphFaults.RefuseGroupSyncBehavior"/> refuses the switch of chosen groups.
/// </summary>
public sealed partial class GraphEmulator
{
    private EmulatorResponse GetGroup(string id, Dictionary<string, string> query, string context, string? clientRequestId)
    {
        lock (_lock)
        {
            if (FindGroup(id) is not { } group)
            {
                return NotFound(id, clientRequestId);
            }

            var projected = Project(group, Select(query));
            projected.Insert(0, "@odata.context", context + "#groups/$entity");
            return new EmulatorResponse(HttpStatusCode.OK, projected);
        }
    }

    // GET /groups/{id}/members (every member, each with its @odata.type) or .../members/microsoft.graph.user (users only).
    private EmulatorResponse GroupMembers(string id, bool usersOnly, Dictionary<string, string> query, string root, string version, string context, string? clientRequestId)
    {
        lock (_lock)
        {
            if (FindGroup(id) is null)
            {
                return NotFound(id, clientRequestId);
            }

            var members = new List<JsonObject>();
            foreach (var memberId in _groupMembers.GetValueOrDefault(id) ?? [])
            {
                if (_users.TryGetValue(memberId, out var user))
                {
                    var member = user.DeepClone().AsObject();
                    member.Insert(0, "@odata.type", "#microsoft.graph.user");
                    members.Add(member);
                }
                else if (!usersOnly && FindGroup(memberId) is { } nested)
                {
                    var member = nested.DeepClone().AsObject();
                    member.Insert(0, "@odata.type", "#microsoft.graph.group");
                    members.Add(member);
                }
            }

            var resource = $"groups/{Uri.EscapeDataString(id)}/members" + (usersOnly ? "/microsoft.graph.user" : string.Empty);
            var response = List(members, query, root, version, resource, context + (usersOnly ? "#users" : "#directoryObjects"), clientRequestId);
            if (response.Body?["value"] is JsonArray page)
            {
                // $select projects away the cast's @odata.type; Graph keeps it on every member.
                foreach (var item in page.OfType<JsonObject>().Where(i => !i.ContainsKey("@odata.type")))
                {
                    item.Insert(0, "@odata.type", usersOnly ? "#microsoft.graph.user" : _users.ContainsKey(item["id"]!.GetValue<string>()) ? "#microsoft.graph.user" : "#microsoft.graph.group");
                }
            }

            return response;
        }
    }

    private EmulatorResponse GroupSyncBehavior(string id, Dictionary<string, string> query, string context, string? clientRequestId)
    {
        lock (_lock)
        {
            if (FindGroup(id) is null)
            {
                return NotFound(id, clientRequestId);
            }

            var behavior = new JsonObject { ["id"] = id, ["isCloudManaged"] = _groupCloudManaged.GetValueOrDefault(id) };
            var projected = Project(behavior, Select(query));
            projected.Insert(0, "@odata.context", context + $"#groups('{id}')/onPremisesSyncBehavior/$entity");
            return new EmulatorResponse(HttpStatusCode.OK, projected);
        }
    }

    private EmulatorResponse PatchGroupSyncBehavior(string id, JsonNode? body, string path, string? clientRequestId)
    {
        if (body?["isCloudManaged"] is not JsonValue value || !value.TryGetValue<bool>(out var cloudManaged))
        {
            return Error(HttpStatusCode.BadRequest, "Request_BadRequest", "isCloudManaged (a boolean) is required.", clientRequestId);
        }

        lock (_lock)
        {
            if (FindGroup(id) is not { } group)
            {
                return NotFound(id, clientRequestId);
            }

            if (Faults.RefuseGroupSyncBehavior.Contains(id, StringComparer.OrdinalIgnoreCase))
            {
                return Error(HttpStatusCode.Forbidden, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.", clientRequestId);
            }

            if (LoseThisWrite())
            {
                return new EmulatorResponse(HttpStatusCode.NoContent, null);
            }

            var was = _groupCloudManaged.GetValueOrDefault(id);
            _groupCloudManaged[id] = cloudManaged;
            FollowSourceOfAuthority(group, id, was, cloudManaged, _groupSyncedBeforeSwitch);
            Record("PATCH", path, body, clientRequestId);
        }

        return new EmulatorResponse(HttpStatusCode.NoContent, null);
    }

    /// <summary>The group as it is now, without its members (see <see cref="GroupMemberIds"/>), or null.</summary>
    public JsonObject? Group(string id)
    {
        lock (_lock)
        {
            return FindGroup(id)?.DeepClone().AsObject();
        }
    }

    public IReadOnlyList<string> GroupMemberIds(string id)
    {
        lock (_lock)
        {
            return [.. _groupMembers.GetValueOrDefault(id) ?? []];
        }
    }

    public bool IsGroupCloudManaged(string id)
    {
        lock (_lock)
        {
            return _groupCloudManaged.GetValueOrDefault(id);
        }
    }

    // Under _lock.
    private JsonObject? FindGroup(string id) => _byId["groups"].GetValueOrDefault(id);

    private static string[]? Select(Dictionary<string, string> query) =>
        query.TryGetValue("$select", out var selectText) ? selectText.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) : null;

    private static EmulatorResponse NotFound(string id, string? clientRequestId) =>
        Error(HttpStatusCode.NotFound, "Request_ResourceNotFound", $"Resource '{id}' does not exist or one of its queried reference-property objects are not present.", clientRequestId);
}
