using System.Text.Json;
using AuthSplit.Core.Planning.Format;
using AuthSplit.Lab.Servers;
using AuthSplit.Testing;

namespace AuthSplit.Cli.EndToEndTests;

/// <summary>Waves written as AD administrators write them plan the same live, from the saved snapshot and from a plain export.</summary>
[Collection(SambaAdFixture.Collection)]
public sealed class ActiveDirectoryPlanTests(SambaAdFixture fixture)
{
    [Fact]
    public async Task Waves_filtered_by_objectCategory_and_nested_membership_plan_the_same_live_and_offline()
    {
        var work = CliRunner.NewWorkDirectory();
        var variable = "AUTHSPLIT_E2E_AD_PW_" + Guid.NewGuid().ToString("N")[..8];
        Environment.SetEnvironmentVariable(variable, fixture.Server.AdministratorPassword);
        var config = Path.Combine(work, "ad.json");
        await File.WriteAllTextAsync(config, JsonSerializer.Serialize(new
        {
            Source = new
            {
                Url = SambaAdDc.LdapsUrl, BindDn = fixture.Server.AdministratorDn, PasswordEnvVar = variable, CaFile = fixture.Server.CaFile,
                BaseDn = fixture.Server.BaseDn, Dialect = "ActiveDirectory",
            },
            Waves = new object[]
            {
                new { Name = "ly-people", Order = 1, Deadline = "2026-12-31", BaseDn = fixture.CompaniesDn, Filter = "(&(objectCategory=person)(objectClass=user)(company=LY Corporation))" },
                new
                {
                    Name = "ly-groups", Order = 2, Deadline = "2026-12-31", BaseDn = fixture.CompaniesDn,
                    Filter = $"(&(objectCategory=group)(memberOf:1.2.840.113556.1.4.1941:=CN=ly-all,{fixture.LyDn}))", DependsOn = new[] { "ly-people" },
                },
            },
            Matching = new[] { new { Source = "mail", Target = "mail" } },
        }));
        var target = Path.Combine(work, "target");
        Directory.CreateDirectory(target);
        await File.WriteAllTextAsync(Path.Combine(target, "users-0001.json"), JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["@odata.context"] = "https://graph.microsoft.com/v1.0/$metadata#users(id,userPrincipalName,mail,accountEnabled)",
            ["value"] = new[] { "kenta.sato", "yui.tanaka", "ren.suzuki", "aoi.ito", "mei.kato" }
                .Select((name, i) => new { id = $"00000000-0000-0000-0000-00000000000{i}", userPrincipalName = $"{name}@ly.example", mail = $"{name}@ly.example", accountEnabled = true })
                .ToArray(),
        }));
        string[] targetArgs = ["--target-snapshot", target];
        var snapshot = Path.Combine(work, "snapshot");

        var live = await CliRunner.RunAsync(["plan", "--config", config, .. targetArgs, "--save-snapshot", snapshot, "--out", Path.Combine(work, "live.json")]);
        live.ExitCode.Should().Be(0, live.ToString());
        File.Exists(Path.Combine(snapshot, "source-schema.json")).Should().BeTrue("the class map is saved beside source.ldif");
        var fromSnapshot = await CliRunner.RunAsync(["plan", "--config", config, "--source-ldif", Path.Combine(snapshot, "source.ldif"), .. targetArgs, "--out", Path.Combine(work, "snapshot.json")]);
        fromSnapshot.ExitCode.Should().Be(0, fromSnapshot.ToString());

        // A plain export (no schema file beside it) resolves class names with AD's default schema.
        var plain = Path.Combine(work, "plain");
        Directory.CreateDirectory(plain);
        File.Copy(Path.Combine(snapshot, "source.ldif"), Path.Combine(plain, "export.ldif"));
        var fromExport = await CliRunner.RunAsync(["plan", "--config", config, "--source-ldif", Path.Combine(plain, "export.ldif"), .. targetArgs, "--out", Path.Combine(work, "export.json")]);
        fromExport.ExitCode.Should().Be(0, fromExport.ToString());

        var livePlan = await ReadAsync(Path.Combine(work, "live.json"));
        var snapshotPlan = await ReadAsync(Path.Combine(work, "snapshot.json"));
        var exportPlan = await ReadAsync(Path.Combine(work, "export.json"));
        livePlan.Entities.Where(e => e.Wave == "ly-people").Select(e => e.Dn.Split(',')[0]).Should().BeEquivalentTo(
            ["CN=Kenta Sato", "CN=Yui Tanaka", "CN=Ren Suzuki", "CN=Aoi Ito", "CN=Mei Kato", "CN=svc-ly-backup"],
            "objectCategory=person means CN=Person,CN=Schema,… as AD evaluates it; the Other KK person in OU=LY, the contact and the computer are not in scope");
        livePlan.Entities.Where(e => e.Wave == "ly-groups").Select(e => e.Dn.Split(',')[0]).Should().BeEquivalentTo(["CN=ly-eng", "CN=ly-eng-core"], "nested in ly-all");
        Json(livePlan.Entities).Should().Be(Json(snapshotPlan.Entities), "the saved snapshot plans entity for entity as the live read");
        Json(livePlan.Entities).Should().Be(Json(exportPlan.Entities), "AD's default schema agrees with Samba's");
        livePlan.Inputs.Source.Schema!.Origin.Should().Be("live");
        snapshotPlan.Inputs.Source.Schema!.Origin.Should().Be("saved");
        exportPlan.Inputs.Source.Schema!.Origin.Should().Be("ad-default");
        snapshotPlan.Inputs.Source.Schema.Sha256.Should().Be(livePlan.Inputs.Source.Schema.Sha256);
    }

    private static async Task<PlanDocument> ReadAsync(string path) => PlanSerializer.Deserialize(await File.ReadAllBytesAsync(path), path);

    private static string Json<T>(T value) => JsonSerializer.Serialize(value, PlanSerializer.Options);
}
