using System.Text.Json.Nodes;
using AuthSplit.Core.Planning.Format;
using AuthSplit.Graph.Emulator;
using AuthSplit.Testing;
using Xunit.Abstractions;

namespace AuthSplit.Cli.EndToEndTests.Execution;

/// <summary>
/// Two processes on one PostgreSQL state store (a private PostgreSQL 15), as two nodes of a cluster share
/// a wave: the wave's lease decides which one writes. A node frozen past its lease (SIGSTOP, as a GC pause
/// or a frozen VM) is overtaken by the other, and writes nothing when it wakes.
/// </summary>
[Collection(PostgresFixture.Collection)]
public sealed class ClusterLeaseTests(PostgresFixture postgres, ITestOutputHelper output)
{
    private const int SigStop = 19;
    private const int SigCont = 18;
    private const int SigKill = 9;

    [Fact]
    public async Task A_node_frozen_past_its_lease_writes_nothing_when_it_wakes_and_the_other_node_finishes_the_wave()
    {
        // A lease of 3 s: trusted for 2 s after each renewal, which comes every second.
        await using var lab = await StartLabAsync(people: 300, leaseSeconds: 3, faults: new GraphFaults { Latency = TimeSpan.FromMilliseconds(15) });
        var plan = await lab.PlanAsync();
        var removals = plan.Entities.Where(e => e.Wave == "hq" && e.Disposition == Disposition.Remove).ToList();
        await lab.ApproveAsync("alice");
        var before = await lab.ReadDirectoryAsync();

        using var frozen = lab.StartCli(lab.Run("hq"));
        await WaitForAsync(() => Switches(lab) >= 10 || frozen.HasExited, "the first node to be writing");
        frozen.HasExited.Should().BeFalse("the wave is under way when the node freezes: " + frozen.OutputSoFar);
        frozen.Signal(SigStop);
        output.WriteLine($"frozen after {Switches(lab)} switches");

        // Meanwhile the other node is refused while the frozen one's lease runs, then takes the wave.
        var refused = await lab.CliAsync(lab.Run("hq"));
        if (refused.ExitCode == 16)
        {
            refused.Error.Should().Contain("wave-held-elsewhere").And.Contain("nothing was written");
            await Task.Delay(TimeSpan.FromSeconds(4));
        }

        var other = await lab.CliAsync(lab.Run("hq"));
        other.ExitCode.Should().Be(0, other.ToString());
        var finished = await lab.ReadDirectoryAsync();
        var writesWhenFinished = lab.Emulator.Writes.Count;
        ExecutionLab.ShouldBeTheOutcome(before, finished, removals);

        frozen.Signal(SigCont);
        var woke = await frozen.WaitAsync(TimeSpan.FromSeconds(60));
        output.WriteLine(woke.ToString());
        // Frozen with the lease lost (exit 6, it says it stops writing), or frozen in the middle of a write to
        // the state store, whose session the server ended so the other node could write (exit 4): either way it stops.
        woke.ExitCode.Should().BeOneOf([6, 4], "the woken node stopped: " + woke);
        (woke.Output + woke.Error).Should().ContainAny("stops writing", "ended the session");

        lab.Emulator.Writes.Count.Should().Be(writesWhenFinished, "the woken node sent the tenant nothing");
        var after = await lab.ReadDirectoryAsync();
        after.Keys.Should().BeEquivalentTo(finished.Keys);
        foreach (var (dn, entry) in after)
        {
            entry.Content().Should().Be(finished[dn].Content(), $"the woken node wrote nothing to {dn}");
        }

        (await lab.ShouldAllBeFinalAsync(plan, "hq")).Values.Should().AllBe("done", "the woken node did not set back what the other recorded");
        await lab.ShouldHaveWrittenOnceAndBackedUpAsync(removals);
        var status = await lab.StatusAsync("hq");
        status["waves"]![0]!["status"]!.GetValue<string>().Should().Be("completed");
        status["leases"]!.AsArray().Should().BeEmpty("both runs gave their leases back or lost them: " + status["leases"]!.ToJsonString());
    }

    [Fact]
    public async Task A_run_killed_on_this_machine_is_taken_over_at_once_and_a_lapsed_lease_of_another_machine_shows_in_status()
    {
        await using var lab = await StartLabAsync(people: 300, leaseSeconds: 600, faults: new GraphFaults { Latency = TimeSpan.FromMilliseconds(10) });
        var plan = await lab.PlanAsync();
        var removals = plan.Entities.Where(e => e.Wave == "hq" && e.Disposition == Disposition.Remove).ToList();
        await lab.ApproveAsync("alice");
        var before = await lab.ReadDirectoryAsync();

        using (var killed = lab.StartCli(lab.Run("hq")))
        {
            await WaitForAsync(() => Switches(lab) >= 10 || killed.HasExited, "the run to be writing");
            killed.Signal(SigKill);
            (await killed.WaitAsync(TimeSpan.FromSeconds(30))).ExitCode.Should().Be(128 + SigKill);
        }

        var held = await lab.StatusAsync("hq");
        var lease = held["leases"]!.AsArray().Should().ContainSingle().Which!;
        lease["state"]!.GetValue<string>().Should().Be("held", "a 600 s lease outlives the killed process");
        var table = await lab.CliAsync("status", "--config", lab.Config);
        table.Output.Should().Contain("hq: being run by");

        // A lease of 600 s, yet the next run does not wait: the holder was a process of this machine, and it is gone.
        var resumed = await lab.CliAsync(lab.Run("hq"));
        resumed.ExitCode.Should().Be(0, resumed.ToString());
        ExecutionLab.ShouldBeTheOutcome(before, await lab.ReadDirectoryAsync(), removals);
        (await lab.ShouldAllBeFinalAsync(plan, "hq")).Values.Should().AllBe("done");
        await lab.ShouldHaveWrittenOnceAndBackedUpAsync(removals);

        // A holder on another machine is never presumed gone: its lease is waited for, and status says it lapsed.
        await using (var connection = new Npgsql.NpgsqlConnection(lab.Environment["AUTHSPLIT_E2E_POSTGRES"]))
        {
            await connection.OpenAsync();
            await using var update = new Npgsql.NpgsqlCommand("UPDATE authsplit_leases SET holder = 'other-host/4242/1', released_us = NULL, expires_us = (EXTRACT(EPOCH FROM clock_timestamp()) * 1000000)::bigint - 1000000", connection);
            (await update.ExecuteNonQueryAsync()).Should().Be(1);
        }

        var lapsed = (await lab.StatusAsync("hq"))["leases"]!.AsArray().Should().ContainSingle().Which!;
        lapsed["state"]!.GetValue<string>().Should().Be("lapsed");
        (await lab.CliAsync("status", "--config", lab.Config)).Output.Should().Contain("lease of other-host/4242/1").And.Contain("lapsed");
    }

    [Fact]
    public Task Two_serve_nodes_sharing_a_wave_in_4_parts_when_one_is_killed_the_other_finishes_its_parts_and_nothing_runs_twice() =>
        TwoNodesOneKilledAsync(partitions: 4);

    /// <summary>The same with the wave in one part (the default): Quartz recovers the dead node's whole firing. Opt-in: the 4-part run covers the recovery and the lease takeover.</summary>
    [LongFact]
    [Trait("Category", "Cluster")]
    public Task Two_serve_nodes_on_one_database_when_the_one_running_a_whole_wave_is_killed_the_other_finishes_it() =>
        TwoNodesOneKilledAsync(partitions: 1);

    private async Task TwoNodesOneKilledAsync(int partitions)
    {
        // One person at a time, 25 ms a Graph call: a part lasts longer than a node's poll for triggers (5 s), so the
        // other node is looking while the first runs its part; with the whole wave in one job the default concurrency.
        await using var lab = await StartLabAsync(people: 400, leaseSeconds: 30, faults: new GraphFaults { Latency = TimeSpan.FromMilliseconds(partitions > 1 ? 25 : 15) }, partitions: partitions, concurrency: partitions > 1 ? 1 : null);
        var plan = await lab.PlanAsync();
        var removals = plan.Entities.Where(e => e.Wave == "hq" && e.Disposition == Disposition.Remove).ToList();
        await lab.ApproveAsync("alice");
        var before = await lab.ReadDirectoryAsync();

        using var first = lab.StartCli("serve", "--config", lab.Config);
        using var second = lab.StartCli("serve", "--config", lab.Config);
        await WaitForAsync(() => (first.OutputSoFar.Contains("Serving scheduled waves", StringComparison.Ordinal) || first.HasExited)
            && (second.OutputSoFar.Contains("Serving scheduled waves", StringComparison.Ordinal) || second.HasExited), "both nodes to serve");
        first.HasExited.Should().BeFalse(first.OutputSoFar);
        second.HasExited.Should().BeFalse(second.OutputSoFar);

        // 8 s ahead: on a loaded machine the schedule command itself can take seconds to start.
        var schedule = await lab.CliAsync("schedule", "--config", lab.Config, "--plan", lab.PlanPath, "--wave", "hq", "--at", DateTimeOffset.UtcNow.AddSeconds(8).ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture), "--as", "bob");
        schedule.ExitCode.Should().Be(0, schedule.ToString());
        await WaitForAsync(() => Switches(lab) >= 20, "a node to be running the wave");

        // The node running it (or one of its parts) is a lease's holder (machine/pid/start).
        var held = await HeldLeasesAsync(lab);
        if (partitions > 1)
        {
            // The parts are spread: each node runs one part of the wave at a time (Execution:PartsPerNode), so the
            // node that fanned the wave out leaves the next part to the other, and both hold a part's lease at once.
            var spreadDeadline = DateTime.UtcNow.AddSeconds(60);
            while (Holders(held).Count < 2 && DateTime.UtcNow < spreadDeadline && Switches(lab) < removals.Count)
            {
                await Task.Delay(200);
                held = await HeldLeasesAsync(lab);
            }

            output.WriteLine("leases while both run: " + string.Join(", ", held.Select(l => $"{l!["part"]} {l["holder"]}")));
            Holders(held).Should().BeEquivalentTo([first.Id, second.Id], "both nodes run a part of the wave at once, not one node all four");
        }

        held.Should().NotBeEmpty();
        output.WriteLine("leases: " + string.Join(", ", held.Select(l => $"{l!["part"]} {l["holder"]}")));
        var holder = held[0]!["holder"]!.GetValue<string>();
        var pid = int.Parse(holder.Split('/')[1], System.Globalization.CultureInfo.InvariantCulture);
        var (victim, survivor) = pid == first.Id ? (first, second) : pid == second.Id ? (second, first) : throw new InvalidOperationException($"the lease holder {holder} is neither node ({first.Id}, {second.Id})");
        victim.Signal(SigKill);
        (await victim.WaitAsync(TimeSpan.FromSeconds(30))).ExitCode.Should().Be(128 + SigKill);
        var switchesAtKill = Switches(lab);
        output.WriteLine($"killed {holder} after {switchesAtKill} of {removals.Count} switches");
        switchesAtKill.Should().BeLessThan(removals.Count, "the kill landed mid-wave");

        // Quartz on the survivor finds the dead node's check-in overdue and recovers its firing.
        var deadline = DateTime.UtcNow.AddMinutes(3);
        JsonNode? wave = null;
        while (DateTime.UtcNow < deadline)
        {
            wave = (await lab.StatusAsync("hq"))["waves"]![0]!;
            if (wave["status"]!.GetValue<string>() == "completed")
            {
                break;
            }

            survivor.HasExited.Should().BeFalse(survivor.OutputSoFar);
            await Task.Delay(1000);
        }

        wave!["status"]!.GetValue<string>().Should().Be("completed", wave.ToJsonString());
        ExecutionLab.ShouldBeTheOutcome(before, await lab.ReadDirectoryAsync(), removals);
        (await lab.ShouldAllBeFinalAsync(plan, "hq")).Values.Should().AllBe("done");
        await lab.ShouldHaveWrittenOnceAndBackedUpAsync(removals);

        survivor.Signal(CliProcess.SigTerm);
        var stopped = await survivor.WaitAsync(TimeSpan.FromSeconds(60));
        stopped.ExitCode.Should().Be(143, stopped.ToString());
        output.WriteLine(stopped.Output[^Math.Min(stopped.Output.Length, 3000)..]);
    }

    [Fact]
    public async Task A_node_with_another_Graph_write_limit_than_the_clusters_budget_is_refused_run_exits_2_and_serve_is_not_ready_and_says_why()
    {
        await using var lab = await StartLabAsync(people: 20, leaseSeconds: 30);
        await lab.PlanAsync();
        await lab.ApproveAsync("alice");

        // The first node to write creates the cluster's budget with its limit (Graph's 3,000 per 150 s).
        var first = await lab.CliAsync(lab.Run("hq"));
        first.ExitCode.Should().Be(0, first.ToString());
        var writes = lab.Emulator.Writes.Count;

        lab.SetEnvironment("AUTHSPLIT__Target__Limits__WritesPerWindow", "6000");
        var refused = await lab.CliAsync(lab.Run("hq"));
        refused.ExitCode.Should().Be(2, refused.ToString());
        refused.Error.Should().Contain("Target:Limits:WritesPerWindow is 6000 here, the cluster uses 3000");

        lab.SetEnvironment("AUTHSPLIT__Serve__Http__Urls", "http://127.0.0.1:0");
        using var serve = lab.StartCli("serve", "--config", lab.Config);
        await WaitForAsync(() => serve.HasExited || serve.OutputSoFar.Contains("Health and metrics on http://", StringComparison.Ordinal), "serve to print its address");
        serve.HasExited.Should().BeFalse(serve.OutputSoFar);
        var address = new Uri(System.Text.RegularExpressions.Regex.Match(serve.OutputSoFar, @"Health and metrics on (?<url>http://[^ ,(]+)").Groups["url"].Value);
        using var http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(20) };
        var ready = await http.GetAsync(new Uri("/healthz/ready", UriKind.Relative));
        var body = await ready.Content.ReadAsStringAsync();
        output.WriteLine(body);
        ready.StatusCode.Should().Be(System.Net.HttpStatusCode.ServiceUnavailable, body);
        body.Should().Contain("write-budget").And.Contain("Target:Limits:WritesPerWindow is 6000 here, the cluster uses 3000");
        serve.OutputSoFar.Should().NotContain("Serving scheduled waves");

        serve.Signal(CliProcess.SigTerm);
        var stopped = await serve.WaitAsync(TimeSpan.FromSeconds(60));
        stopped.Error.Should().Contain("Not serving waves");
        lab.Emulator.Writes.Count.Should().Be(writes, "neither refused node wrote");
    }

    [Fact]
    public async Task With_the_database_down_mid_wave_the_node_stops_writing_says_so_and_the_wave_resumes_when_it_is_back()
    {
        // A lease of 6 s: trusted for 4 s after its last renewal. Four people at a time: the wave lasts seconds
        // (at the default 32 it wrote some 20 more switches in the 0.2 s the database took to stop, 32 of 87),
        // so the database goes down mid-wave on a loaded machine too.
        await using var lab = await StartLabAsync(people: 300, leaseSeconds: 6, faults: new GraphFaults { Latency = TimeSpan.FromMilliseconds(15) }, concurrency: 4);
        var plan = await lab.PlanAsync();
        var removals = plan.Entities.Where(e => e.Wave == "hq" && e.Disposition == Disposition.Remove).ToList();
        await lab.ApproveAsync("alice");
        var before = await lab.ReadDirectoryAsync();

        CliResult stopped;
        DateTimeOffset downAt;
        using (var run = lab.StartCli(lab.Run("hq")))
        {
            await WaitForAsync(() => Switches(lab) >= 10 || run.HasExited, "the run to be writing");
            run.HasExited.Should().BeFalse(run.OutputSoFar);
            try
            {
                downAt = DateTimeOffset.UtcNow;
                await postgres.Server.StopAsync();
                var (switchesWhenDown, people) = (Switches(lab), removals.Count(e => e.Kind == Core.Model.EntityKind.Person));
                output.WriteLine($"database down after {switchesWhenDown} of {people} switches ({(DateTimeOffset.UtcNow - downAt).TotalSeconds:F1} s to stop it)");
                switchesWhenDown.Should().BeLessThan(people, "the database goes down mid-wave, not after the wave's last write");
                stopped = await run.WaitAsync(TimeSpan.FromSeconds(120));
            }
            finally
            {
                await postgres.Server.StartAgainAsync(CancellationToken.None);
            }
        }

        output.WriteLine(stopped.ToString());
        stopped.ExitCode.Should().Be(4, "the state store is an external system that failed: " + stopped);
        stopped.Error.Should().Contain("PostgreSQL").And.ContainAny("cannot use the PostgreSQL state database", "ended the session", "could not be reached");
        var lastWrite = lab.Emulator.Writes.Max(w => w.At);
        output.WriteLine($"last tenant write {(lastWrite - downAt).TotalSeconds:F1} s after the database went down");
        (lastWrite - downAt).Should().BeLessThan(TimeSpan.FromSeconds(4), "no write goes out once the lease's trusted time has passed without a renewal");

        var resumed = await lab.CliAsync(lab.Run("hq"));
        resumed.ExitCode.Should().Be(0, resumed.ToString());
        ExecutionLab.ShouldBeTheOutcome(before, await lab.ReadDirectoryAsync(), removals);
        (await lab.ShouldAllBeFinalAsync(plan, "hq")).Values.Should().AllBe("done");
        await lab.ShouldHaveWrittenOnceAndBackedUpAsync(removals);
    }

    private static async Task<List<JsonNode?>> HeldLeasesAsync(ExecutionLab lab) =>
        [.. (await lab.StatusAsync("hq"))["leases"]!.AsArray().Where(l => l!["state"]!.GetValue<string>() == "held")];

    /// <summary>The processes holding the leases: a holder is machine/pid/start.</summary>
    private static HashSet<int> Holders(IEnumerable<JsonNode?> leases) =>
        [.. leases.Select(l => int.Parse(l!["holder"]!.GetValue<string>().Split('/')[1], System.Globalization.CultureInfo.InvariantCulture))];

    private async Task<ExecutionLab> StartLabAsync(int people, double leaseSeconds, GraphFaults? faults = null, int partitions = 1, int? concurrency = null)
    {
        var database = await postgres.Server.CreateDatabaseAsync("cluster", CancellationToken.None);
        var lab = await ExecutionLab.StartAsync(people, faults: faults, configure: config =>
        {
            config["State"] = new JsonObject
            {
                ["Provider"] = "Postgres",
                ["ConnectionStringEnvVar"] = "AUTHSPLIT_E2E_POSTGRES",
                ["BackupKeyEnvVar"] = "AUTHSPLIT_E2E_BACKUP_KEY",
            };
            config["Execution"]!["LeaseSeconds"] = leaseSeconds;
            config["Execution"]!["Partitions"] = partitions;
            if (concurrency is { } perRun)
            {
                config["Execution"]!["Concurrency"] = perRun;
            }
        });
        lab.SetEnvironment("AUTHSPLIT_E2E_POSTGRES", postgres.Server.ConnectionString(database));
        // A dead serve node is found within 8-10 s instead of Quartz's documented 20-30 s: the takeover is
        // the same, the wait shorter (a threshold of 4 check-ins, so a node slowed by a loaded machine is not taken for dead).
        lab.SetEnvironment("AUTHSPLIT__Serve__CheckinIntervalSeconds", "2");
        lab.SetEnvironment("AUTHSPLIT__Serve__CheckinMisfireThresholdSeconds", "8");
        return lab;
    }

    private static int Switches(ExecutionLab lab) => lab.Emulator.Writes.Count(w => w.Path.Contains("onPremisesSyncBehavior", StringComparison.Ordinal));

    private static async Task WaitForAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("waited too long for " + what);
            }

            await Task.Delay(20);
        }
    }
}
