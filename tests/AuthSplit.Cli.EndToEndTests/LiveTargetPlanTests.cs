using System.Text.Json.Nodes;
using AuthSplit.Core.Planning.Format;
using AuthSplit.Graph.Emulator;

namespace AuthSplit.Cli.EndToEndTests;

/// <summary>
/// <c>authsplit plan</c> reading the target live through the Microsoft.Graph SDK from the Graph emulator
/// (the stand-in for Entra ID): the live plan equals the plan from the snapshot it saved.
/// </summary>
public sealed class LiveTargetPlanTests
{
    private const string Token = "e2e-graph-token-91d2c4";

    private static async Task<string> ConfigAsync(string work, Uri baseUrl, string tokenVariable)
    {
        var config = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(CliRunner.Samples, "authsplit.json")))!.AsObject();
        config["Target"] = new JsonObject
        {
            ["Kind"] = "Graph",
            ["BaseUrl"] = baseUrl.ToString(),
            ["Auth"] = "StaticToken",
            ["TokenEnvVar"] = tokenVariable,
            ["AllowInsecureLoopback"] = true,
            // Quick failures: an unreachable address gives up after two short retries.
            ["Limits"] = new JsonObject { ["MaxRetries"] = 2, ["RetryBaseDelaySeconds"] = 0.05 },
        };
        var path = Path.Combine(work, "live-target.json");
        await File.WriteAllTextAsync(path, config.ToJsonString());
        return path;
    }

    private static string NewTokenVariable(string value)
    {
        var variable = "AUTHSPLIT_E2E_GRAPH_" + Guid.NewGuid().ToString("N")[..8];
        Environment.SetEnvironmentVariable(variable, value);
        return variable;
    }

    private static string[] Offline => ["--source-ldif", Path.Combine(CliRunner.Samples, "legacy.ldif"), "--decisions", Path.Combine(CliRunner.Samples, "decisions.json")];

    private static Task<GraphEmulator> StartEmulatorAsync(IReadOnlyList<JsonObject>? users = null) =>
        GraphEmulator.StartAsync(new GraphEmulatorOptions
        {
            AccessToken = Token,
            Users = users ?? GraphEmulatorOptions.ReadPages(Path.Combine(CliRunner.Samples, "target")),
        }, CancellationToken.None);

    [Fact]
    public async Task A_plan_from_live_graph_equals_the_plan_from_the_snapshot_it_saved()
    {
        var work = CliRunner.NewWorkDirectory();
        await using var emulator = await StartEmulatorAsync();
        var config = await ConfigAsync(work, emulator.BaseUrl, NewTokenVariable(Token));
        var snapshot = Path.Combine(work, "snapshot");

        var live = await CliRunner.RunAsync(["plan", "--config", config, .. Offline, "--save-snapshot", snapshot, "--out", Path.Combine(work, "live.json")]);
        live.ExitCode.Should().Be(0, live.ToString());
        if (!OperatingSystem.IsWindows())
        {
            // Personal data: the saved snapshot is owner-only, whatever the umask of the test process.
            File.GetUnixFileMode(snapshot).Should().Be(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            File.GetUnixFileMode(Path.Combine(snapshot, "target")).Should().Be(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            foreach (var page in Directory.GetFiles(Path.Combine(snapshot, "target")))
            {
                File.GetUnixFileMode(page).Should().Be(UnixFileMode.UserRead | UnixFileMode.UserWrite, page);
            }
        }

        var saved = await CliRunner.RunAsync(["plan", "--config", config, .. Offline, "--target-snapshot", Path.Combine(snapshot, "target"), "--out", Path.Combine(work, "saved.json")]);
        saved.ExitCode.Should().Be(0, saved.ToString());
        var sample = await CliRunner.RunAsync(["plan", "--config", config, .. Offline, "--target-snapshot", Path.Combine(CliRunner.Samples, "target"), "--out", Path.Combine(work, "sample.json")]);
        sample.ExitCode.Should().Be(0, sample.ToString());

        var livePlan = await ReadAsync(Path.Combine(work, "live.json"));
        var savedPlan = await ReadAsync(Path.Combine(work, "saved.json"));
        var samplePlan = await ReadAsync(Path.Combine(work, "sample.json"));
        livePlan.Entities.Where(e => e.Match.TargetId is not null).Should().NotBeEmpty("the live read matched people to target users");
        Json(livePlan.Entities).Should().Be(Json(savedPlan.Entities), "entity for entity, the live plan is the saved snapshot's plan");
        Json(livePlan.Summary).Should().Be(Json(savedPlan.Summary));
        Json(livePlan.Entities).Should().Be(Json(samplePlan.Entities), "the emulator was seeded with the sample snapshot's users");
        livePlan.Inputs.Target.Kind.Should().Be("graph");
        livePlan.Inputs.Target.Location.Should().Be(emulator.BaseUrl.GetLeftPart(UriPartial.Authority));
        livePlan.Inputs.Target.Count.Should().Be(samplePlan.Inputs.Target.Count);
        livePlan.Inputs.Target.Sha256.Should().Be(savedPlan.Inputs.Target.Sha256, "the live plan records the hash of exactly the pages it saved");
        Directory.GetFiles(Path.Combine(snapshot, "target")).Select(Path.GetFileName).Order(StringComparer.Ordinal).Should().Equal("manifest.json", "users-00001.json");
        Directory.GetDirectories(snapshot).Select(Path.GetFileName).Should().Equal(["target"], "no staging folder is left behind");
    }

    [Fact]
    public async Task Many_pages_are_saved_in_order_and_plan_the_same_offline()
    {
        var work = CliRunner.NewWorkDirectory();
        var users = GraphEmulatorOptions.ReadPages(Path.Combine(CliRunner.Samples, "target")).ToList();
        users.AddRange(Enumerable.Range(0, 2100).Select(i => new JsonObject
        {
            ["id"] = $"ffff{i:D4}-0000-4000-8000-000000000000",
            ["userPrincipalName"] = $"cloud.only{i}@example.jp",
            ["mail"] = $"cloud.only{i}@example.jp",
            ["employeeId"] = null,
            ["onPremisesImmutableId"] = null,
            ["accountEnabled"] = i % 3 != 0,
        }));
        await using var emulator = await StartEmulatorAsync(users);
        var config = await ConfigAsync(work, emulator.BaseUrl, NewTokenVariable(Token));
        var snapshot = Path.Combine(work, "snapshot");

        var live = await CliRunner.RunAsync(["plan", "--config", config, .. Offline, "--save-snapshot", snapshot, "--out", Path.Combine(work, "live.json")]);
        live.ExitCode.Should().Be(0, live.ToString());
        // A second live read replaces the saved snapshot instead of mixing with it.
        var again = await CliRunner.RunAsync(["plan", "--config", config, .. Offline, "--save-snapshot", snapshot, "--out", Path.Combine(work, "again.json")]);
        again.ExitCode.Should().Be(0, again.ToString());
        var saved = await CliRunner.RunAsync(["plan", "--config", config, .. Offline, "--target-snapshot", Path.Combine(snapshot, "target"), "--out", Path.Combine(work, "saved.json")]);
        saved.ExitCode.Should().Be(0, saved.ToString());

        var livePlan = await ReadAsync(Path.Combine(work, "live.json"));
        var againPlan = await ReadAsync(Path.Combine(work, "again.json"));
        var savedPlan = await ReadAsync(Path.Combine(work, "saved.json"));
        Directory.GetFiles(Path.Combine(snapshot, "target")).Select(Path.GetFileName).Order(StringComparer.Ordinal).Should().Equal("manifest.json", "users-00001.json", "users-00002.json", "users-00003.json");
        livePlan.Inputs.Target.Count.Should().Be(users.Count);
        savedPlan.Inputs.Target.Count.Should().Be(users.Count);
        livePlan.PlanId.Should().Be(againPlan.PlanId, "two reads of an unchanged tenant give the same plan");
        Json(livePlan.Entities).Should().Be(Json(savedPlan.Entities));
        livePlan.Inputs.Target.Sha256.Should().Be(savedPlan.Inputs.Target.Sha256);
    }

    [Fact]
    public async Task A_rejected_token_exits_4_naming_graph_and_leaves_no_plan_or_snapshot()
    {
        var work = CliRunner.NewWorkDirectory();
        await using var emulator = await StartEmulatorAsync();
        const string wrong = "wrong-graph-token-55e0aa";
        var config = await ConfigAsync(work, emulator.BaseUrl, NewTokenVariable(wrong));

        var result = await CliRunner.RunAsync(["plan", "--config", config, .. Offline, "--save-snapshot", Path.Combine(work, "snapshot"), "--out", Path.Combine(work, "plan.json")]);

        result.ExitCode.Should().Be(4, result.ToString());
        result.Error.Should().Contain(emulator.BaseUrl.GetLeftPart(UriPartial.Authority)).And.Contain("401").And.Contain("Target:Auth");
        result.ToString().Should().NotContain(wrong).And.NotContain(Token);
        File.Exists(Path.Combine(work, "plan.json")).Should().BeFalse();
        (Directory.Exists(Path.Combine(work, "snapshot")) ? Directory.GetFileSystemEntries(Path.Combine(work, "snapshot")) : []).Should().BeEmpty("a failed read leaves no half snapshot");
    }

    [Fact]
    public async Task The_token_appears_in_no_output_log_plan_or_snapshot()
    {
        var work = CliRunner.NewWorkDirectory();
        await using var emulator = await StartEmulatorAsync();
        var config = await ConfigAsync(work, emulator.BaseUrl, NewTokenVariable(Token));
        var logs = Path.Combine(work, "logs");

        var result = await CliRunner.RunAsync(["plan", "--config", config, .. Offline, "--save-snapshot", Path.Combine(work, "snapshot"), "--out", Path.Combine(work, "plan.json"), "--log-dir", logs, "--verbose"]);

        result.ExitCode.Should().Be(0, result.ToString());
        Directory.GetFiles(logs).Should().NotBeEmpty();
        result.ToString().Should().NotContain(Token);
        foreach (var file in Directory.GetFiles(work, "*", SearchOption.AllDirectories))
        {
            (await File.ReadAllTextAsync(file)).Should().NotContain(Token, $"{file} must not hold the token");
        }
    }

    [Fact]
    public async Task An_unset_token_variable_exits_2_naming_it()
    {
        var work = CliRunner.NewWorkDirectory();
        var variable = "AUTHSPLIT_E2E_GRAPH_UNSET_" + Guid.NewGuid().ToString("N")[..8];
        var config = await ConfigAsync(work, new Uri("http://127.0.0.1:9/"), variable);

        var result = await CliRunner.RunAsync(["plan", "--config", config, .. Offline, "--out", Path.Combine(work, "plan.json")]);

        result.ExitCode.Should().Be(2, result.ToString());
        result.Error.Should().Contain(variable).And.Contain("not set");
    }

    [Fact]
    public async Task An_unreachable_graph_exits_4_naming_it()
    {
        var work = CliRunner.NewWorkDirectory();
        var port = Lab.Servers.ServerProcess.FreePort();
        var config = await ConfigAsync(work, new Uri($"http://127.0.0.1:{port}/"), NewTokenVariable(Token));

        var result = await CliRunner.RunAsync(["plan", "--config", config, .. Offline, "--out", Path.Combine(work, "plan.json")]);

        result.ExitCode.Should().Be(4, result.ToString());
        result.Error.Should().Contain($"127.0.0.1:{port}").And.Contain("cannot reach Graph");
    }

    private static async Task<PlanDocument> ReadAsync(string path) => PlanSerializer.Deserialize(await File.ReadAllBytesAsync(path), path);

    private static string Json<T>(T value) => System.Text.Json.JsonSerializer.Serialize(value, PlanSerializer.Options);
}
