using System.Globalization;
using System.Runtime.InteropServices;
using AuthSplit.Graph.Emulator;

// authsplit-graph-emulator: A STAND-IN for Microsoft Graph (Entra ID), for rehearsals and the lab;
// never point the product's real runs at it. The token clients must present comes from
// AUTHSPLIT_EMULATOR_TOKEN, so it never shows in a process list.
const string Usage = """
    usage: authsplit-graph-emulator [--users DIR|FILE] [--groups DIR|FILE] [--applications DIR|FILE]
                                    [--service-principals DIR|FILE] [--port N] [--tenant-id GUID] [--password-sync on|off] [--block-hard-match-takeover on|off]
                                    [--throttle-every N] [--throttle-without-retry-after-every N] [--retry-after-seconds N]
                                    [--unavailable-every N] [--gateway-timeout-every N] [--drop-connection-every N]
                                    [--lose-write-every N] [--read-lag-ms N] [--latency-ms N] [--write-quota N] [--write-window-seconds N] [--documented-write-limit]
                                    [--throttle-writes] [--no-v1-sync-behavior] [--refuse-group-sync-behavior ID[,ID...]]
                                    [--admin-token-env NAME]
    Seeds are Graph JSON pages ({"value":[...]}), a file or every *.json of a directory. A group's direct
    members are its "members" (ids); a user or group with "onPremisesSyncBehavior": {"isCloudManaged": true}
    is already cloud-managed.
    Faults are deterministic: every Nth request (and $batch sub-request) fails; 0 turns a fault off.
    The bearer token clients must present is read from AUTHSPLIT_EMULATOR_TOKEN; --admin-token-env names the
    variable holding a second token that stands for a delegated Global Administrator (the only one that may
    PATCH directory/onPremisesSynchronization).
    """;

EmulatorCommandLine parsed;
try
{
    parsed = EmulatorCommandLine.Parse(args);
}
catch (FormatException ex)
{
    await Console.Error.WriteLineAsync($"{ex.Message}\n{Usage}");
    return 2;
}

if (parsed.Help)
{
    Console.WriteLine(Usage);
    return 0;
}

var token = Environment.GetEnvironmentVariable("AUTHSPLIT_EMULATOR_TOKEN");
if (string.IsNullOrEmpty(token))
{
    await Console.Error.WriteLineAsync("set AUTHSPLIT_EMULATOR_TOKEN to the bearer token clients must present");
    return 2;
}

string? adminToken = null;
if (parsed.AdminTokenVariable is { } adminVariable)
{
    adminToken = Environment.GetEnvironmentVariable(adminVariable);
    if (string.IsNullOrEmpty(adminToken) || adminToken == token)
    {
        await Console.Error.WriteLineAsync($"set {adminVariable} to the delegated-admin bearer token (not the same as AUTHSPLIT_EMULATOR_TOKEN)");
        return 2;
    }
}

GraphEmulatorOptions options;
try
{
    options = parsed.ToOptions(token) with { AdminAccessToken = adminToken };
}
catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidDataException or System.Text.Json.JsonException)
{
    await Console.Error.WriteLineAsync($"cannot read a seed file: {ex.Message}");
    return 2;
}

await using var emulator = await GraphEmulator.StartAsync(options, CancellationToken.None);
Console.WriteLine($"Graph emulator (a stand-in, not Microsoft Graph) listening on {emulator.BaseUrl}");
Console.WriteLine(FormattableString.Invariant($"seeded: {options.Users.Count} users, {options.Groups.Count} groups, {options.Applications.Count} applications, {options.ServicePrincipals.Count} service principals; onPremisesSyncBehavior on v1.0: {(options.SyncBehaviorOnV1 ? "yes" : "no (beta only)")}; delegated-admin token: {(options.AdminAccessToken is null ? "none" : "accepted")}; faults: {options.Faults}{(options.Faults.RefuseGroupSyncBehavior.Count == 0 ? string.Empty : "; refusing the switch of groups " + string.Join(", ", options.Faults.RefuseGroupSyncBehavior))}"));
using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    stop.Cancel();
};
using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
{
    context.Cancel = true;
    stop.Cancel();
});
try
{
    await Task.Delay(Timeout.Infinite, stop.Token);
}
catch (OperationCanceledException)
{
}

Console.WriteLine(FormattableString.Invariant($"stopped after {emulator.RequestCount} requests, {emulator.Writes.Count} writes applied, {emulator.ThrottledCount} answered 429"));
return 0;

/// <summary>The emulator's command line: seeds, port and faults, strictly parsed (an unknown flag is an error).</summary>
internal sealed record EmulatorCommandLine
{
    public bool Help { get; init; }

    public Dictionary<string, string> Seeds { get; } = new(StringComparer.Ordinal);

    public int Port { get; init; }

    public string? TenantId { get; init; }

    public bool PasswordSync { get; init; } = true;

    public bool BlockHardMatchTakeover { get; init; }

    public GraphFaults Faults { get; init; } = GraphFaults.None;

    public bool SyncBehaviorOnV1 { get; init; } = true;

    /// <summary>The environment variable holding the delegated-admin token (never the token itself).</summary>
    public string? AdminTokenVariable { get; init; }

    public static EmulatorCommandLine Parse(string[] args)
    {
        var result = new EmulatorCommandLine();
        var faults = GraphFaults.None;
        for (var i = 0; i < args.Length; i++)
        {
            var name = args[i];
            string Value() => i + 1 < args.Length ? args[++i] : throw new FormatException($"{name} needs a value");
            int Number()
            {
                var text = Value();
                return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : throw new FormatException($"{name} needs a whole number, not \"{text}\"");
            }

            switch (name)
            {
                case "--help" or "-h":
                    result = result with { Help = true };
                    break;
                case "--users" or "--groups" or "--applications" or "--service-principals":
                    result.Seeds[name] = Value();
                    break;
                case "--port":
                    result = result with { Port = Number() };
                    break;
                case "--tenant-id":
                    result = result with { TenantId = Guid.TryParse(Value(), out var tenant) ? tenant.ToString() : throw new FormatException("--tenant-id needs a GUID") };
                    break;
                case "--password-sync":
                    result = result with { PasswordSync = Value() switch { "on" => true, "off" => false, var v => throw new FormatException($"--password-sync is on or off, not \"{v}\"") } };
                    break;
                case "--block-hard-match-takeover":
                    result = result with { BlockHardMatchTakeover = Value() switch { "on" => true, "off" => false, var v => throw new FormatException($"--block-hard-match-takeover is on or off, not \"{v}\"") } };
                    break;
                case "--throttle-every":
                    faults = faults with { ThrottleEvery = Number() };
                    break;
                case "--throttle-without-retry-after-every":
                    faults = faults with { ThrottleWithoutRetryAfterEvery = Number() };
                    break;
                case "--retry-after-seconds":
                    faults = faults with { RetryAfterSeconds = Number() };
                    break;
                case "--unavailable-every":
                    faults = faults with { ServiceUnavailableEvery = Number() };
                    break;
                case "--gateway-timeout-every":
                    faults = faults with { GatewayTimeoutEvery = Number() };
                    break;
                case "--drop-connection-every":
                    faults = faults with { DropConnectionEvery = Number() };
                    break;
                case "--lose-write-every":
                    faults = faults with { LoseWriteEvery = Number() };
                    break;
                case "--read-lag-ms":
                    faults = faults with { ReadLagAfterWrite = TimeSpan.FromMilliseconds(Number()) };
                    break;
                case "--latency-ms":
                    faults = faults with { Latency = TimeSpan.FromMilliseconds(Number()) };
                    break;
                case "--write-quota":
                    faults = faults with { WriteQuota = Number() };
                    break;
                case "--write-window-seconds":
                    faults = faults with { WriteQuotaWindow = TimeSpan.FromSeconds(Math.Max(1, Number())) };
                    break;
                case "--throttle-writes":
                    faults = faults with { ThrottleWrites = true };
                    break;
                case "--no-v1-sync-behavior":
                    result = result with { SyncBehaviorOnV1 = false };
                    break;
                case "--refuse-group-sync-behavior":
                    faults = faults with { RefuseGroupSyncBehavior = [.. faults.RefuseGroupSyncBehavior, .. Value().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)] };
                    break;
                case "--admin-token-env":
                    result = result with { AdminTokenVariable = Value() };
                    break;
                case "--documented-write-limit":
                    faults = faults with { WriteQuota = GraphFaults.DocumentedWriteLimit.WriteQuota, WriteQuotaWindow = GraphFaults.DocumentedWriteLimit.WriteQuotaWindow };
                    break;
                default:
                    throw new FormatException($"unknown argument \"{name}\"");
            }
        }

        if (result.Port is < 0 or > 65535)
        {
            throw new FormatException("--port must be 0 (any free port) to 65535");
        }

        return result with { Faults = faults };
    }

    public GraphEmulatorOptions ToOptions(string token)
    {
        IReadOnlyList<System.Text.Json.Nodes.JsonObject> Seed(string flag) => Seeds.TryGetValue(flag, out var path) ? GraphEmulatorOptions.ReadPages(path) : [];
        var options = new GraphEmulatorOptions
        {
            AccessToken = token,
            Port = Port,
            Users = Seed("--users"),
            Groups = Seed("--groups"),
            Applications = Seed("--applications"),
            ServicePrincipals = Seed("--service-principals"),
            PasswordSyncEnabled = PasswordSync,
            BlockCloudObjectTakeoverThroughHardMatchEnabled = BlockHardMatchTakeover,
            Faults = Faults,
            SyncBehaviorOnV1 = SyncBehaviorOnV1,
        };
        return TenantId is null ? options : options with { TenantId = TenantId };
    }
}
