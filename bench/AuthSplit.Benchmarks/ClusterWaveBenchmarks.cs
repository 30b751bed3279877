using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using AuthSplit.Graph.Emulator;
using AuthSplit.Lab.Data;
using AuthSplit.Lab.Servers;

namespace AuthSplit.Benchmarks;

/// <summary>
/// <c>cluster-wave [people] [parts]</c>: the same wave of N people executed three ways, each on its own fresh
/// slapd and Graph emulator (write limit off, pacing raised to match) so that only the engine differs: one
/// foreground <c>run</c> on the SQLite state store; one on a PostgreSQL state store (a private PostgreSQL 15
/// started here); and two <c>serve</c> nodes on one PostgreSQL database with <c>Execution:Partitions</c>
/// parts, the wave scheduled for now and timed from its start to its completion as <c>status</c> records
/// them. All on one machine: the figures say what the engine costs and that the work is shared correctly,
/// not that two nodes have more cores.
/// </summary>
public static class ClusterWaveBenchmarks
{
    private const string Wave = WaveBenchmarks.Wave;

    public static async Task RunAsync(int people, int parts)
    {
        var generated = (int)Math.Ceiling(people * 4 / 3.0);
        var work = Directory.CreateTempSubdirectory("authsplit-bench-cluster-").FullName;
        try
        {
            var ldif = Path.Combine(work, "source.ldif");
            var target = Path.Combine(work, "target");
            await GeneratedOrganization.WriteLdifAsync(ldif, generated, groupSize: 0, CancellationToken.None);
            await GeneratedOrganization.WriteTargetSnapshotAsync(target, generated, pageSize: 999, cloudOnly: 0, CancellationToken.None);
            Console.WriteLine($"# cluster wave: {generated:N0} people generated (no groups), the wave takes the {people:N0}-odd that are not the partner's; Execution:Concurrency 32 per node");
            await using var postgres = await PostgresServer.StartAsync(new PostgresServerOptions { NoSync = true }, CancellationToken.None);

            // AUTHSPLIT_BENCH_SETUPS=sqlite,postgres-1,postgres-2 (the default: all three) runs only those named, so a
            // long benchmark can be run in parts; AUTHSPLIT_BENCH_TWO_NODES_ONLY=1 is postgres-2 alone.
            var setups = Environment.GetEnvironmentVariable("AUTHSPLIT_BENCH_TWO_NODES_ONLY") == "1"
                ? ["postgres-2"]
                : (Environment.GetEnvironmentVariable("AUTHSPLIT_BENCH_SETUPS") ?? "sqlite,postgres-1,postgres-2").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            var skipped = new Outcome(0, double.NaN);
            var sqlite = setups.Contains("sqlite") ? await OneAsync(work, "sqlite", ldif, target, people, postgres: null, parts: 0) : skipped;
            var onePostgres = setups.Contains("postgres-1") ? await OneAsync(work, "postgres-1", ldif, target, people, postgres, parts: 0) : skipped;
            var twoNodes = setups.Contains("postgres-2") ? await OneAsync(work, "postgres-2", ldif, target, people, postgres, parts) : skipped;
            Console.WriteLine();
            Console.WriteLine("| setup | people | seconds | people/s | vs SQLite |");
            Console.WriteLine("|---|---:|---:|---:|---:|");
            foreach (var (name, result) in new[] { ("SQLite, one `run`", sqlite), ("PostgreSQL, one `run`", onePostgres), ($"PostgreSQL, two `serve` nodes, {parts} parts", twoNodes) })
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {name} | {result.People:N0} | {result.Seconds:0.0} | {result.People / result.Seconds:N0} | {sqlite.Seconds / result.Seconds:P0} |"));
            }
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private sealed record Outcome(int People, double Seconds);

    private static async Task<Outcome> OneAsync(string root, string name, string ldif, string target, int people, PostgresServer? postgres, int parts)
    {
        var work = Directory.CreateDirectory(Path.Combine(root, name)).FullName;
        var slapdOptions = new SlapdServerOptions { Suffix = GeneratedOrganization.Suffix, CreateSuffixEntry = false, NoSync = true, PasswordPolicy = true };
        await using var emulator = await GraphEmulator.StartAsync(new GraphEmulatorOptions { AccessToken = WaveBenchmarks.Token, Users = GraphEmulatorOptions.ReadPages(target), Faults = GraphFaults.None }, CancellationToken.None);
        await using var slapd = await SlapdServer.StartAsync(slapdOptions, CancellationToken.None);
        await slapd.LoadLdifAsync(ldif, CancellationToken.None);
        await slapd.AddPasswordPolicyAsync(CancellationToken.None);
        var password = await WaveBenchmarks.SecretFileAsync(Path.Combine(work, "ldap-password"), slapd.AdminPassword);
        var token = await WaveBenchmarks.SecretFileAsync(Path.Combine(work, "graph-token"), WaveBenchmarks.Token);
        var key = await WaveBenchmarks.SecretFileAsync(Path.Combine(work, "backup.key"), Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));
        var environment = new Dictionary<string, string>();
        JsonObject state = new() { ["Provider"] = "Sqlite", ["BackupKeyFile"] = key };
        if (postgres is not null)
        {
            var database = await postgres.CreateDatabaseAsync("bench", CancellationToken.None);
            environment["AUTHSPLIT_BENCH_POSTGRES"] = postgres.ConnectionString(database);
            state = new() { ["Provider"] = "Postgres", ["ConnectionStringEnvVar"] = "AUTHSPLIT_BENCH_POSTGRES", ["BackupKeyFile"] = key };
        }

        var config = Path.Combine(work, "authsplit.json");
        await File.WriteAllTextAsync(config, Config(slapd, password, emulator.BaseUrl, token, state, people, parts).ToJsonString());
        var plan = Path.Combine(work, "plan.json");
        await WaveBenchmarks.CliAsync(work, environment, "plan", "--config", config, "--out", plan);
        var dns = await WaveBenchmarks.RemovalsAsync(plan);
        await WaveBenchmarks.CliAsync(work, environment, "approve", "--config", config, "--plan", plan, "--by", "benchmark-approver");

        double seconds;
        if (parts == 0)
        {
            using var load = LoadSampler.Start();
            var serverCpu = postgres is null ? 0 : TreeCpuSeconds(postgres.Pid);
            var run = await WaveBenchmarks.MeasuredCliAsync(work, environment, "run", "--config", config, "--plan", plan, "--wave", Wave, "--as", "benchmark-operator");
            seconds = run.Seconds;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name}: run {run.Seconds:0.0} s (CPU {run.CpuSeconds:0.0} s, peak RSS {run.PeakRssMb:N0} MB), {dns.Count:N0} people = {dns.Count / run.Seconds:N0}/s; {load.Summary()}{(postgres is null ? "" : string.Create(CultureInfo.InvariantCulture, $"; PostgreSQL's CPU {TreeCpuSeconds(postgres.Pid) - serverCpu:0.0} s"))}"));
        }
        else
        {
            seconds = await TwoNodesAsync(work, name, environment, config, plan, dns.Count, parts, postgres!);
        }

        await WaveBenchmarks.AssertGoneAsync(slapd, password, dns.Count, name);
        var switches = emulator.Writes.Count(w => w.Path.Contains("onPremisesSyncBehavior", StringComparison.Ordinal));
        if (switches != dns.Count)
        {
            throw new InvalidOperationException($"{name}: {switches:N0} source-of-authority switches for {dns.Count:N0} people (each exactly once expected)");
        }

        return new Outcome(dns.Count, seconds);
    }

    // Two serve nodes; the wave scheduled two seconds ahead; timed from the wave's start to its completion as the journal records them.
    private static async Task<double> TwoNodesAsync(string work, string name, Dictionary<string, string> environment, string config, string plan, int people, int parts, PostgresServer postgres)
    {
        var nodes = new List<Process>();
        try
        {
            for (var i = 0; i < 2; i++)
            {
                nodes.Add(Serve(work, environment, config, i));
            }

            await Task.Delay(TimeSpan.FromSeconds(8));
            using var load = LoadSampler.Start();
            var peaks = new double[nodes.Count];
            var serverCpu = TreeCpuSeconds(postgres.Pid);
            var at = DateTimeOffset.UtcNow.AddSeconds(2);
            await WaveBenchmarks.CliAsync(work, environment, "schedule", "--config", config, "--plan", plan, "--wave", Wave, "--at", at.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture), "--as", "benchmark-operator");
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed < TimeSpan.FromHours(2))
            {
                await Task.Delay(TimeSpan.FromSeconds(2));
                for (var i = 0; i < nodes.Count; i++)
                {
                    peaks[i] = Math.Max(peaks[i], PeakRssMb(nodes[i].Id));
                }

                var status = await WaveBenchmarks.CliAsync(work, environment, "status", "--config", config, "--format", "json");
                var wave = JsonNode.Parse(status.Output)!["waves"]!.AsArray().First(w => w!["wave"]!.GetValue<string>() == Wave)!;
                if (wave["status"]!.GetValue<string>() == "completed")
                {
                    var started = wave["startedAt"]!.GetValue<DateTimeOffset>();
                    var completed = wave["completedAt"]!.GetValue<DateTimeOffset>();
                    var seconds = (completed - started).TotalSeconds;
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name}: two serve nodes, {parts} parts: started {started:HH:mm:ss.f}, completed {completed:HH:mm:ss.f}: {seconds:0.0} s, {people:N0} people = {people / seconds:N0}/s; node CPU {string.Join(" + ", nodes.Select(n => WaveBenchmarks.ProcessCpu(n.Id).TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)))} s, peak RSS {string.Join(" + ", peaks.Select(p => p.ToString("N0", CultureInfo.InvariantCulture)))} MB; {load.Summary()}; PostgreSQL's CPU {TreeCpuSeconds(postgres.Pid) - serverCpu:0.0} s"));
                    return seconds;
                }
            }

            throw new TimeoutException($"{name}: the wave did not complete within 2 hours");
        }
        finally
        {
            foreach (var node in nodes)
            {
                if (!node.HasExited)
                {
                    node.Kill();
                }

                await node.WaitForExitAsync();
                node.Dispose();
            }
        }
    }

    /// <summary>A live process's peak resident memory so far (VmHWM), MB; 0 once it is gone.</summary>
    private static double PeakRssMb(int pid)
    {
        try
        {
            var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
            return line is null ? 0 : double.Parse(line["VmHWM:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) / 1024;
        }
        catch (IOException)
        {
            return 0;
        }
    }

    /// <summary>
    /// CPU seconds of a server's process tree so far: each live process's own and its waited-for children's
    /// (a PostgreSQL session's backend ends with its connection and is counted by the postmaster then).
    /// </summary>
    internal static double TreeCpuSeconds(int root)
    {
        var parents = new Dictionary<int, int>();
        var cpu = new Dictionary<int, double>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out var pid))
            {
                continue;
            }

            try
            {
                var stat = File.ReadAllText(Path.Combine(directory, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                parents[pid] = int.Parse(fields[1], CultureInfo.InvariantCulture);
                cpu[pid] = Enumerable.Range(11, 4).Sum(i => long.Parse(fields[i], CultureInfo.InvariantCulture)) / 100.0;
            }
            catch (IOException)
            {
                // Gone while listed.
            }
        }

        double total = 0;
        foreach (var (pid, seconds) in cpu)
        {
            for (var at = pid; at > 1; at = parents.GetValueOrDefault(at))
            {
                if (at == root)
                {
                    total += seconds;
                    break;
                }
            }
        }

        return total;
    }

    /// <summary>The machine's 1-minute load average, sampled every 5 s while a setup runs (others' builds share its cores).</summary>
    private sealed class LoadSampler : IDisposable
    {
        private readonly List<double> _samples = [];
        private readonly Timer _timer;

        private LoadSampler() => _timer = new Timer(_ => Sample(), null, TimeSpan.Zero, TimeSpan.FromSeconds(5));

        public static LoadSampler Start() => new();

        public string Summary()
        {
            lock (_samples)
            {
                return _samples.Count == 0
                    ? "load average not sampled"
                    : string.Create(CultureInfo.InvariantCulture, $"1-min load average during it {_samples.Min():0.0}-{_samples.Max():0.0}, mean {_samples.Average():0.0} on {Environment.ProcessorCount} cores");
            }
        }

        public void Dispose() => _timer.Dispose();

        private void Sample()
        {
            var load = double.Parse(File.ReadAllText("/proc/loadavg").Split(' ')[0], CultureInfo.InvariantCulture);
            lock (_samples)
            {
                _samples.Add(load);
            }
        }
    }

    private static Process Serve(string work, Dictionary<string, string> environment, string config, int index)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = false, RedirectStandardError = false, UseShellExecute = false, WorkingDirectory = work };
        foreach (var argument in new[] { PlanBenchmarks.CliAssembly(), "serve", "--config", config, "--log-dir", Path.Combine(work, "logs-" + index) })
        {
            info.ArgumentList.Add(argument);
        }

        foreach (var (variable, value) in environment)
        {
            info.Environment[variable] = value;
        }

        info.Environment["AUTHSPLIT__Serve__Http__Urls"] = "http://127.0.0.1:0";
        return Process.Start(info)!;
    }

    private static JsonObject Config(SlapdServer slapd, string passwordFile, Uri graph, string tokenFile, JsonObject state, int people, int parts) => new()
    {
        ["Source"] = new JsonObject { ["Url"] = slapd.LdapsUrl, ["BindDn"] = slapd.AdminDn, ["PasswordFile"] = passwordFile, ["CaFile"] = slapd.CaFile, ["BaseDn"] = GeneratedOrganization.Suffix, ["Dialect"] = "OpenLdap", ["PageSize"] = 1000 },
        ["Waves"] = new JsonArray(new JsonObject { ["Name"] = Wave, ["Order"] = 1, ["Deadline"] = "2027-04-30", ["BaseDn"] = GeneratedOrganization.Suffix, ["Filter"] = "(&(objectClass=inetOrgPerson)(!(employeeType=partner)))" }),
        ["Matching"] = new JsonArray(new JsonObject { ["Source"] = "employeeNumber", ["Target"] = "employeeId" }),
        ["Safety"] = new JsonObject { ["ProtectedFilter"] = "(employeeType=partner)", ["ProtectedDns"] = new JsonArray($"ou=partner,{GeneratedOrganization.Suffix}"), ["MaxDeletesPerWave"] = people * 2 },
        ["Removal"] = new JsonObject { ["HoldDays"] = 0, ["OpenLdapDisable"] = "PasswordPolicyLock" },
        ["Target"] = new JsonObject
        {
            ["Kind"] = "Graph", ["BaseUrl"] = graph.ToString(), ["Auth"] = "StaticToken", ["TokenFile"] = tokenFile, ["AllowInsecureLoopback"] = true,
            ["Limits"] = new JsonObject { ["WritesPerWindow"] = 100000, ["WriteWindowSeconds"] = 1 },
        },
        ["State"] = state,
        ["Execution"] = new JsonObject { ["Concurrency"] = 32, ["Partitions"] = Math.Max(1, parts) },
    };
}
