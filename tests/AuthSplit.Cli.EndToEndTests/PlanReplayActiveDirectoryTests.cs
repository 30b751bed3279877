using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using AuthSplit.Core.Directory;
using AuthSplit.Core.Planning.DryRun;
using AuthSplit.Core.Planning.Format;

namespace AuthSplit.Cli.EndToEndTests;

/// <summary>
/// <c>plan --replay</c> of an Active Directory snapshot, without a domain controller: the snapshot is laid out as
/// <c>--save-snapshot</c> lays out a live AD read (source.ldif, source-schema.json, and snapshot.json recording the
/// source as <c>ldap</c> with the class map's origin <c>live</c>). The replay records the live schema description,
/// so its id is the live plan's; a class map that differs from the one the filters were compiled against is refused.
/// (The live save itself is ActiveDirectoryPlanTests', on Samba.)
/// </summary>
public sealed class PlanReplayActiveDirectoryTests
{
    private const string Root = "DC=corp,DC=example";
    private const string Url = "ldaps://dc1.corp.example:636";

    [Fact]
    public async Task The_replay_records_the_live_class_map_and_refuses_another_one()
    {
        var work = CliRunner.NewWorkDirectory();
        var snapshot = Path.Combine(work, "snapshot");
        Directory.CreateDirectory(snapshot);
        var ldif = Path.Combine(snapshot, "source.ldif");
        await File.WriteAllTextAsync(ldif, Export());
        var map = ObjectCategoryMap.ActiveDirectoryDefault(DistinguishedName.Parse(Root));
        await using (var stream = File.Create(Path.Combine(snapshot, "source-schema.json")))
        {
            await map.WriteAsync(stream, CancellationToken.None);
        }

        var config = Path.Combine(work, "ad.json");
        await File.WriteAllTextAsync(config, JsonSerializer.Serialize(new
        {
            Source = new { BaseDn = Root, Dialect = "ActiveDirectory" },
            Waves = new[] { new { Name = "ly", Order = 1, Deadline = "2026-12-31", BaseDn = Root, Filter = "(&(objectCategory=person)(company=LY Corporation))" } },
            Matching = new[] { new { Source = "mail", Target = "mail" } },
        }));
        var target = Path.Combine(CliRunner.Samples, "target");
        var asFiles = Path.Combine(work, "as-files.json");
        var planned = await CliRunner.RunAsync("plan", "--config", config, "--source-ldif", ldif, "--target-snapshot", target, "--out", asFiles);
        planned.ExitCode.Should().Be(0, planned.ToString());
        var filePlan = PlanSerializer.Deserialize(await File.ReadAllBytesAsync(asFiles), asFiles);
        filePlan.Inputs.Source.Schema!.Origin.Should().Be("saved");
        filePlan.Entities.Select(e => e.Dn).Should().BeEquivalentTo([$"CN=Kenta Sato,OU=LY,{Root}", $"CN=Ren Suzuki,OU=LY,{Root}"]);

        // What a live read of the same entries records, as --save-snapshot writes it (the target came from a snapshot, so it is not in it).
        var live = filePlan.Inputs.Source with
        {
            Kind = "ldap",
            Location = Url,
            Sha256 = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(await File.ReadAllBytesAsync(ldif))),
            Schema = filePlan.Inputs.Source.Schema with { Origin = "live" },
        };
        await File.WriteAllBytesAsync(Path.Combine(snapshot, "snapshot.json"), new SnapshotDescriptor { SavedAt = "2026-12-01T00:00:00Z", Source = live }.ToJson());
        var livePlanId = PlanSerializer.ComputePlanId(filePlan with { PlanId = null, Inputs = filePlan.Inputs with { Source = live } });

        var withoutTarget = await CliRunner.RunAsync("plan", "--replay", snapshot, "--config", config, "--out", Path.Combine(work, "x.json"));
        withoutTarget.ExitCode.Should().Be(2, withoutTarget.ToString());
        withoutTarget.Error.Should().Contain("--replay: the snapshot holds no target (the live plan read it from a Graph snapshot, not live): give that file again with --target-snapshot");

        var replayedPath = Path.Combine(work, "replayed.json");
        var replay = await CliRunner.RunAsync("plan", "--replay", snapshot, "--target-snapshot", target, "--config", config, "--out", replayedPath);
        replay.ExitCode.Should().Be(0, replay.ToString());
        var replayed = PlanSerializer.Deserialize(await File.ReadAllBytesAsync(replayedPath), replayedPath);
        replayed.Inputs.Source.Should().BeEquivalentTo(live);
        replayed.PlanId.Should().Be(livePlanId).And.NotBe(filePlan.PlanId);

        // One class fewer in the saved map: another class map than the filters were compiled against.
        var schemaPath = Path.Combine(snapshot, "source-schema.json");
        var schema = JsonNode.Parse(await File.ReadAllTextAsync(schemaPath))!;
        schema["classes"]!.AsArray().RemoveAt(0);
        await File.WriteAllTextAsync(schemaPath, schema.ToJsonString());
        var edited = await CliRunner.RunAsync("plan", "--replay", snapshot, "--target-snapshot", target, "--config", config, "--out", Path.Combine(work, "edited.json"));
        edited.ExitCode.Should().Be(2, edited.ToString());
        edited.Error.Should().Contain($"{schemaPath}: holds another class map (sha256:").And.Contain($"than the live plan compiled its filters against ({live.Schema!.Sha256}, {live.Schema.Classes} classes): the saved snapshot was changed");
        File.Exists(Path.Combine(work, "edited.json")).Should().BeFalse();

        File.Delete(schemaPath);
        var deleted = await CliRunner.RunAsync("plan", "--replay", snapshot, "--target-snapshot", target, "--config", config, "--out", Path.Combine(work, "deleted.json"));
        deleted.ExitCode.Should().Be(2, deleted.ToString());
        deleted.Error.Should().Contain($"{schemaPath}: is missing, but the live plan compiled its filters against the directory's class map saved there");
    }

    private static string Export()
    {
        var text = new ActiveDirectoryExportText();
        void Add(string dn, string category, string classes, params string[] more) => text.Add(dn, category, classes, more);

        const string User = "top person organizationalPerson user";
        const string Person = "CN=Person,CN=Schema,CN=Configuration," + Root;
        Add($"CN=Kenta Sato,OU=LY,{Root}", Person, User, "company: LY Corporation", "mail: kenta.sato@ly.example");
        Add($"CN=Ren Suzuki,OU=LY,{Root}", Person, User, "company: LY Corporation", "mail: ren.suzuki@ly.example");
        Add($"CN=Jun Abe,OU=LY,{Root}", Person, User, "company: Other KK", "mail: jun.abe@other.example");
        Add($"CN=LYPC01,OU=LY,{Root}", "CN=Computer,CN=Schema,CN=Configuration," + Root, User + " computer", "company: LY Corporation");
        return text.ToString();
    }
}
