using AuthSplit.Core.Execution;
using AuthSplit.Core.Planning.Format;

namespace AuthSplit.Core.Tests.Execution;

public sealed class HoldAndQuarantineTests
{
    [Fact]
    public async Task A_hold_disables_now_and_deletes_only_once_it_has_expired()
    {
        var scenario = new ExecutionScenario().Person("akira").Person("yuki");
        scenario.Planning.Options.Removal.HoldDays = 3;
        await scenario.ApproveAsync();

        var first = await scenario.RunAsync();

        first.Kind.Should().Be(WaveResultKind.Holding);
        first.Entities[EntityState.Held].Should().Be(2);
        scenario.Directory.Writes.Should().NotContain(w => w.Operation == "delete");
        scenario.Directory.Get(ExecutionScenario.DnOf("akira"))!.GetString("pwdAccountLockedTime").Should().Be("000001010000Z");
        scenario.Entity("akira").HoldUntil.Should().Be(scenario.Clock.GetUtcNow().AddDays(3));
        scenario.Store.WaveSaves[^1].Status.Should().Be(WaveStatus.Holding);

        scenario.Clock.Advance(TimeSpan.FromDays(2));
        var steps = scenario.Store.Steps.Count;
        var writes = scenario.Directory.Writes.Count;
        var early = await scenario.RunAsync();
        early.Kind.Should().Be(WaveResultKind.Holding);
        scenario.Store.Steps.Should().HaveCount(steps, "an entity still in its hold is not journalled again");
        scenario.Directory.Writes.Should().HaveCount(writes);

        scenario.Clock.Advance(TimeSpan.FromDays(1));
        var last = await scenario.RunAsync();

        last.Kind.Should().Be(WaveResultKind.Completed);
        scenario.Directory.Entries.Should().BeEmpty();
        scenario.Journal("akira").Where(s => s.Step == StepAction.Hold).Select(s => s.Outcome).Should().Equal(StepOutcome.Waiting, StepOutcome.Done);
    }

    [Fact]
    public async Task Quarantine_moves_the_disabled_entry_and_the_later_steps_use_its_new_DN()
    {
        var scenario = new ExecutionScenario().WithQuarantine().Person("akira").Person("yuki", target: false).Group("team", "akira", "yuki");
        scenario.Planning.Options.Waves[0].Filter = "(objectClass=inetOrgPerson)";
        scenario.Planning.Options.Removal.HoldDays = 1;
        await scenario.ApproveAsync();

        (await scenario.RunAsync()).Kind.Should().Be(WaveResultKind.Holding);
        scenario.Directory.Get(ExecutionScenario.DnOf("akira")).Should().BeNull();
        scenario.Directory.Get("uid=akira," + ExecutionScenario.Quarantine).Should().NotBeNull();
        scenario.Entity("akira").Dn.Should().Be("uid=akira," + ExecutionScenario.Quarantine);

        scenario.Clock.Advance(TimeSpan.FromDays(1));
        (await scenario.RunAsync()).Kind.Should().Be(WaveResultKind.Completed);

        scenario.Directory.Writes.Where(w => w.Operation == "delete").Select(w => w.Dn).Should().Equal("uid=akira," + ExecutionScenario.Quarantine);
        scenario.Directory.Get("cn=team," + ExecutionScenario.Hq)!.GetStrings("member").Should().Equal([ExecutionScenario.DnOf("yuki")], "the group listed the DN from before the move, and it was cleaned too");
    }

    [Fact]
    public async Task A_missing_quarantine_container_fails_the_entity_with_the_reason()
    {
        var scenario = new ExecutionScenario().Person("akira");
        scenario.Planning.Options.Removal.QuarantineDn = ExecutionScenario.Quarantine;

        var result = await scenario.ApproveAndRunAsync();

        result.Kind.Should().Be(WaveResultKind.CompletedWithFailures);
        scenario.Entity("akira").Reason.Should().Contain("Removal:QuarantineDn");
        scenario.Directory.Get(ExecutionScenario.DnOf("akira")).Should().NotBeNull();
    }
}
