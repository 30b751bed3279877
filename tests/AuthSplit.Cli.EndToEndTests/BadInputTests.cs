using AuthSplit.Testing;

namespace AuthSplit.Cli.EndToEndTests;

public sealed class BadInputTests
{
    private static async Task<CliResult> PlanWithConfigAsync(string configJson, string? ldif = null)
    {
        var work = CliRunner.NewWorkDirectory();
        var config = Path.Combine(work, "config.json");
        await File.WriteAllTextAsync(config, configJson);
        var source = Path.Combine(CliRunner.Samples, "legacy.ldif");
        if (ldif is not null)
        {
            source = Path.Combine(work, "broken.ldif");
            await File.WriteAllTextAsync(source, ldif);
        }

        return await CliRunner.RunAsync(
            "plan", "--config", config, "--source-ldif", source,
            "--target-snapshot", Path.Combine(CliRunner.Samples, "target"), "--out", Path.Combine(work, "plan.json"));
    }

    private static async Task<string> SampleConfigAsync() => await File.ReadAllTextAsync(Path.Combine(CliRunner.Samples, "authsplit.json"));

    [Fact]
    public async Task A_missing_config_file_is_named()
    {
        var result = await CliRunner.RunAsync("plan", "--config", "/nonexistent/authsplit.json", "--source-ldif", "x.ldif", "--target-snapshot", "t", "--out", "p.json");

        result.ExitCode.Should().Be(2);
        result.Error.Should().Contain("/nonexistent/authsplit.json").And.Contain("config file not found");
    }

    [Theory]
    [InlineData("directory", "it is a directory")]
    [InlineData("fifo", "not a regular file")]
    [InlineData("/dev/zero", "not a regular file")]
    [InlineData("missing", "no such file")]
    public async Task A_plan_path_that_is_not_a_plan_file_is_named_at_once_by_approve_and_plan_show(string what, string expected)
    {
        var work = CliRunner.NewWorkDirectory();
        var config = Path.Combine(work, "config.json");
        await File.WriteAllTextAsync(config, await SampleConfigAsync());
        var path = what switch
        {
            "directory" => Directory.CreateDirectory(Path.Combine(work, "plans")).FullName,
            "fifo" => Path.Combine(work, "plan.fifo"),
            "missing" => Path.Combine(work, "plan.json"),
            _ => what,
        };
        if (what == "fifo")
        {
            (await CliProcess.RunShellAsync(work, "mkfifo plan.fifo")).Should().Be(0);
        }

        // A FIFO with no writer would block a reader forever, /dev/zero never ends: both must be refused before any read.
        foreach (var args in new[] { new[] { "approve", "--config", config, "--plan", path, "--by", "bob" }, new[] { "plan", "show", path } })
        {
            var result = await CliRunner.RunAsync(args);

            result.ExitCode.Should().Be(2, result.ToString());
            result.Error.Should().Contain(path).And.Contain(expected).And.NotContain("Access to the path");
        }
    }

    [Fact]
    public async Task Config_that_is_not_json_names_the_file()
    {
        var result = await PlanWithConfigAsync("{ \"Source\": { \"BaseDn\": ");

        result.ExitCode.Should().Be(2, result.ToString());
        result.Error.Should().Contain("config.json");
    }

    [Fact]
    public async Task Every_config_fault_is_printed_with_its_key_path()
    {
        var config = (await SampleConfigAsync())
            .Replace("\"PageSize\": 1000", "\"PageSize\": 0", StringComparison.Ordinal)
            .Replace("(objectClass=inetOrgPerson)\"", "(objectClass=inetOrgPerson\"", StringComparison.Ordinal)
            .Replace("\"2026-04-30\"", "\"someday\"", StringComparison.Ordinal);

        var result = await PlanWithConfigAsync(config);

        result.ExitCode.Should().Be(2, result.ToString());
        result.Error.Should().Contain("Source:PageSize").And.Contain("Waves:1:Filter").And.Contain("Waves:2:Deadline");
        result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries).Should().HaveCount(3, "one line per fault");
    }

    [Fact]
    public async Task A_misspelt_key_is_an_error_not_a_silent_default()
    {
        var config = (await SampleConfigAsync()).Replace("\"MaxDeletesPerWave\"", "\"MaxDeletesPerWav\"", StringComparison.Ordinal);

        var result = await PlanWithConfigAsync(config);

        result.ExitCode.Should().Be(2, result.ToString());
        result.Error.Should().Contain("MaxDeletesPerWav");
    }

    [Fact]
    public async Task An_unknown_dialect_is_an_error()
    {
        var config = (await SampleConfigAsync()).Replace("\"OpenLdap\"", "\"Novell\"", StringComparison.Ordinal);

        var result = await PlanWithConfigAsync(config);

        result.ExitCode.Should().Be(2, result.ToString());
        result.Error.Should().Contain("Dialect");
    }

    [Fact]
    public async Task Broken_ldif_names_the_file_and_line()
    {
        const string ldif = "version: 1\n\ndn: ou=hq,dc=example,dc=jp\nobjectClass: organizationalUnit\n\ndn: uid=x,ou=hq,dc=example,dc=jp\nthis line has no colon\n";

        var result = await PlanWithConfigAsync(await SampleConfigAsync(), ldif);

        result.ExitCode.Should().Be(2, result.ToString());
        result.Error.Should().Contain("broken.ldif:7");
    }

    [Fact]
    public async Task Unknown_command_line_options_are_bad_input()
    {
        var result = await CliRunner.RunAsync("plan", "--no-such-option");

        result.ExitCode.Should().Be(2);
        result.Error.Should().Contain("--no-such-option");
    }

    private static async Task<(CliResult Result, string PlanPath)> PlanAsync(string work, string source, string target, string? decisions = null)
    {
        var plan = Path.Combine(work, "plan.json");
        string[] decisionArgs = decisions is null ? [] : ["--decisions", decisions];
        var result = await CliRunner.RunAsync([
            "plan", "--config", Path.Combine(CliRunner.Samples, "authsplit.json"), "--source-ldif", source,
            "--target-snapshot", target, .. decisionArgs, "--out", plan]);
        return (result, plan);
    }

    private static string SampleLdif => Path.Combine(CliRunner.Samples, "legacy.ldif");

    private static string SampleTarget => Path.Combine(CliRunner.Samples, "target");

    private static string CopyOfSampleTarget()
    {
        var folder = Path.Combine(CliRunner.NewWorkDirectory(), "target");
        Directory.CreateDirectory(folder);
        foreach (var file in Directory.GetFiles(SampleTarget))
        {
            File.Copy(file, Path.Combine(folder, Path.GetFileName(file)));
        }

        return folder;
    }

    [Fact]
    public async Task An_ldif_export_cut_off_inside_an_entry_is_exit_2_and_no_plan()
    {
        var work = CliRunner.NewWorkDirectory();
        var text = await File.ReadAllTextAsync(SampleLdif);
        var lines = text.Split('\n');
        var lastDn = Array.FindLastIndex(lines, l => l.StartsWith("dn: ", StringComparison.Ordinal));
        var cutInLine = Path.Combine(work, "cut-in-line.ldif");
        await File.WriteAllTextAsync(cutInLine, text[..(text.Length - 10)]);
        var cutAtLine = Path.Combine(work, "cut-at-line.ldif");
        await File.WriteAllTextAsync(cutAtLine, string.Join('\n', lines[..(lastDn + 3)]) + "\n");

        foreach (var (file, line) in new[] { (cutInLine, lines.Length - 2), (cutAtLine, lastDn + 1) })
        {
            var (result, plan) = await PlanAsync(work, file, SampleTarget);

            result.ExitCode.Should().Be(2, result.ToString());
            result.Error.Should().Contain($"{Path.GetFileName(file)}:{line}:").And.Contain("cut off");
            File.Exists(plan).Should().BeFalse();
        }
    }

    [Fact]
    public async Task Two_entries_with_the_same_dn_are_exit_2_naming_both_lines()
    {
        var work = CliRunner.NewWorkDirectory();
        var text = await File.ReadAllTextAsync(SampleLdif);
        var lines = text.Split('\n');
        var first = Array.FindIndex(lines, l => l.StartsWith("dn: uid=akira.sato,", StringComparison.Ordinal));
        var duplicate = Path.Combine(work, "duplicate.ldif");
        var copy = lines[first].Replace("uid=akira.sato,", "UID=Akira.Sato, ", StringComparison.Ordinal);
        await File.WriteAllTextAsync(duplicate, text + copy + "\nobjectClass: inetOrgPerson\nuid: Akira.Sato\ncn: A\nsn: S\n\n");

        var (result, plan) = await PlanAsync(work, duplicate, SampleTarget);

        result.ExitCode.Should().Be(2, result.ToString());
        result.Error.Should().Contain($"duplicate.ldif:{lines.Length}:").And.Contain($"same DN as the entry at line {first + 1}");
        File.Exists(plan).Should().BeFalse();
    }

    [Fact]
    public async Task An_ldifde_export_in_utf16_plans_exactly_what_the_ldapsearch_export_plans()
    {
        var work = CliRunner.NewWorkDirectory();
        // The sample as ldifde -u writes an export: "changetype: add" under every DN, CR LF, UTF-16 LE with a BOM.
        var lines = (await File.ReadAllTextAsync(SampleLdif)).Split('\n').Where(l => !l.StartsWith("version:", StringComparison.Ordinal));
        var ldifde = string.Join("\r\n", lines.SelectMany(l => l.StartsWith("dn:", StringComparison.Ordinal) ? new[] { l, "changetype: add" } : [l]));
        var export = Path.Combine(work, "ldifde.ldf");
        await File.WriteAllTextAsync(export, ldifde, new System.Text.UnicodeEncoding(bigEndian: false, byteOrderMark: true));

        var (fromLdifde, ldifdePlan) = await PlanAsync(work, export, SampleTarget);
        var (fromSample, samplePlan) = await PlanAsync(CliRunner.NewWorkDirectory(), SampleLdif, SampleTarget);

        fromLdifde.ExitCode.Should().Be(fromSample.ExitCode, fromLdifde.ToString());
        fromSample.ExitCode.Should().Be(0, fromSample.ToString());
        var entities = System.Text.Json.Nodes.JsonNode.Parse(await File.ReadAllTextAsync(ldifdePlan))!["entities"]!.ToJsonString();
        entities.Should().Be(System.Text.Json.Nodes.JsonNode.Parse(await File.ReadAllTextAsync(samplePlan))!["entities"]!.ToJsonString());
    }

    [Fact]
    public async Task A_target_page_linking_to_a_page_it_does_not_hold_is_exit_2_naming_it()
    {
        var work = CliRunner.NewWorkDirectory();
        var target = CopyOfSampleTarget();
        File.Delete(Path.Combine(target, "users-0002.json"));

        var (result, plan) = await PlanAsync(work, SampleLdif, target);

        result.ExitCode.Should().Be(2, result.ToString());
        result.Error.Should().Contain("users-0001.json").And.Contain("the page after users-0001.json is missing");
        File.Exists(plan).Should().BeFalse();
    }

    [Fact]
    public async Task A_saved_target_snapshot_with_a_page_file_deleted_is_exit_2_naming_it()
    {
        var work = CliRunner.NewWorkDirectory();
        var saved = Path.Combine(work, "saved-target");
        using (var writer = new AuthSplit.Graph.Snapshots.GraphUserSnapshotWriter(saved))
        {
            var number = 1;
            foreach (var file in Directory.GetFiles(SampleTarget, "*.json").Order(StringComparer.Ordinal))
            {
                await writer.WriteAsync(AuthSplit.Graph.Snapshots.GraphUserPage.FromResponse(number++, await File.ReadAllBytesAsync(file), file, out _), CancellationToken.None);
            }

            writer.Commit();
        }

        (await PlanAsync(work, SampleLdif, saved)).Result.ExitCode.Should().Be(0, "the saved snapshot is whole");
        File.Delete(Path.Combine(saved, "users-00002.json"));

        var (result, plan) = await PlanAsync(CliRunner.NewWorkDirectory(), SampleLdif, saved);

        result.ExitCode.Should().Be(2, result.ToString());
        result.Error.Should().Contain("page file users-00002.json is missing");
        File.Exists(plan).Should().BeFalse();
    }

    [Fact]
    public async Task A_target_value_of_the_wrong_type_is_exit_2_naming_file_user_and_property()
    {
        var work = CliRunner.NewWorkDirectory();
        var target = CopyOfSampleTarget();
        var page = Path.Combine(target, "users-0002.json");
        var text = await File.ReadAllTextAsync(page);
        var at = text.IndexOf("\"accountEnabled\": true", StringComparison.Ordinal);
        await File.WriteAllTextAsync(page, text[..at] + "\"accountEnabled\": \"yes\"" + text[(at + "\"accountEnabled\": true".Length)..]);

        var (result, plan) = await PlanAsync(work, SampleLdif, target);

        result.ExitCode.Should().Be(2, result.ToString());
        result.Error.Should().Contain("users-0002.json: user 6d168d8f-5136-529c-bc8b-64d5f2984bd7 (value[0]): \"accountEnabled\" must be true, false or null, found \"yes\"");
        File.Exists(plan).Should().BeFalse();
    }

    [Fact]
    public async Task Byte_order_marks_in_target_pages_and_decisions_are_accepted()
    {
        var work = CliRunner.NewWorkDirectory();
        var target = CopyOfSampleTarget();
        foreach (var file in Directory.GetFiles(target))
        {
            await File.WriteAllBytesAsync(file, [.. System.Text.Encoding.UTF8.GetPreamble(), .. await File.ReadAllBytesAsync(file)]);
        }

        var decisions = Path.Combine(work, "decisions.json");
        await File.WriteAllBytesAsync(decisions, [.. System.Text.Encoding.UTF8.GetPreamble(), .. await File.ReadAllBytesAsync(Path.Combine(CliRunner.Samples, "decisions.json"))]);

        var (result, plan) = await PlanAsync(work, SampleLdif, target, decisions);

        result.ExitCode.Should().Be(0, result.ToString());
        File.Exists(plan).Should().BeTrue();
    }

    [Fact]
    public async Task An_unknown_key_in_the_decisions_file_is_exit_2_naming_key_path_and_line()
    {
        var work = CliRunner.NewWorkDirectory();
        var text = await File.ReadAllTextAsync(Path.Combine(CliRunner.Samples, "decisions.json"));
        var decisions = Path.Combine(work, "decisions.json");
        await File.WriteAllTextAsync(decisions, text.Replace("\"targetId\"", "\"targetID\"", StringComparison.Ordinal));
        var line = text[..text.IndexOf("\"targetId\"", StringComparison.Ordinal)].Count(c => c == '\n') + 1;

        var (result, plan) = await PlanAsync(work, SampleLdif, SampleTarget, decisions);

        result.ExitCode.Should().Be(2, result.ToString());
        result.Error.Should().Contain($"decisions.json:{line}: decisions[0].targetID: unknown key \"targetID\"");
        File.Exists(plan).Should().BeFalse();
    }
}

/// <summary>Exports made with the real ldapsearch from a private slapd.</summary>
[Collection(SlapdFixture.Collection)]
public sealed class LdapsearchExportPlanTests(SlapdFixture fixture)
{
    [Fact]
    public async Task A_size_limited_ldapsearch_export_is_exit_2_naming_its_result_line_and_no_plan()
    {
        var work = CliRunner.NewWorkDirectory();
        var passwordFile = Path.Combine(work, "pw");
        await File.WriteAllTextAsync(passwordFile, fixture.ReaderPassword);
        var export = await AuthSplit.Lab.Servers.ProcessRunner.RunAsync(
            "ldapsearch",
            ["-x", "-H", fixture.Server.LdapsUrl, "-D", SlapdFixture.ReaderDn, "-y", passwordFile, "-b", "dc=example,dc=jp", "-z", "10", "*", "+"],
            new Dictionary<string, string> { ["LDAPTLS_CACERT"] = fixture.Server.CaFile },
            TimeSpan.FromMinutes(1),
            CancellationToken.None);
        var path = Path.Combine(work, "export.ldif");
        await File.WriteAllTextAsync(path, export.Output);
        var line = Array.IndexOf(export.Output.Split('\n'), "result: 4 Size limit exceeded") + 1;
        line.Should().BePositive(export.ToString());
        var plan = Path.Combine(work, "plan.json");

        var result = await CliRunner.RunAsync(
            "plan", "--config", Path.Combine(CliRunner.Samples, "authsplit.json"), "--source-ldif", path,
            "--target-snapshot", Path.Combine(CliRunner.Samples, "target"), "--out", plan);

        result.ExitCode.Should().Be(2, result.ToString());
        result.Error.Should().Contain($"export.ldif:{line}: ldapsearch reports 'result: 4 Size limit exceeded'");
        File.Exists(plan).Should().BeFalse();
    }
}
