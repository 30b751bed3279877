using System.Globalization;
using System.Text.Json.Nodes;
using AuthSplit.Core.Planning.Format;
using AuthSplit.Graph.Emulator;
using AuthSplit.Testing;
using Xunit.Abstractions;

namespace AuthSplit.Cli.EndToEndTests.Execution;

/// <summary>
/// A foreground <c>authsplit run</c> beside <c>authsplit serve</c> nodes on one PostgreSQL, where Quartz is
/// clustered: the run executes its own wave in its own process and nothing else, and the serve nodes never
/// execute the run's wave. Which process executed what is read from each process's own log file (the wave
/// job logs "starting as" for every firing it executes) and from the leases' holders (machine/pid/start).
/// </summary>
[Collection(PostgresFixture.Collection)]
public sealed class ForegroundRunRoutingTests(PostgresFixture postgres, ITestOutputHelper output)
{
    private const int SigKill = 9;

    [Fact]
    [Trait("Category", "Cluster")]
    public async Task A_run_beside_two_serve_nodes_executes_its_wave_in_its_own_process_even_when_it_waited_for_a_served_firing_of_that_wave()
    {
        // One person at a time at 40 ms a Graph call: the served firing of domestic outlasts the start of the run.
        await using var lab = await StartLabAsync(people: 300, latency: TimeSpan.FromMilliseconds(40), dependsOn: true, concurrency: 1);
        var plan = await lab.PlanAsync();
        var hq = plan.Entities.Where(e => e.Wave == "hq" && e.Disposition == Disposition.Remove).ToList();
        var domestic = plan.Entities.Where(e => e.Wave == "domestic" && e.Disposition == Disposition.Remove).ToList();
        await lab.ApproveAsync("alice");

        var nodes = await StartServeNodesAsync(lab, 2);
        try
        {
            // 1. A run while both nodes are idle, polling the same store.
            var runLog = LogDirectory(lab, "run-hq");
            using (var run = lab.StartCli([.. lab.Run("hq"), "--log-dir", runLog]))
            {
                var ran = await run.WaitAsync(TimeSpan.FromMinutes(3));
                output.WriteLine(ran.ToString());
                ran.ExitCode.Should().Be(0, ran.ToString());
                ran.Output.Should().Contain($"Wave hq complete: {hq.Count:N0} done", "the run reports its own wave's progress");
                Firings(runLog).Should().BeEquivalentTo([("hq", "bob")], "the run executed its own wave, and nothing else");
                (await LeaseHoldersAsync(lab, "hq")).Should().AllSatisfy(pid => pid.Should().Be(run.Id, "the run's process held the wave's lease"));
            }

            foreach (var (node, log) in nodes)
            {
                Firings(log).Should().BeEmpty($"serve node {node.Id} executed nothing: the run's trigger was the run's own");
            }

            // 2. A run whose trigger waits for a served firing of the same wave (one wave runs one firing at a time):
            //    when that firing ends, the node that ran it is free first, and must still leave the run's trigger to the run.
            var schedule = await lab.CliAsync("schedule", "--config", lab.Config, "--plan", lab.PlanPath, "--wave", "domestic", "--at", Whole(DateTimeOffset.UtcNow.AddSeconds(8)), "--as", "carol");
            schedule.ExitCode.Should().Be(0, schedule.ToString());
            await WaitForAsync(() => Switches(lab) >= hq.Count(IsPerson) + 10, TimeSpan.FromSeconds(90), "a serve node to be running domestic");
            var blockedLog = LogDirectory(lab, "run-domestic");
            using (var run = lab.StartCli([.. lab.Run("domestic"), "--log-dir", blockedLog]))
            {
                // The run says what it runs just before it schedules its trigger: the served firing is still running then.
                await WaitForAsync(() => run.OutputSoFar.Contains("executed by bob", StringComparison.Ordinal) || run.HasExited, TimeSpan.FromSeconds(90), "the run to start");
                var switchesThen = Switches(lab);
                output.WriteLine($"the run started at {switchesThen - hq.Count(IsPerson)} of {domestic.Count(IsPerson)} switches of domestic");
                switchesThen.Should().BeLessThan(hq.Count(IsPerson) + domestic.Count(IsPerson) - 10, "the served firing of domestic is still running when the run schedules its own");
                CliResult ran;
                try
                {
                    ran = await run.WaitAsync(TimeSpan.FromMinutes(3));
                }
                catch (TimeoutException timeout)
                {
                    throw new Xunit.Sdk.XunitException("the run never returned: its firing was executed by another process, which cannot tell it the result. "
                        + string.Join("; ", nodes.Select(n => $"serve {n.Process.Id} executed {string.Join(", ", Firings(n.Log))}")) + "\n" + timeout.Message);
                }

                output.WriteLine(ran.ToString());
                ran.ExitCode.Should().Be(0, ran.ToString());
                Firings(blockedLog).Should().BeEquivalentTo([("domestic", "bob")], "the run executed its own firing, after the served one");
            }

            var served = nodes.SelectMany(n => Firings(n.Log)).ToList();
            output.WriteLine("serve nodes executed: " + string.Join(", ", served));
            served.Should().BeEquivalentTo([("domestic", "carol")], "the nodes executed the scheduled firing, and never a run's");
            (await lab.ShouldAllBeFinalAsync(plan, "domestic")).Values.Should().AllBe("done");
            await lab.ShouldHaveWrittenOnceAndBackedUpAsync([.. hq, .. domestic]);
            (await ScheduledAsync(lab)).Should().BeEmpty("no trigger is left behind");
        }
        finally
        {
            await StopAsync(nodes);
        }
    }

    [Fact]
    [Trait("Category", "Cluster")]
    public async Task A_wave_scheduled_to_fire_during_a_run_is_executed_by_a_serve_node_and_not_by_the_run()
    {
        // One person at a time at 20 ms a Graph call: hq runs long enough for domestic to fall due meanwhile.
        await using var lab = await StartLabAsync(people: 300, latency: TimeSpan.FromMilliseconds(20), dependsOn: false, concurrency: 1);
        var plan = await lab.PlanAsync();
        var hq = plan.Entities.Where(e => e.Wave == "hq" && e.Disposition == Disposition.Remove).ToList();
        var domestic = plan.Entities.Where(e => e.Wave == "domestic" && e.Disposition == Disposition.Remove).ToList();
        await lab.ApproveAsync("alice");

        var runLog = LogDirectory(lab, "run-hq");
        using var run = lab.StartCli([.. lab.Run("hq"), "--log-dir", runLog]);
        await WaitForAsync(() => Switches(lab) >= 5 || run.HasExited, TimeSpan.FromSeconds(90), "the run to be writing");
        run.HasExited.Should().BeFalse(run.OutputSoFar);

        // Due while the run runs, and no serve node up yet: the run's scheduler is the only one polling the store.
        var dueAt = DateTimeOffset.UtcNow.AddSeconds(3);
        var schedule = await lab.CliAsync("schedule", "--config", lab.Config, "--plan", lab.PlanPath, "--wave", "domestic", "--at", Whole(dueAt), "--as", "carol");
        schedule.ExitCode.Should().Be(0, schedule.ToString());
        // Past its time by more than the run's poll for triggers (5 s).
        await Task.Delay(dueAt.AddSeconds(9) - DateTimeOffset.UtcNow);
        run.HasExited.Should().BeFalse("hq is still running when domestic is due: " + run.OutputSoFar);
        Firings(runLog).Should().BeEquivalentTo([("hq", "bob")], "the run executed only its own wave, not the wave that fell due");
        (await ScheduledAsync(lab)).Select(s => (s!["wave"]!.GetValue<string>(), s["kind"]!.GetValue<string>())).Should().Contain(("domestic", "scheduled"), "the scheduled wave waits for a serve node");

        var nodes = await StartServeNodesAsync(lab, 2);
        try
        {
            var ran = await run.WaitAsync(TimeSpan.FromMinutes(4));
            output.WriteLine(ran.ToString());
            ran.ExitCode.Should().Be(0, ran.ToString());
            ran.Output.Should().Contain($"Wave hq complete: {hq.Count:N0} done").And.NotContain("domestic");
            Firings(runLog).Should().BeEquivalentTo([("hq", "bob")], "the run executed its own wave, and nothing else");

            var completed = await WaitForWaveAsync(lab, "domestic", "completed", TimeSpan.FromMinutes(3));
            completed["startedBy"]!.GetValue<string>().Should().Be("carol");
            var served = nodes.SelectMany(n => Firings(n.Log)).ToList();
            output.WriteLine("serve nodes executed: " + string.Join(", ", served));
            served.Should().BeEquivalentTo([("domestic", "carol")], "a serve node executed the scheduled wave");
            (await LeaseHoldersAsync(lab, "domestic")).Should().AllSatisfy(pid => pid.Should().BeOneOf(nodes.Select(n => n.Process.Id)));
            (await LeaseHoldersAsync(lab, "hq")).Should().AllSatisfy(pid => pid.Should().Be(run.Id));
            (await lab.ShouldAllBeFinalAsync(plan, "hq")).Values.Should().AllBe("done");
            (await lab.ShouldAllBeFinalAsync(plan, "domestic")).Values.Should().AllBe("done");
            await lab.ShouldHaveWrittenOnceAndBackedUpAsync([.. hq, .. domestic]);
            (await ScheduledAsync(lab)).Should().BeEmpty();
        }
        finally
        {
            await StopAsync(nodes);
        }
    }

    [Fact]
    [Trait("Category", "Cluster")]
    public async Task A_run_killed_mid_wave_beside_serve_nodes_is_finished_by_a_node_and_leaves_no_trigger_behind()
    {
        await using var lab = await StartLabAsync(people: 300, latency: TimeSpan.FromMilliseconds(15), dependsOn: true);
        var plan = await lab.PlanAsync();
        var hq = plan.Entities.Where(e => e.Wave == "hq" && e.Disposition == Disposition.Remove).ToList();
        await lab.ApproveAsync("alice");
        var before = await lab.ReadDirectoryAsync();

        var nodes = await StartServeNodesAsync(lab, 2);
        try
        {
            using (var killed = lab.StartCli(lab.Run("hq")))
            {
                await WaitForAsync(() => Switches(lab) >= 10 || killed.HasExited, TimeSpan.FromSeconds(90), "the run to be writing");
                killed.HasExited.Should().BeFalse(killed.OutputSoFar);
                killed.Signal(SigKill);
                (await killed.WaitAsync(TimeSpan.FromSeconds(30))).ExitCode.Should().Be(128 + SigKill);
            }

            var switchesAtKill = Switches(lab);
            switchesAtKill.Should().BeLessThan(hq.Count(IsPerson), "the kill landed mid-wave");

            // Quartz on a node finds the dead run's check-in overdue and recovers its firing; a node finishes it.
            await WaitForWaveAsync(lab, "hq", "completed", TimeSpan.FromMinutes(3));
            var served = nodes.SelectMany(n => Firings(n.Log)).ToList();
            output.WriteLine($"killed after {switchesAtKill} switches; serve nodes executed: " + string.Join(", ", served));
            served.Should().ContainSingle().Which.Should().Be(("hq", "bob"), "one node resumed the killed run's wave, as its operator");
            nodes.Should().Contain(n => LogSays(n.Log, "its recovery now goes to the serve nodes"), "Quartz's recovery kept the run's own execution group, and a node handed it on");
            ExecutionLab.ShouldBeTheOutcome(before, await lab.ReadDirectoryAsync(), hq);
            (await lab.ShouldAllBeFinalAsync(plan, "hq")).Values.Should().AllBe("done");
            await lab.ShouldHaveWrittenOnceAndBackedUpAsync(hq);
            (await ScheduledAsync(lab)).Should().BeEmpty("the recovery fired and nothing waits for a process that is gone");
        }
        finally
        {
            await StopAsync(nodes);
        }
    }

    [Fact]
    [Trait("Category", "Cluster")]
    public async Task A_run_killed_mid_wave_with_no_serve_node_is_finished_by_the_next_run_and_leaves_no_trigger_behind()
    {
        await using var lab = await StartLabAsync(people: 300, latency: TimeSpan.FromMilliseconds(15), dependsOn: true);
        var plan = await lab.PlanAsync();
        var hq = plan.Entities.Where(e => e.Wave == "hq" && e.Disposition == Disposition.Remove).ToList();
        await lab.ApproveAsync("alice");
        var before = await lab.ReadDirectoryAsync();

        using (var killed = lab.StartCli(lab.Run("hq")))
        {
            await WaitForAsync(() => Switches(lab) >= 10 || killed.HasExited, TimeSpan.FromSeconds(90), "the run to be writing");
            killed.HasExited.Should().BeFalse(killed.OutputSoFar);
            killed.Signal(SigKill);
            (await killed.WaitAsync(TimeSpan.FromSeconds(30))).ExitCode.Should().Be(128 + SigKill);
        }

        var resumed = await lab.CliAsync(lab.Run("hq"));
        resumed.ExitCode.Should().Be(0, resumed.ToString());
        ExecutionLab.ShouldBeTheOutcome(before, await lab.ReadDirectoryAsync(), hq);
        (await lab.ShouldAllBeFinalAsync(plan, "hq")).Values.Should().AllBe("done");
        await lab.ShouldHaveWrittenOnceAndBackedUpAsync(hq);

        // The killed run's firing is recovered by Quartz once its check-in is overdue (8 s here): give it the time, then
        // nothing may be left waiting for a node that does not exist.
        await Task.Delay(TimeSpan.FromSeconds(12));
        var status = await lab.CliAsync("status", "--config", lab.Config, "--format", "json");
        status.ExitCode.Should().Be(0, status.ToString());
        (await ScheduledAsync(lab)).Should().BeEmpty("status shows nothing waiting: " + status.Output);
    }

    private async Task<ExecutionLab> StartLabAsync(int people, TimeSpan latency, bool dependsOn, int? concurrency = null)
    {
        var database = await postgres.Server.CreateDatabaseAsync("routing", CancellationToken.None);
        var lab = await ExecutionLab.StartAsync(people, faults: new GraphFaults { Latency = latency }, configure: config =>
        {
            config["State"] = new JsonObject
            {
                ["Provider"] = "Postgres",
                ["ConnectionStringEnvVar"] = "AUTHSPLIT_E2E_POSTGRES",
                ["BackupKeyEnvVar"] = "AUTHSPLIT_E2E_BACKUP_KEY",
            };
            config["Execution"]!["LeaseSeconds"] = 30;
            if (concurrency is { } perRun)
            {
                config["Execution"]!["Concurrency"] = perRun;
            }

            if (!dependsOn)
            {
                config["Waves"]![1]!.AsObject().Remove("DependsOn");
            }
        });
        lab.SetEnvironment("AUTHSPLIT_E2E_POSTGRES", postgres.Server.ConnectionString(database));
        // A dead node is found within 8-10 s instead of Quartz's documented 20-30 s (as the other cluster tests).
        lab.SetEnvironment("AUTHSPLIT__Serve__CheckinIntervalSeconds", "2");
        lab.SetEnvironment("AUTHSPLIT__Serve__CheckinMisfireThresholdSeconds", "8");
        return lab;
    }

    private static async Task<List<(CliProcess Process, string Log)>> StartServeNodesAsync(ExecutionLab lab, int count)
    {
        var nodes = new List<(CliProcess Process, string Log)>();
        for (var i = 0; i < count; i++)
        {
            var log = LogDirectory(lab, $"serve-{Guid.NewGuid():N}");
            nodes.Add((lab.StartCli("serve", "--config", lab.Config, "--log-dir", log), log));
        }

        await WaitForAsync(() => nodes.All(n => n.Process.HasExited || n.Process.OutputSoFar.Contains("Serving scheduled waves", StringComparison.Ordinal)), TimeSpan.FromSeconds(90), "the serve nodes to serve");
        foreach (var (node, _) in nodes)
        {
            node.HasExited.Should().BeFalse(node.OutputSoFar);
        }

        return nodes;
    }

    private async Task StopAsync(List<(CliProcess Process, string Log)> nodes)
    {
        foreach (var (node, _) in nodes.Where(n => !n.Process.HasExited))
        {
            node.Signal(CliProcess.SigTerm);
        }

        foreach (var (node, _) in nodes)
        {
            try
            {
                var stopped = await node.WaitAsync(TimeSpan.FromSeconds(60));
                output.WriteLine($"serve {node.Id} exited {stopped.ExitCode}");
            }
            finally
            {
                node.Dispose();
            }
        }
    }

    private static string LogDirectory(ExecutionLab lab, string name) => Path.Combine(lab.Work, "logs", name);

    /// <summary>Every wave firing a process executed, as its log file says ("starting as"): the wave and the operator.</summary>
    private static List<(string Wave, string Operator)> Firings(string logDirectory)
    {
        var firings = new List<(string, string)>();
        if (!Directory.Exists(logDirectory))
        {
            return firings;
        }

        foreach (var file in Directory.GetFiles(logDirectory, "*.log"))
        {
            using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            using var reader = new StreamReader(stream);
            while (reader.ReadLine() is { } line)
            {
                if (!line.Contains("starting as", StringComparison.Ordinal))
                {
                    continue;
                }

                var entry = JsonNode.Parse(line)!;
                if (entry["@mt"]?.GetValue<string>().Contains("starting as {Operator}", StringComparison.Ordinal) == true)
                {
                    firings.Add((entry["Wave"]!.GetValue<string>(), entry["Operator"]!.GetValue<string>()));
                }
            }
        }

        return firings;
    }

    private static bool LogSays(string logDirectory, string text) =>
        Directory.Exists(logDirectory) && Directory.GetFiles(logDirectory, "*.log").Any(file =>
        {
            using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            using var reader = new StreamReader(stream);
            return reader.ReadToEnd().Contains(text, StringComparison.Ordinal);
        });

    /// <summary>The processes that held the wave's leases (a holder is machine/pid/start).</summary>
    private static async Task<List<int>> LeaseHoldersAsync(ExecutionLab lab, string wave)
    {
        await using var connection = new Npgsql.NpgsqlConnection(lab.Environment["AUTHSPLIT_E2E_POSTGRES"]);
        await connection.OpenAsync();
        await using var select = new Npgsql.NpgsqlCommand("SELECT holder FROM authsplit_leases WHERE wave = @wave", connection);
        select.Parameters.AddWithValue("wave", wave);
        await using var reader = await select.ExecuteReaderAsync();
        var holders = new List<int>();
        while (await reader.ReadAsync())
        {
            holders.Add(int.Parse(reader.GetString(0).Split('/')[1], CultureInfo.InvariantCulture));
        }

        holders.Should().NotBeEmpty($"{wave} was run under a lease");
        return holders;
    }

    private static async Task<JsonArray> ScheduledAsync(ExecutionLab lab)
    {
        var status = await lab.CliAsync("status", "--config", lab.Config, "--format", "json");
        status.ExitCode.Should().Be(0, status.ToString());
        return JsonNode.Parse(status.Output)!["scheduled"]!.AsArray();
    }

    private static async Task<JsonNode> WaitForWaveAsync(ExecutionLab lab, string wave, string status, TimeSpan patience)
    {
        var deadline = DateTimeOffset.UtcNow + patience;
        JsonNode? last = null;
        while (DateTimeOffset.UtcNow < deadline)
        {
            last = (await lab.StatusAsync(wave))["waves"]![0]!;
            if (last["status"]!.GetValue<string>() == status)
            {
                return last;
            }

            await Task.Delay(1000);
        }

        throw new TimeoutException($"{wave} never became {status}: {last?.ToJsonString()}");
    }

    private static bool IsPerson(PlannedEntity entity) => entity.Kind == Core.Model.EntityKind.Person;

    private static string Whole(DateTimeOffset at) => at.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);

    private static int Switches(ExecutionLab lab) => lab.Emulator.Writes.Count(w => w.Path.Contains("onPremisesSyncBehavior", StringComparison.Ordinal));

    private static async Task WaitForAsync(Func<bool> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("waited too long for " + what);
            }

            await Task.Delay(50);
        }
    }
}
