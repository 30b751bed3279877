using AuthSplit.Core.Execution;
using AuthSplit.Core.Execution.Forecast;
using AuthSplit.Core.Planning.Format;

namespace AuthSplit.Core.Tests.Execution;

/// <summary>A rehearsal's measured rates: measured from the journal's wave runs, checked, and fed to the forecast.</summary>
public sealed class MeasuredRatesTests
{
    private static readonly ForecastRates GraphDefault = new(3000, TimeSpan.FromSeconds(150), LdapOperationsPerSecond: 200);
    private static readonly DateTimeOffset Start = new(2025, 3, 1, 10, 0, 0, TimeSpan.Zero);

    private static PlanDocument People(int count)
    {
        var scenario = new ExecutionScenario();
        for (var i = 0; i < count; i++)
        {
            scenario.Person($"p{i:0000}");
        }

        return scenario.Plan with { PlanId = "plan-1" };
    }

    private static WaveRun Run(string wave, TimeSpan took, WaveStatus status = WaveStatus.Completed) => new()
    {
        PlanId = "plan-1",
        Wave = wave,
        Status = status,
        StartedAt = Start,
        CompletedAt = status == WaveStatus.Completed ? Start + took : null,
        StartedBy = new ExecutionActor("bob", "lab"),
    };

    [Fact]
    public void A_completed_wave_is_measured_as_the_forecasts_work_over_its_time_so_the_same_plan_forecasts_what_the_rehearsal_took()
    {
        var plan = People(100);

        var rates = MeasuredRates.Measure([(plan, Run("hq", TimeSpan.FromSeconds(40)))], "lab /srv/lab")!;

        rates.Problems().Should().BeEmpty();
        rates.Entities.Should().Be(100);
        rates.Waves.Should().ContainSingle().Which.LdapOperations.Should().Be(1000, "10 LDAP operations per person, as the forecast counts them");
        rates.LdapOperationsPerSecond.Should().Be(25);
        rates.GraphWritesPerSecond.Should().Be(2.5);
        var configured = DeadlineForecast.Compute(plan, "hq", [], GraphDefault, Start);
        configured.Execution.Should().Be(TimeSpan.FromSeconds(5), "1,000 operations at the default 200/s");
        var rehearsed = DeadlineForecast.Compute(plan, "hq", [], rates.Apply(GraphDefault, "hq"), Start);
        rehearsed.Execution.Should().Be(TimeSpan.FromSeconds(40), "the rehearsal took 40 s for this very work");
        rates.Describe().Should().Be("the rehearsal of 2025-03-01 (100 entities in 1 wave, OpenLdap, lab /srv/lab): LDAP 25 operations/s, Graph 2.5 writes/s overall; a rehearsed wave uses its own rates");
    }

    [Fact]
    public void A_measured_Graph_rate_never_raises_the_forecasts_Graph_rate_above_the_configured_limit()
    {
        var plan = People(1000);

        // 1,000 people in 1 s: 1,000 Graph writes/s against an emulator that does not throttle.
        var rates = MeasuredRates.Measure([(plan, Run("hq", TimeSpan.FromSeconds(1)))], "lab")!;
        var applied = rates.Apply(GraphDefault, "hq");

        applied.GraphWritesPerSecond.Should().Be(20, "Graph's limit (3,000 per 150 s) still holds in production");
        DeadlineForecast.Compute(plan, "hq", [], applied, Start).Execution.Should().Be(TimeSpan.FromSeconds(50), "1,000 writes at 20/s");
    }

    [Fact]
    public void An_unrehearsed_wave_uses_the_overall_rates_and_unfinished_runs_are_not_measured()
    {
        var plan = People(10);

        var rates = MeasuredRates.Measure([(plan, Run("hq", TimeSpan.FromSeconds(10))), (plan, Run("hq", TimeSpan.FromSeconds(1), WaveStatus.Interrupted))], "lab")!;

        rates.Waves.Should().ContainSingle().Which.Seconds.Should().Be(10);
        rates.Apply(GraphDefault, "elsewhere").LdapOperationsPerSecond.Should().Be(rates.LdapOperationsPerSecond);
        MeasuredRates.Measure([(plan, Run("hq", TimeSpan.FromSeconds(1), WaveStatus.Interrupted))], "lab").Should().BeNull("nothing completed");
        MeasuredRates.Measure([(plan, Run("hq", TimeSpan.Zero))], "lab").Should().BeNull("no time passed: no rate");
    }

    [Theory]
    [InlineData("zero-time", "completedAt is not after startedAt")]
    [InlineData("negative-count", "entities must be positive")]
    [InlineData("no-work", "not both zero")]
    [InlineData("absurd-rate", "not a measurement")]
    [InlineData("wrong-kind", "write it with authsplit lab rates")]
    [InlineData("wrong-dialect", "neither OpenLdap nor ActiveDirectory")]
    [InlineData("twice", "measured twice")]
    [InlineData("no-waves", "no wave was measured")]
    public void Rates_that_are_not_a_measurement_are_refused(string flaw, string expected)
    {
        var wave = new MeasuredWave { Wave = "hq", StartedAt = Start, CompletedAt = Start.AddSeconds(10), Entities = 4, LdapOperations = 40, GraphWrites = 4 };
        var rates = new MeasuredRates { MeasuredAt = Start, Source = "lab", Dialect = "OpenLdap", Waves = [wave] };
        rates.Problems().Should().BeEmpty();

        var bad = flaw switch
        {
            "zero-time" => rates with { Waves = [wave with { CompletedAt = Start }] },
            "negative-count" => rates with { Waves = [wave with { Entities = -4 }] },
            "no-work" => rates with { Waves = [wave with { LdapOperations = 0, GraphWrites = 0 }] },
            "absurd-rate" => rates with { Waves = [wave with { LdapOperations = long.MaxValue / 2 }] },
            "wrong-kind" => rates with { Kind = "something-else" },
            "wrong-dialect" => rates with { Dialect = "Novell" },
            "twice" => rates with { Waves = [wave, wave] },
            _ => rates with { Waves = [] },
        };

        bad.Problems().Should().ContainSingle().Which.Should().Contain(expected);
    }
}
