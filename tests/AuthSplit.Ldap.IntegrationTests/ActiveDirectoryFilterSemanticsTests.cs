using AuthSplit.Core.Configuration;
using AuthSplit.Core.Directory;
using AuthSplit.Core.Model;
using AuthSplit.Lab.Servers;
using AuthSplit.Ldap.Ldif;
using AuthSplit.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace AuthSplit.Ldap.IntegrationTests;

/// <summary>
/// The filters AD administrators write for "all people of company X", answered by the DC itself and by
/// the planner's own evaluation of the snapshot it saves (source.ldif and source-schema.json, written
/// and read back by the product's own writer and readers): the two must select the same entries.
/// </summary>
[Collection(SambaAdFixture.Collection)]
public sealed class ActiveDirectoryFilterSemanticsTests(SambaAdFixture fixture)
{
    private static readonly SemaphoreSlim SnapshotLock = new(1, 1);
    private static (List<DirectoryEntry> Entries, ObjectCategoryMap Map)? _snapshot;

    public static TheoryData<string, bool> Filters => new()
    {
        // filter (with {ly} for OU=LY,OU=Companies,<domain> and {root} for the domain), must match something
        { "(&(objectCategory=person)(objectClass=user)(company=LY Corporation))", true },
        { "(&(objectCategory=person)(o=LY Corporation))", true },
        { "(&(objectCategory=user)(!(userAccountControl:1.2.840.113556.1.4.803:=2))(company=LY Corporation))", true },
        { "(&(sAMAccountType=805306368)(company=LY Corporation))", true },
        { "(memberOf:1.2.840.113556.1.4.1941:=CN=ly-all,{ly})", true },
        { "(memberOf=CN=ly-all,{ly})", true },
        { "(&(objectCategory=group)(member:1.2.840.113556.1.4.1941:=CN=Ren Suzuki,{ly}))", true },
        { "(manager:1.2.840.113556.1.4.1941:=CN=Kenta Sato,{ly})", true },
        { "(&(objectClass=user)(!(objectClass=computer))(company=LY Corporation))", true },
        { "(&(objectClass=user)(company=LY Corporation))", true },
        { "(&(objectCategory=CN=Person,CN=Schema,CN=Configuration,{root})(company=LY*))", true },
        { "(&(objectCategory=cn=person,cn=schema,cn=configuration,{root})(department=Sales))", true },
        { "(manager=CN=Yui Tanaka,{ly})", true },
        { "(manager=cn=yui tanaka,ou=ly,ou=companies,{root})", true },
        { "(&(objectCategory=person)(mail=*@ly.example))", true },
        { "(&(objectCategory=person)(employeeID>=E100)(employeeID<=E130))", true },
        { "(&(objectCategory=person)(employeeID>=E100))", true },
        { "(&(objectCategory=person)(|(department=HQ*)(department=Sales)))", true },
        { "(&(objectCategory=person)(objectClass=contact))", true },
        { "(&(objectCategory=contact)(company=LY Corporation))", true },
        { "(&(objectCategory=computer)(company=LY Corporation))", true },
        { "(objectCategory=computer)", true },
        { "(objectCategory=Organizational-Unit)", false },
        { "(objectCategory=organizationalUnit)", true },
        { "(objectCategory=group)", true },
        { "(&(objectCategory=person)(objectClass=user)(!(company=LY Corporation))(!(userAccountControl:1.2.840.113556.1.4.803:=2)))", true },
        { "(&(objectCategory=person)(objectClass=user)(userAccountControl:1.2.840.113556.1.4.804:=65538))", true },
        { "(&(objectCategory=person)(employeeID=e100))", true },
        { "(msDS-cloudExtensionAttribute1=ly corporation)", true },
        { "(&(objectCategory=person)(msDS-cloudExtensionAttribute1=LY*))", true },
        { "(objectCategory=msDS-GroupManagedServiceAccount)", false },
        { "(objectCategory=noSuchClass)", false },
    };

    [Theory]
    [MemberData(nameof(Filters))]
    public async Task The_saved_snapshot_selects_exactly_what_the_domain_controller_selects(string template, bool matchesSomething)
    {
        var filter = template.Replace("{ly}", fixture.LyDn, StringComparison.Ordinal).Replace("{root}", fixture.Server.BaseDn, StringComparison.Ordinal);
        var (entries, map) = await SnapshotAsync();
        var unbound = LdapFilter.Parse(filter);
        var chains = new LinkChainBuilder([unbound]);
        foreach (var entry in entries)
        {
            chains.Add(entry);
        }

        var compiled = LdapFilter.Parse(filter, new FilterContext(map, chains.Build()));
        var serverSide = await ServerSideAsync(filter);

        var local = entries.Where(compiled.Matches).Select(e => DistinguishedName.Normalize(e.Dn)).ToArray();

        local.Should().BeEquivalentTo(serverSide, $"filter {filter}");
        if (matchesSomething)
        {
            local.Should().NotBeEmpty($"the fixture holds entries that {filter} selects");
        }
    }

    [Fact]
    public async Task The_live_schema_maps_AD_class_names_to_their_default_object_category()
    {
        var (_, map) = await SnapshotAsync();
        var person = $"CN=Person,CN=Schema,CN=Configuration,{fixture.Server.BaseDn}";

        map.Origin.Should().Be(ObjectCategoryMap.SavedOrigin);
        map.TryResolve("user", out var user).Should().BeTrue();
        user.Should().Be(person);
        map.TryResolve("Person", out var anyCase).Should().BeTrue();
        anyCase.Should().Be(person);
        map.TryResolve("computer", out var computer).Should().BeTrue();
        computer.Should().Be($"CN=Computer,CN=Schema,CN=Configuration,{fixture.Server.BaseDn}");
        var defaults = ObjectCategoryMap.ActiveDirectoryDefault(DistinguishedName.Parse(fixture.HqDn));
        defaults.SchemaNamingContext.Should().Be(map.SchemaNamingContext, "a plain export's default schema sits where Samba's does");
        foreach (var name in new[] { "user", "person", "contact", "computer", "group", "organizationalUnit", "inetOrgPerson", "msDS-ManagedServiceAccount", "domainDNS", "container" })
        {
            defaults.TryResolve(name, out var fromDefault).Should().BeTrue(name);
            map.TryResolve(name, out var fromDc).Should().BeTrue(name);
            fromDefault.Should().Be(fromDc, $"AD's default schema agrees with the DC on {name}");
        }
    }

    // The whole domain, read and saved as `authsplit plan --save-snapshot` saves it, then read back.
    private async Task<(List<DirectoryEntry> Entries, ObjectCategoryMap Map)> SnapshotAsync()
    {
        await SnapshotLock.WaitAsync();
        try
        {
            if (_snapshot is { } cached)
            {
                return cached;
            }

            var options = await OptionsAsync();
            var directory = TestPaths.NewWorkDirectory();
            var ldifPath = Path.Combine(directory, "source.ldif");
            var schemaPath = Path.Combine(directory, "source-schema.json");
            await using (var file = File.Create(ldifPath))
            await using (var writer = new LdifWriter(file))
            {
                await foreach (var entry in new LdapLegacyDirectory(options, NullLogger<LdapLegacyDirectory>.Instance).ReadEntriesAsync(CancellationToken.None))
                {
                    await writer.WriteAsync(entry, CancellationToken.None);
                }

                await writer.CompleteAsync(CancellationToken.None);
            }

            var live = await ActiveDirectorySchemaReader.ReadAsync(options, NullLogger.Instance, CancellationToken.None);
            await using (var file = File.Create(schemaPath))
            {
                await live.WriteAsync(file, CancellationToken.None);
            }

            var entries = new List<DirectoryEntry>();
            await foreach (var entry in new LdifFileSource(ldifPath).ReadEntriesAsync(CancellationToken.None))
            {
                entries.Add(entry);
            }

            var saved = ObjectCategoryMap.Read(schemaPath);
            saved.Sha256.Should().Be(live.Sha256, "the saved map is the map read");
            _snapshot = (entries, saved);
            return _snapshot.Value;
        }
        finally
        {
            SnapshotLock.Release();
        }
    }

    private async Task<SourceOptions> OptionsAsync()
    {
        var passwordFile = Path.Combine(TestPaths.NewWorkDirectory(), "pw");
        await File.WriteAllTextAsync(passwordFile, fixture.Server.AdministratorPassword);
        return new SourceOptions
        {
            Url = SambaAdDc.LdapsUrl,
            BaseDn = fixture.Server.BaseDn,
            BindDn = fixture.Server.AdministratorDn,
            PasswordFile = passwordFile,
            CaFile = fixture.Server.CaFile,
            Dialect = DirectoryDialect.ActiveDirectory,
            TimeoutSeconds = 30,
        };
    }

    private async Task<string[]> ServerSideAsync(string filter)
    {
        var passwordFile = Path.Combine(TestPaths.NewWorkDirectory(), "pw");
        await File.WriteAllTextAsync(passwordFile, fixture.Server.AdministratorPassword);
        var result = await ProcessRunner.RunCheckedAsync(
            "/usr/bin/ldapsearch",
            ["-LLL", "-o", "ldif-wrap=no", "-x", "-H", SambaAdDc.LdapsUrl, "-D", fixture.Server.AdministratorDn, "-y", passwordFile, "-E", "pr=500/noprompt", "-b", fixture.Server.BaseDn, filter, "1.1"],
            new Dictionary<string, string> { ["LDAPTLS_CACERT"] = fixture.Server.CaFile },
            TimeSpan.FromMinutes(1),
            CancellationToken.None);
        return [.. result.Output.Split('\n')
            .Where(l => l.StartsWith("dn:", StringComparison.Ordinal))
            .Select(l => l.StartsWith("dn::", StringComparison.Ordinal) ? System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(l[4..].Trim())) : l[3..].Trim())
            .Select(DistinguishedName.Normalize)];
    }
}
