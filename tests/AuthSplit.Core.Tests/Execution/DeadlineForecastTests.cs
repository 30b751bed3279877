using AuthSplit.Core.Configuration;
using AuthSplit.Core.Execution;
using AuthSplit.Core.Execution.Forecast;
using AuthSplit.Core.Planning.Format;

namespace AuthSplit.Core.Tests.Execution;

public sealed class DeadlineForecastTests
{
    // Graph's documented identity write limit: 3,000 writes per 150 s = 20 per second.
    private static readonly ForecastRates GraphDefault = new(3000, TimeSpan.FromSeconds(150), LdapOperationsPerSecond: 200);

    private static PlanDocument People(int count, int holdDays = 0)
    {
        var scenario = new ExecutionScenario();
        for (var i = 0; i < count; i++)
        {
            scenario.Person($"p{i:0000}");
        }

        scenario.Planning.Options.Removal.HoldDays = holdDays;
        return scenario.Plan;
    }

    private static DateTimeOffset Days(int beforeDeadline) =>
        new DateTimeOffset(2025, 5, 1, 0, 0, 0, TimeSpan.Zero).AddDays(-beforeDeadline); // hq's deadline is 2025-04-30, to the end of that day

    [Fact]
    public void A_fresh_wave_counts_every_planned_step_and_takes_the_slower_of_Graph_pacing_and_the_LDAP_rate()
    {
        var plan = People(1000);

        var forecast = DeadlineForecast.Compute(plan, "hq", [], GraphDefault, Days(41));

        forecast.Entities.Should().Be(1000);
        forecast.GraphWrites.Should().Be(1000, "one source-of-authority switch per person");
        forecast.GraphReads.Should().Be(4000, "verify the account, read before the switch, the connector's read-back, verify cloud-managed");
        forecast.LdapOperations.Should().Be(12000, "opening read 1, backup 2, disable 3, delete 4, verify absent 2");
        forecast.Execution.Should().Be(TimeSpan.FromSeconds(60), "12,000 LDAP operations at 200/s outlast 1,000 writes at 20/s (50 s)");
        forecast.FitsDeadline.Should().BeTrue();
        forecast.Describe().Should().Be("needs ~1 min of execution; deadline in 41 days");
    }

    [Fact]
    public void Graph_pacing_decides_when_the_directory_is_fast()
    {
        var plan = People(1000);

        var forecast = DeadlineForecast.Compute(plan, "hq", [], GraphDefault with { LdapOperationsPerSecond = 5000 }, Days(41));

        forecast.Execution.Should().Be(TimeSpan.FromSeconds(50));
    }

    [Fact]
    public void Steps_the_journal_shows_done_cost_nothing()
    {
        var plan = People(4);
        var ids = plan.Entities.Select(e => e.Id).ToArray();
        EntityProgress Progress(string id, EntityState state, StepAction? last, string? reason = null) => new()
        {
            PlanId = plan.PlanId!,
            Wave = "hq",
            EntityId = id,
            Dn = "x",
            Kind = Model.EntityKind.Person,
            State = state,
            LastStep = last,
            Attempts = 1,
            Reason = reason,
            UpdatedAt = Days(41),
        };

        var forecast = DeadlineForecast.Compute(
            plan,
            "hq",
            [
                Progress(ids[0], EntityState.Done, StepAction.VerifyLegacyAbsent),
                Progress(ids[1], EntityState.Stale, StepAction.VerifyTargetAccount, "stale-moved: x"),
                Progress(ids[2], EntityState.InProgress, StepAction.DisableLegacyAccount),
                Progress(ids[3], EntityState.Pending, null),
            ],
            GraphDefault,
            Days(41));

        forecast.Entities.Should().Be(2);
        forecast.GraphWrites.Should().Be(1, "only the pending person still needs its switch");
        forecast.LdapOperations.Should().Be(12 + 4 + 2, "the pending person, and delete plus verify for the one disabled");
    }

    [Fact]
    public void A_wave_that_cannot_finish_before_its_deadline_is_flagged()
    {
        var plan = People(1000);

        var forecast = DeadlineForecast.Compute(plan, "hq", [], GraphDefault with { GraphWritesPerWindow = 1, LdapOperationsPerSecond = 200 }, Days(1));

        forecast.Execution.Should().Be(TimeSpan.FromSeconds(150000), "1,000 writes at one per 150 s");
        forecast.FitsDeadline.Should().BeFalse();
        forecast.Describe().Should().Be("needs ~41 h 40 min of execution; deadline in 24 h; CANNOT FINISH BEFORE THE DEADLINE");
    }

    [Fact]
    public void A_hold_ahead_counts_against_the_deadline()
    {
        var plan = People(10, holdDays: 30);

        var fits = DeadlineForecast.Compute(plan, "hq", [], GraphDefault, Days(41));
        var late = DeadlineForecast.Compute(plan, "hq", [], GraphDefault, Days(20));

        fits.Hold.Should().Be(TimeSpan.FromDays(30));
        fits.FitsDeadline.Should().BeTrue();
        late.FitsDeadline.Should().BeFalse();
        late.Describe().Should().Contain("and a hold of 30 day(s)");
    }

    [Fact]
    public void A_passed_deadline_is_said_so()
    {
        var forecast = DeadlineForecast.Compute(People(1), "hq", [], GraphDefault, Days(-3));

        forecast.FitsDeadline.Should().BeFalse();
        forecast.Describe().Should().Contain("deadline passed 3 days ago");
    }

    [Fact]
    public void A_plan_forecasts_every_wave_with_the_whole_wave_ahead()
    {
        var scenario = new ExecutionScenario().Person("p1").Person("p2").Person("abroad", parent: "ou=abroad," + ExecutionScenario.Base, country: "US");

        var forecasts = DeadlineForecast.ForPlan(scenario.Plan, GraphDefault, new DateTimeOffset(2026, 3, 1, 0, 0, 0, TimeSpan.Zero));

        forecasts.Select(f => f.Wave).Should().Equal("hq", "overseas");
        forecasts[0].Entities.Should().Be(2);
        forecasts[0].LdapOperations.Should().Be(24, "12 LDAP operations per person, none done yet");
        forecasts[0].Flag.Should().Be("DEADLINE PASSED", "hq's deadline was 2025-04-30");
        forecasts[1].Entities.Should().Be(1);
        forecasts[1].GraphWrites.Should().Be(1);
        forecasts[1].Flag.Should().BeNull("overseas has until 2026-04-30 and needs seconds");
    }

    [Fact]
    public void The_flag_tells_a_passed_deadline_from_one_the_wave_cannot_make()
    {
        var plan = People(1000);
        var slow = GraphDefault with { GraphWritesPerWindow = 1 };

        DeadlineForecast.Compute(plan, "hq", [], GraphDefault, Days(41)).Flag.Should().BeNull();
        DeadlineForecast.Compute(plan, "hq", [], slow, Days(1)).Flag.Should().Be("CANNOT FINISH BEFORE THE DEADLINE");
        DeadlineForecast.Compute(plan, "hq", [], slow, Days(-1)).Flag.Should().Be("DEADLINE PASSED");
        DeadlineForecast.Compute(plan, "hq", [], slow, Days(-1)).DeadlinePassed.Should().BeTrue();
        DeadlineForecast.Compute(plan, "hq", [], slow, Days(1)).DeadlinePassed.Should().BeFalse();
    }

    [Fact]
    public void The_work_ahead_is_said_in_words()
    {
        DeadlineForecast.Compute(People(1000), "hq", [], GraphDefault, Days(41)).DescribeWork()
            .Should().Be("1,000 Graph writes, 4,000 Graph reads, 12,000 LDAP operations for 1,000 entities");
        DeadlineForecast.Compute(People(1), "hq", [], GraphDefault, Days(41)).DescribeWork()
            .Should().Be("1 Graph write, 4 Graph reads, 12 LDAP operations for 1 entity");
    }

    [Theory]
    [InlineData(7800, "2 h 10 min")]
    [InlineData(3600, "1 h")]
    [InlineData(45, "45 s")]
    [InlineData(61, "2 min")]
    [InlineData(41 * 86400 + 100, "41 days")]
    [InlineData(2693 * 86400, "2,693 days")]
    public void Durations_read_the_way_an_operator_says_them(int seconds, string text)
    {
        DeadlineForecast.Format(TimeSpan.FromSeconds(seconds)).Should().Be(text);
    }
}

public sealed class ForecastRatesTests
{
    [Fact]
    public void Rates_come_from_the_Graph_limits_and_a_measured_LDAP_rate_wins_over_the_configured_one()
    {
        var options = new AuthSplitOptions { Target = new TargetOptions { Limits = { WritesPerWindow = 1500, WriteWindowSeconds = 150 } } };
        options.Execution.ForecastLdapOperationsPerSecond = 120;

        ForecastRates.From(options).Should().Be(new ForecastRates(1500, TimeSpan.FromSeconds(150), 120));
        ForecastRates.From(options, measuredLdapOperationsPerSecond: 640).LdapOperationsPerSecond.Should().Be(640);
        ForecastRates.From(options).GraphWritesPerSecond.Should().Be(10);
    }

    [Fact]
    public void Rates_are_described_with_where_each_came_from()
    {
        var rates = new ForecastRates(3000, TimeSpan.FromSeconds(150), 0.25);

        rates.Describe().Should().Be("Graph 3,000 writes per 150 s, LDAP 0.25 operations/s");
        rates.Describe("Target:Limits", "Execution:ForecastLdapOperationsPerSecond")
            .Should().Be("Graph 3,000 writes per 150 s (Target:Limits), LDAP 0.25 operations/s (Execution:ForecastLdapOperationsPerSecond)");
    }
}
