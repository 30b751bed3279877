using System.Text.Json.Nodes;
using AuthSplit.Cli.Configuration;
using AuthSplit.Cli.Execution;
using AuthSplit.Cli.Planning;
using AuthSplit.Core.Execution;
using AuthSplit.Core.Planning.Format;
using AuthSplit.Scheduling;
using AuthSplit.Scheduling.Jobs;
using AuthSplit.Scheduling.Store;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Time.Testing;
using Xunit.Abstractions;

namespace AuthSplit.Cli.EndToEndTests.Execution;

/// <summary>
/// <c>Removal:HoldDays</c>: a wave disables its people now and deletes them when the hold ends. The first
/// leg runs through the CLI; the second cannot wait a week in a test, so it runs in this process on the
/// same state store, slapd and emulator, with the executor's clock a week on and the hold-expiry trigger
/// the CLI's run left in Quartz's store moved by the same week (as the clock moving on would).
/// </summary>
public sealed class HoldPeriodTests(ITestOutputHelper output)
{
    private const int HoldDays = 7;
    private const string LockedValue = "000001010000Z";

    [Fact]
    public async Task A_wave_with_a_hold_disables_and_holds_its_people_exits_6_and_deletes_nothing_while_the_hold_lasts()
    {
        await using var lab = await ExecutionLab.StartAsync(people: 40, configure: WithHold);
        var plan = await lab.PlanAsync();
        var removals = plan.Entities.Where(e => e.Wave == "hq" && e.Disposition == Disposition.Remove).ToList();
        removals.Should().NotBeEmpty().And.OnlyContain(e => e.Steps.Any(s => s.Action == StepAction.Hold), "the plan carries the hold");
        await lab.ApproveAsync("alice");
        var before = await lab.ReadDirectoryAsync();

        var startedAt = TimeProvider.System.GetUtcNow();
        var run = await lab.CliAsync(lab.Run("hq"));
        var endedAt = TimeProvider.System.GetUtcNow();

        run.ExitCode.Should().Be(6, "docs/exit-codes.md: entities held until their hold ends: " + run);
        run.Output.Should().Contain("Wave hq is holding").And.Contain($"{removals.Count} held").And.Contain("hold-expiry");
        var status = await lab.StatusAsync("hq");
        var wave = status["waves"]![0]!;
        wave["status"]!.GetValue<string>().Should().Be("holding", wave.ToJsonString());
        var held = Held(wave);
        held.Keys.Should().BeEquivalentTo(removals.Select(e => e.Id));
        held.Values.Should().AllSatisfy(until => until.Should().BeOnOrAfter(startedAt.AddDays(HoldDays).AddSeconds(-1)).And.BeOnOrBefore(endedAt.AddDays(HoldDays)));
        wave["entityList"]!.AsArray().Where(e => e!["state"]!.GetValue<string>() == "held")
            .Should().AllSatisfy(e => e!["lastStep"]!.GetValue<string>().Should().Be("hold"));

        var after = await lab.ReadDirectoryAsync();
        after.Keys.Should().BeEquivalentTo(before.Keys, "nothing is deleted during the hold");
        var removed = removals.Select(e => e.Dn.ToLowerInvariant()).ToHashSet();
        foreach (var (dn, entry) in after)
        {
            if (removed.Contains(dn))
            {
                entry.Values("pwdAccountLockedTime").Should().Equal([LockedValue], $"{dn} is disabled (ppolicy lock)");
                entry.Content("pwdAccountLockedTime").Should().Be(before[dn].Content("pwdAccountLockedTime"), $"{dn} is otherwise untouched");
            }
            else
            {
                entry.Content().Should().Be(before[dn].Content(), $"{dn} is untouched, group memberships included");
            }
        }

        await lab.ShouldHaveWrittenOnceAndBackedUpAsync(removals);

        // Running the wave again during the hold reads and writes nothing, and says the same.
        var writes = lab.Emulator.Writes.Count;
        var again = await lab.CliAsync(lab.Run("hq"));
        again.ExitCode.Should().Be(6, again.ToString());
        again.Output.Should().Contain($"{removals.Count} held");
        lab.Emulator.Writes.Should().HaveCount(writes);
        var third = await lab.ReadDirectoryAsync();
        foreach (var (dn, entry) in third)
        {
            string.Join('\n', entry.Attributes).Should().Be(string.Join('\n', after[dn].Attributes), $"{dn} is not written during the hold");
        }

        Held((await lab.StatusAsync("hq"))["waves"]![0]!).Should().Equal(held, "the hold does not move when the wave is run again");
    }

    [Fact]
    public async Task When_the_hold_has_expired_the_hold_expiry_trigger_the_run_left_deletes_and_verifies_the_held_entries()
    {
        await using var lab = await ExecutionLab.StartAsync(people: 40, configure: WithHold);
        var plan = await lab.PlanAsync();
        var removals = plan.Entities.Where(e => e.Wave == "hq" && e.Disposition == Disposition.Remove).ToList();
        await lab.ApproveAsync("alice");
        var before = await lab.ReadDirectoryAsync();
        var run = await lab.CliAsync(lab.Run("hq"));
        run.ExitCode.Should().Be(6, run.ToString());
        var held = Held((await lab.StatusAsync("hq"))["waves"]![0]!);
        held.Should().HaveCount(removals.Count);
        var writes = lab.Emulator.Writes.Count;

        // A week on: the executor's clock just past the last hold, Quartz's trigger moved back by as much.
        var now = TimeProvider.System.GetUtcNow();
        var clock = new FakeTimeProvider(held.Values.Max().AddMinutes(1));
        await using var world = await InProcessExecution.OpenAsync(lab, clock);
        var trigger = (await world.Scheduler.ListAsync(CancellationToken.None)).Should().ContainSingle("the run left one hold-expiry trigger").Subject;
        trigger.Kind.Should().Be(ScheduledWaveKind.HoldExpiry);
        trigger.Wave.Should().Be("hq");
        trigger.Operator.Should().Be("bob");
        trigger.At.Should().BeCloseTo(held.Values.Min(), TimeSpan.FromSeconds(1), "it fires when the first hold ends");
        await world.MoveHoldExpiryAsync(plan.PlanId!, "hq", -(clock.GetUtcNow() - now));

        await world.Host.StartAsync();
        var wave = await world.WaitForWaveAsync(plan.PlanId!, "hq", TimeSpan.FromSeconds(45));
        var left = await world.Scheduler.ListAsync(CancellationToken.None);
        await world.Host.StopAsync();

        wave.Status.Should().Be(WaveStatus.Completed, wave.Reason);
        wave.StartedBy.Operator.Should().Be("bob");
        left.Should().BeEmpty("the trigger fired once and nothing is held any more");
        foreach (var entity in removals)
        {
            var steps = await world.Store.GetStepsAsync(plan.PlanId!, entity.Id, CancellationToken.None);
            var disabled = steps.Single(s => s.Step == StepAction.DisableLegacyAccount && s.Outcome == StepOutcome.Done).At;
            disabled.AddDays(HoldDays).Should().Be(held[entity.Id], "the hold runs from the disable");
            var deleted = steps.Single(s => s.Step == StepAction.DeleteLegacyEntry && s.Outcome == StepOutcome.Done);
            deleted.At.Should().BeOnOrAfter(held[entity.Id], $"{entity.Dn} is deleted only after its hold");
            steps.Should().ContainSingle(s => s.Step == StepAction.VerifyLegacyAbsent && s.Outcome == StepOutcome.Done);
            steps.Where(s => s.Step == StepAction.StopPasswordSync).Should().ContainSingle("the switch was made before the hold, once");
        }

        ExecutionLab.ShouldBeTheOutcome(before, await lab.ReadDirectoryAsync(), removals);
        lab.Emulator.Writes.Should().HaveCount(writes, "the expiry leg writes nothing to Graph: the switch was verified before the hold");
        await lab.ShouldHaveWrittenOnceAndBackedUpAsync(removals);
        (await lab.ShouldAllBeFinalAsync(plan, "hq")).Values.Should().AllBe("done");
        var status = await lab.StatusAsync("hq");
        status["waves"]![0]!["status"]!.GetValue<string>().Should().Be("completed", status.ToJsonString());
        output.WriteLine($"{removals.Count} entities held until {held.Values.Min():O}..{held.Values.Max():O}, deleted at {clock.GetUtcNow():O} (executor's clock)");
    }

    [Fact]
    public async Task A_hold_expiry_trigger_firing_in_serve_before_the_hold_ends_deletes_nothing_and_is_set_again_for_the_holds_end()
    {
        await using var lab = await ExecutionLab.StartAsync(people: 40, configure: WithHold);
        var plan = await lab.PlanAsync();
        await lab.ApproveAsync("alice");
        var run = await lab.CliAsync(lab.Run("hq"));
        run.ExitCode.Should().Be(6, run.ToString());
        var first = (await lab.StatusAsync("hq"))["waves"]![0]!;
        var held = Held(first);
        var database = Path.Combine(lab.Work, "authsplit-state.db");
        (await HoldExpiryTrigger.NextFireAsync(database, plan.PlanId!, "hq")).Should().BeCloseTo(held.Values.Min(), TimeSpan.FromSeconds(1));
        var directory = await lab.ReadDirectoryAsync();
        var writes = lab.Emulator.Writes.Count;

        // The trigger due now, the hold a week away (a clock set wrong, a trigger edited by hand): serve fires it.
        await HoldExpiryTrigger.MoveAsync(database, plan.PlanId!, "hq", TimeProvider.System.GetUtcNow().AddSeconds(-1) - held.Values.Min());
        using (var serve = lab.StartCli("serve", "--config", lab.Config))
        {
            var deadline = TimeProvider.System.GetUtcNow().AddSeconds(60);
            JsonNode wave = first;
            while (wave["startedAt"]!.GetValue<DateTimeOffset>() == first["startedAt"]!.GetValue<DateTimeOffset>() || wave["status"]!.GetValue<string>() != "holding")
            {
                TimeProvider.System.GetUtcNow().Should().BeBefore(deadline, "serve fires the due trigger: " + serve.OutputSoFar);
                await Task.Delay(500);
                wave = (await lab.StatusAsync("hq"))["waves"]![0]!;
            }

            serve.Signal(CliProcess.SigTerm);
            (await serve.WaitAsync(TimeSpan.FromSeconds(30))).ExitCode.Should().Be(143);
            Held(wave).Should().Equal(held, "the hold is not cut short, nor moved");
        }

        lab.Emulator.Writes.Should().HaveCount(writes, "nothing is written to Graph");
        var after = await lab.ReadDirectoryAsync();
        after.Keys.Should().BeEquivalentTo(directory.Keys, "nothing is deleted");
        foreach (var (dn, entry) in after)
        {
            string.Join('\n', entry.Attributes).Should().Be(string.Join('\n', directory[dn].Attributes), $"{dn} is not written");
        }

        (await HoldExpiryTrigger.NextFireAsync(database, plan.PlanId!, "hq")).Should().BeCloseTo(held.Values.Min(), TimeSpan.FromSeconds(1), "the trigger is set again for the hold's end");
    }

    private static void WithHold(JsonObject config) => config["Removal"]!["HoldDays"] = HoldDays;

    private static Dictionary<string, DateTimeOffset> Held(JsonNode wave) => wave["entityList"]!.AsArray()
        .Where(e => e!["state"]!.GetValue<string>() == "held")
        .ToDictionary(e => e!["id"]!.GetValue<string>(), e => e!["holdUntil"]!.GetValue<DateTimeOffset>());
}

/// <summary>
/// The executor composed in this process as <c>serve</c> composes it (state store, LDAP writer, Graph
/// tenant, wave execution, Quartz on the same SQLite file), but with the executor's and the store's clock
/// given by the test. Quartz keeps the system clock. Secrets come from owner-only files written beside
/// the lab's config, not from this process's environment (which parallel tests share).
/// </summary>
internal sealed class InProcessExecution : IAsyncDisposable
{
    private readonly AdapterFactory _adapters;
    private readonly string _database;

    private InProcessExecution(IExecutionStore store, AdapterFactory adapters, IHost host, string database)
    {
        Store = store;
        _adapters = adapters;
        Host = host;
        _database = database;
    }

    public IExecutionStore Store { get; }

    public IHost Host { get; }

    public IWaveScheduler Scheduler => Host.Services.GetRequiredService<IWaveScheduler>();

    public static async Task<InProcessExecution> OpenAsync(ExecutionLab lab, TimeProvider clock)
    {
        var config = JsonNode.Parse(await File.ReadAllTextAsync(lab.Config))!.AsObject();
        config["Source"]!["PasswordEnvVar"] = null;
        config["Source"]!["PasswordFile"] = await SecretFileAsync(lab, "ldap.pw", lab.Environment["AUTHSPLIT_E2E_LDAP_PW"]);
        config["Target"]!["TokenEnvVar"] = null;
        config["Target"]!["TokenFile"] = await SecretFileAsync(lab, "graph.token", lab.Environment["AUTHSPLIT_E2E_GRAPH_TOKEN"]);
        config["State"]!["BackupKeyEnvVar"] = null;
        config["State"]!["BackupKeyFile"] = await SecretFileAsync(lab, "backup.key", lab.Environment["AUTHSPLIT_E2E_BACKUP_KEY"]);
        var path = Path.Combine(lab.Work, "in-process.json");
        await File.WriteAllTextAsync(path, config.ToJsonString());

        var options = ConfigLoader.Load(path, requireLiveSource: true);
        var directory = Path.GetDirectoryName(path)!;
        var store = await State.ExecutionStoreFactory.OpenAsync(options.State, directory, clock, CancellationToken.None);
        var adapters = new AdapterFactory(Serilog.Core.Logger.None);
        var legacy = adapters.OpenLegacyWriter(options.Source, options.Execution);
        var target = adapters.OpenTargetTenant(options.Target!);
        var settings = WaveExecutionSettings.From(options, "in-process-test");

        var builder = Microsoft.Extensions.Hosting.Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddSingleton<IHostLifetime, NoLifetime>();
        builder.Services.AddSingleton(store);
        builder.Services.AddSingleton<IWaveJournal>(store);
        builder.Services.AddScoped<IWaveExecution>(_ => new WaveExecution(store, legacy, target, settings, clock));
        var database = StateComposition.SqlitePathOf(options, path);
        builder.Services.AddWaveScheduling(new SchedulerStoreOptions { Provider = SchedulerStoreProvider.Sqlite, SqlitePath = database });
        builder.Services.AddWaveSchedulerHost();
        return new InProcessExecution(store, adapters, builder.Build(), database);
    }

    /// <summary>Shifts the wave's hold-expiry trigger, as the clock moving on while no scheduler runs would.</summary>
    public Task MoveHoldExpiryAsync(string planId, string wave, TimeSpan by) => HoldExpiryTrigger.MoveAsync(_database, planId, wave, by);

    public async Task<WaveRun> WaitForWaveAsync(string planId, string wave, TimeSpan patience)
    {
        var deadline = TimeProvider.System.GetUtcNow() + patience;
        WaveRun? run = null;
        while (TimeProvider.System.GetUtcNow() < deadline)
        {
            run = await Store.GetWaveAsync(planId, wave, CancellationToken.None);
            if (run?.Status is WaveStatus.Completed)
            {
                return run;
            }

            await Task.Delay(250);
        }

        throw new TimeoutException($"wave {wave} did not complete within {patience}: {run?.Status} {run?.Reason}");
    }

    public async ValueTask DisposeAsync()
    {
        Host.Dispose();
        _adapters.Dispose();
        if (Store is IAsyncDisposable disposable)
        {
            await disposable.DisposeAsync();
        }
    }

    private static async Task<string> SecretFileAsync(ExecutionLab lab, string name, string value)
    {
        var path = Path.Combine(lab.Work, name);
        await File.WriteAllTextAsync(path, value + "\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        return path;
    }

    private sealed class NoLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}

/// <summary>The hold-expiry trigger's row in Quartz's table of the state store's file, read and moved as the clock would move it.</summary>
internal static class HoldExpiryTrigger
{
    public static async Task MoveAsync(string database, string planId, string wave, TimeSpan by)
    {
        var key = WaveJobKeys.HoldExpiry(planId, wave);
        await using var connection = new SqliteConnection("Data Source=" + database);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "UPDATE QRTZ_TRIGGERS SET NEXT_FIRE_TIME = NEXT_FIRE_TIME + $by, START_TIME = START_TIME + $by WHERE TRIGGER_NAME = $name AND TRIGGER_GROUP = $group";
        command.Parameters.AddWithValue("$by", by.Ticks);
        command.Parameters.AddWithValue("$name", key.Name);
        command.Parameters.AddWithValue("$group", key.Group);
        (await command.ExecuteNonQueryAsync()).Should().Be(1, "the run left one hold-expiry trigger");
    }

    /// <summary>When the trigger fires next, or null when it is gone or fired for good.</summary>
    public static async Task<DateTimeOffset?> NextFireAsync(string database, string planId, string wave)
    {
        var key = WaveJobKeys.HoldExpiry(planId, wave);
        await using var connection = new SqliteConnection("Data Source=" + database);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT NEXT_FIRE_TIME FROM QRTZ_TRIGGERS WHERE TRIGGER_NAME = $name AND TRIGGER_GROUP = $group AND TRIGGER_STATE <> 'COMPLETE'";
        command.Parameters.AddWithValue("$name", key.Name);
        command.Parameters.AddWithValue("$group", key.Group);
        return await command.ExecuteScalarAsync() is long ticks and > 0 ? new DateTimeOffset(ticks, TimeSpan.Zero) : null;
    }
}
