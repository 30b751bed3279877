using System.Runtime.Versioning;
using System.Text.Json.Nodes;
using AuthSplit.Core.Evidence.Packs;

namespace AuthSplit.Cli.EndToEndTests.Execution;

/// <summary>
/// Re-derivation (issue 12): a live plan saved with <c>--save-snapshot</c>, its wave run and its evidence exported;
/// <c>plan --replay</c> from the saved files gives the plan id the pack's manifest records, and a saved snapshot
/// changed after it was saved is refused with nothing written.
/// </summary>
[UnsupportedOSPlatform("windows")]
public sealed class PlanReplayTests
{
    [Fact]
    public async Task A_replay_of_the_saved_snapshot_reproduces_the_plan_id_in_the_evidence_pack_and_a_tampered_one_is_refused()
    {
        await using var lab = await ExecutionLab.StartAsync(people: 20);
        var snapshot = Path.Combine(lab.Work, "snapshot");
        var made = await lab.CliAsync("plan", "--config", lab.Config, "--save-snapshot", snapshot, "--out", lab.PlanPath);
        made.ExitCode.Should().Be(0, made.ToString());
        var plan = await ExecutionLab.ReadPlanAsync(lab.PlanPath);
        plan.Inputs.Source.Kind.Should().Be("ldap");
        plan.Inputs.Target.Kind.Should().Be("graph");
        File.GetUnixFileMode(Path.Combine(snapshot, "snapshot.json")).Should().Be(UnixFileMode.UserRead | UnixFileMode.UserWrite);
        await lab.ApproveAsync("alice");
        var run = await lab.CliAsync(lab.Run("hq", "bob"));
        run.ExitCode.Should().Be(0, run.ToString());
        var pack = Path.Combine(lab.Work, "pack");
        var export = await lab.CliAsync("evidence", "export", "--config", lab.Config, "--wave", "hq", "--out", pack, "--unsigned");
        export.ExitCode.Should().Be(0, export.ToString());
        var manifest = EvidenceManifest.Parse(await File.ReadAllBytesAsync(Path.Combine(pack, "manifest.json")));
        manifest.PlanId.Should().Be(plan.PlanId);

        // The auditor's replay: the directory and the tenant have changed since (the wave ran); the saved files have not.
        var replayed = Path.Combine(lab.Work, "replayed.json");
        var manifestPath = Path.Combine(pack, "manifest.json");
        var replay = await lab.CliAsync("plan", "--replay", snapshot, "--config", lab.Config, "--expect-plan-of", manifestPath, "--out", replayed);
        replay.ExitCode.Should().Be(0, replay.ToString());
        var replayedPlan = await ExecutionLab.ReadPlanAsync(replayed);
        replayedPlan.PlanId.Should().Be(manifest.PlanId, "the saved reads, the same config and no decisions give the live plan's id");
        replayedPlan.Inputs.Source.Location.Should().Be(lab.Server.LdapsUrl);
        replay.Output.Should().Contain($"Replayed from {snapshot}: source.ldif as ldap {lab.Server.LdapsUrl} ({plan.Inputs.Source.Sha256}, {plan.Inputs.Source.Count} entries); target/ as graph ")
            .And.Contain($"settings {manifest.Plan.ConfigSha256}; decisions none.").And.Contain($"Plan {manifest.PlanId} written to {replayed}.")
            .And.Contain($"Re-derived: {manifest.PlanId} is the plan id {manifestPath} records.");

        // The same files planned as files record them as files: another id, which is why --replay exists.
        var asFiles = await lab.CliAsync("plan", "--config", lab.Config, "--source-ldif", Path.Combine(snapshot, "source.ldif"), "--target-snapshot", Path.Combine(snapshot, "target"), "--out", Path.Combine(lab.Work, "as-files.json"));
        asFiles.ExitCode.Should().Be(0, asFiles.ToString());
        (await ExecutionLab.ReadPlanAsync(Path.Combine(lab.Work, "as-files.json"))).PlanId.Should().NotBe(plan.PlanId);

        // The id depends on the settings: a config that plans otherwise (another delete budget) replays to another id, and says which settings hash it used.
        var otherConfig = Path.Combine(lab.Work, "other.json");
        var node = JsonNode.Parse(await File.ReadAllTextAsync(lab.Config))!;
        node["Safety"]!["MaxDeletesPerWave"] = 4000;
        await File.WriteAllTextAsync(otherConfig, node.ToJsonString());
        var otherReplay = await lab.CliAsync("plan", "--replay", snapshot, "--config", otherConfig, "--expect-plan-of", manifestPath, "--out", Path.Combine(lab.Work, "other-replay.json"));
        otherReplay.ExitCode.Should().Be(15, otherReplay.ToString());
        otherReplay.Output.Should().NotContain(manifest.Plan.ConfigSha256).And.NotContain("Re-derived");
        otherReplay.Error.Should().Contain($"invalid: plan-id-differs: the replayed plan sha256:").And.Contain($" is not the plan {manifest.PlanId} that {manifestPath} records:")
            .And.Contain($"  settings (configSha256: another config): recorded {manifest.Plan.ConfigSha256}, replayed sha256:").And.NotContain("  source").And.NotContain("  target");
        var noReplay = await lab.CliAsync("plan", "--config", lab.Config, "--expect-plan-of", manifestPath, "--out", Path.Combine(lab.Work, "x.json"));
        noReplay.ExitCode.Should().Be(2, noReplay.ToString());
        noReplay.Error.Should().Contain("--expect-plan-of compares a replayed plan's id: give --replay with the saved snapshot");
        var notAManifest = await lab.CliAsync("plan", "--replay", snapshot, "--config", lab.Config, "--expect-plan-of", Path.Combine(pack, "entities.csv"), "--out", Path.Combine(lab.Work, "x.json"));
        notAManifest.ExitCode.Should().Be(2, notAManifest.ToString());
        notAManifest.Error.Should().Contain("entities.csv: --expect-plan-of: not JSON");

        // Tampering, each on its own copy of the snapshot: refused (exit 2) naming the file, no plan written.
        var cases = new (string Name, Func<string, Task> Tamper, string Expected)[]
        {
            ("truncated source", d => Truncate(Path.Combine(d, "source.ldif"), 200), "source.ldif: differs from what the live plan read: its SHA-256 is sha256:"),
            ("edited source", d => ReplaceAsync(Path.Combine(d, "source.ldif"), "ou=hq", "ou=HQ"), "source.ldif: differs from what the live plan read"),
            ("source deleted", d => Task.Run(() => File.Delete(Path.Combine(d, "source.ldif"))), "source.ldif: is missing: the saved snapshot was changed or cut short after it was saved"),
            ("target page edited with its manifest gone", async d =>
            {
                File.Delete(Path.Combine(d, "target", "manifest.json"));
                var page = System.IO.Directory.GetFiles(Path.Combine(d, "target"), "users-*.json").Order(StringComparer.Ordinal).First();
                var users = JsonNode.Parse(await File.ReadAllTextAsync(page))!;
                users["value"]!.AsArray().RemoveAt(0);
                await File.WriteAllTextAsync(page, users.ToJsonString());
            }, "target/: differs from what the live plan read: it hashes to sha256:"),
            ("descriptor deleted", d => Task.Run(() => File.Delete(Path.Combine(d, "snapshot.json"))), "holds no snapshot.json, so it was not saved by plan --save-snapshot"),
            ("descriptor edited", d => ReplaceAsync(Path.Combine(d, "snapshot.json"), "\"format\"", "\"formatx\""), "snapshot.json: not a saved snapshot's descriptor"),
        };
        foreach (var (name, tamper, expected) in cases)
        {
            var copy = Path.Combine(lab.Work, "tampered", name.Replace(' ', '-'));
            await CopyDirectoryAsync(snapshot, copy);
            await tamper(copy);
            var output = Path.Combine(lab.Work, name.Replace(' ', '-') + ".json");
            var result = await lab.CliAsync("plan", "--replay", copy, "--config", lab.Config, "--out", output);
            result.ExitCode.Should().Be(2, $"{name}: {result}");
            result.Error.Should().Contain(expected, name).And.NotContain("internal error");
            File.Exists(output).Should().BeFalse($"{name}: no plan is written");
        }

        // An operator's wrong turns: each its own message, exit 2, nothing written.
        var notADirectory = await lab.CliAsync("plan", "--replay", lab.PlanPath, "--config", lab.Config, "--out", Path.Combine(lab.Work, "x.json"));
        notADirectory.ExitCode.Should().Be(2, notADirectory.ToString());
        notADirectory.Error.Should().Contain($"{lab.PlanPath}: --replay: this is a file; give the directory plan --save-snapshot saved into");
        var missing = await lab.CliAsync("plan", "--replay", Path.Combine(lab.Work, "nowhere"), "--config", lab.Config, "--out", Path.Combine(lab.Work, "x.json"));
        missing.ExitCode.Should().Be(2, missing.ToString());
        missing.Error.Should().Contain("--replay: no such directory");
        var both = await lab.CliAsync("plan", "--replay", snapshot, "--save-snapshot", Path.Combine(lab.Work, "again"), "--config", lab.Config, "--out", Path.Combine(lab.Work, "x.json"));
        both.ExitCode.Should().Be(2, both.ToString());
        both.Error.Should().Contain("--replay plans from a saved snapshot and --save-snapshot saves a live read: give one of them");
        var twice = await lab.CliAsync("plan", "--replay", snapshot, "--source-ldif", Path.Combine(snapshot, "source.ldif"), "--config", lab.Config, "--out", Path.Combine(lab.Work, "x.json"));
        twice.ExitCode.Should().Be(2, twice.ToString());
        twice.Error.Should().Contain("--source-ldif: the snapshot holds the source the live plan read (source.ldif), which --replay plans from; leave --source-ldif out");
        var overSnapshot = await lab.CliAsync("plan", "--replay", snapshot, "--config", lab.Config, "--out", Path.Combine(snapshot, "source.ldif"));
        overSnapshot.ExitCode.Should().Be(2, overSnapshot.ToString());
        File.Exists(Path.Combine(lab.Work, "x.json")).Should().BeFalse();
        var again = await lab.CliAsync("plan", "--replay", snapshot, "--config", lab.Config, "--out", Path.Combine(lab.Work, "again.json"));
        again.ExitCode.Should().Be(0, "the snapshot is intact after every refusal: " + again);
    }

    private static async Task Truncate(string path, int bytes)
    {
        var content = await File.ReadAllBytesAsync(path);
        await File.WriteAllBytesAsync(path, content[..^bytes]);
    }

    private static async Task ReplaceAsync(string path, string from, string to)
    {
        var text = await File.ReadAllTextAsync(path);
        text.Should().Contain(from);
        await File.WriteAllTextAsync(path, text.Replace(from, to, StringComparison.Ordinal));
    }

    private static async Task CopyDirectoryAsync(string from, string to)
    {
        System.IO.Directory.CreateDirectory(to);
        foreach (var file in System.IO.Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            var destination = Path.Combine(to, Path.GetRelativePath(from, file));
            System.IO.Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
            await using var source = File.OpenRead(file);
            await using var target = File.Create(destination);
            await source.CopyToAsync(target);
        }
    }
}
