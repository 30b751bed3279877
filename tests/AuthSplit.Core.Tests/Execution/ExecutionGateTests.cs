using System.Text;
using AuthSplit.Core.Execution;

namespace AuthSplit.Core.Tests.Execution;

public sealed class ExecutionGateTests
{
    private static ExecutionScenario TwoWaves()
    {
        var scenario = new ExecutionScenario()
            .Person("akira")
            .Person("min", parent: "ou=sales," + ExecutionScenario.Base, country: "KR");
        scenario.Planning.Options.Waves[1].DependsOn.Add("hq");
        return scenario;
    }

    private static async Task ShouldBeRefused(ExecutionScenario scenario, WaveResult result, ExecutionRefusalCode code)
    {
        result.Kind.Should().Be(WaveResultKind.Refused);
        result.Refusal!.Code.Should().Be(code);
        result.Refusal.Message.Should().NotBeNullOrWhiteSpace();
        scenario.Directory.Writes.Should().BeEmpty();
        scenario.Tenant.WriteRequests.Should().Be(0);
        scenario.Store.Steps.Should().BeEmpty();
        (await scenario.Store.GetWaveAsync(scenario.Plan.PlanId!, result.Wave, CancellationToken.None)).Should().BeNull("a refused wave does not even start");
        var refusals = scenario.Store.Ledger.Where(r => r.Kind == LedgerKind.WaveRefused).ToList();
        if (code is ExecutionRefusalCode.PlanNotFound or ExecutionRefusalCode.WaveUnknown)
        {
            refusals.Should().BeEmpty("a plan the store does not know has no chain to join");
        }
        else
        {
            refusals.Should().ContainSingle("the attempt the gate stopped is on the ledger").Which.Should().Match<LedgerRecord>(r =>
                r.Wave == result.Wave && !string.IsNullOrWhiteSpace(r.Actor) && r.Data!.Contains(code.ToString()));
        }
    }

    [Fact]
    public async Task A_plan_the_store_does_not_hold_is_refused_as_not_found()
    {
        var scenario = TwoWaves();

        var result = await scenario.RunAsync();

        await ShouldBeRefused(scenario, result, ExecutionRefusalCode.PlanNotFound);
    }

    [Fact]
    public async Task An_unapproved_plan_is_refused()
    {
        var scenario = TwoWaves();
        await scenario.Store.SavePlanAsync(scenario.Plan.PlanId!, Core.Planning.Format.PlanSerializer.Serialize(scenario.Plan), CancellationToken.None);

        var result = await scenario.RunAsync();

        await ShouldBeRefused(scenario, result, ExecutionRefusalCode.PlanNotApproved);
    }

    [Fact]
    public async Task A_stored_plan_whose_bytes_no_longer_hash_to_its_id_is_refused_as_tampered()
    {
        var scenario = TwoWaves();
        var planId = await scenario.ApproveAsync();
        var edited = Encoding.UTF8.GetString(Core.Planning.Format.PlanSerializer.Serialize(scenario.Plan)).Replace("\"maxDeletesPerWave\": 500", "\"maxDeletesPerWave\": 5000", StringComparison.Ordinal);
        edited.Should().Contain("5000");
        scenario.Store.OverwritePlan(planId, Encoding.UTF8.GetBytes(edited));

        var result = await scenario.RunAsync();

        await ShouldBeRefused(scenario, result, ExecutionRefusalCode.PlanTampered);
    }

    [Fact]
    public async Task A_plan_stored_under_another_plans_id_is_refused_as_tampered()
    {
        var scenario = TwoWaves();
        var planId = await scenario.ApproveAsync();
        var other = new ExecutionScenario().Person("yuki");
        scenario.Store.OverwritePlan(planId, Core.Planning.Format.PlanSerializer.Serialize(other.Plan));

        var result = await scenario.RunAsync();

        await ShouldBeRefused(scenario, result, ExecutionRefusalCode.PlanTampered);
    }

    [Fact]
    public async Task The_approver_may_not_execute_the_plan_without_AllowSelfApproval()
    {
        var scenario = TwoWaves();
        await scenario.ApproveAsync();

        var result = await scenario.RunAsync(by: " Alice ");

        await ShouldBeRefused(scenario, result, ExecutionRefusalCode.SelfApproval);
    }

    [Fact]
    public async Task A_wave_the_plan_does_not_have_is_refused()
    {
        var scenario = TwoWaves();
        await scenario.ApproveAsync();

        var result = await scenario.RunAsync(wave: "emea");

        await ShouldBeRefused(scenario, result, ExecutionRefusalCode.WaveUnknown);
    }

    [Fact]
    public async Task A_wave_whose_dependency_is_unfinished_does_not_start()
    {
        var scenario = TwoWaves();
        await scenario.ApproveAsync();

        var result = await scenario.RunAsync(wave: "overseas");

        await ShouldBeRefused(scenario, result, ExecutionRefusalCode.DependencyIncomplete);
        result.Refusal!.Message.Should().Contain("hq");
    }

    [Fact]
    public async Task A_wave_runs_once_its_dependency_is_complete()
    {
        var scenario = TwoWaves();
        await scenario.ApproveAsync();
        (await scenario.RunAsync()).Kind.Should().Be(WaveResultKind.Completed);

        var result = await scenario.RunAsync(wave: "overseas");

        result.Kind.Should().Be(WaveResultKind.Completed);
        scenario.Directory.Entries.Should().BeEmpty();
    }

    [Fact]
    public async Task A_dependency_that_completed_with_failed_entities_is_not_complete()
    {
        var scenario = TwoWaves();
        scenario.Tenant.Reject("t-akira");
        await scenario.ApproveAsync();
        (await scenario.RunAsync()).Kind.Should().Be(WaveResultKind.CompletedWithFailures);

        var result = await scenario.RunAsync(wave: "overseas");

        result.Refusal!.Code.Should().Be(ExecutionRefusalCode.DependencyIncomplete);
        result.Refusal.Message.Should().Contain("failed");
    }

    [Fact]
    public async Task A_paused_wave_does_not_start()
    {
        var scenario = TwoWaves();
        await scenario.ApproveAsync();
        await scenario.Store.SetPauseAsync(new WavePause("hq", true, "carol", scenario.Clock.GetUtcNow()), CancellationToken.None);

        var result = await scenario.RunAsync();

        await ShouldBeRefused(scenario, result, ExecutionRefusalCode.WavePaused);
        result.Refusal!.Message.Should().Contain("carol");
    }

    [Fact]
    public async Task A_wave_paused_while_running_stops_between_entities_and_resumes_after_the_pause_is_lifted()
    {
        var scenario = new ExecutionScenario().Person("akira").Person("yuki").Person("ken");
        await scenario.ApproveAsync();
        scenario.Store.AfterStepRecorded = count =>
        {
            if (count == 3)
            {
                scenario.Store.SetPauseAsync(new WavePause("hq", true, "carol", scenario.Clock.GetUtcNow()), CancellationToken.None).GetAwaiter().GetResult();
            }
        };

        var paused = await scenario.RunAsync();

        paused.Kind.Should().Be(WaveResultKind.Interrupted);
        paused.Reason.Should().StartWith("paused");
        paused.Entities.GetValueOrDefault(EntityState.Done).Should().BeLessThan(3);
        scenario.Store.AfterStepRecorded = null;
        await scenario.Store.SetPauseAsync(new WavePause("hq", false, "carol", scenario.Clock.GetUtcNow()), CancellationToken.None);

        var resumed = await scenario.RunAsync();

        resumed.Kind.Should().Be(WaveResultKind.Completed);
        resumed.Entities[EntityState.Done].Should().Be(3);
    }
}
