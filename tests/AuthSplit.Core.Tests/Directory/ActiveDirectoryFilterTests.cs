using System.Text;
using AuthSplit.Core.Configuration;
using AuthSplit.Core.Directory;
using AuthSplit.Core.Model;
using AuthSplit.Core.Planning;

namespace AuthSplit.Core.Tests.Directory;

/// <summary>Active Directory's filter semantics: objectCategory short names, in-chain matches, DN-valued attributes.</summary>
public sealed class ActiveDirectoryFilterTests
{
    private const string Root = "DC=corp,DC=example";
    private const string Schema = "CN=Schema,CN=Configuration," + Root;

    private static readonly ObjectCategoryMap Defaults = ObjectCategoryMap.ActiveDirectoryDefault(DistinguishedName.Parse("OU=People," + Root));

    private static DirectoryEntry Entry(string dn, params (string Name, string Value)[] attributes) =>
        DirectoryEntry.FromStrings(dn, attributes.GroupBy(a => a.Name).Select(g => KeyValuePair.Create(g.Key, g.Select(a => a.Value).ToArray())));

    private static readonly DirectoryEntry User = Entry(
        "CN=Taro,OU=People," + Root,
        ("objectClass", "top"), ("objectClass", "person"), ("objectClass", "organizationalPerson"), ("objectClass", "user"),
        ("objectCategory", "CN=Person," + Schema), ("manager", "CN=Boss,OU=People," + Root));

    private static readonly DirectoryEntry Computer = Entry(
        "CN=PC1,OU=People," + Root,
        ("objectClass", "top"), ("objectClass", "person"), ("objectClass", "organizationalPerson"), ("objectClass", "user"), ("objectClass", "computer"),
        ("objectCategory", "CN=Computer," + Schema));

    [Theory]
    [InlineData("(objectCategory=person)", true, false)]
    [InlineData("(objectCategory=user)", true, false)]
    [InlineData("(objectCategory=USER)", true, false)]
    [InlineData("(objectCategory=Person)", true, false)]
    [InlineData("(objectCategory=contact)", true, false)]
    [InlineData("(objectCategory=organizationalPerson)", true, false)]
    [InlineData("(objectCategory=computer)", false, true)]
    [InlineData("(objectCategory=group)", false, false)]
    [InlineData("(objectCategory=noSuchClass)", false, false)]
    [InlineData("(objectCategory=CN=Person,CN=Schema,CN=Configuration,DC=corp,DC=example)", true, false)]
    [InlineData("(objectCategory=cn=person, cn=schema, cn=configuration, dc=CORP, dc=example)", true, false)]
    [InlineData("(&(objectCategory=person)(objectClass=user))", true, false)]
    [InlineData("(&(objectClass=user)(!(objectClass=computer)))", true, false)]
    [InlineData("(objectClass=user)", true, true)]
    public void ObjectCategory_short_names_mean_the_class_default_object_category(string filter, bool user, bool computer)
    {
        var compiled = LdapFilter.Parse(filter, new FilterContext(Defaults));

        compiled.Matches(User).Should().Be(user);
        compiled.Matches(Computer).Should().Be(computer);
        compiled.ToString().Should().Be(LdapFilter.Parse(filter).ToString(), "the filter renders as written");
    }

    [Fact]
    public void Without_Active_Directory_semantics_objectCategory_compares_as_written()
    {
        LdapFilter.Parse("(objectCategory=person)").Matches(User).Should().BeFalse("OpenLDAP has no class map");
    }

    [Fact]
    public void The_default_schema_sits_under_the_base_DN_domain_and_knows_AD_categories()
    {
        Defaults.SchemaNamingContext.Should().Be(Schema);
        Defaults.Origin.Should().Be(ObjectCategoryMap.DefaultOrigin);
        Defaults.TryResolve("inetOrgPerson", out var inetOrgPerson).Should().BeTrue();
        inetOrgPerson.Should().Be("CN=Person," + Schema);
        Defaults.TryResolve("organizationalUnit", out var ou).Should().BeTrue();
        ou.Should().Be("CN=Organizational-Unit," + Schema);
        Defaults.TryResolve("Organizational-Unit", out _).Should().BeFalse("a class's cn is not a name the DC resolves (Samba answers such a filter with nothing)");
        Defaults.TryResolve("msDS-GroupManagedServiceAccount", out _).Should().BeTrue();
        ObjectCategoryMap.SchemaNamingContextFor(DistinguishedName.Parse("CN=Users,DC=a,DC=b,DC=c")).Should().Be("CN=Schema,CN=Configuration,DC=a,DC=b,DC=c");
    }

    [Fact]
    public async Task A_saved_map_reads_back_equal_and_a_different_map_hashes_differently()
    {
        var path = Path.Combine(Path.GetTempPath(), "authsplit-schema-" + Guid.NewGuid().ToString("N") + ".json");
        try
        {
            await using (var file = File.Create(path))
            {
                await Defaults.WriteAsync(file, CancellationToken.None);
            }

            var saved = ObjectCategoryMap.Read(path);
            saved.Origin.Should().Be(ObjectCategoryMap.SavedOrigin);
            saved.Sha256.Should().Be(Defaults.Sha256);
            saved.Classes.Should().HaveCount(Defaults.Classes.Count);
            var changed = ObjectCategoryMap.Create(ObjectCategoryMap.SavedOrigin, Schema, Defaults.Classes.Where(c => c.LdapDisplayName != "contact"));
            changed.Sha256.Should().NotBe(Defaults.Sha256);

            await File.WriteAllTextAsync(path, "{\"format\":\"something-else\"}");
            var read = () => ObjectCategoryMap.Read(path);
            read.Should().Throw<Core.Errors.InputException>().WithMessage("*" + path + "*");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void In_chain_membership_follows_nested_groups_and_survives_cycles()
    {
        var all = "CN=all,OU=Groups," + Root;
        var eng = "CN=eng,OU=Groups," + Root;
        var core = "CN=core,OU=Groups," + Root;
        var loop = "CN=loop,OU=Groups," + Root;
        DirectoryEntry[] entries =
        [
            Entry("CN=direct,OU=People," + Root, ("memberOf", all)),
            Entry("CN=nested,OU=People," + Root, ("memberOf", core.ToLowerInvariant())),
            Entry("CN=outside,OU=People," + Root, ("memberOf", loop)),
            Entry(core, ("memberOf", eng)),
            Entry(eng, ("memberOf", "CN=all, OU=Groups, DC=corp, DC=example"), ("memberOf", loop)),
            Entry(loop, ("memberOf", eng)),
            Entry(all),
        ];
        var filter = $"(memberOf:1.2.840.113556.1.4.1941:={all})";
        var chains = new LinkChainBuilder([LdapFilter.Parse(filter)]);
        chains.IsNeeded.Should().BeTrue();
        chains.Attributes.Should().BeEquivalentTo(["memberOf"]);
        foreach (var entry in entries)
        {
            chains.Add(entry);
        }

        var compiled = LdapFilter.Parse(filter, new FilterContext(Defaults, chains.Build()));

        entries.Where(compiled.Matches).Select(e => e.Dn.Split(',')[0]).Should().BeEquivalentTo(
            ["CN=direct", "CN=nested", "CN=outside", "CN=core", "CN=eng", "CN=loop"],
            "loop is in eng, which is in all: its members are nested members of all; all itself is not its own member");
        LdapFilter.Parse($"(memberOf={all})", new FilterContext(Defaults)).Matches(entries[1]).Should().BeFalse("without the rule, only direct membership counts");
    }

    [Fact]
    public void An_in_chain_filter_compiled_without_the_link_graph_refuses_to_answer()
    {
        var filter = LdapFilter.Parse("(memberOf:1.2.840.113556.1.4.1941:=CN=g,DC=x)");

        filter.HasInChainMatch.Should().BeTrue();
        filter.ToString().Should().Be("(memberOf:1.2.840.113556.1.4.1941:=CN=g,DC=x)");
        var evaluate = () => filter.Matches(User);
        evaluate.Should().Throw<InvalidOperationException>().WithMessage("*needs the directory's links*");
    }

    [Theory]
    [InlineData("CN=Person,CN=Schema,CN=Configuration,DC=corp,DC=example", true)]
    [InlineData("cn=a-b.c_d@e,ou=x1,dc=y", true)]
    [InlineData("CN=Smith\\, John,DC=x", false)]
    [InlineData("CN=Two Words,DC=x", false)]
    [InlineData("CN=a+UID=b,DC=x", false)]
    [InlineData("CN=,DC=x", false)]
    [InlineData("1.2.3=x,DC=y", false)]
    [InlineData("CN=x,", false)]
    [InlineData("CN=x=y,DC=z", false)]
    [InlineData("CN=山田,DC=x", false)]
    public void Simple_DNs_compare_as_their_lower_case_text_which_is_their_normal_form(string dn, bool simple)
    {
        DistinguishedName.TryNormalizeSimple(Encoding.UTF8.GetBytes(dn), out var lower).Should().Be(simple);
        if (simple)
        {
            lower.Should().Be(DistinguishedName.Normalize(dn));
        }
    }

    [Theory]
    [InlineData("(manager=cn=boss,ou=people,dc=corp,dc=example)", true)]
    [InlineData("(manager=CN=Boss, OU=People, DC=corp, DC=example)", true)]
    [InlineData("(manager=CN=Bo\\5c2css,OU=People,DC=corp,DC=example)", false)]
    [InlineData("(manager=CN=Other,OU=People,DC=corp,DC=example)", false)]
    [InlineData("(manager=*)", true)]
    public void DN_valued_attributes_compare_as_DNs(string filter, bool expected)
    {
        LdapFilter.Parse(filter).Matches(User).Should().Be(expected);
    }

    [Fact]
    public void Active_Directory_settings_resolve_class_names_with_the_default_schema_unless_given_another()
    {
        var options = new AuthSplitOptions
        {
            Source = new SourceOptions { BaseDn = Root, Dialect = DirectoryDialect.ActiveDirectory },
            Waves = { new WaveOptions { Name = "w", Order = 1, Deadline = "2026-01-01", BaseDn = Root, Filter = "(objectCategory=person)" } },
        };

        PlanningSettings.From(options).Waves[0].Filter.Matches(User).Should().BeTrue();
        PlanningSettings.From(options).Classifier.Classify(User).Should().Be(EntityKind.Person);
        var elsewhere = ObjectCategoryMap.Create(ObjectCategoryMap.LiveOrigin, "CN=Schema,CN=Configuration,DC=other", Defaults.Classes.Select(c => c with { DefaultObjectCategory = c.DefaultObjectCategory.Replace(Root, "DC=other", StringComparison.Ordinal) }));
        PlanningSettings.From(options, new FilterContext(elsewhere)).Waves[0].Filter.Matches(User).Should().BeFalse("the live schema is in another forest");

        options.Source.Dialect = DirectoryDialect.OpenLdap;
        PlanningSettings.From(options).Waves[0].Filter.Matches(User).Should().BeFalse("OpenLDAP compares objectCategory as written");
    }
}
