using System.Text;
using System.Text.Json;
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

    [Fact]
    public async Task Plan_show_gives_blocked_entities_their_id_blocker_and_candidate_targets_in_the_table_and_csv()
    {
        var work = CliRunner.NewWorkDirectory();
        var planPath = Path.Combine(work, "plan.json");
        (await CliRunner.RunAsync(PlanArgs(planPath))).ExitCode.Should().Be(0);

        var shown = await CliRunner.RunAsync("plan", "show", planPath);

        shown.ExitCode.Should().Be(0, shown.ToString());
        var mari = shown.Output.Split('\n').Single(l => l.Contains("uid=mari.kato", StringComparison.Ordinal));
        mari.Should().Contain("1c9149b9-653d-5c80-b588-f28086708631", "a decision names the entity by its id")
            .And.Contain("ambiguous-target-match")
            .And.Contain("238b8262-e1ae-5023-9365-6bb8eabb2931").And.Contain("e2680426-44e7-5612-85d7-d67a0a4bbfb4");
        shown.Output.Split('\n').Single(l => l.Contains("uid=min.park", StringComparison.Ordinal)).Should().Contain("multiple-waves (domestic, overseas)");

        var csv = await CliRunner.RunAsync("plan", "show", planPath, "--format", "csv");
        var lines = csv.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(ParseCsvLine).ToArray();
        lines[0][^2..].Should().Equal("candidateWaves", "candidateTargetIds");
        lines.Single(r => r[1].StartsWith("uid=mari.kato,", StringComparison.Ordinal))[^1].Should().Be("238b8262-e1ae-5023-9365-6bb8eabb2931;e2680426-44e7-5612-85d7-d67a0a4bbfb4");
        lines.Single(r => r[1].StartsWith("uid=min.park,", StringComparison.Ordinal))[^2].Should().Be("domestic;overseas");
    }

    [Fact]
    public async Task Plan_show_writes_a_decisions_template_owner_only_that_once_filled_in_resolves_the_blockers()
    {
        var work = CliRunner.NewWorkDirectory();
        var planPath = Path.Combine(work, "plan.json");
        var templatePath = Path.Combine(work, "decisions.json");
        (await CliRunner.RunAsync(PlanArgs(planPath))).ExitCode.Should().Be(0);

        var written = await CliRunner.RunAsync("plan", "show", planPath, "--format", "decisions", "--out", templatePath);

        written.ExitCode.Should().Be(0, written.ToString());
        written.Output.Should().Contain("3 blocked entities");
        if (!OperatingSystem.IsWindows())
        {
            File.GetUnixFileMode(templatePath).Should().Be(UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        var template = await File.ReadAllTextAsync(templatePath);
        template.Should().Contain("uid=mari.kato").And.Contain("e2680426-44e7-5612-85d7-d67a0a4bbfb4").And.Contain("assign-wave with wave one of domestic, overseas");
        var untouched = await CliRunner.RunAsync(PlanArgs(Path.Combine(work, "untouched.json"), "--decisions", templatePath));
        untouched.ExitCode.Should().Be(2, "an entry nobody filled in must not decide anything\n" + untouched);

        var again = await CliRunner.RunAsync("plan", "show", planPath, "--format", "decisions", "--out", templatePath);
        again.ExitCode.Should().Be(2, again.ToString());
        again.Error.Should().Contain("already exists");
        var toStdout = await CliRunner.RunAsync("plan", "show", planPath, "--format", "decisions");
        toStdout.ExitCode.Should().Be(2, toStdout.ToString());
        toStdout.Error.Should().Contain("--out");
        (await File.ReadAllTextAsync(templatePath)).Should().Be(template, "an existing file is never overwritten");

        // Fill it in as the sample decisions file decides.
        var filled = Fill(template, "\"decision\": \"\"", ["remove", "use-target", "assign-wave"], v => $"\"decision\": \"{v}\"");
        filled = Fill(filled, "\"targetId\": \"\",\n", ["", "\"targetId\": \"e2680426-44e7-5612-85d7-d67a0a4bbfb4\",\n"], v => v);
        filled = Fill(filled, "\"wave\": \"\"", ["domestic"], v => $"\"wave\": \"{v}\"");
        filled = filled.Replace("\"reason\": \"\"", "\"reason\": \"checked\"", StringComparison.Ordinal).Replace("\"decidedBy\": \"\"", "\"decidedBy\": \"engineer@example.jp\"", StringComparison.Ordinal);
        var filledPath = Path.Combine(work, "filled.json");
        await File.WriteAllTextAsync(filledPath, filled);
        var decidedPath = Path.Combine(work, "decided.json");

        var decided = await CliRunner.RunAsync(PlanArgs(decidedPath, "--decisions", filledPath));

        decided.ExitCode.Should().Be(0, decided.ToString());
        var plan = PlanSerializer.Deserialize(await File.ReadAllBytesAsync(decidedPath), decidedPath);
        plan.Entities.Should().NotContain(e => e.Disposition == Disposition.Blocked);
        plan.Decisions.Should().HaveCount(3).And.OnlyContain(d => d.Status == DecisionStatus.Applied);
    }

    [Fact]
    public async Task Plan_show_csv_neutralises_values_a_spreadsheet_would_run_as_formulas()
    {
        // Each hostile value reaches a CSV column: the entity id (entryUUID), the target id and the UPN.
        var work = CliRunner.NewWorkDirectory();
        (string Uid, string EntryUuid, string TargetId, string Upn)[] people =
        [
            ("f1", "=1+2", "+cmd|' /C calc'!A0", "@SUM(1+1)*cmd|' /C calc'!A0"),
            ("f2", "-2+3", "-t2", "\t=1+1"),
            ("f3", "@f3", "t3", "\r=2+2"),
            ("f4", "f4-id", "=HYPERLINK(\"http://127.0.0.1/x\")", "+f4@example.jp"),
        ];
        var ldif = new StringBuilder(await File.ReadAllTextAsync(Path.Combine(CliRunner.Samples, "legacy.ldif"))).Append('\n');
        var users = new List<Dictionary<string, object?>>();
        foreach (var (uid, entryUuid, targetId, upn) in people)
        {
            ldif.Append($"\ndn: uid={uid},ou=people,ou=hq,dc=example,dc=jp\nobjectClass: inetOrgPerson\ncn: {uid}\nsn: {uid}\nuid: {uid}\nemployeeNumber: X-{uid}\nentryUUID: {entryUuid}\n\n");
            users.Add(new() { ["id"] = targetId, ["userPrincipalName"] = upn, ["mail"] = null, ["employeeId"] = $"X-{uid}", ["onPremisesImmutableId"] = null, ["accountEnabled"] = true });
        }

        var ldifPath = Path.Combine(work, "legacy.ldif");
        await File.WriteAllTextAsync(ldifPath, ldif.ToString());
        var targetPath = Path.Combine(work, "users.json");
        await File.WriteAllTextAsync(targetPath, JsonSerializer.Serialize(new Dictionary<string, object> { ["value"] = users }));
        var planPath = Path.Combine(work, "plan.json");
        var planned = await CliRunner.RunAsync("plan", "--config", Path.Combine(CliRunner.Samples, "authsplit.json"), "--source-ldif", ldifPath, "--target-snapshot", targetPath, "--out", planPath);
        planned.ExitCode.Should().Be(0, planned.ToString());

        var shown = await CliRunner.RunAsync("plan", "show", planPath, "--format", "csv");

        shown.ExitCode.Should().Be(0, shown.ToString());
        shown.Output.Should().NotContain("\t").And.NotContain("\r");
        var rows = shown.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(ParseCsvLine).ToArray();
        rows[0].Should().StartWith(["id", "dn", "kind", "wave", "disposition", "match", "targetId", "targetUserPrincipalName"]);
        rows.Skip(1).SelectMany(r => r).Should().NotContain(c => c.Length > 0 && "=+-@\t\r".Contains(c[0], StringComparison.Ordinal), "no cell may start a formula");
        string[] Row(string uid) => rows.Single(r => r[1].StartsWith($"uid={uid},", StringComparison.Ordinal));
        Row("f1")[0].Should().Be("'=1+2");
        Row("f1")[6].Should().Be("'+cmd|' /C calc'!A0");
        Row("f1")[7].Should().Be("'@SUM(1+1)*cmd|' /C calc'!A0");
        Row("f2")[0].Should().Be("'-2+3");
        Row("f2")[7].Should().Be("\\x09=1+1", "a leading tab is written escaped");
        Row("f3")[0].Should().Be("'@f3");
        Row("f3")[7].Should().Be("\\x0D=2+2", "a leading CR is written escaped");
        Row("f4")[6].Should().Be("'=HYPERLINK(\"http://127.0.0.1/x\")");
        Row("f4")[7].Should().Be("'+f4@example.jp");
        rows.Single(r => r[1].StartsWith("cn=hq-staff,", StringComparison.Ordinal))[5].Should().Be("not-applicable", "the CSV spells codes as the plan does");
    }

    [Fact]
    public async Task Control_characters_in_a_base64_dn_reach_no_output_raw()
    {
        var work = CliRunner.NewWorkDirectory();
        var dn = "uid=evil\u001b[2J\u0007\u001b[31m,ou=people,ou=hq,dc=example,dc=jp";
        var ldif = await File.ReadAllTextAsync(Path.Combine(CliRunner.Samples, "legacy.ldif"))
            + $"\n\ndn:: {Convert.ToBase64String(Encoding.UTF8.GetBytes(dn))}\nobjectClass: inetOrgPerson\ncn: evil\nsn: evil\nuid: evil\nentryUUID: 5e1f0000-0000-4000-8000-00000000e5c1\n\n";
        var ldifPath = Path.Combine(work, "legacy.ldif");
        await File.WriteAllTextAsync(ldifPath, ldif);
        var before = Path.Combine(work, "before.json");
        var after = Path.Combine(work, "after.json");
        (await CliRunner.RunAsync(PlanArgs(before))).ExitCode.Should().Be(0);
        var planned = await CliRunner.RunAsync("plan", "--config", Path.Combine(CliRunner.Samples, "authsplit.json"), "--source-ldif", ldifPath, "--target-snapshot", Path.Combine(CliRunner.Samples, "target"), "--out", after);
        planned.ExitCode.Should().Be(0, planned.ToString());

        foreach (var args in new[] { new[] { "plan", "show", after }, ["plan", "show", after, "--format", "csv"], ["plan", "diff", before, after] })
        {
            var result = await CliRunner.RunAsync(args);

            result.ExitCode.Should().Be(0, result.ToString());
            result.Output.Should().Contain("uid=evil\\x1B[2J\\x07\\x1B[31m,ou=people", string.Join(' ', args));
            (result.Output + result.Error).Should().NotContain("\u001b").And.NotContain("\u0007");
        }

        var json = await CliRunner.RunAsync("plan", "show", after, "--format", "json");
        json.Output.Should().Contain("uid=evil\\u001B[2J").And.NotContain("\u001b", "JSON escapes control characters itself");
    }

    private static string Fill(string text, string placeholder, IReadOnlyList<string> values, Func<string, string> replacement)
    {
        var filled = new StringBuilder();
        var at = 0;
        foreach (var value in values)
        {
            var next = text.IndexOf(placeholder, at, StringComparison.Ordinal);
            next.Should().BeGreaterThanOrEqualTo(0, $"the template must hold {placeholder} for each entry");
            filled.Append(text, at, next - at).Append(replacement(value));
            at = next + placeholder.Length;
        }

        return filled.Append(text, at, text.Length - at).ToString();
    }

    // RFC 4180, one line (the writer escapes line breaks, so no cell spans lines).
    private static string[] ParseCsvLine(string line)
    {
        var cells = new List<string>();
        var cell = new StringBuilder();
        var quoted = false;
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < line.Length && line[i + 1] == '"')
                {
                    cell.Append('"');
                    i++;
                }
                else if (c == '"')
                {
                    quoted = false;
                }
                else
                {
                    cell.Append(c);
                }
            }
            else if (c == '"')
            {
                quoted = true;
            }
            else if (c == ',')
            {
                cells.Add(cell.ToString());
                cell.Clear();
            }
            else
            {
                cell.Append(c);
            }
        }

        cells.Add(cell.ToString());
        return [.. cells];
    }
}
