using System.Globalization;
using System.Text.Json.Nodes;
using AuthSplit.Cli.Output;
using AuthSplit.Cli.Planning;
using AuthSplit.Core.Execution.Forecast;
using AuthSplit.Core.Planning.Format;

namespace AuthSplit.Cli.EndToEndTests;

/// <summary>The deadline forecast of <c>plan</c> and <c>plan show</c>: the whole of each wave ahead, at the configured rates.</summary>
public sealed class PlanForecastTests
{
    // The sample plan's hq wave removes 7 entities: 66 LDAP operations (5 people at 10, a service account
    // at 9, a group at 7). At 0.0001 operations/s that is 660,000 s, about 7 days, against a deadline at the
    // end of the day after tomorrow: it cannot make it. domestic (3 people, 30 operations, about 3 days) has
    // until 2099; overseas' deadline (2026-04-30) has passed.
    private const string SlowLdap = "0.0001";

    private static readonly string DayAfterTomorrow = DateTime.UtcNow.Date.AddDays(2).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private static async Task<string> NearDeadlineConfigAsync(string work)
    {
        var config = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(CliRunner.Samples, "authsplit.json")))!.AsObject();
        var waves = config["Waves"]!.AsArray();
        waves[0]!["Deadline"] = DayAfterTomorrow;
        waves[1]!["Deadline"] = "2099-12-31";
        config["Execution"]!["ForecastLdapOperationsPerSecond"] = double.Parse(SlowLdap, CultureInfo.InvariantCulture);
        var path = Path.Combine(work, "near-deadline.json");
        await File.WriteAllTextAsync(path, config.ToJsonString());
        return path;
    }

    private static string[] PlanArgs(string config, string output, params string[] extra) =>
    [
        "plan",
        "--config", config,
        "--source-ldif", Path.Combine(CliRunner.Samples, "legacy.ldif"),
        "--target-snapshot", Path.Combine(CliRunner.Samples, "target"),
        "--out", output,
        .. extra,
    ];

    // The line in words below the table: "hq: needs ...".
    private static string Line(string output, string start) =>
        output.Split('\n').Single(l => l.StartsWith(start, StringComparison.Ordinal));

    // The wave's row of the forecast table ("│ hq       │ ...").
    private static string Row(string output, string wave) =>
        output[output.IndexOf("Deadline forecast (the whole wave ahead)", StringComparison.Ordinal)..]
            .Split('\n').Single(l => l.StartsWith("│ " + wave + " ", StringComparison.Ordinal));

    [Fact]
    public async Task Plan_shows_each_waves_forecast_at_the_configured_rates_and_flags_a_wave_that_cannot_make_its_deadline()
    {
        var work = CliRunner.NewWorkDirectory();
        var config = await NearDeadlineConfigAsync(work);
        var logs = Path.Combine(work, "logs");

        var result = await CliRunner.RunAsync(PlanArgs(config, Path.Combine(work, "plan.json"), "--log-dir", logs));

        result.ExitCode.Should().Be(0, result.ToString());
        result.Output.Should().Contain("Forecast at Graph 3,000 writes per 150 s (Graph's documented limit, the default of Target:Limits: no Target is configured), LDAP 0.0001 operations/s (Execution:ForecastLdapOperationsPerSecond: no rate is measured before a run).");
        Line(result.Output, "hq:").Should().Be("hq: needs ~7 days of execution; deadline in 2 days; CANNOT FINISH BEFORE THE DEADLINE (5 Graph writes, 20 Graph reads, 66 LDAP operations for 7 entities; 2 blocked not counted until decided)");
        Line(result.Output, "domestic:").Should().StartWith("domestic: needs ~3 days of execution; deadline in ").And.NotContain("CANNOT");
        Line(result.Output, "overseas:").Should().Contain("deadline passed").And.Contain("; DEADLINE PASSED").And.NotContain("CANNOT FINISH");

        // The table says it too, in words that need no colour (this output is redirected).
        Row(result.Output, "hq").Should().MatchRegex(@"│ +5 / 20 │ +66 │ +~7 days │ +2 days │ CANNOT FINISH BEFORE THE DEADLINE │$");
        Row(result.Output, "domestic").Should().Contain("~3 days").And.NotContain("CANNOT").And.NotContain("PASSED");
        Row(result.Output, "overseas").Should().MatchRegex(@"│ +passed \d+ days ago │ DEADLINE PASSED +│$");
        result.Output.Should().NotContain("\u001b[", "redirected output carries no colour codes");

        // The JSON log has each wave's forecast, a wave that cannot make it as a warning.
        var log = string.Concat(Directory.GetFiles(logs, "*", SearchOption.AllDirectories).Select(File.ReadAllText)).Split('\n')
            .Where(l => l.Contains("Deadline forecast for wave", StringComparison.Ordinal)).Select(l => JsonNode.Parse(l)!).ToArray();
        var hq = log.Single(e => (string?)e["Wave"] == "hq");
        ((string?)hq["@l"]).Should().Be("Warning");
        ((string?)hq["Flag"]).Should().Be("CANNOT FINISH BEFORE THE DEADLINE");
        ((long?)hq["LdapOperations"]).Should().Be(66);
        log.Single(e => (string?)e["Wave"] == "domestic")["@l"].Should().BeNull("a wave that fits is an information event (compact JSON omits the level)");
    }

    [Fact]
    public async Task The_forecast_stays_out_of_the_plan_file_so_the_plan_id_does_not_change_with_the_day()
    {
        var work = CliRunner.NewWorkDirectory();
        var planPath = Path.Combine(work, "plan.json");

        var result = await CliRunner.RunAsync(PlanArgs(await NearDeadlineConfigAsync(work), planPath));

        result.ExitCode.Should().Be(0, result.ToString());
        var text = await File.ReadAllTextAsync(planPath);
        text.Should().NotContain("CANNOT FINISH").And.NotContain("deadline in").And.NotContain("forecast", "the plan's id hashes its bytes: nothing time-dependent may be in them");
        PlanSerializer.Deserialize(await File.ReadAllBytesAsync(planPath), planPath).Summary.Waves[0].Deadline.Should().Be(DayAfterTomorrow);
    }

    [Fact]
    public async Task Plan_show_forecasts_at_the_configs_rates_with_config_and_says_it_uses_the_defaults_without()
    {
        var work = CliRunner.NewWorkDirectory();
        var config = await NearDeadlineConfigAsync(work);
        var planPath = Path.Combine(work, "plan.json");
        (await CliRunner.RunAsync(PlanArgs(config, planPath))).ExitCode.Should().Be(0);

        var configured = await CliRunner.RunAsync("plan", "show", planPath, "--wave", "hq", "--config", config);
        var defaults = await CliRunner.RunAsync("plan", "show", planPath, "--wave", "hq");

        configured.ExitCode.Should().Be(0, configured.ToString());
        configured.Output.Should().Contain("LDAP 0.0001 operations/s (Execution:ForecastLdapOperationsPerSecond");
        Row(configured.Output, "hq").Should().MatchRegex(@"│ +2 days │ CANNOT FINISH BEFORE THE DEADLINE │$");
        Line(configured.Output, "hq:").Should().Contain("needs ~7 days of execution; deadline in 2 days; CANNOT FINISH BEFORE THE DEADLINE");
        configured.Output.Should().NotContain("domestic:", "only the hq wave was asked for");
        defaults.ExitCode.Should().Be(0, defaults.ToString());
        defaults.Output.Should().Contain("LDAP 200 operations/s (the default of Execution:ForecastLdapOperationsPerSecond); pass --config for your config's rates");
        Line(defaults.Output, "hq:").Should().Be("hq: needs ~1 s of execution; deadline in 2 days (5 Graph writes, 20 Graph reads, 66 LDAP operations for 7 entities; 2 blocked not counted until decided)");
        Row(defaults.Output, "hq").Should().NotContain("CANNOT").And.NotContain("PASSED");
    }

    [Fact]
    public async Task The_wave_table_shows_the_execution_time_the_hold_the_time_left_and_each_flag()
    {
        var work = CliRunner.NewWorkDirectory();
        var planPath = Path.Combine(work, "plan.json");
        (await CliRunner.RunAsync(PlanArgs(Path.Combine(CliRunner.Samples, "authsplit.json"), planPath))).ExitCode.Should().Be(0);
        var plan = PlanSerializer.Deserialize(await File.ReadAllBytesAsync(planPath), planPath);
        WaveForecast Forecast(string wave, TimeSpan execution, TimeSpan hold, TimeSpan left, bool fits) => new()
        {
            Wave = wave,
            Entities = 1200,
            GraphWrites = 1000,
            GraphReads = 4000,
            LdapOperations = 12345,
            Execution = execution,
            Hold = hold,
            Deadline = new DateTimeOffset(2027, 1, 1, 0, 0, 0, TimeSpan.Zero),
            TimeLeft = left,
            FitsDeadline = fits,
        };
        var forecast = new PlanForecast(
            [
                Forecast("hq", TimeSpan.FromMinutes(130), TimeSpan.FromDays(30), TimeSpan.FromDays(41.5), fits: true),
                Forecast("domestic", TimeSpan.FromDays(3), TimeSpan.Zero, TimeSpan.FromDays(2.5), fits: false),
                Forecast("overseas", TimeSpan.FromSeconds(45), TimeSpan.Zero, -TimeSpan.FromDays(3.2), fits: false),
            ],
            "the rates of this test");
        var output = new StringWriter();

        PlanTables.WriteWaveSummary(output, plan, forecast);

        var text = output.ToString();
        Row(text, "hq").Should().MatchRegex(@"1,000 / 4,000 │ +12,345 │ ~2 h 10 min \+ 30 d hold │ +41 days │ +│$");
        Row(text, "domestic").Should().MatchRegex(@"~3 days │ +2 days │ CANNOT FINISH BEFORE THE DEADLINE │$");
        Row(text, "overseas").Should().MatchRegex(@"~45 s │ +passed 3 days ago │ DEADLINE PASSED +│$");
        text.Should().Contain("Forecast at the rates of this test.");
        Line(text, "hq:").Should().Be("hq: needs ~2 h 10 min of execution and a hold of 30 day(s); deadline in 41 days (1,000 Graph writes, 4,000 Graph reads, 12,345 LDAP operations for 1,200 entities; 2 blocked not counted until decided)");
        Line(text, "domestic:").Should().EndWith("; deadline in 2 days; CANNOT FINISH BEFORE THE DEADLINE (1,000 Graph writes, 4,000 Graph reads, 12,345 LDAP operations for 1,200 entities; 1 blocked not counted until decided)");
        Line(text, "overseas:").Should().Contain("deadline passed 3 days ago; DEADLINE PASSED");
    }

    [Fact]
    public async Task The_forecast_names_the_configured_Graph_limit_when_a_Target_is_configured()
    {
        var work = CliRunner.NewWorkDirectory();
        var planPath = Path.Combine(work, "plan.json");
        (await CliRunner.RunAsync(PlanArgs(Path.Combine(CliRunner.Samples, "authsplit.json"), planPath))).ExitCode.Should().Be(0);
        var plan = PlanSerializer.Deserialize(await File.ReadAllBytesAsync(planPath), planPath);
        var options = new Core.Configuration.AuthSplitOptions { Target = new Core.Configuration.TargetOptions { Limits = { WritesPerWindow = 1, WriteWindowSeconds = 3600 } } };
        options.Execution.ForecastLdapOperationsPerSecond = 120;

        var forecast = PlanForecast.Configured(plan, options, new DateTimeOffset(2026, 4, 1, 0, 0, 0, TimeSpan.Zero));

        forecast.Rates.Should().Be("Graph 1 write per 3,600 s (Target:Limits), LDAP 120 operations/s (Execution:ForecastLdapOperationsPerSecond: no rate is measured before a run)");
        var overseas = forecast.For("overseas")!;
        overseas.Execution.Should().Be(TimeSpan.FromHours(3), "3 source-of-authority switches at one an hour outlast 30 LDAP operations");
        overseas.Flag.Should().BeNull("overseas has until the end of 2026-04-30");
        forecast.For("hq")!.Flag.Should().Be("DEADLINE PASSED");
    }
}
