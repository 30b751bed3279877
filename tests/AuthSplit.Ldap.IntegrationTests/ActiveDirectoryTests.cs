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

/// <summary>A plan made live from Active Directory keeps its hands off privileged and system objects.</summary>
[Collection(SambaAdFixture.Collection)]
public sealed class ActiveDirectoryPlanningTests(SambaAdFixture fixture)
{
    [Fact]
    public async Task A_live_plan_protects_built_in_accounts_and_matches_people_by_immutable_id()
    {
        var passwordFile = Path.Combine(TestPaths.NewWorkDirectory(), "pw");
        await File.WriteAllTextAsync(passwordFile, fixture.Server.AdministratorPassword);
        var options = new AuthSplitOptions
        {
            Source = new SourceOptions
            {
                Url = SambaAdDc.LdapsUrl, BaseDn = fixture.Server.BaseDn, BindDn = fixture.Server.AdministratorDn, PasswordFile = passwordFile,
                CaFile = fixture.Server.CaFile, Dialect = DirectoryDialect.ActiveDirectory,
            },
            Waves =
            {
                new WaveOptions { Name = "hq", Order = 1, Deadline = "2025-04-30", BaseDn = fixture.HqDn, Filter = "(objectClass=user)" },
                new WaveOptions { Name = "builtin", Order = 2, Deadline = "2025-04-30", BaseDn = "CN=Users," + fixture.Server.BaseDn, Filter = "(objectClass=user)" },
            },
            Matching = { new MatchingRuleOptions { Source = "objectGUID", Target = "onPremisesImmutableId" } },
        };
        AuthSplitOptionsValidator.Validate(options, requireLiveSource: true).Should().BeEmpty();
        var entries = new List<DirectoryEntry>();
        await foreach (var entry in new LdapLegacyDirectory(options.Source, NullLogger<LdapLegacyDirectory>.Instance).ReadEntriesAsync(CancellationToken.None))
        {
            entries.Add(entry);
        }

        // The tenant holds a cloud account for every HQ person, keyed as Entra Connect keys them.
        var targets = entries
            .Where(e => e.Dn.EndsWith(fixture.HqDn, StringComparison.OrdinalIgnoreCase) && e.GetStrings("objectClass").Contains("person"))
            .Select((e, i) => new TargetUser($"t{i}", new Dictionary<string, string?> { ["onPremisesImmutableId"] = Convert.ToBase64String(e.GetValues("objectGUID")[0]) }))
            .ToArray();
        var planner = new Core.Planning.Planner(Core.Planning.PlanningSettings.From(options), targets, []);
        foreach (var entry in entries)
        {
            planner.Add(entry);
        }

        var plan = planner.Complete(new Core.Planning.Format.PlanInputs
        {
            Source = new() { Kind = "ldap", Location = SambaAdDc.LdapsUrl, Sha256 = "sha256:test", Count = entries.Count },
            Target = new() { Kind = "graph-snapshot", Location = "test", Sha256 = "sha256:test", Count = targets.Length },
            ConfigSha256 = "sha256:test",
        }, null, false).Plan;

        var byName = plan.Entities.ToDictionary(e => DistinguishedName.Parse(e.Dn).Rdns[0].Parts[0].Value, StringComparer.OrdinalIgnoreCase);
        byName["Administrator"].Protection!.Reason.Should().Be("builtin-bind-account", "the plan binds as Administrator, and that check comes first");
        byName["krbtgt"].Disposition.Should().Be(Core.Planning.Format.Disposition.Protected);
        byName["Guest"].Protection!.Reason.Should().StartWith("builtin-", "Guest is a critical system object with a well-known SID");
        byName["alice"].Disposition.Should().Be(Core.Planning.Format.Disposition.Remove);
        byName["alice"].Match.Status.Should().Be(Core.Planning.Format.MatchStatus.Matched);
        byName["Smith, John"].Disposition.Should().Be(Core.Planning.Format.Disposition.Remove);
        byName["WS01"].Kind.Should().Be(EntityKind.Other, "a computer is not a person");
        plan.Entities.Where(e => e.Wave == "builtin").Should().OnlyContain(e => e.Disposition != Core.Planning.Format.Disposition.Remove,
            "nothing in a fresh domain's CN=Users may be removed: built-ins are protected, the rest have no target account");

        // Reading only the attributes the plan relies on (what `authsplit plan` does without
        // --save-snapshot) gives the same plan, built-in protection included.
        var settings = Core.Planning.PlanningSettings.From(options);
        var projected = new Core.Planning.Planner(settings, targets, []);
        var projectedCount = 0;
        await foreach (var entry in new LdapLegacyDirectory(options.Source, NullLogger<LdapLegacyDirectory>.Instance, attributes: settings.FingerprintAttributes).ReadEntriesAsync(CancellationToken.None))
        {
            entry.Attributes.Keys.Should().OnlyContain(k => settings.FingerprintAttributes.Contains(k, StringComparer.OrdinalIgnoreCase));
            projected.Add(entry);
            projectedCount++;
        }

        projectedCount.Should().Be(entries.Count);
        var projectedPlan = projected.Complete(new Core.Planning.Format.PlanInputs
        {
            Source = new() { Kind = "ldap", Location = SambaAdDc.LdapsUrl, Sha256 = "sha256:test", Count = entries.Count },
            Target = new() { Kind = "graph-snapshot", Location = "test", Sha256 = "sha256:test", Count = targets.Length },
            ConfigSha256 = "sha256:test",
        }, null, false).Plan;
        System.Text.Json.JsonSerializer.Serialize(projectedPlan.Entities, Core.Planning.Format.PlanSerializer.Options)
            .Should().Be(System.Text.Json.JsonSerializer.Serialize(plan.Entities, Core.Planning.Format.PlanSerializer.Options));
    }
}
