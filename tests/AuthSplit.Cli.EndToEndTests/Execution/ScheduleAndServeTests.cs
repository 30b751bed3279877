using System.Globalization;
using System.Text.Json.Nodes;
using AuthSplit.Core.Execution;
using AuthSplit.Core.Planning.Format;
using AuthSplit.Graph.Emulator;
using Xunit.Abstractions;

namespace AuthSplit.Cli.EndToEndTests.Execution;

/// <summary>
/// <c>authsplit schedule</c> and <c>authsplit serve</c> as an operator uses them: the trigger written by one
/// process, the wave fired by a serving one at its time, on slapd and the Graph emulator, and serve stopped
/// by SIGTERM as systemd stops it.
/// </summary>
public sealed class ScheduleAndServeTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_wave_scheduled_ahead_is_run_by_serve_at_its_time_and_serve_stops_cleanly_on_SIGTERM()
    {
        await using var lab = await ExecutionLab.StartAsync(people: 60);
        var plan = await lab.PlanAsync();
        var removals = plan.Entities.Where(e => e.Wave == "hq" && e.Disposition == Disposition.Remove).ToList();
        removals.Should().NotBeEmpty();
        await lab.ApproveAsync("alice");
        var before = await lab.ReadDirectoryAsync();

        var now = TimeProvider.System.GetUtcNow();
        // Whole seconds: the time as the operator types it on the command line.
        var at = new DateTimeOffset(now.Ticks - now.Ticks % TimeSpan.TicksPerSecond, TimeSpan.Zero).AddSeconds(20);
        var schedule = await lab.CliAsync(Schedule(lab, "hq", at));
        schedule.ExitCode.Should().Be(0, schedule.ToString());
        schedule.Output.Should().Contain($"scheduled for {at:yyyy-MM-dd HH:mm:ss}").And.Contain("to be executed as bob").And.Contain("authsplit serve");
        lab.Emulator.Writes.Should().BeEmpty("schedule only writes the trigger");
        (await WaveStatusAsync(lab, "hq")).Should().Be("not-started");
        var listed = await lab.CliAsync("status", "--config", lab.Config, "--format", "json");
        var firing = JsonNode.Parse(listed.Output)!["scheduled"]!.AsArray().Should().ContainSingle("status lists what the scheduler will fire").Which!;
        (firing["wave"]!.GetValue<string>(), firing["kind"]!.GetValue<string>(), firing["operator"]!.GetValue<string>(), firing["at"]!.GetValue<DateTimeOffset>())
            .Should().Be(("hq", "scheduled", "bob", at));
        var table = await lab.CliAsync("status", "--config", lab.Config);
        table.Output.Should().Contain($"hq: scheduled at {at.UtcDateTime:yyyy-MM-dd HH:mm:ss}Z").And.Contain("as bob");

        using var serve = lab.StartCli("serve", "--config", lab.Config);
        await WaitForAsync(() => serve.OutputSoFar.Contains("Serving scheduled waves", StringComparison.Ordinal) || serve.HasExited, "serve to start");
        serve.HasExited.Should().BeFalse(serve.OutputSoFar);
        // On a loaded machine the commands above and serve's start-up can take longer than the 20 s ahead:
        // then the wave is due when serve comes up, and "soon" counts from then.
        var servingAt = TimeProvider.System.GetUtcNow();
        if (servingAt < at.AddSeconds(-1))
        {
            (await WaveStatusAsync(lab, "hq")).Should().Be("not-started", "the wave waits for its time");
            lab.Emulator.Writes.Should().BeEmpty();
        }

        var completed = await WaitForWaveAsync(lab, "hq", "completed");
        var startedAt = completed["startedAt"]!.GetValue<DateTimeOffset>();
        output.WriteLine($"scheduled for {at:O}, serve up at {servingAt:O}, started {startedAt:O}, completed {completed["completedAt"]}");
        var due = servingAt > at ? servingAt : at;
        startedAt.Should().BeOnOrAfter(at, "not before its time").And.BeBefore(due.AddSeconds(15), "and soon after it (or after serve came up, if that was later)");
        completed["startedBy"]!.GetValue<string>().Should().Be("bob", "the operator named when it was scheduled executes it");

        ExecutionLab.ShouldBeTheOutcome(before, await lab.ReadDirectoryAsync(), removals);
        (await lab.ShouldAllBeFinalAsync(plan, "hq")).Values.Should().AllBe("done");
        await lab.ShouldHaveWrittenOnceAndBackedUpAsync(removals);
        var after = await lab.CliAsync("status", "--config", lab.Config, "--format", "json");
        JsonNode.Parse(after.Output)!["scheduled"]!.AsArray().Should().BeEmpty("the firing is spent");

        await StopAsync(lab, serve);
    }

    [Fact]
    public async Task A_wave_scheduled_while_serve_is_running_is_picked_up_without_a_restart()
    {
        await using var lab = await ExecutionLab.StartAsync(people: 40);
        var plan = await lab.PlanAsync();
        await lab.ApproveAsync("alice");
        var before = await lab.ReadDirectoryAsync();
        using var serve = lab.StartCli("serve", "--config", lab.Config);
        await WaitForAsync(() => serve.OutputSoFar.Contains("Serving scheduled waves", StringComparison.Ordinal) || serve.HasExited, "serve to start");
        serve.HasExited.Should().BeFalse(serve.OutputSoFar);

        // Two waves, one depending on the other, scheduled by another process while serve idles.
        var now = TimeProvider.System.GetUtcNow();
        var hqAt = new DateTimeOffset(now.Ticks - now.Ticks % TimeSpan.TicksPerSecond, TimeSpan.Zero).AddSeconds(4);
        var hq = await lab.CliAsync(Schedule(lab, "hq", hqAt));
        hq.ExitCode.Should().Be(0, hq.ToString());
        var completedHq = await WaitForWaveAsync(lab, "hq", "completed");
        var delay = completedHq["startedAt"]!.GetValue<DateTimeOffset>() - hqAt;
        output.WriteLine($"hq started {delay.TotalSeconds:F1} s after its time (the serving scheduler polls the store every 5 s)");
        delay.Should().BeGreaterThanOrEqualTo(TimeSpan.Zero, "not before its time").And.BeLessThan(TimeSpan.FromSeconds(15));

        var domestic = await lab.CliAsync(Schedule(lab, "domestic", TimeProvider.System.GetUtcNow().AddSeconds(3)));
        domestic.ExitCode.Should().Be(0, domestic.ToString());
        domestic.Error.Should().NotContain("warning", "hq is complete, so the dependency holds now");
        await WaitForWaveAsync(lab, "domestic", "completed");

        var removals = plan.Entities.Where(e => e.Disposition == Disposition.Remove).ToList();
        ExecutionLab.ShouldBeTheOutcome(before, await lab.ReadDirectoryAsync(), removals);
        (await lab.ShouldAllBeFinalAsync(plan, "domestic")).Values.Should().AllBe("done");
        await lab.ShouldHaveWrittenOnceAndBackedUpAsync(removals);

        await StopAsync(lab, serve);
    }

    [Fact]
    public async Task SIGTERM_while_serve_runs_a_wave_stops_it_between_steps_with_143_and_the_next_serve_finishes_it()
    {
        // Four people at a time and 20 ms a Graph call: the wave (about 87 people) lasts seconds, not the
        // fraction of one it takes at the default 32, so the journal can be watched mid-wave. The signal is
        // sent by what the journal says, never after a fixed wait.
        await using var lab = await ExecutionLab.StartAsync(people: 300, faults: new GraphFaults { Latency = TimeSpan.FromMilliseconds(20) }, configure: config => config["Execution"]!["Concurrency"] = 4);
        var plan = await lab.PlanAsync();
        var removals = plan.Entities.Where(e => e.Wave == "hq" && e.Disposition == Disposition.Remove).ToList();
        var approving = System.Diagnostics.Stopwatch.StartNew();
        await lab.ApproveAsync("alice");
        approving.Stop();
        var before = await lab.ReadDirectoryAsync();
        // Far enough ahead that the schedule command starts before the time it is given: on a loaded machine a
        // command took more than 3 s to start and refused a time no longer in the future. 20 s, or three times
        // what the approve command took here, whichever is longer.
        var lead = TimeSpan.FromSeconds(Math.Max(20, 3 * approving.Elapsed.TotalSeconds));
        var schedule = await lab.CliAsync(Schedule(lab, "hq", TimeProvider.System.GetUtcNow() + lead));
        schedule.ExitCode.Should().Be(0, schedule.ToString());

        using (var serve = lab.StartCli("serve", "--config", lab.Config))
        {
            var (done, toGo) = await WaitUntilMidWaveAsync(lab, plan.PlanId!, "hq", serve);
            serve.Signal(CliProcess.SigTerm);
            output.WriteLine($"SIGTERM with {done} people done and {toGo} to go");
            var stopped = await serve.WaitAsync(TimeSpan.FromSeconds(60));
            stopped.ExitCode.Should().Be(143, stopped.ToString());
        }

        var interrupted = (await lab.StatusAsync("hq"))["waves"]![0]!;
        output.WriteLine("after SIGTERM: " + interrupted["status"] + " " + interrupted["entities"]!.ToJsonString() + " " + interrupted["reason"]);
        interrupted["status"]!.GetValue<string>().Should().NotBe("running", "the wave stopped with the process");
        var unfinished = interrupted["entityList"]!.AsArray().Count(e => e!["state"]!.GetValue<string>() is "pending" or "in-progress");
        unfinished.Should().BeGreaterThan(0, "the signal landed while the wave ran: " + interrupted["entities"]!.ToJsonString());
        interrupted["entityList"]!.AsArray().Select(e => e!["state"]!.GetValue<string>()).Should().OnlyContain(s => s == "done" || s == "pending" || s == "in-progress");

        // systemd starts the unit again: the wave cut short is fired again, as recovering, and finishes.
        using (var serve = lab.StartCli("serve", "--config", lab.Config))
        {
            await WaitForWaveAsync(lab, "hq", "completed", TimeSpan.FromSeconds(120));
            await StopAsync(lab, serve);
        }

        ExecutionLab.ShouldBeTheOutcome(before, await lab.ReadDirectoryAsync(), removals);
        (await lab.ShouldAllBeFinalAsync(plan, "hq")).Values.Should().AllBe("done");
        await lab.ShouldHaveWrittenOnceAndBackedUpAsync(removals);
        var log = string.Join('\n', Directory.GetFiles(Path.Combine(lab.Work, "logs"), "authsplit-*.log").Select(File.ReadAllText));
        log.Should().Contain("\"Recovering\":true", "the second serve fired the wave as recovering");
    }

    /// <summary>
    /// Waits until the wave's journal (the state store, read as <c>status</c> reads it) shows at least a tenth of
    /// its people done and at least a third still to go, and returns those counts. Fails, saying why, when serve
    /// exits first or the wave gets past that point between two looks: a signal sent then proves nothing.
    /// </summary>
    private static async Task<(int Done, int ToGo)> WaitUntilMidWaveAsync(ExecutionLab lab, string planId, string wave, CliProcess serve)
    {
        var store = await lab.OpenStoreAsync();
        await using (store as IAsyncDisposable)
        {
            var deadline = TimeProvider.System.GetUtcNow() + TimeSpan.FromSeconds(150);
            var (done, toGo, people) = (0, 0, 0);
            while (TimeProvider.System.GetUtcNow() < deadline)
            {
                serve.HasExited.Should().BeFalse($"serve runs the wave until the signal; it exited with {done} of {people} people done: {serve.OutputSoFar}");
                var entities = new List<EntityProgress>();
                await foreach (var entity in store.ReadEntitiesAsync(planId, wave, CancellationToken.None))
                {
                    if (entity.State != EntityState.Excluded)
                    {
                        entities.Add(entity);
                    }
                }

                people = entities.Count;
                done = entities.Count(e => e.State == EntityState.Done);
                toGo = entities.Count(e => e.State is EntityState.Pending or EntityState.InProgress);
                if (people > 0 && done >= Math.Max(1, people / 10))
                {
                    toGo.Should().BeGreaterThanOrEqualTo(Math.Max(1, people / 3),
                        $"the signal must land mid-wave, and the wave got from none to {done} of {people} people done between two looks at its journal: slow it further (Execution:Concurrency, the emulator's latency)");
                    return (done, toGo);
                }

                await Task.Delay(20);
            }

            throw new TimeoutException($"wave {wave} was not mid-way within 150 s: {done} of {people} people done, {toGo} to go");
        }
    }

    private static string[] Schedule(ExecutionLab lab, string wave, DateTimeOffset at) =>
        ["schedule", "--config", lab.Config, "--plan", lab.PlanPath, "--wave", wave, "--at", at.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture), "--as", "bob"];

    /// <summary>SIGTERM, as systemd stops the unit: exit 143 (docs/exit-codes.md), no wave left running, and the log says it stopped.</summary>
    private async Task StopAsync(ExecutionLab lab, CliProcess serve)
    {
        serve.HasExited.Should().BeFalse("serve runs until it is stopped: " + serve.OutputSoFar);
        serve.Signal(CliProcess.SigTerm);
        var stopped = await serve.WaitAsync(TimeSpan.FromSeconds(30));
        output.WriteLine(stopped.ToString());
        stopped.ExitCode.Should().Be(143, "docs/exit-codes.md: SIGTERM, as run or serve under systemd stop: " + stopped);
        stopped.Output.Should().Contain("Stopped; every step that finished is journalled");

        var status = await lab.CliAsync("status", "--config", lab.Config, "--format", "json");
        status.ExitCode.Should().Be(0, status.ToString());
        JsonNode.Parse(status.Output)!["waves"]!.AsArray().Select(w => w!["status"]!.GetValue<string>()).Should().NotContain("running", status.Output);

        var log = string.Join('\n', Directory.GetFiles(Path.Combine(lab.Work, "logs"), "authsplit-*.log").Select(File.ReadAllText));
        log.Should().Contain("Serving scheduled waves");
        log.Should().Contain("Stopped serving scheduled waves").And.Contain("\"Signal\":\"SIGTERM\"", "serve's log records the stop and why");
    }

    private static async Task<string> WaveStatusAsync(ExecutionLab lab, string wave) =>
        (await lab.StatusAsync(wave))["waves"]![0]!["status"]!.GetValue<string>();

    private static async Task<JsonNode> WaitForWaveAsync(ExecutionLab lab, string wave, string status, TimeSpan? patience = null)
    {
        var deadline = TimeProvider.System.GetUtcNow() + (patience ?? Patience);
        JsonNode? last = null;
        while (TimeProvider.System.GetUtcNow() < deadline)
        {
            last = (await lab.StatusAsync(wave))["waves"]![0]!;
            if (last["status"]!.GetValue<string>() == status)
            {
                return last;
            }

            await Task.Delay(500);
        }

        throw new TimeoutException($"wave {wave} did not become {status} within {patience ?? Patience}: {last?.ToJsonString()}");
    }

    private static async Task WaitForAsync(Func<bool> condition, string what)
    {
        var deadline = TimeProvider.System.GetUtcNow() + Patience;
        while (!condition())
        {
            if (TimeProvider.System.GetUtcNow() > deadline)
            {
                throw new TimeoutException("waited too long for " + what);
            }

            await Task.Delay(100);
        }
    }
}
