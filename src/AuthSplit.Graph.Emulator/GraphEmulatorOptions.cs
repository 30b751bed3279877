using System.Text.Json.Nodes;

namespace AuthSplit.Graph.Emulator;

public sealed record GraphEmulatorOptions
{
    /// <summary>The bearer token every request must carry (the emulator's stand-in for Entra's tokens).</summary>
    public required string AccessToken { get; init; }

    /// <summary>
    /// A second bearer token standing for a delegated Global Administrator's: it may do everything the app
    /// token may, and also write the tenant's <c>onPremisesSynchronization</c>. Null: no such token.
    /// </summary>
    public string? AdminAccessToken { get; init; }

    /// <summary>0 picks a free port on 127.0.0.1.</summary>
    public int Port { get; init; }

    /// <summary>Users; one with <c>"onPremisesSyncBehavior": {"isCloudManaged": true}</c> (and <c>onPremisesSyncEnabled</c> null) is already cloud-only.</summary>
    public IReadOnlyList<JsonObject> Users { get; init; } = [];

    /// <summary>Groups; <c>"members"</c> (ids, or objects with an id) are their direct members, served at <c>/groups/{id}/members</c>; <c>"onPremisesSyncBehavior"</c> as for users.</summary>
    public IReadOnlyList<JsonObject> Groups { get; init; } = [];

    public IReadOnlyList<JsonObject> Applications { get; init; } = [];

    public IReadOnlyList<JsonObject> ServicePrincipals { get; init; } = [];

    public string TenantId { get; init; } = "00000000-0000-0000-0000-0000000000aa";

    /// <summary>The tenant's password hash synchronisation, as <c>directory/onPremisesSynchronization</c> reports it.</summary>
    public bool PasswordSyncEnabled { get; init; } = true;

    /// <summary>
    /// The tenant's <c>features.blockCloudObjectTakeoverThroughHardMatchEnabled</c>: while true, a user moved back
    /// to on-premises authority is not synchronised again (it keeps reading <c>onPremisesSyncEnabled</c> null)
    /// until the flag is switched off, as the sync engine may not take it back by hard match.
    /// </summary>
    public bool BlockCloudObjectTakeoverThroughHardMatchEnabled { get; init; }

    public GraphFaults Faults { get; init; } = GraphFaults.None;

    /// <summary>
    /// Whether v1.0 serves <c>users/{id}/onPremisesSyncBehavior</c>, as Graph now does; false answers it 400
    /// "Resource not found for the segment", as a tenant without it on v1.0 does (beta always serves it).
    /// </summary>
    public bool SyncBehaviorOnV1 { get; init; } = true;

    /// <summary>
    /// A misbehaving server: <c>@odata.nextLink</c> (and <c>@odata.context</c>) point at this root instead of the
    /// emulator's own, e.g. another port or host. Null (normal): links point back at the emulator.
    /// </summary>
    public Uri? NextLinkRoot { get; init; }

    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Reads Graph JSON pages (<c>{"value":[...]}</c>) from a file or every <c>*.json</c> of a directory.</summary>
    public static IReadOnlyList<JsonObject> ReadPages(string path)
    {
        var files = File.Exists(path) ? [path] : Directory.GetFiles(path, "*.json").Order(StringComparer.Ordinal).ToArray();
        var objects = new List<JsonObject>();
        foreach (var file in files)
        {
            var page = JsonNode.Parse(File.ReadAllBytes(file)) as JsonObject
                ?? throw new InvalidDataException($"{file}: not a Graph page");
            foreach (var item in page["value"]?.AsArray() ?? [])
            {
                objects.Add(item!.AsObject().DeepClone().AsObject());
            }
        }

        return objects;
    }
}
