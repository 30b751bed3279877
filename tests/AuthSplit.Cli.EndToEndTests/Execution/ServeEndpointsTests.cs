using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using AuthSplit.Core.Planning.Format;
using AuthSplit.Graph.Emulator;
using AuthSplit.Lab.Servers;
using Xunit.Abstractions;

namespace AuthSplit.Cli.EndToEndTests.Execution;

/// <summary>
/// What an operator's tools see of a <c>serve</c> node (<c>Serve:Http</c>): liveness, readiness that follows
/// the database, and the AuthSplit metrics in Prometheus' text format after a wave ran, on 127.0.0.1 only.
/// The state store and Quartz's job store are a private PostgreSQL of this test, so it can be taken away.
/// </summary>
public sealed partial class ServeEndpointsTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Serve_exposes_health_and_the_waves_metrics_on_loopback_and_readiness_follows_the_database()
    {
        await using var postgres = await PostgresServer.StartAsync(new PostgresServerOptions { NoSync = true }, CancellationToken.None);
        var database = await postgres.CreateDatabaseAsync("serve", CancellationToken.None);
        // A few 429s (one request in 17, Retry-After 1 s), so the throttling counter has something to count.
        await using var lab = await ExecutionLab.StartAsync(people: 40, faults: new GraphFaults { ThrottleEvery = 17, RetryAfterSeconds = 1, Scattered = true }, configure: config =>
            config["State"] = new JsonObject { ["Provider"] = "Postgres", ["ConnectionStringEnvVar"] = "AUTHSPLIT_E2E_STATE_DB", ["BackupKeyEnvVar"] = "AUTHSPLIT_E2E_BACKUP_KEY" });
        lab.SetEnvironment("AUTHSPLIT_E2E_STATE_DB", postgres.ConnectionString(database));
        var plan = await lab.PlanAsync();
        var removals = plan.Entities.Where(e => e.Wave == "hq" && e.Disposition == Disposition.Remove).ToList();
        removals.Should().NotBeEmpty();
        await lab.ApproveAsync("alice");
        var schedule = await lab.CliAsync("schedule", "--config", lab.Config, "--plan", lab.PlanPath, "--wave", "hq", "--at", TimeProvider.System.GetUtcNow().AddSeconds(8).ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture), "--as", "bob");
        schedule.ExitCode.Should().Be(0, schedule.ToString());

        using var serve = lab.StartCli("serve", "--config", lab.Config);
        await WaitForAsync(() => Task.FromResult(serve.HasExited || ListeningOn().IsMatch(serve.OutputSoFar)), "serve to print its address");
        serve.HasExited.Should().BeFalse(serve.OutputSoFar);
        var address = new Uri(ListeningOn().Match(serve.OutputSoFar).Groups["url"].Value);
        output.WriteLine("serve listens on " + address);
        address.Host.Should().Be("127.0.0.1");
        ListeningSockets(address.Port).Should().Equal(["127.0.0.1"], "the endpoint is bound to the loopback interface only, no wildcard, no IPv6 any");

        using var http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(20) };
        (await http.GetAsync(new Uri("/healthz/live", UriKind.Relative))).StatusCode.Should().Be(HttpStatusCode.OK);
        await WaitForAsync(async () => (await http.GetAsync(new Uri("/healthz/ready", UriKind.Relative))).StatusCode == HttpStatusCode.OK, "ready");
        // Every counter is a series from the node's start, so an alert on its increase has a value before any work
        // (no lease is ever lost in this test: only the zero at start makes that series).
        var atStart = await http.GetStringAsync(new Uri("/metrics", UriKind.Relative));
        Sum(atStart, "authsplit_leases_lost_total").Should().Be(0);
        Sum(atStart, "authsplit_graph_writes_total").Should().BeGreaterThanOrEqualTo(0);
        Sum(atStart, "authsplit_graph_throttled_total").Should().BeGreaterThanOrEqualTo(0);
        Sum(atStart, "authsplit_graph_budget_refusals_total").Should().BeGreaterThanOrEqualTo(0);
        Sum(atStart, "authsplit_graph_budget_returned_total").Should().BeGreaterThanOrEqualTo(0);
        Sum(atStart, "authsplit_leases_held").Should().BeGreaterThanOrEqualTo(0);
        Sum(atStart, "authsplit_waves_in_progress").Should().BeGreaterThanOrEqualTo(0);

        await WaitForWaveAsync(lab, "hq", "completed");
        var metrics = await http.GetStringAsync(new Uri("/metrics", UriKind.Relative));
        output.WriteLine(string.Join('\n', metrics.Split('\n').Where(l => l.StartsWith("authsplit_", StringComparison.Ordinal))));
        Sum(metrics, "authsplit_graph_writes_total").Should().BeGreaterThanOrEqualTo(removals.Count, "each removed person took at least one Graph write");
        Sum(metrics, "authsplit_graph_pacing_delay_seconds_count").Should().BeGreaterThan(0, "every write passed the pacing limiter");
        Sum(metrics, "authsplit_ldap_operation_duration_seconds_count", "ldap_operation=\"modify\"").Should().BeGreaterThan(0, "the wave disabled people in slapd");
        Sum(metrics, "authsplit_ldap_operation_duration_seconds_count", "ldap_operation=\"bind\"").Should().BeGreaterThan(0);
        Sum(metrics, "authsplit_ldap_operation_duration_seconds_sum").Should().BeGreaterThan(0);
        Sum(metrics, "authsplit_entities", "authsplit_entity_state=\"done\"", "authsplit_wave=\"hq\"").Should().Be(removals.Count, "every removal of hq is done");
        Sum(metrics, "authsplit_entities", "authsplit_entity_state=\"failed\"", "authsplit_wave=\"hq\"").Should().Be(0);
        Sum(metrics, "authsplit_waves_in_progress").Should().Be(0, "the wave has ended");
        Sum(metrics, "authsplit_leases_lost_total").Should().Be(0, "the node kept its lease");
        Sum(metrics, "authsplit_graph_throttled_total").Should().BeGreaterThan(0, "the emulator answered some requests 429")
            .And.BeLessThanOrEqualTo(lab.Emulator.ThrottledCount, "no more than the emulator sent (plan's reads, another process, had their share)");

        // status: this node, checking in to Quartz's scheduler state table.
        var status = await lab.CliAsync("status", "--config", lab.Config, "--format", "json");
        status.ExitCode.Should().Be(0, status.ToString());
        var node = JsonNode.Parse(status.Output)!["nodes"]!.AsArray().Should().ContainSingle("one serve runs on this database").Which!;
        node["state"]!.GetValue<string>().Should().Be("alive");
        node["instanceId"]!.GetValue<string>().Should().StartWith(Environment.MachineName, "Quartz's AUTO instance id begins with the host name");
        var table = await lab.CliAsync("status", "--config", lab.Config);
        table.Output.Should().Contain("nodes: 1 alive, 0 overdue").And.Contain($"node {node["instanceId"]}: last check-in");

        // The database goes away: the node stays alive but says it is not ready, and why.
        await postgres.StopAsync();
        HttpResponseMessage? notReady = null;
        await WaitForAsync(async () => (notReady = await http.GetAsync(new Uri("/healthz/ready", UriKind.Relative))).StatusCode == HttpStatusCode.ServiceUnavailable, "not ready once the database is down");
        var reasons = JsonNode.Parse(await notReady!.Content.ReadAsStringAsync())!;
        output.WriteLine("not ready: " + reasons.ToJsonString());
        reasons["checks"]!["state-store"]!["status"]!.GetValue<string>().Should().Be("Unhealthy");
        reasons["checks"]!["state-store"]!["description"]!.GetValue<string>().Should().Contain("does not answer");
        reasons.ToJsonString().Should().NotContain(postgres.AdminPassword, "no secret in a health answer");
        (await http.GetAsync(new Uri("/healthz/live", UriKind.Relative))).StatusCode.Should().Be(HttpStatusCode.OK, "the process is alive; restarting it cures no database outage");

        // Back: ready again, without a restart.
        await postgres.StartAgainAsync(CancellationToken.None);
        await WaitForAsync(async () => (await http.GetAsync(new Uri("/healthz/ready", UriKind.Relative))).StatusCode == HttpStatusCode.OK, "ready again once the database is back");

        // The node dies (SIGKILL: no goodbye): status shows it overdue, presumed dead, once its check-in is
        // older than the check-in interval + misfire threshold (10 s + 20 s).
        var instanceId = node["instanceId"]!.GetValue<string>();
        serve.Signal(SigKill);
        (await serve.WaitAsync(TimeSpan.FromSeconds(30))).ExitCode.Should().Be(128 + SigKill);
        ListeningSockets(address.Port).Should().BeEmpty("the port went with the process");
        var killedAt = TimeProvider.System.GetUtcNow();
        JsonNode? dead = null;
        await WaitForAsync(async () =>
        {
            var after = await lab.CliAsync("status", "--config", lab.Config, "--format", "json");
            dead = JsonNode.Parse(after.Output)!["nodes"]!.AsArray().Single(n => n!["instanceId"]!.GetValue<string>() == instanceId);
            return dead!["state"]!.GetValue<string>() == "overdue";
        }, "the killed node to be overdue");
        var overdueAfter = TimeProvider.System.GetUtcNow() - killedAt;
        output.WriteLine($"the killed node was listed overdue {overdueAfter.TotalSeconds:F1} s after SIGKILL: {dead!.ToJsonString()}");
        overdueAfter.Should().BeLessThan(TimeSpan.FromSeconds(45), "within check-in interval + misfire threshold of its last check-in, plus the polling");
        var deadTable = await lab.CliAsync("status", "--config", lab.Config);
        deadTable.Output.Should().Contain("nodes: 0 alive, 1 overdue").And.Contain($"node {instanceId}: last check-in").And.Contain("presumed dead");
    }

    private const int SigKill = 9;

    [Fact]
    public async Task Serve_says_which_setting_to_change_when_its_port_is_taken()
    {
        await using var lab = await ExecutionLab.StartAsync(people: 10);
        using var taken = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;
        lab.SetEnvironment("AUTHSPLIT__Serve__Http__Urls", $"http://127.0.0.1:{port}");

        var refused = await lab.CliAsync("serve", "--config", lab.Config);

        refused.ExitCode.Should().NotBe(0, refused.ToString());
        refused.Error.Should().Contain("Serve:Http:Urls").And.Contain("could not be bound");
        refused.Output.Should().NotContain("Serving scheduled waves");
    }

    [Fact]
    public async Task Serve_refuses_to_start_on_an_address_beyond_loopback_unless_allowed()
    {
        await using var lab = await ExecutionLab.StartAsync(people: 10);
        lab.SetEnvironment("AUTHSPLIT__Serve__Http__Urls", "http://0.0.0.0:0");

        var refused = await lab.CliAsync("serve", "--config", lab.Config);

        refused.ExitCode.Should().NotBe(0);
        refused.Error.Should().Contain("Serve:Http:Urls").And.Contain("Serve:Http:AllowNonLoopback");
        refused.Output.Should().NotContain("Serving scheduled waves");
    }

    [GeneratedRegex(@"Health and metrics on (?<url>http://[^ ,(]+)")]
    private static partial Regex ListeningOn();

    /// <summary>The local addresses listening on <paramref name="port"/>, IPv4 and IPv6, from the kernel's socket tables.</summary>
    private static List<string> ListeningSockets(int port)
    {
        var addresses = new List<string>();
        foreach (var (table, ipv6) in new[] { ("/proc/net/tcp", false), ("/proc/net/tcp6", true) })
        {
            if (!File.Exists(table))
            {
                continue;
            }

            foreach (var line in File.ReadLines(table).Skip(1))
            {
                var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                var local = fields[1].Split(':');
                if (fields[3] == "0A" && int.Parse(local[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture) == port)
                {
                    addresses.Add(Address(local[0], ipv6));
                }
            }
        }

        return addresses;
    }

    // The kernel prints each 32-bit word of the address in host (little-endian) order.
    private static string Address(string hex, bool ipv6)
    {
        var bytes = Convert.FromHexString(hex);
        for (var word = 0; word < bytes.Length; word += 4)
        {
            Array.Reverse(bytes, word, 4);
        }

        return new IPAddress(bytes).ToString();
    }

    /// <summary>The sum of a metric's samples whose labels contain every one of <paramref name="labels"/>.</summary>
    private static double Sum(string metrics, string name, params string[] labels)
    {
        var samples = metrics.Split('\n')
            .Where(line => line.StartsWith(name + "{", StringComparison.Ordinal) || line.StartsWith(name + " ", StringComparison.Ordinal))
            .Where(line => labels.All(label => line.Contains(label, StringComparison.Ordinal)))
            .Select(line => line[(line.LastIndexOf('}') is var end and >= 0 ? end + 1 : name.Length)..].Trim().Split(' ')[0])
            .Select(value => double.Parse(value, CultureInfo.InvariantCulture))
            .ToList();
        samples.Should().NotBeEmpty($"{name}{{{string.Join(',', labels)}}} should be exported:\n{metrics}");
        return samples.Sum();
    }

    private static async Task WaitForWaveAsync(ExecutionLab lab, string wave, string status)
    {
        JsonNode? last = null;
        await WaitForAsync(async () =>
        {
            last = (await lab.StatusAsync(wave))["waves"]![0]!;
            return last["status"]!.GetValue<string>() == status;
        }, $"wave {wave} to be {status}");
    }

    private static async Task WaitForAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = TimeProvider.System.GetUtcNow() + Patience;
        while (true)
        {
            try
            {
                if (await condition())
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // not answering yet
            }

            if (TimeProvider.System.GetUtcNow() > deadline)
            {
                throw new TimeoutException("waited too long for " + what);
            }

            await Task.Delay(250);
        }
    }
}
