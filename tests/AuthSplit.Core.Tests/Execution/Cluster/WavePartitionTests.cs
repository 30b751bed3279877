using AuthSplit.Core.Execution;
using AuthSplit.Core.Execution.Cluster;
using AuthSplit.Core.Planning.Format;

namespace AuthSplit.Core.Tests.Execution.Cluster;

/// <summary>
/// A wave cut into parts (<c>Execution:Partitions</c>): the head run does the systems and groups and hands
/// the entities to part runs, each under its own lease; the last part to end concludes the wave.
/// </summary>
public sealed class WavePartitionTests
{
    private static readonly string[] People = ["akira", "yuki", "ken", "mei", "sora", "rin", "jun", "emi", "taro", "hana"];

    private static ExecutionScenario Scenario(int partitions)
    {
        var scenario = new ExecutionScenario();
        foreach (var person in People)
        {
            scenario.Person(person);
        }

        scenario.Settings = scenario.Settings with { Partitions = partitions };
        return scenario;
    }

    private static Task<WaveResult> RunAsync(ExecutionScenario scenario, WavePartition? part = null, bool mayPartition = true, string holder = "node-a/1") =>
        new WaveExecution(scenario.Store, scenario.Directory, scenario.Tenant, scenario.Settings with { LeaseHolders = new NamedLeaseHolder(holder) }, scenario.Clock, null, scenario.Systems.Ports)
            .ExecuteAsync(new WaveJobRequest(scenario.Plan.PlanId!, "hq", ExecutionScenario.Operator, Recovering: false) { Partition = part, MayPartition = mayPartition }, CancellationToken.None);

    [Fact]
    public void An_entity_is_always_in_the_same_part_and_the_parts_share_the_entities_evenly()
    {
        var ids = Enumerable.Range(0, 4000).Select(i => $"{Guid.NewGuid()}").ToArray();

        var counts = ids.GroupBy(id => WavePartition.IndexOf(id, 4)).ToDictionary(g => g.Key, g => g.Count());

        counts.Keys.Should().BeEquivalentTo([0, 1, 2, 3]);
        counts.Values.Should().OnlyContain(n => n > 850 && n < 1150, "a hash spreads ids evenly");
        ids.Should().OnlyContain(id => WavePartition.IndexOf(id, 4) == WavePartition.IndexOf(id, 4));
        WavePartition.IndexOf("3f1c0d1e-0000-4000-8000-000000000001", 4).Should().Be(WavePartition.IndexOf("3f1c0d1e-0000-4000-8000-000000000001", 4));
        new WavePartition(1, 4).Contains(ids.First(id => WavePartition.IndexOf(id, 4) == 1)).Should().BeTrue();
        WavePartition.TryParse("2/4").Should().Be(new WavePartition(2, 4));
        WavePartition.TryParse("wave").Should().BeNull();
        WavePartition.TryParse("4/4").Should().BeNull();
    }

    [Fact]
    public void The_parts_share_of_the_delete_budget_never_adds_up_to_more_than_the_plans()
    {
        Enumerable.Range(0, 3).Select(k => new WavePartition(k, 3).ShareOf(4)).Should().Equal(2, 1, 1);
        Enumerable.Range(0, 4).Sum(k => new WavePartition(k, 4).ShareOf(500)).Should().Be(500);
        Enumerable.Range(0, 8).Sum(k => new WavePartition(k, 8).ShareOf(3)).Should().Be(3);
    }

    [Fact]
    public async Task The_head_hands_the_entities_to_parts_and_the_last_part_concludes_the_wave_with_every_entity_done_once()
    {
        var scenario = Scenario(partitions: 3);
        var planId = await scenario.ApproveAsync();

        var head = await RunAsync(scenario);

        head.Kind.Should().Be(WaveResultKind.Partitioned, head.Reason);
        head.Partitions.Should().Be(3);
        scenario.Directory.Writes.Should().BeEmpty("the head runs systems and groups only");
        (await scenario.Store.GetWaveAsync(planId, "hq", CancellationToken.None))!.Status.Should().Be(WaveStatus.Running);

        var first = await RunAsync(scenario, new WavePartition(0, 3), holder: "node-a/1");
        var second = await RunAsync(scenario, new WavePartition(1, 3), holder: "node-b/2");
        first.Kind.Should().Be(WaveResultKind.PartEnded);
        second.Kind.Should().Be(WaveResultKind.PartEnded, "part 2 has not run yet");
        (await scenario.Store.GetWaveAsync(planId, "hq", CancellationToken.None))!.Status.Should().Be(WaveStatus.Running);

        var last = await RunAsync(scenario, new WavePartition(2, 3), holder: "node-b/2");

        last.Kind.Should().Be(WaveResultKind.Completed, last.Reason);
        (await scenario.Store.GetWaveAsync(planId, "hq", CancellationToken.None))!.Status.Should().Be(WaveStatus.Completed);
        foreach (var person in People)
        {
            scenario.Entity(person).State.Should().Be(EntityState.Done, person);
        }

        scenario.Directory.Writes.Where(w => w.Operation == "delete").Should().HaveCount(People.Length).And.OnlyHaveUniqueItems();
        scenario.Tenant.Changes.Should().HaveCount(People.Length);
        var steps = scenario.Store.Steps.Where(s => s.Step == StepAction.DeleteLegacyEntry && s.Outcome == StepOutcome.Done).Select(s => s.EntityId).ToList();
        steps.Should().OnlyHaveUniqueItems("no entity's delete ran in two parts");
    }

    [Fact]
    public async Task A_part_does_not_run_while_another_process_runs_the_whole_wave_and_the_whole_wave_does_not_run_while_a_part_does()
    {
        var scenario = Scenario(partitions: 2);
        var planId = await scenario.ApproveAsync();
        (await RunAsync(scenario)).Kind.Should().Be(WaveResultKind.Partitioned);

        var whole = await scenario.Store.TryAcquireLeaseAsync(LeaseKey.ForWave(planId, "hq"), "operator-c/9", TimeSpan.FromMinutes(1), CancellationToken.None);
        var part = await RunAsync(scenario, new WavePartition(0, 2));
        part.Kind.Should().Be(WaveResultKind.Refused);
        part.Refusal!.Code.Should().Be(ExecutionRefusalCode.WaveHeldElsewhere);
        part.Refusal.Message.Should().Contain("operator-c/9");
        await scenario.Store.ReleaseLeaseAsync(whole.Grant!, CancellationToken.None);

        await scenario.Store.TryAcquireLeaseAsync(new WavePartition(1, 2).LeaseKey(planId, "hq"), "node-b/2", TimeSpan.FromMinutes(1), CancellationToken.None);
        var foreground = await RunAsync(scenario, mayPartition: false, holder: "operator-c/9");
        foreground.Kind.Should().Be(WaveResultKind.Refused);
        foreground.Refusal!.Message.Should().Contain("part 1/2").And.Contain("node-b/2");
        scenario.Directory.Writes.Should().BeEmpty();
    }

    [Fact]
    public async Task A_foreground_run_does_the_whole_wave_itself_whatever_Partitions_says()
    {
        var scenario = Scenario(partitions: 4);
        await scenario.ApproveAsync();

        var result = await RunAsync(scenario, mayPartition: false);

        result.Kind.Should().Be(WaveResultKind.Completed, result.Reason);
        scenario.Directory.Writes.Count(w => w.Operation == "delete").Should().Be(People.Length);
    }
}
