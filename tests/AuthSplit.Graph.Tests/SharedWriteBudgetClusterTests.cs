using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using AuthSplit.Core.Configuration;
using AuthSplit.Graph.Auth;
using AuthSplit.Graph.Emulator;
using AuthSplit.Graph.Resilience;
using AuthSplit.Graph.Users;
using AuthSplit.State;
using AuthSplit.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit.Abstractions;

namespace AuthSplit.Graph.Tests;

/// <summary>
/// Graph's write limit is per app per tenant, not per node: three nodes (three Graph connections, each with
/// its own state store on one PostgreSQL database, as three processes would have) write users through the
/// real connector against an emulator enforcing the limit, and together stay within it at about the
/// allowed rate. The emulator answers 429 to any write over the limit, so "no 429" means no sliding window
/// of the writes the nodes sent held more than the limit; the window is also measured from its write record.
/// </summary>
[Collection(PostgresFixture.Collection)]
public sealed class SharedWriteBudgetClusterTests(PostgresFixture fixture, ITestOutputHelper output)
{
    private const string Token = "emulator-token-cluster-5e1d";
    private const string Variable = "AUTHSPLIT_TEST_STATE_CONNECTION";
    private const int Nodes = 3;

    /// <summary>
    /// The documented limit scaled down to 600 writes per 30 s (the same 20 writes/s, and the same 1 s margin,
    /// so the same arithmetic), about a minute of writing.
    /// </summary>
    [Fact]
    [Trait("Category", "Cluster")]
    public async Task Three_nodes_sharing_one_budget_stay_within_the_write_limit_together_and_use_most_of_it()
    {
        var figures = await RunAsync(new GraphFaults { WriteQuota = 600, WriteQuotaWindow = TimeSpan.FromSeconds(30) }, usersPerNode: 360, shared: true);

        figures.Throttled.Should().Be(0, "no write of any node was over the limit, so the emulator refused none");
        figures.Applied.Should().Be(Nodes * 360, "every write was sent once and applied");
        figures.MostInAnyWindow.Should().BeLessThanOrEqualTo(600);

        // The rate is measured and printed (95-98 % of the allowed rate on an idle machine; docs/benchmarks.md);
        // a shared machine's load must not fail the suite, so the suite asserts only what a broken budget
        // would miss by far (nodes that wait for each other's whole windows). The opt-in run at Graph's own
        // limit asserts 90 %.
        figures.Rate.Should().BeGreaterThanOrEqualTo(0.6 * 600 / 30, "the nodes together kept the budget busy while all three had work");
    }

    /// <summary>The control: the same three nodes, each pacing only itself (as on SQLite), go over the limit together.</summary>
    [Fact]
    [Trait("Category", "Cluster")]
    public async Task Three_nodes_each_pacing_only_itself_go_over_the_limit_together()
    {
        var figures = await RunAsync(new GraphFaults { WriteQuota = 600, WriteQuotaWindow = TimeSpan.FromSeconds(30) }, usersPerNode: 300, shared: false);

        figures.Throttled.Should().BeGreaterThan(0, "three local buckets of 19.4 writes/s each are three times the limit");
    }

    /// <summary>Graph's documented limit itself, 3,000 writes per 150 s: about eight minutes.</summary>
    [LongFact]
    [Trait("Category", "Measurement")]
    public async Task Three_nodes_stay_within_graphs_documented_write_limit_at_over_90_per_cent_of_its_rate()
    {
        var figures = await RunAsync(GraphFaults.DocumentedWriteLimit, usersPerNode: 3000, shared: true);

        figures.Throttled.Should().Be(0);
        figures.Applied.Should().Be(Nodes * 3000);
        figures.MostInAnyWindow.Should().BeLessThanOrEqualTo(3000);
        figures.Rate.Should().BeGreaterThanOrEqualTo(0.9 * 3000 / 150);
    }

    private async Task<Figures> RunAsync(GraphFaults limit, int usersPerNode, bool shared)
    {
        var users = Nodes * usersPerNode;
        await using var emulator = await GraphEmulator.StartAsync(new GraphEmulatorOptions { AccessToken = Token, Users = Users(users), Faults = limit }, CancellationToken.None);
        var resilience = EmulatorConnection.FastRetries with
        {
            WritesPerWindow = limit.WriteQuota,
            WriteWindow = limit.WriteQuotaWindow,
            MaxRetries = shared ? 10 : 0,
            BaseDelay = TimeSpan.FromMilliseconds(200),
        };
        var database = await fixture.Server.CreateDatabaseAsync("cluster", CancellationToken.None);
        var connectionString = fixture.Server.ConnectionString(database);
        var stores = new List<AdoExecutionStore>();
        var connections = new List<GraphConnection>();
        try
        {
            for (var n = 0; n < Nodes; n++)
            {
                // Each node its own store (its own connection pool), as each process of a cluster has.
                var store = await ExecutionStoreFactory.OpenStoreAsync(
                    new StateOptions { Provider = StateProvider.Postgres, ConnectionStringEnvVar = Variable },
                    TestPaths.NewWorkDirectory(),
                    TimeProvider.System,
                    new ExecutionStoreSettings { Node = $"node-{n}", Environment = name => name == Variable ? connectionString : null },
                    CancellationToken.None);
                stores.Add(store);
                connections.Add(GraphConnection.Create(
                    EmulatorConnection.StaticToken(emulator.BaseUrl.ToString()),
                    resilience,
                    NullLogger.Instance,
                    _ => Token,
                    sharedWrites: shared ? new SharedWrites(store, $"node-{n}") : null));
            }

            var clock = Stopwatch.StartNew();
            var finished = await Task.WhenAll(connections.Select((connection, n) => WriteAllAsync(new GraphTenant(connection), Enumerable.Range(n * usersPerNode, usersPerNode).Select(UserId).ToList())));
            var elapsed = clock.Elapsed;

            var times = emulator.Writes.Select(w => w.At).Order().ToList();
            var window = limit.WriteQuotaWindow;
            var most = WriteTimes.MostInAnyWindow(times, window);

            // Saturated: from the first write until the first node ran out of work; the rate is the slope of
            // the writes counted over time there (a regression, so the grants' granularity does not skew it).
            var saturated = times.Where(t => t <= finished.Min()).ToList();
            var rate = WriteTimes.Slope(saturated);
            var allowed = limit.WriteQuota / window.TotalSeconds;
            var delay = connections.Sum(c => c.PacingMeter.TotalDelay.TotalSeconds);
            var figures = new Figures(emulator.ThrottledCount, times.Count, most, rate);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{Nodes} nodes, {(shared ? "one shared budget" : "each its own bucket")}, limit {limit.WriteQuota}/{window.TotalSeconds:0} s: {times.Count} writes applied in {elapsed.TotalSeconds:0.0} s, {emulator.ThrottledCount} answered 429; "
                + $"most in any {window.TotalSeconds:0} s window {most} ({100.0 * most / limit.WriteQuota:0.0} % of the limit); rate while all {Nodes} had work {rate:0.00} writes/s over {(saturated.Count > 1 ? (saturated[^1] - saturated[0]).TotalSeconds : 0):0.0} s "
                + $"= {100 * rate / allowed:0.0} % of the allowed {allowed:0.00}/s (the budget's ceiling {limit.WriteQuota / (window.TotalSeconds + 1):0.00}/s); "
                + $"pacing delay {delay:0.0} s summed over {connections.Sum(c => c.PacingMeter.Requests)} write requests, {connections.Sum(c => c.PacingMeter.GrantsRefused)} refusals, {connections.Sum(c => c.PacingMeter.PermitsExpired)} permits expired"));
            return figures;
        }
        finally
        {
            foreach (var connection in connections)
            {
                connection.Dispose();
            }

            foreach (var store in stores)
            {
                await store.DisposeAsync();
            }
        }
    }

    // Two workers per node, each a chunk of 20 users at a time through the connector (a $batch of PATCHes, then
    // their read-back), so a node always has writes waiting. Returns when the node's last write was answered.
    private static async Task<DateTimeOffset> WriteAllAsync(GraphTenant tenant, List<string> ids)
    {
        var chunks = new Queue<string[]>(ids.Chunk(20));
        await Task.WhenAll(Enumerable.Range(0, 2).Select(async _ =>
        {
            while (true)
            {
                string[] chunk;
                lock (chunks)
                {
                    if (!chunks.TryDequeue(out chunk!))
                    {
                        return;
                    }
                }

                await tenant.SetAccountEnabledAsync(chunk, enabled: false, CancellationToken.None);
            }
        }));
        return DateTimeOffset.UtcNow;
    }

    private static List<JsonObject> Users(int count) =>
    [
        .. Enumerable.Range(0, count).Select(i => new JsonObject
        {
            ["id"] = UserId(i),
            ["userPrincipalName"] = $"user{i}@example.jp",
            ["accountEnabled"] = true,
        }),
    ];

    private static string UserId(int i) => $"{i:D8}-bbbb-4000-8000-000000000000";

    private sealed record Figures(long Throttled, int Applied, int MostInAnyWindow, double Rate);
}
