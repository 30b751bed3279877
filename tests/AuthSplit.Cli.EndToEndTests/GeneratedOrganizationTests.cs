using System.Text.Json.Nodes;
using AuthSplit.Core.Model;
using AuthSplit.Core.Planning.Format;
using AuthSplit.Lab.Data;

namespace AuthSplit.Cli.EndToEndTests;

/// <summary>
/// The lab's generated organisation, planned offline without any seeding on top: its target users are
/// synchronised from its legacy directory, as a tenant a sync engine provisioned shows them, and its
/// cloud-only users are not.
/// </summary>
public sealed class GeneratedOrganizationTests
{
    private const int People = 40;
    private const int CloudOnly = 3;

    [Fact]
    public async Task An_unseeded_plan_of_the_generated_organisation_sees_its_people_synchronised_from_the_legacy_directory()
    {
        var work = CliRunner.NewWorkDirectory();
        var ldif = Path.Combine(work, "org.ldif");
        var target = Path.Combine(work, "target");
        await GeneratedOrganization.WriteLdifAsync(ldif, People, groupSize: 20, CancellationToken.None);
        await GeneratedOrganization.WriteTargetSnapshotAsync(target, People, pageSize: 999, cloudOnly: CloudOnly, CancellationToken.None);
        var config = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(CliRunner.Samples, "authsplit.json")))!.AsObject();
        config["Waves"] = new JsonArray(
            new JsonObject { ["Name"] = "hq", ["Order"] = 1, ["Deadline"] = "2099-04-30", ["BaseDn"] = $"ou=hq,{GeneratedOrganization.Suffix}", ["Filter"] = "(objectClass=inetOrgPerson)" },
            new JsonObject { ["Name"] = "domestic", ["Order"] = 2, ["Deadline"] = "2099-04-30", ["BaseDn"] = $"ou=domestic,{GeneratedOrganization.Suffix}", ["Filter"] = "(objectClass=inetOrgPerson)", ["DependsOn"] = new JsonArray("hq") });
        config["Matching"] = new JsonArray(new JsonObject { ["Source"] = "employeeNumber", ["Target"] = "employeeId" });
        var configPath = Path.Combine(work, "authsplit.json");
        await File.WriteAllTextAsync(configPath, config.ToJsonString());
        var planPath = Path.Combine(work, "plan.json");

        var result = await CliRunner.RunAsync("plan", "--config", configPath, "--source-ldif", ldif, "--target-snapshot", target, "--out", planPath);

        result.ExitCode.Should().Be(0, result.ToString());
        var plan = PlanSerializer.Deserialize(await File.ReadAllBytesAsync(planPath), planPath);
        var people = plan.Entities.Where(e => e.Kind == EntityKind.Person && e.Disposition == Disposition.Remove).ToList();
        people.Should().HaveCountGreaterThan(10);
        people.Should().OnlyContain(p => p.PasswordSync != null && p.PasswordSync.Status == TargetSyncStatus.Synchronised, "every employee's target account is synchronised from the legacy directory");

        // The users that exist only in the cloud read as Graph shows a user created in the tenant.
        var users = Directory.GetFiles(target).SelectMany(f => JsonNode.Parse(File.ReadAllText(f))!["value"]!.AsArray()).Select(u => u!.AsObject()).ToList();
        users.Where(u => u["employeeId"] is null).Should().HaveCount(CloudOnly)
            .And.OnlyContain(u => u.ContainsKey("onPremisesSyncEnabled") && u["onPremisesSyncEnabled"] == null);
        users.Where(u => u["employeeId"] is not null).Should().OnlyContain(u => u["onPremisesSyncEnabled"]!.GetValue<bool>());
    }
}
