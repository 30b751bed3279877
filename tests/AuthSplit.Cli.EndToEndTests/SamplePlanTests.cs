using AuthSplit.Core.Planning.Format;

namespace AuthSplit.Cli.EndToEndTests;

public sealed class SamplePlanTests
{
    private static string[] PlanArgs(string output, params string[] extra) =>
    [
        "plan",
        "--config", Path.Combine(CliRunner.Samples, "authsplit.json"),
        "--source-ldif", Path.Combine(CliRunner.Samples, "legacy.ldif"),
        "--target-snapshot", Path.Combine(CliRunner.Samples, "target"),
        "--out", output,
        .. extra,
    ];

    [Fact]
    public async Task Plan_over_the_sample_organisation_prints_every_wave_and_writes_the_plan()
    {
        var work = CliRunner.NewWorkDirectory();
        var planPath = Path.Combine(work, "plan.json");

        var result = await CliRunner.RunAsync(PlanArgs(planPath));

        result.ExitCode.Should().Be(0, result.ToString());
        result.Output.Should().Contain("hq").And.Contain("domestic").And.Contain("overseas").And.Contain("2026-04-30");
        var plan = PlanSerializer.Deserialize(await File.ReadAllBytesAsync(planPath), planPath);
        result.Output.Should().Contain(plan.PlanId!);
        plan.Summary.Waves.Select(w => w.Name).Should().Equal("hq", "domestic", "overseas");
        DispositionOf("uid=akira.sato").Should().Be(Disposition.Remove);
        DispositionOf("uid=mari.kato").Should().Be(Disposition.Blocked);
        DispositionOf("uid=leaver.one").Should().Be(Disposition.Blocked);
        DispositionOf("uid=naver.contractor").Should().Be(Disposition.Protected);
        DispositionOf("cn=山田 太郎").Should().Be(Disposition.Remove);
        DispositionOf("uid=min.park").Should().Be(Disposition.Blocked);
        plan.Entities.Should().NotContain(e => e.Dn.Contains("ou=partner", StringComparison.Ordinal), "entries in no wave are counted, not listed");
        plan.Summary.OutOfScope.Should().BeGreaterThan(0);

        Disposition DispositionOf(string rdn) => plan.Entities.Single(e => e.Dn.StartsWith(rdn, StringComparison.Ordinal)).Disposition;
    }

    [Fact]
    public async Task The_same_inputs_give_a_byte_identical_plan_file()
    {
        var work = CliRunner.NewWorkDirectory();
        var first = Path.Combine(work, "a.json");
        var second = Path.Combine(work, "b.json");

        (await CliRunner.RunAsync(PlanArgs(first))).ExitCode.Should().Be(0);
        (await CliRunner.RunAsync(PlanArgs(second))).ExitCode.Should().Be(0);

        (await File.ReadAllBytesAsync(second)).Should().Equal(await File.ReadAllBytesAsync(first));
    }

    [Fact]
    public async Task Decisions_resolve_the_sample_blockers_and_diff_explains_the_change()
    {
        var work = CliRunner.NewWorkDirectory();
        var before = Path.Combine(work, "before.json");
        var after = Path.Combine(work, "after.json");
        (await CliRunner.RunAsync(PlanArgs(before))).ExitCode.Should().Be(0);

        var decided = await CliRunner.RunAsync(PlanArgs(after, "--decisions", Path.Combine(CliRunner.Samples, "decisions.json")));
        decided.ExitCode.Should().Be(0, decided.ToString());
        var plan = PlanSerializer.Deserialize(await File.ReadAllBytesAsync(after), after);
        plan.Entities.Where(e => e.Decision is not null).Should().HaveCount(3).And.OnlyContain(e => e.Disposition == Disposition.Remove);
        plan.Entities.Single(e => e.Dn.StartsWith("uid=min.park", StringComparison.Ordinal)).Wave.Should().Be("domestic");

        var diff = await CliRunner.RunAsync("plan", "diff", before, after);

        diff.ExitCode.Should().Be(0, diff.ToString());
        diff.Output.Should().Contain("decisions input changed");
        diff.Output.Should().Contain("uid=mari.kato").And.Contain("disposition blocked -> remove").And.Contain("ambiguous-target-match");
        diff.Output.Should().Contain("0 added, 3 changed, 0 removed.");
    }

    [Theory]
    [InlineData("table", "uid=akira.sato")]
    [InlineData("csv", "id,dn,kind,wave,disposition")]
    [InlineData("json", "\"disposition\": \"remove\"")]
    public async Task Plan_show_renders_a_wave_in_each_format(string format, string expected)
    {
        var work = CliRunner.NewWorkDirectory();
        var planPath = Path.Combine(work, "plan.json");
        (await CliRunner.RunAsync(PlanArgs(planPath))).ExitCode.Should().Be(0);

        var shown = await CliRunner.RunAsync("plan", "show", planPath, "--wave", "hq", "--format", format);

        shown.ExitCode.Should().Be(0, shown.ToString());
        shown.Output.Should().Contain(expected).And.NotContain("hana.suzuki", "only the hq wave was asked for");
    }

    [Fact]
    public async Task Plan_show_of_an_unknown_wave_is_bad_input()
    {
        var work = CliRunner.NewWorkDirectory();
        var planPath = Path.Combine(work, "plan.json");
        (await CliRunner.RunAsync(PlanArgs(planPath))).ExitCode.Should().Be(0);

        var shown = await CliRunner.RunAsync("plan", "show", planPath, "--wave", "mars");

        shown.ExitCode.Should().Be(2);
        shown.Error.Should().Contain("no wave \"mars\"").And.Contain("hq, domestic, overseas");
    }

    [Fact]
    public async Task A_plan_edited_after_it_was_made_is_refused()
    {
        var work = CliRunner.NewWorkDirectory();
        var planPath = Path.Combine(work, "plan.json");
        (await CliRunner.RunAsync(PlanArgs(planPath))).ExitCode.Should().Be(0);
        var text = await File.ReadAllTextAsync(planPath);
        var edited = text.Replace("\"disposition\":\"protected\"", "\"disposition\":\"remove\"", StringComparison.Ordinal);
        edited.Should().NotBe(text, "the test must really edit the plan");
        await File.WriteAllTextAsync(planPath, edited);

        var shown = await CliRunner.RunAsync("plan", "show", planPath);

        shown.ExitCode.Should().Be(2);
        shown.Error.Should().Contain(planPath).And.Contain("changed after it was made");
        shown.Error.Should().NotContain("   at ", "a user error prints one line, not a stack trace");
    }

    [Fact]
    public async Task Planning_refuses_an_empty_wave_and_writes_nothing()
    {
        var work = CliRunner.NewWorkDirectory();
        var config = Path.Combine(work, "config.json");
        var text = await File.ReadAllTextAsync(Path.Combine(CliRunner.Samples, "authsplit.json"));
        await File.WriteAllTextAsync(config, text.Replace("(!(l=Japan))", "(l=Atlantis)", StringComparison.Ordinal));
        var planPath = Path.Combine(work, "plan.json");

        var result = await CliRunner.RunAsync(
            "plan", "--config", config, "--source-ldif", Path.Combine(CliRunner.Samples, "legacy.ldif"),
            "--target-snapshot", Path.Combine(CliRunner.Samples, "target"), "--out", planPath);

        result.ExitCode.Should().Be(3, result.ToString());
        result.Error.Should().Contain("empty-wave-scope").And.Contain("overseas");
        File.Exists(planPath).Should().BeFalse();
        Directory.GetFiles(work).Should().ContainSingle("no temporary file is left behind");
    }
}
