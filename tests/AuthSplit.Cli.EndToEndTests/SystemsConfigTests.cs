using System.Text.Json.Nodes;
using AuthSplit.Core.Planning.Format;

namespace AuthSplit.Cli.EndToEndTests;

/// <summary>The Systems section gets the config's typo detection down to its list elements, and its validation with key paths.</summary>
public sealed class SystemsConfigTests
{
    private static async Task<(CliResult Result, string PlanPath)> PlanAsync(JsonArray systems)
    {
        var config = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(CliRunner.Samples, "authsplit.json")))!.AsObject();
        config["Systems"] = systems;
        var work = CliRunner.NewWorkDirectory();
        var configPath = Path.Combine(work, "config.json");
        await File.WriteAllTextAsync(configPath, config.ToJsonString());
        var planPath = Path.Combine(work, "plan.json");
        var result = await CliRunner.RunAsync(
            "plan", "--config", configPath, "--source-ldif", Path.Combine(CliRunner.Samples, "legacy.ldif"),
            "--target-snapshot", Path.Combine(CliRunner.Samples, "target"), "--out", planPath);
        return (result, planPath);
    }

    private static JsonObject Crm() => new()
    {
        ["Id"] = "crm",
        ["Wave"] = "hq",
        ["Target"] = new JsonObject { ["ServicePrincipalId"] = "6b1f6c2e-3f3a-4a55-9d4e-0c7f2f1c9a11" },
        ["LegacyAccounts"] = new JsonArray(new JsonObject { ["Dn"] = "uid=svc-crm,ou=services,dc=example,dc=jp" }),
    };

    private static string[] Lines(CliResult result) => result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    [Fact]
    public async Task A_misspelt_key_inside_a_systems_list_element_is_one_line_with_its_path()
    {
        var crm = Crm();
        crm["LegacyAcounts"] = crm["LegacyAccounts"]!.DeepClone();
        crm.Remove("LegacyAccounts");
        crm["Probes"] = new JsonArray(new JsonObject { ["Name"] = "sso", ["Kind"] = "Http", ["Htpp"] = new JsonObject { ["Url"] = "https://crm.example.jp" } });
        crm["Cutover"] = new JsonObject { ["Http"] = new JsonObject { ["Url"] = "https://crm.example.jp/idp", ["Headers"] = new JsonArray(new JsonObject { ["Name"] = "Authorization", ["ValueEnvVr"] = "CRM_TOKEN" }) } };

        var (result, planPath) = await PlanAsync([crm]);

        result.ExitCode.Should().Be(2, result.ToString());
        var lines = Lines(result);
        lines.Should().Contain(l => l.Contains("Systems:0:LegacyAcounts: unknown key; did you mean LegacyAccounts?", StringComparison.Ordinal));
        lines.Should().Contain(l => l.Contains("Systems:0:Probes:0:Htpp: unknown key; did you mean Http?", StringComparison.Ordinal));
        lines.Should().Contain(l => l.Contains("Systems:0:Cutover:Http:Headers:0:ValueEnvVr: unknown key; did you mean ValueEnvVar?", StringComparison.Ordinal));
        File.Exists(planPath).Should().BeFalse();
    }

    [Fact]
    public async Task A_wrong_probe_kind_and_an_authorization_header_with_its_value_are_named_without_the_value()
    {
        var crm = Crm();
        crm["Probes"] = new JsonArray(new JsonObject { ["Name"] = "bind", ["Kind"] = "ldap-bind" });
        crm["Cutover"] = new JsonObject { ["Http"] = new JsonObject { ["Url"] = "https://crm.example.jp/idp", ["Headers"] = new JsonArray(new JsonObject { ["Name"] = "Authorization", ["Value"] = "Bearer s3cr3t-token-value" }) } };

        var (result, _) = await PlanAsync([crm]);

        result.ExitCode.Should().Be(2, result.ToString());
        Lines(result).Should().Contain(l => l.Contains("Systems:0:Probes:0:Kind: expected one of LdapBind, Http, Command", StringComparison.Ordinal));
        Lines(result).Should().Contain(l => l.Contains("Systems:0:Cutover:Http:Headers:0:Value", StringComparison.Ordinal));
        result.Error.Should().NotContain("s3cr3t-token-value");
    }

    [Fact]
    public async Task Systems_against_a_target_that_cannot_show_its_service_principals_make_no_plan()
    {
        var (result, planPath) = await PlanAsync([Crm()]);

        result.ExitCode.Should().Be(2, result.ToString());
        File.Exists(planPath).Should().BeFalse("a system's target app must be checked; a plan that skipped it would be approved blind");
    }

    [Fact]
    public async Task Without_systems_a_snapshot_without_inventory_plans_as_before_and_warns_that_groups_were_not_checked()
    {
        var (result, planPath) = await PlanAsync([]);

        result.ExitCode.Should().Be(0, result.ToString());
        result.Error.Should().Contain("Synchronised groups were not checked");
        var plan = PlanSerializer.Deserialize(await File.ReadAllBytesAsync(planPath), planPath);
        plan.Systems.Should().BeNull();
        plan.GroupSwitches.Should().BeNull();
        plan.Inputs.TargetInventory.Should().BeNull();
    }
}
