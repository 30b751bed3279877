using AuthSplit.Core.Configuration;
using AuthSplit.Core.Execution;
using AuthSplit.Core.Execution.PasswordSync;
using AuthSplit.Core.Planning.Format;
using AuthSplit.Testing.Execution;

namespace AuthSplit.Core.Tests.Execution;

/// <summary>
/// The <c>Command</c> password-sync strategy: a hook per batch for a sync engine Graph does not know, confirmed
/// per person by a read-back (a command, or a Graph user property).
/// </summary>
public sealed class PasswordSyncByCommandTests
{
    private const string Hook = "/opt/sync/stop";
    private const string ReadBack = "/opt/sync/status";

    // A sync engine: the hook takes people out of its scope, except those it cannot (it exits 1 then);
    // the read-back prints the asked ids it has taken out.
    private sealed class SyncEngine
    {
        public HashSet<string> Stopped { get; } = new(StringComparer.OrdinalIgnoreCase);

        public HashSet<string> Refuses { get; } = new(StringComparer.OrdinalIgnoreCase);

        public List<string[]> Batches { get; } = [];

        public void Attach(FakeSystemPorts ports)
        {
            ports.CommandHandlers[Hook] = (environment, input) =>
            {
                var ids = Ids(input);
                environment[PasswordSyncHookRun.UserIdsVariable].Split(',').Should().Equal(ids, "the ids come on stdin and in AUTHSPLIT_USER_IDS alike");
                lock (Batches)
                {
                    Batches.Add(ids);
                    foreach (var id in ids.Where(i => !Refuses.Contains(i)))
                    {
                        Stopped.Add(id);
                    }
                }

                return FakeSystemPorts.Printed($"stopped {ids.Count(i => !Refuses.Contains(i))} of {ids.Length}\n", ids.Any(Refuses.Contains) ? 1 : 0);
            };
            ports.CommandHandlers[ReadBack] = (_, input) =>
            {
                lock (Batches)
                {
                    return FakeSystemPorts.Printed("# stopped ids\n" + string.Concat(Ids(input).Where(Stopped.Contains).Select(i => i + "\n")));
                }
            };
        }

        private static string[] Ids(string? input) => (input ?? "").Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    private static (ExecutionScenario Scenario, SyncEngine Engine) Scenario(params string[] people)
    {
        var scenario = new ExecutionScenario();
        foreach (var person in people)
        {
            scenario.Person(person);
        }

        scenario.Planning.Options.PasswordSync = new PasswordSyncOptions { Strategy = PasswordSyncStrategy.Command, Command = [Hook, "--scope", "legacy"], ReadBackCommand = [ReadBack], BatchSize = 2 };
        var engine = new SyncEngine();
        engine.Attach(scenario.Systems);
        return (scenario, engine);
    }

    [Fact]
    public void The_plan_records_the_hook_and_its_people_skip_the_Graph_switch_and_its_verification()
    {
        var (scenario, _) = Scenario("akira");

        var plan = scenario.Plan;

        plan.Settings.PasswordSyncHook!.Command.Should().Equal(Hook, "--scope", "legacy");
        plan.Settings.PasswordSyncHook.ReadBackCommand.Should().Equal(ReadBack);
        plan.Entities.Single(e => e.Dn == ExecutionScenario.DnOf("akira")).PasswordSync!.Strategy.Should().Be(PasswordSyncStrategy.Command);
        plan.Entities.Single(e => e.Dn == ExecutionScenario.DnOf("akira")).Steps.Select(s => s.Action)
            .Should().ContainInOrder(StepAction.VerifyTargetAccount, StepAction.StopPasswordSync, StepAction.BackupLegacyEntry).And.NotContain(StepAction.VerifyCloudManaged);
        var stop = plan.StepCatalog.Single(s => s.Action == StepAction.StopPasswordSync);
        stop.Description.Should().Contain(Hook).And.Contain(ReadBack).And.Contain("batch of up to 2");
        plan.StepCatalog.Should().NotContain(s => s.Action == StepAction.VerifyCloudManaged);
    }

    [Fact]
    public async Task A_hook_that_fails_for_some_ids_leaves_exactly_those_people_failed_and_untouched()
    {
        var (scenario, engine) = Scenario("akira", "yuki", "ken", "mai", "sora");
        engine.Refuses.Add(ExecutionScenario.TargetIdOf("yuki"));
        engine.Refuses.Add(ExecutionScenario.TargetIdOf("sora"));
        scenario.Settings = scenario.Settings with { Concurrency = 5 };

        var result = await scenario.ApproveAndRunAsync();

        result.Kind.Should().Be(WaveResultKind.CompletedWithFailures, result.Reason);
        foreach (var name in new[] { "yuki", "sora" })
        {
            var entity = scenario.Entity(name);
            entity.State.Should().Be(EntityState.Failed);
            entity.Reason.Should().StartWith(ReasonCodes.SyncStopUnconfirmed + ":").And.Contain("exited 1");
            scenario.Directory.Get(ExecutionScenario.DnOf(name)).Should().NotBeNull("nothing legacy is touched before the stop is confirmed");
            scenario.Directory.Writes.Should().NotContain(w => w.Dn == ExecutionScenario.DnOf(name));
        }

        foreach (var name in new[] { "akira", "ken", "mai" })
        {
            scenario.Entity(name).State.Should().Be(EntityState.Done);
            scenario.Directory.Get(ExecutionScenario.DnOf(name)).Should().BeNull();
            var stop = scenario.Journal(name).Single(s => s.Step == StepAction.StopPasswordSync);
            stop.Outcome.Should().Be(StepOutcome.Done);
            stop.After.Should().Contain("\"strategy\":\"command\"").And.Contain("\"outputSha256\"");
        }

        scenario.Tenant.Changes.Should().BeEmpty("the Command strategy never writes the Graph switch");
        engine.Batches.Should().OnlyContain(b => b.Length <= 2, "PasswordSync:BatchSize is 2");
        engine.Batches.SelectMany(b => b).Should().OnlyHaveUniqueItems("each person's id goes out once").And.HaveCount(5);
    }

    [Fact]
    public async Task A_rerun_after_the_engine_is_fixed_runs_the_hook_only_for_the_failed_people()
    {
        var (scenario, engine) = Scenario("akira", "yuki");
        engine.Refuses.Add(ExecutionScenario.TargetIdOf("yuki"));
        (await scenario.ApproveAndRunAsync()).Kind.Should().Be(WaveResultKind.CompletedWithFailures);
        engine.Refuses.Clear();
        var batchesBefore = engine.Batches.Count;

        var rerun = await scenario.RunAsync();

        rerun.Kind.Should().Be(WaveResultKind.Completed, rerun.Reason);
        engine.Batches.Skip(batchesBefore).SelectMany(b => b).Should().Equal(ExecutionScenario.TargetIdOf("yuki"));
        scenario.Directory.Get(ExecutionScenario.DnOf("yuki")).Should().BeNull();
    }

    [Fact]
    public async Task A_person_the_read_back_shows_stopped_already_gets_no_hook_and_says_so()
    {
        var (scenario, engine) = Scenario("akira");
        engine.Stopped.Add(ExecutionScenario.TargetIdOf("akira"));

        var result = await scenario.ApproveAndRunAsync();

        result.Kind.Should().Be(WaveResultKind.Completed, result.Reason);
        engine.Batches.Should().BeEmpty();
        var stop = scenario.Journal("akira").Single(s => s.Step == StepAction.StopPasswordSync);
        stop.Outcome.Should().Be(StepOutcome.AlreadyDone);
        stop.Reason.Should().StartWith(ReasonCodes.AlreadyStopped + ":");
    }

    [Fact]
    public async Task A_read_back_that_cannot_answer_leaves_the_people_unfinished_not_failed_and_deletes_nothing()
    {
        var (scenario, _) = Scenario("akira");
        scenario.Systems.CommandHandlers[ReadBack] = (_, _) => FakeSystemPorts.Printed("engine API down\n", exitCode: 2);
        scenario.Settings = scenario.Settings with { RetryRounds = 0 };

        var result = await scenario.ApproveAndRunAsync();

        result.Kind.Should().Be(WaveResultKind.Interrupted);
        scenario.Entity("akira").State.Should().Be(EntityState.InProgress);
        scenario.Entity("akira").Reason.Should().StartWith(ReasonCodes.Transient + ":").And.Contain("could not be read back");
        scenario.Directory.Get(ExecutionScenario.DnOf("akira")).Should().NotBeNull();
    }

    [Fact]
    public async Task A_Graph_property_can_confirm_the_stop_instead_of_a_command()
    {
        var scenario = new ExecutionScenario().Person("akira").Person("yuki");
        scenario.Planning.Options.PasswordSync = new PasswordSyncOptions { Strategy = PasswordSyncStrategy.Command, Command = [Hook], ReadBackGraphProperty = "onPremisesSyncEnabled" };
        scenario.Tenant.SetUserProperty(ExecutionScenario.TargetIdOf("akira"), "onPremisesSyncEnabled", "true");
        scenario.Tenant.SetUserProperty(ExecutionScenario.TargetIdOf("yuki"), "onPremisesSyncEnabled", "true");
        // The engine takes akira out of sync; yuki it leaves synchronised.
        scenario.Systems.CommandHandlers[Hook] = (_, input) =>
        {
            scenario.Tenant.SetUserProperty(ExecutionScenario.TargetIdOf("akira"), "onPremisesSyncEnabled", null);
            return FakeSystemPorts.Printed("done\n");
        };

        var result = await scenario.ApproveAndRunAsync();

        result.Kind.Should().Be(WaveResultKind.CompletedWithFailures, result.Reason);
        scenario.Entity("akira").State.Should().Be(EntityState.Done);
        scenario.Entity("yuki").State.Should().Be(EntityState.Failed);
        scenario.Entity("yuki").Reason.Should().Contain("onPremisesSyncEnabled read back: 0 of");
    }
}
