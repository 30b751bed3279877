using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

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
/// <remarks>
/// One file per concern: this one hosts it and holds its state; <c>.Routing</c> maps requests and
/// <c>$batch</c> sub-requests to resources; <c>.Auth</c> checks the token; <c>.Faults</c> injects failures
/// and replication lag; <c>.Users</c> serves and writes users; <c>.Paging</c> lists collections with
/// <c>$select</c>, <c>$top</c>, <c>$filter</c> and skip tokens.
/// </remarks>
public sealed partial class GraphEmulator : IAsyncDisposable
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
    // The same objects by id, per collection.
    private readonly Dictionary<string, Dictionary<string, JsonObject>> _byId = new(StringComparer.OrdinalIgnoreCase);
    // A group's direct members (user or group ids), seeded from its "members"; served only through /members.
    private readonly Dictionary<string, List<string>> _groupMembers = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, bool> _groupCloudManaged = new(StringComparer.OrdinalIgnoreCase);
    // Objects that read onPremisesSyncEnabled true before they were moved to cloud-managed: moved back, they read true again.
    private readonly HashSet<string> _groupSyncedBeforeSwitch = new(StringComparer.OrdinalIgnoreCase);
    private readonly HashSet<string> _userSyncedBeforeSwitch = new(StringComparer.OrdinalIgnoreCase);
    private bool _passwordSyncEnabled;
    private bool _blockHardMatchTakeover;
    // Users switched back to on-premises authority while the tenant blocked hard-match takeover: the sync
    // engine may not take them back, so they stay unsynchronised until the block is lifted.
    private readonly HashSet<string> _awaitingTakeover = new(StringComparer.OrdinalIgnoreCase);
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
        _passwordSyncEnabled = options.PasswordSyncEnabled;
        _blockHardMatchTakeover = options.BlockCloudObjectTakeoverThroughHardMatchEnabled;
        foreach (var seeded in options.Users)
        {
            var id = seeded["id"]?.GetValue<string>() ?? throw new ArgumentException("every seeded user needs an id", nameof(options));
            var user = seeded.DeepClone().AsObject();
            // A user already cloud-only: "onPremisesSyncEnabled": null with "onPremisesSyncBehavior": {"isCloudManaged": true}.
            if (TakeSyncBehavior(user) is { } cloudManaged)
            {
                _cloudManaged[id] = cloudManaged;
            }

            _users[id] = user;
        }

        _usersInOrder = [.. _users.Values.OrderBy(u => u["id"]!.GetValue<string>(), StringComparer.Ordinal)];
        _collections["groups"] = InOrder(options.Groups);
        _collections["applications"] = InOrder(options.Applications);
        _collections["servicePrincipals"] = InOrder(options.ServicePrincipals);
        foreach (var (name, items) in _collections)
        {
            _byId[name] = items.ToDictionary(i => i["id"]?.GetValue<string>() ?? throw new ArgumentException($"every seeded object of {name} needs an id", nameof(options)), StringComparer.OrdinalIgnoreCase);
        }

        foreach (var (id, group) in _byId["groups"])
        {
            if (TakeSyncBehavior(group) is { } cloudManaged)
            {
                _groupCloudManaged[id] = cloudManaged;
            }

            if (group.Remove("members", out var members) && members is JsonArray list)
            {
                // Ids, or objects with an id (as $expand=members gives them).
                _groupMembers[id] = [.. list.Select(m => m is JsonObject o ? o["id"]?.GetValue<string>() : m?.GetValue<string>()).OfType<string>().Order(StringComparer.Ordinal)];
            }
        }
    }

    private static List<JsonObject> InOrder(IEnumerable<JsonObject> items) =>
        [.. items.Select(i => i.DeepClone().AsObject()).OrderBy(i => i["id"]?.GetValue<string>(), StringComparer.Ordinal)];

    // A seeded object's "onPremisesSyncBehavior" (a relationship Graph serves at its own URL, not as a property).
    private static bool? TakeSyncBehavior(JsonObject item) =>
        item.Remove("onPremisesSyncBehavior", out var behavior) && behavior?["isCloudManaged"] is JsonValue value && value.TryGetValue<bool>(out var cloudManaged)
            ? cloudManaged
            : null;

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
}
