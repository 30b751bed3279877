using AuthSplit.Core.Configuration;
using AuthSplit.Core.Directory;
using AuthSplit.Core.Model;
using AuthSplit.Lab.Servers;
using AuthSplit.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace AuthSplit.Ldap.IntegrationTests;

/// <summary>The connector against a real Active Directory (Samba AD DC).</summary>
[Collection(SambaAdFixture.Collection)]
public sealed class ActiveDirectoryTests(SambaAdFixture fixture)
{
    private SourceOptions Options(string? baseDn = null, int pageSize = 1000)
    {
        var passwordFile = Path.Combine(TestPaths.NewWorkDirectory(), "pw");
        File.WriteAllText(passwordFile, fixture.Server.AdministratorPassword);
        return new SourceOptions
        {
            Url = SambaAdDc.LdapsUrl,
            BaseDn = baseDn ?? fixture.Server.BaseDn,
            BindDn = fixture.Server.AdministratorDn,
            PasswordFile = passwordFile,
            CaFile = fixture.Server.CaFile,
            Dialect = DirectoryDialect.ActiveDirectory,
            PageSize = pageSize,
            TimeoutSeconds = 30,
        };
    }

    private static async Task<List<DirectoryEntry>> ReadAllAsync(SourceOptions options)
    {
        var entries = new List<DirectoryEntry>();
        await foreach (var entry in new LdapLegacyDirectory(options, NullLogger<LdapLegacyDirectory>.Instance).ReadEntriesAsync(CancellationToken.None))
        {
            entries.Add(entry);
        }

        return entries;
    }

    [Fact]
    public async Task Reads_the_whole_domain_with_binary_objectGUIDs_in_small_pages()
    {
        var entries = await ReadAllAsync(Options(pageSize: 25));

        entries.Count.Should().BeGreaterThan(100, "a fresh domain already holds its built-in objects");
        entries.Should().OnlyContain(e => e.GetValues("objectGUID").Count == 1 && e.GetValues("objectGUID")[0].Length == 16);
        entries.Select(e => new Guid(e.GetValues("objectGUID")[0])).Should().OnlyHaveUniqueItems("each entry is returned exactly once across pages");
    }

    [Fact]
    public async Task Reads_the_attributes_the_safety_rails_rely_on()
    {
        var entries = await ReadAllAsync(Options());

        var administrator = entries.Single(e => DistinguishedName.Parse(e.Dn).Equals(DistinguishedName.Parse(fixture.Server.AdministratorDn)));
        administrator.GetString("adminCount").Should().Be("1");
        administrator.GetString("isCriticalSystemObject").Should().Be("TRUE");
        administrator.GetValues("objectSid")[0].Length.Should().Be(28);
        entries.Should().Contain(e => e.GetString("sAMAccountName") == "krbtgt");
        var alice = entries.Single(e => e.GetString("sAMAccountName") == "person0");
        alice.GetStrings("memberOf").Should().ContainSingle().Which.Should().StartWith("CN=hq-staff,OU=HQ");
        alice.GetString("userAccountControl").Should().Be("512");
        entries.Single(e => e.GetString("sAMAccountName") == "person4").Dn.Should().StartWith(@"CN=Smith\, John,OU=HQ");
        entries.Single(e => e.GetString("sAMAccountName") == "person5").GetString("cn").Should().Be("山田 太郎");
    }

    [Theory]
    [InlineData("(objectClass=user)")]
    [InlineData("(&(objectClass=user)(!(objectClass=computer)))")]
    [InlineData("(userAccountControl:1.2.840.113556.1.4.803:=2)")]
    [InlineData("(!(userAccountControl:1.2.840.113556.1.4.803:=2))")]
    [InlineData("(userAccountControl:1.2.840.113556.1.4.804:=514)")]
    [InlineData("(sAMAccountName=person*)")]
    [InlineData("(|(adminCount=1)(isCriticalSystemObject=TRUE))")]
    [InlineData("(cn=\\2a\\29\\28cn=\\2a)")]
    [InlineData("(cn=smith, john)")]
    [InlineData("(mail=PERSON1@AUTHSPLIT.LAB)")]
    public async Task The_planner_evaluates_filters_exactly_as_active_directory_does(string filter)
    {
        var entries = await ReadAllAsync(Options(baseDn: "OU=HQ," + fixture.Server.BaseDn));
        var serverSide = await ServerSideAsync(filter);

        var local = entries.Where(LdapFilter.Parse(filter).Matches).Select(e => DistinguishedName.Normalize(e.Dn));

        local.Should().BeEquivalentTo(serverSide, $"filter {filter}");
    }

    [Fact]
    public async Task Reading_from_the_domain_root_ignores_continuation_references()
    {
        var entries = await ReadAllAsync(Options());

        entries.Should().NotContain(e => e.Dn.Contains("CN=Configuration", StringComparison.OrdinalIgnoreCase), "other naming contexts are referrals, not followed");
    }

    private async Task<string[]> ServerSideAsync(string filter)
    {
        var passwordFile = Path.Combine(TestPaths.NewWorkDirectory(), "pw");
        await File.WriteAllTextAsync(passwordFile, fixture.Server.AdministratorPassword);
        var result = await ProcessRunner.RunCheckedAsync(
            "/usr/bin/ldapsearch",
            ["-LLL", "-o", "ldif-wrap=no", "-x", "-H", SambaAdDc.LdapsUrl, "-D", fixture.Server.AdministratorDn, "-y", passwordFile, "-b", "OU=HQ," + fixture.Server.BaseDn, filter, "1.1"],
            new Dictionary<string, string> { ["LDAPTLS_CACERT"] = fixture.Server.CaFile },
            TimeSpan.FromMinutes(1),
            CancellationToken.None);
        return [.. result.Output.Split('\n')
            .Where(l => l.StartsWith("dn:", StringComparison.Ordinal))
            .Select(l => l.StartsWith("dn::", StringComparison.Ordinal) ? System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(l[4..].Trim())) : l[3..].Trim())
            .Select(DistinguishedName.Normalize)];
    }
}
