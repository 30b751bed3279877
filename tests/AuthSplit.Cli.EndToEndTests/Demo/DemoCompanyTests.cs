using System.Security.Cryptography;
using AuthSplit.Lab.Data;

namespace AuthSplit.Cli.EndToEndTests.Demo;

/// <summary>
/// The demo's company: the same size and seed give the same bytes (LDIF and Graph pages), another seed
/// another company, and every kind of entry the story needs is there.
/// </summary>
public sealed class DemoCompanyTests
{
    [Fact]
    public async Task The_same_size_and_seed_give_the_same_bytes_and_another_seed_another_company()
    {
        var first = await WriteAsync(500, 7);
        var second = await WriteAsync(500, 7);
        var other = await WriteAsync(500, 8);

        first.Keys.Should().Contain(["legacy.ldif", "target/users-0001.json", "target/inventory/servicePrincipals.json", "target/inventory/applications.json"]);
        second.Should().Equal(first, "same size and seed, same bytes, file for file");
        other["legacy.ldif"].Should().NotBe(first["legacy.ldif"], "another seed makes another company");
        other["target/users-0001.json"].Should().NotBe(first["target/users-0001.json"]);
    }

    [Fact]
    public void The_company_has_its_units_partner_staff_administrators_break_glass_service_accounts_systems_groups_and_blocked_cases()
    {
        var company = DemoCompany.Create(5000, 2024);
        var people = company.People;
        people.Should().HaveCountGreaterThanOrEqualTo(5000 - 10).And.HaveCountLessThanOrEqualTo(5000 + 10, "--size is the number of people");
        people.Select(p => p.Dn).Should().OnlyHaveUniqueItems();
        people.Select(p => p.EntryUuid).Should().OnlyHaveUniqueItems();
        people.Select(p => p.EmployeeNumber).Should().OnlyHaveUniqueItems();

        foreach (var unit in DemoCompany.Waves)
        {
            people.Count(p => p.Unit == unit && p.Role == DemoRole.Employee).Should().BeGreaterThan(500, $"{unit} has its employees");
            people.Should().ContainSingle(p => p.Unit == unit && p.Role == DemoRole.Administrator, $"{unit} has its administrator");
            people.Count(p => p.Unit == unit && p.Role == DemoRole.PartnerStaff).Should().BeGreaterThan(100, $"the partner's staff sit in {unit} too");
            people.Count(p => p.Unit == unit && p.Role == DemoRole.Leaver).Should().Be(2, $"{unit} has leavers with no cloud account");
            people.Count(p => p.Unit == unit && p.Role == DemoRole.Duplicated).Should().Be(2, $"{unit} has people with two cloud accounts");
            company.Systems.Count(s => s.Wave == unit).Should().Be(4);
            company.Groups.Count(g => g.Unit == unit).Should().BeGreaterThan(1);
        }

        people.Count(p => p.Unit == "partner" && p.Role == DemoRole.PartnerStaff).Should().BeGreaterThan(500, "the partner's own unit");
        people.Where(p => p.Role == DemoRole.PartnerStaff).Should().OnlyContain(p => p.EmployeeType == "partner");
        people.Should().ContainSingle(p => p.Role == DemoRole.BreakGlass).Which.EmployeeType.Should().Be("break-glass");
        people.Where(p => p.Role == DemoRole.Administrator).Should().OnlyContain(p => p.EmployeeType == "administrator");

        company.Systems.Should().HaveCount(12).And.OnlyHaveUniqueItems(s => s.Id);
        company.Systems.Should().ContainSingle(s => !s.AppEnabled, "one system's application is still disabled: a blocker");
        company.ServiceAccounts.Where(a => a.SystemId is not null).Select(a => a.Dn).Should().BeEquivalentTo(company.Systems.Select(s => s.BindDn), "each system has its legacy bind account");
        company.ServiceAccounts.Where(a => a.SystemId is null).Should().OnlyContain(a => a.Dn.EndsWith(DemoCompany.SystemOu, StringComparison.Ordinal), "infrastructure accounts sit in the protected ou=system");
        company.Groups.Should().OnlyContain(g => g.Members.Count > 0);
        foreach (var group in company.Groups.Where(g => g.Unit != "system"))
        {
            group.Members.Should().Contain(people.Single(p => p.Unit == group.Unit && p.Role == DemoRole.Administrator).Dn, "no wave leaves a group without members");
        }
    }

    [Fact]
    public async Task The_tenant_holds_the_employees_and_administrators_but_not_the_partners_staff_nor_the_leavers_and_a_second_account_for_each_duplicated_person()
    {
        var company = DemoCompany.Create(200, 3);
        var work = CliRunner.NewWorkDirectory();
        await company.WriteTargetAsync(Path.Combine(work, "target"), CancellationToken.None);
        var users = Directory.GetFiles(Path.Combine(work, "target"), "users-*.json")
            .SelectMany(f => System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(f))!["value"]!.AsArray())
            .Select(u => u!["employeeId"]?.GetValue<string>())
            .ToList();
        foreach (var person in company.People)
        {
            var expected = person.Role switch
            {
                DemoRole.PartnerStaff or DemoRole.Leaver => 0,
                DemoRole.Duplicated => 2,
                _ => person.Unit == "partner" ? 0 : 1,
            };
            users.Count(id => id == person.EmployeeNumber).Should().Be(expected, $"{person.Dn} ({person.Role})");
        }
    }

    private static async Task<Dictionary<string, string>> WriteAsync(int size, int seed)
    {
        var work = CliRunner.NewWorkDirectory();
        var company = DemoCompany.Create(size, seed);
        await company.WriteLdifAsync(Path.Combine(work, "legacy.ldif"), CancellationToken.None);
        await company.WriteTargetAsync(Path.Combine(work, "target"), CancellationToken.None);
        return Directory.GetFiles(work, "*", SearchOption.AllDirectories)
            .ToDictionary(f => Path.GetRelativePath(work, f), f => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(f))));
    }
}
