using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using AuthSplit.Core.Configuration;
using AuthSplit.Core.Model;
using AuthSplit.Graph.Auth;
using AuthSplit.Graph.Emulator;
using AuthSplit.Graph.Resilience;
using AuthSplit.Graph.Users;
using Microsoft.Extensions.Logging.Abstractions;

namespace AuthSplit.Benchmarks;

/// <summary>
/// The Graph connector against the Graph emulator (the stand-in for Entra ID) in the same process, over
/// real HTTP on 127.0.0.1: reading every user as <c>authsplit plan</c> does, and switching the source of
/// authority of many users while the emulator enforces a write quota.
/// </summary>
public static class GraphBenchmarks
{
    private const int Runs = 5;
    private const string Token = "benchmark-token-5d0c";

    /// <summary>Reads <paramref name="users"/> users with <c>$select</c> and <c>$top=999</c>, following <c>@odata.nextLink</c>.</summary>
    public static async Task ReadAsync(int users)
    {
        await using var emulator = await GraphEmulator.StartAsync(new GraphEmulatorOptions { AccessToken = Token, Users = Users(users) }, CancellationToken.None);
        Console.WriteLine($"# Graph read: {users:N0} users in the emulator, pages of 999 ($select of the snapshot's 6 properties); one warm-up run, then {Runs} measured");
        var connector = new List<double>();
        var raw = new List<double>();
        for (var run = 0; run <= Runs; run++)
        {
            var (seconds, requests) = await ReadWithConnectorAsync(emulator, users);
            var rawSeconds = await ReadRawAsync(emulator, users);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{(run == 0 ? "warm-up" : $"run {run}")}: connector {seconds:0.00} s ({requests} requests), raw HTTP {rawSeconds:0.00} s"));
            if (run > 0)
            {
                connector.Add(seconds);
                raw.Add(rawSeconds);
            }
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"raw HTTP GET of the same pages (HttpClient, bodies read, each page parsed only for its nextLink): median {Median(raw):0.00} s"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Graph connector read of {users:N0} users (Microsoft.Graph SDK, resilience pipeline, TargetUser conversion, page hashes): median {Median(connector):0.00} s ({users / Median(connector):N0} users/s; runs: {Figures(connector)} s); {Median(connector) / Median(raw):0.00}x the raw read"));
    }

    private static async Task<(double Seconds, long Requests)> ReadWithConnectorAsync(GraphEmulator emulator, int users)
    {
        using var connection = Connect(emulator, new GraphResilienceOptions());
        var directory = new GraphTargetDirectory(connection, []);
        var requestsBefore = emulator.RequestCount;
        var clock = Stopwatch.StartNew();
        var read = 0;
        await foreach (var user in directory.ReadUsersAsync(CancellationToken.None))
        {
            read += user.Id.Length > 0 ? 1 : 0;
        }

        var seconds = clock.Elapsed.TotalSeconds;
        return read == users ? (seconds, emulator.RequestCount - requestsBefore) : throw new InvalidOperationException($"read {read} users of {users}");
    }

    // The floor: the same pages fetched with a bare HttpClient, only the next link parsed out.
    private static async Task<double> ReadRawAsync(GraphEmulator emulator, int users)
    {
        using var http = new HttpClient();
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", Token);
        var clock = Stopwatch.StartNew();
        string? next = new Uri(emulator.BaseUrl, "v1.0/users?$select=" + string.Join(',', GraphTargetDirectory.SnapshotProperties) + "&$top=999").ToString();
        long bytes = 0;
        while (next is not null)
        {
            var body = await http.GetByteArrayAsync(next);
            bytes += body.Length;
            using var page = System.Text.Json.JsonDocument.Parse(body);
            next = page.RootElement.TryGetProperty("@odata.nextLink", out var link) ? link.GetString() : null;
        }

        var seconds = clock.Elapsed.TotalSeconds;
        return bytes > users ? seconds : throw new InvalidOperationException("the raw read returned almost nothing");
    }

    private static string Figures(List<double> seconds) => string.Join(", ", seconds.Select(s => s.ToString("0.00", CultureInfo.InvariantCulture)));

    /// <summary>
    /// Switches <paramref name="users"/> users to cloud-managed (each written once, then read back) while the
    /// emulator enforces <paramref name="quota"/> writes per <paramref name="windowSeconds"/> s and the
    /// connector is configured with the same limit; reports the achieved write rate against the allowed one.
    /// </summary>
    public static async Task SwitchAsync(int users, int quota, int windowSeconds)
    {
        var window = TimeSpan.FromSeconds(windowSeconds);
        await using var emulator = await GraphEmulator.StartAsync(new GraphEmulatorOptions
        {
            AccessToken = Token,
            Users = Users(users),
            Faults = new GraphFaults { WriteQuota = quota, WriteQuotaWindow = window },
        }, CancellationToken.None);
        var resilience = GraphResilienceOptions.From(new GraphLimitsOptions { WritesPerWindow = quota, WriteWindowSeconds = windowSeconds });
        using var connection = Connect(emulator, resilience);
        var tenant = new GraphTenant(connection);
        var ids = Enumerable.Range(0, users).Select(UserId).ToList();
        var allowed = quota / window.TotalSeconds;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"# Graph source-of-authority switch: {users:N0} users, emulator quota {quota:N0} writes per {windowSeconds} s (allowed {allowed:0.##} writes/s), paced at {WritePacing.For(resilience).Rate:0.00} writes/s ({WritePacing.For(resilience).TokensPerTick} every {WritePacing.For(resilience).Tick.TotalMilliseconds:0} ms), expected about {users / WritePacing.For(resilience).Rate / 60:0.0} min"));

        var clock = Stopwatch.StartNew();
        var outcomes = await tenant.SetSourceOfAuthorityAsync(ids, cloudManaged: true, CancellationToken.None);
        var total = clock.Elapsed.TotalSeconds;

        var writes = emulator.Writes.OrderBy(w => w.Sequence).ToList();
        var failed = outcomes.Count(o => o.Status != TargetWriteStatus.Verified);
        var duplicates = writes.Count - writes.Select(w => w.Path).Distinct(StringComparer.Ordinal).Count();
        var span = (writes[^1].At - writes[0].At).TotalSeconds;
        var achieved = users / total;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{users:N0} switches written and read back in {total:0.0} s: {achieved:0.00} writes/s = {achieved / allowed:P1} of the allowed {allowed:0.##}/s"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"first to last write: {span:0.0} s ({(writes.Count - 1) / span:0.00} writes/s); most writes in any {windowSeconds} s window: {MaxInWindow(writes, window):N0} (quota {quota:N0})"));
        Console.WriteLine($"failed or unverified: {failed}; applied twice: {duplicates}; writes applied: {writes.Count:N0}; 429 answered by the emulator: {emulator.ThrottledCount}; HTTP requests: {emulator.RequestCount:N0}");
        if (failed > 0 || duplicates > 0 || writes.Count != users)
        {
            throw new InvalidOperationException("the switch benchmark lost or repeated writes: see the figures above");
        }
    }

    internal static int MaxInWindow(List<EmulatorWrite> writes, TimeSpan window)
    {
        var most = 0;
        var start = 0;
        for (var end = 0; end < writes.Count; end++)
        {
            while (writes[end].At - writes[start].At >= window)
            {
                start++;
            }

            most = Math.Max(most, end - start + 1);
        }

        return most;
    }

    private static GraphConnection Connect(GraphEmulator emulator, GraphResilienceOptions resilience) =>
        GraphConnection.Create(
            new TargetOptions { BaseUrl = emulator.BaseUrl.ToString(), Auth = "StaticToken", TokenEnvVar = "AUTHSPLIT_BENCH_TOKEN", AllowInsecureLoopback = true },
            resilience,
            NullLogger.Instance,
            _ => Token);

    private static List<JsonObject> Users(int count) =>
    [
        .. Enumerable.Range(0, count).Select(i => new JsonObject
        {
            ["id"] = UserId(i),
            ["userPrincipalName"] = $"u{i:D6}@example.jp",
            ["mail"] = $"u{i:D6}@example.jp",
            ["employeeId"] = $"E{i:D6}",
            ["onPremisesImmutableId"] = Convert.ToBase64String(BitConverter.GetBytes((long)i)),
            ["accountEnabled"] = true,
            ["displayName"] = $"User {i}",
            ["department"] = "Benchmark",
        }),
    ];

    private static string UserId(int i) => $"{i:D8}-b0b0-4000-8000-000000000000";

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted[sorted.Length / 2];
    }
}
