using System.Text.Json;
using AuthSplit.Core.Directory;
using AuthSplit.Core.Planning.Format;

namespace AuthSplit.Cli.EndToEndTests;

/// <summary>An Active Directory export planned offline, with AD's default schema or the schema saved beside it.</summary>
public sealed class ActiveDirectoryExportPlanTests
{
    private const string Root = "DC=corp,DC=example";
    private const string Person = "CN=Person,CN=Schema,CN=Configuration," + Root;

    private static string Export()
    {
        var text = new ActiveDirectoryExportText();
        void Add(string dn, string category, string classes, params string[] more) => text.Add(dn, category, classes, more);

        const string User = "top person organizationalPerson user";
        Add($"CN=Kenta Sato,OU=LY,{Root}", Person, User, "company: LY Corporation", "mail: kenta.sato@ly.example", "memberOf: CN=ly-all,OU=LY," + Root);
        Add($"CN=Ren Suzuki,OU=LY,{Root}", Person, User, "company: LY Corporation", "mail: ren.suzuki@ly.example", "memberOf: CN=ly-eng,OU=LY," + Root);
        Add($"CN=Jun Abe,OU=LY,{Root}", Person, User, "company: Other KK", "mail: jun.abe@other.example");
        Add($"CN=LYPC01,OU=LY,{Root}", "CN=Computer,CN=Schema,CN=Configuration," + Root, User + " computer", "company: LY Corporation");
        Add($"CN=ly-eng,OU=LY,{Root}", "CN=Group,CN=Schema,CN=Configuration," + Root, "top group", "memberOf: CN=ly-all,OU=LY," + Root, "member: CN=Ren Suzuki,OU=LY," + Root);
        Add($"CN=ly-all,OU=LY,{Root}", "CN=Group,CN=Schema,CN=Configuration," + Root, "top group", "member: CN=ly-eng,OU=LY," + Root, "member: CN=Kenta Sato,OU=LY," + Root);
        return text.ToString();
    }

    private static string Config(string dialect, string filter) => JsonSerializer.Serialize(new
    {
        Source = new { BaseDn = Root, Dialect = dialect },
        Waves = new[] { new { Name = "ly", Order = 1, Deadline = "2026-12-31", BaseDn = Root, Filter = filter } },
        Matching = new[] { new { Source = "mail", Target = "mail" } },
    });

    private static async Task<(CliResult Result, string PlanPath)> PlanAsync(string work, string config, string ldif)
    {
        var configPath = Path.Combine(work, "config.json");
        await File.WriteAllTextAsync(configPath, config);
        var planPath = Path.Combine(work, "plan.json");
        var result = await CliRunner.RunAsync("plan", "--config", configPath, "--source-ldif", ldif, "--target-snapshot", Path.Combine(CliRunner.Samples, "target"), "--out", planPath);
        return (result, planPath);
    }

    [Fact]
    public async Task An_export_plans_objectCategory_and_nested_membership_with_AD_default_schema_and_says_so()
    {
        var work = CliRunner.NewWorkDirectory();
        var ldif = Path.Combine(work, "export.ldif");
        await File.WriteAllTextAsync(ldif, Export());

        var (result, planPath) = await PlanAsync(work, Config("ActiveDirectory", $"(&(objectCategory=user)(memberOf:1.2.840.113556.1.4.1941:=CN=ly-all,OU=LY,{Root}))"), ldif);

        result.ExitCode.Should().Be(0, result.ToString());
        var plan = PlanSerializer.Deserialize(await File.ReadAllBytesAsync(planPath), planPath);
        plan.Entities.Select(e => e.Dn).Should().BeEquivalentTo([$"CN=Kenta Sato,OU=LY,{Root}", $"CN=Ren Suzuki,OU=LY,{Root}"], "Ren is in ly-eng, which is in ly-all");
        plan.Inputs.Source.Schema!.Origin.Should().Be("ad-default");
        plan.Inputs.Source.Schema.Classes.Should().BeGreaterThan(200);
    }

    [Fact]
    public async Task The_schema_saved_beside_the_export_is_used_and_a_different_map_gives_a_different_plan_id()
    {
        var work = CliRunner.NewWorkDirectory();
        var ldif = Path.Combine(work, "source.ldif");
        await File.WriteAllTextAsync(ldif, Export());
        var config = Config("ActiveDirectory", "(&(objectCategory=person)(company=LY Corporation))");
        var defaults = ObjectCategoryMap.ActiveDirectoryDefault(DistinguishedName.Parse(Root));
        var planIds = new List<string>();
        foreach (var map in new[] { defaults, ObjectCategoryMap.Create("saved", defaults.SchemaNamingContext, defaults.Classes.Where(c => c.LdapDisplayName != "contact")) })
        {
            await using (var file = File.Create(Path.Combine(work, "source-schema.json")))
            {
                await map.WriteAsync(file, CancellationToken.None);
            }

            var (result, planPath) = await PlanAsync(work, config, ldif);
            result.ExitCode.Should().Be(0, result.ToString());
            var plan = PlanSerializer.Deserialize(await File.ReadAllBytesAsync(planPath), planPath);
            plan.Entities.Select(e => e.Dn).Should().BeEquivalentTo([$"CN=Kenta Sato,OU=LY,{Root}", $"CN=Ren Suzuki,OU=LY,{Root}"]);
            plan.Inputs.Source.Schema!.Origin.Should().Be("saved");
            plan.Inputs.Source.Schema.Sha256.Should().Be(map.Sha256);
            planIds.Add(plan.PlanId!);
        }

        planIds.Should().OnlyHaveUniqueItems("the plan id covers the class map the filters were compiled against");
    }

    [Fact]
    public async Task An_in_chain_match_under_the_OpenLdap_dialect_is_a_config_error()
    {
        var work = CliRunner.NewWorkDirectory();
        var ldif = Path.Combine(work, "export.ldif");
        await File.WriteAllTextAsync(ldif, Export());

        var (result, _) = await PlanAsync(work, Config("OpenLdap", $"(memberOf:1.2.840.113556.1.4.1941:=CN=ly-all,OU=LY,{Root})"), ldif);

        result.ExitCode.Should().Be(2, result.ToString());
        result.Error.Should().Contain("1.2.840.113556.1.4.1941").And.Contain("only Active Directory");
    }
}
