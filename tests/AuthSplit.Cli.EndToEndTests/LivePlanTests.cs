using System.Security.Cryptography;
using AuthSplit.Core.Planning.Format;
using AuthSplit.Testing;

namespace AuthSplit.Cli.EndToEndTests;

/// <summary>The plan made live from a real slapd equals the plan made offline from an export of it.</summary>
[Collection(SlapdFixture.Collection)]
public sealed class LivePlanTests(SlapdFixture fixture)
{
    private async Task<string> LiveConfigAsync(string work, string passwordVariable)
    {
        var text = await File.ReadAllTextAsync(Path.Combine(CliRunner.Samples, "authsplit.json"));
        var config = Path.Combine(work, "live.json");
        await File.WriteAllTextAsync(config, text
            .Replace("ldaps://ldap.example.jp:636", fixture.Server.LdapsUrl, StringComparison.Ordinal)
            .Replace("\"AUTHSPLIT_SOURCE_PASSWORD\"", $"\"{passwordVariable}\", \"CaFile\": \"{fixture.Server.CaFile}\"", StringComparison.Ordinal));
        return config;
    }

    private static string[] Target => ["--target-snapshot", Path.Combine(CliRunner.Samples, "target"), "--decisions", Path.Combine(CliRunner.Samples, "decisions.json")];

    [Fact]
    public async Task A_live_plan_equals_the_plan_from_an_ldapsearch_export_and_from_its_saved_snapshot()
    {
        var work = CliRunner.NewWorkDirectory();
        var variable = "AUTHSPLIT_E2E_PW_" + Guid.NewGuid().ToString("N")[..8];
        Environment.SetEnvironmentVariable(variable, fixture.ReaderPassword);
        var config = await LiveConfigAsync(work, variable);
        var livePlan = Path.Combine(work, "live-plan.json");
        var snapshot = Path.Combine(work, "snapshot");

        var live = await CliRunner.RunAsync(["plan", "--config", config, .. Target, "--save-snapshot", snapshot, "--out", livePlan]);
        live.ExitCode.Should().Be(0, live.ToString());
        if (!OperatingSystem.IsWindows())
        {
            // Personal data: the saved snapshot and the plan are owner-only, whatever the umask of the test process.
            File.GetUnixFileMode(snapshot).Should().Be(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            File.GetUnixFileMode(Path.Combine(snapshot, "source.ldif")).Should().Be(UnixFileMode.UserRead | UnixFileMode.UserWrite);
            File.GetUnixFileMode(livePlan).Should().Be(UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        // The export an engineer would take by hand: ldapsearch -LLL '*' '+' of the same directory.
        var export = await fixture.Server.SearchAsync(["-LLL", "-o", "ldif-wrap=no", "-E", "pr=500/noprompt", "-b", "dc=example,dc=jp", "(objectClass=*)", "*", "+"], CancellationToken.None);
        var exportPath = Path.Combine(work, "export.ldif");
        await File.WriteAllTextAsync(exportPath, export.Output);
        var fromExport = await CliRunner.RunAsync(["plan", "--config", config, "--source-ldif", exportPath, .. Target, "--out", Path.Combine(work, "export-plan.json")]);
        fromExport.ExitCode.Should().Be(0, fromExport.ToString());
        var fromSnapshot = await CliRunner.RunAsync(["plan", "--config", config, "--source-ldif", Path.Combine(snapshot, "source.ldif"), .. Target, "--out", Path.Combine(work, "snapshot-plan.json")]);
        fromSnapshot.ExitCode.Should().Be(0, fromSnapshot.ToString());

        var livePlanDocument = await ReadAsync(livePlan);
        var exportPlan = await ReadAsync(Path.Combine(work, "export-plan.json"));
        var snapshotPlan = await ReadAsync(Path.Combine(work, "snapshot-plan.json"));
        livePlanDocument.Entities.Should().NotBeEmpty();
        Json(livePlanDocument.Entities).Should().Be(Json(exportPlan.Entities), "entity for entity, the live plan is the export's plan");
        Json(livePlanDocument.Entities).Should().Be(Json(snapshotPlan.Entities));
        Json(livePlanDocument.Summary).Should().Be(Json(exportPlan.Summary));
        livePlanDocument.Inputs.Source.Kind.Should().Be("ldap");
        livePlanDocument.Inputs.Source.Location.Should().Be(fixture.Server.LdapsUrl);
        livePlanDocument.Inputs.Source.Sha256.Should().Be(snapshotPlan.Inputs.Source.Sha256, "the live plan records the hash of exactly the snapshot it saved");
        livePlanDocument.Inputs.Source.Sha256.Should().Be("sha256:" + Convert.ToHexStringLower(SHA256.HashData(await File.ReadAllBytesAsync(Path.Combine(snapshot, "source.ldif")))));
    }

    [Fact]
    public async Task A_live_plan_without_a_snapshot_reads_only_what_it_relies_on_and_plans_the_same()
    {
        var work = CliRunner.NewWorkDirectory();
        var variable = "AUTHSPLIT_E2E_PW_" + Guid.NewGuid().ToString("N")[..8];
        Environment.SetEnvironmentVariable(variable, fixture.ReaderPassword);
        var config = await LiveConfigAsync(work, variable);
        var logs = Path.Combine(work, "logs");

        var projected = await CliRunner.RunAsync(["plan", "--config", config, .. Target, "--out", Path.Combine(work, "projected.json"), "--log-dir", logs]);
        projected.ExitCode.Should().Be(0, projected.ToString());
        var whole = await CliRunner.RunAsync(["plan", "--config", config, .. Target, "--save-snapshot", Path.Combine(work, "snapshot"), "--out", Path.Combine(work, "whole.json")]);
        whole.ExitCode.Should().Be(0, whole.ToString());

        var projectedPlan = await ReadAsync(Path.Combine(work, "projected.json"));
        var wholePlan = await ReadAsync(Path.Combine(work, "whole.json"));
        projectedPlan.Entities.Should().NotBeEmpty();
        Json(projectedPlan.Entities).Should().Be(Json(wholePlan.Entities), "the plan depends only on its fingerprint attributes");
        Json(projectedPlan.Summary).Should().Be(Json(wholePlan.Summary));
        projectedPlan.Inputs.Source.Sha256.Should().NotBe(wholePlan.Inputs.Source.Sha256, "the hash covers what was read, and less was read");
        string.Join('\n', Directory.GetFiles(logs).Select(File.ReadAllText)).Should().Contain("Reading only the");
    }

    [Fact]
    public async Task The_bind_password_appears_in_no_output_log_plan_or_snapshot()
    {
        var work = CliRunner.NewWorkDirectory();
        var variable = "AUTHSPLIT_E2E_PW_" + Guid.NewGuid().ToString("N")[..8];
        Environment.SetEnvironmentVariable(variable, fixture.ReaderPassword);
        var config = await LiveConfigAsync(work, variable);
        var logs = Path.Combine(work, "logs");

        var result = await CliRunner.RunAsync(["plan", "--config", config, .. Target, "--save-snapshot", Path.Combine(work, "snapshot"), "--out", Path.Combine(work, "plan.json"), "--log-dir", logs, "--verbose"]);

        result.ExitCode.Should().Be(0, result.ToString());
        Directory.GetFiles(logs).Should().NotBeEmpty("the structured log is written");
        result.Output.Should().NotContain(fixture.ReaderPassword);
        result.Error.Should().NotContain(fixture.ReaderPassword);
        foreach (var file in Directory.GetFiles(work, "*", SearchOption.AllDirectories))
        {
            (await File.ReadAllTextAsync(file)).Should().NotContain(fixture.ReaderPassword, $"{file} must not hold the password");
        }
    }

    [Fact]
    public async Task A_wrong_password_exits_4_naming_the_server_and_writes_nothing()
    {
        var work = CliRunner.NewWorkDirectory();
        var variable = "AUTHSPLIT_E2E_PW_" + Guid.NewGuid().ToString("N")[..8];
        Environment.SetEnvironmentVariable(variable, "wrong-password-5678");
        var config = await LiveConfigAsync(work, variable);

        var result = await CliRunner.RunAsync(["plan", "--config", config, .. Target, "--save-snapshot", Path.Combine(work, "snapshot"), "--out", Path.Combine(work, "plan.json")]);

        result.ExitCode.Should().Be(4, result.ToString());
        result.Error.Should().Contain(fixture.Server.LdapsUrl).And.Contain("invalid credentials").And.NotContain("wrong-password-5678");
        File.Exists(Path.Combine(work, "plan.json")).Should().BeFalse();
        File.Exists(Path.Combine(work, "snapshot", "source.ldif")).Should().BeFalse("a failed read leaves no half snapshot");
    }

    [Fact]
    public async Task An_unreachable_directory_exits_4_naming_it()
    {
        var work = CliRunner.NewWorkDirectory();
        var config = await LiveConfigAsync(work, "AUTHSPLIT_UNUSED");
        var port = Lab.Servers.ServerProcess.FreePort();
        var text = (await File.ReadAllTextAsync(config)).Replace(fixture.Server.LdapsUrl, $"ldaps://127.0.0.1:{port}", StringComparison.Ordinal);
        await File.WriteAllTextAsync(config, text);
        Environment.SetEnvironmentVariable("AUTHSPLIT_UNUSED", "x");

        var result = await CliRunner.RunAsync(["plan", "--config", config, .. Target, "--out", Path.Combine(work, "plan.json")]);

        result.ExitCode.Should().Be(4, result.ToString());
        result.Error.Should().Contain($"ldaps://127.0.0.1:{port}").And.Contain("cannot connect");
    }

    private static async Task<PlanDocument> ReadAsync(string path) => PlanSerializer.Deserialize(await File.ReadAllBytesAsync(path), path);

    private static string Json<T>(T value) => System.Text.Json.JsonSerializer.Serialize(value, PlanSerializer.Options);
}
