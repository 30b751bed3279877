using System.Text;
using AuthSplit.Core.Directory;
using AuthSplit.Core.Model;
using FsCheck;
using FsCheck.Fluent;

namespace AuthSplit.Core.Tests.Directory;

public sealed class LdapFilterTests
{
    private static DirectoryEntry Entry(params (string Name, string Value)[] attributes) =>
        DirectoryEntry.FromStrings("cn=x,dc=example", attributes.GroupBy(a => a.Name).Select(g => KeyValuePair.Create(g.Key, g.Select(a => a.Value).ToArray())));

    private static readonly DirectoryEntry Person = Entry(
        ("objectClass", "top"), ("objectClass", "inetOrgPerson"), ("cn", "Taro  Yamada"), ("sn", "Yamada"), ("mail", "Taro.Yamada@Example.JP"),
        ("uid", "tyamada"), ("employeeNumber", "E1001"), ("userAccountControl", "514"), ("uidNumber", "1500"),
        ("manager", "CN=Boss,OU=HQ,DC=Example,DC=JP"), ("description", "*)(uid=*"), ("displayName", "山田 太郎"));

    [Theory]
    [InlineData("(objectClass=inetorgperson)", true)]
    [InlineData("(uid=TYAMADA)", true)]
    [InlineData("(cn=taro yamada)", true)]
    [InlineData("(cn= Taro Yamada )", true)]
    [InlineData("(cn=taroyamada)", false)]
    [InlineData("(mail=*)", true)]
    [InlineData("(c=*)", false)]
    [InlineData("(&(objectClass=inetOrgPerson)(uid=tyamada))", true)]
    [InlineData("(&(objectClass=inetOrgPerson)(uid=other))", false)]
    [InlineData("(|(uid=other)(sn=yamada))", true)]
    [InlineData("(!(uid=other))", true)]
    [InlineData("(!(uid=tyamada))", false)]
    [InlineData("(mail~=taro.yamada@example.jp)", true)]
    [InlineData("(displayName=山田 太郎)", true)]
    [InlineData("(displayName=山田*)", true)]
    [InlineData("(&)", true)]
    [InlineData("(|)", false)]
    [InlineData("uid=tyamada", true)]
    [InlineData("  (uid=tyamada)  ", true)]
    public void Evaluates_boolean_structure_and_string_matching(string filter, bool expected)
    {
        LdapFilter.Parse(filter).Matches(Person).Should().Be(expected);
    }

    [Theory]
    [InlineData("(mail=taro*)", true)]
    [InlineData("(mail=*@example.jp)", true)]
    [InlineData("(mail=t*.*@*.jp)", true)]
    [InlineData("(mail=*yamada*taro*)", false)]
    [InlineData("(cn=taro *yamada)", true)]
    [InlineData("(cn=taro* yamada)", true)]
    [InlineData("(cn=tar*o*o*)", false)]
    [InlineData("(cn=tar*ro*)", false)]
    [InlineData("(employeeNumber=E1*1)", true)]
    [InlineData("(uidNumber=15*)", false)]
    public void Evaluates_substrings_in_order_without_overlap(string filter, bool expected)
    {
        LdapFilter.Parse(filter).Matches(Person).Should().Be(expected);
    }

    [Theory]
    [InlineData("(uidNumber>=1500)", true)]
    [InlineData("(uidNumber>=1501)", false)]
    [InlineData("(uidNumber<=999)", false)]
    [InlineData("(uidNumber<=10000)", true, "integers compare as numbers, not text")]
    [InlineData("(uidNumber=01500)", true)]
    [InlineData("(sn>=X)", true)]
    [InlineData("(sn<=X)", false)]
    public void Orders_integers_numerically_and_strings_by_prepared_text(string filter, bool expected, string because = "")
    {
        LdapFilter.Parse(filter).Matches(Person).Should().Be(expected, because);
    }

    [Theory]
    [InlineData("(userAccountControl:1.2.840.113556.1.4.803:=2)", true)]
    [InlineData("(userAccountControl:1.2.840.113556.1.4.803:=514)", true)]
    [InlineData("(userAccountControl:1.2.840.113556.1.4.803:=16)", false)]
    [InlineData("(userAccountControl:1.2.840.113556.1.4.804:=18)", true)]
    [InlineData("(!(userAccountControl:1.2.840.113556.1.4.803:=2))", false)]
    public void Evaluates_active_directory_bitwise_rules(string filter, bool expected)
    {
        LdapFilter.Parse(filter).Matches(Person).Should().Be(expected);
    }

    [Fact]
    public void Dn_valued_attributes_compare_as_names()
    {
        LdapFilter.Parse("(manager=cn=boss, ou=hq, dc=example, dc=jp)").Matches(Person).Should().BeTrue();
        LdapFilter.Parse("(manager=cn=boss2,ou=hq,dc=example,dc=jp)").Matches(Person).Should().BeFalse();
    }

    [Fact]
    public void Escaped_values_match_only_the_literal_text()
    {
        LdapFilter.Parse(@"(description=\2a\29\28uid=\2a)").Matches(Person).Should().BeTrue();
        LdapFilter.Parse(@"(description=\2a\29\28uid=\2a)").Matches(Entry(("description", "anything"))).Should().BeFalse();
        LdapFilter.Parse(@"(cn=caf\c3\a9)").Matches(Entry(("cn", "café"))).Should().BeTrue();
    }

    [Fact]
    public void Binary_attributes_compare_bytes()
    {
        var guid = Guid.NewGuid().ToByteArray();
        var entry = new DirectoryEntry("cn=x", new Dictionary<string, IReadOnlyList<byte[]>> { ["objectGUID"] = [guid] });

        LdapFilter.Parse($"(objectGUID={LdapFilter.EscapeValue(guid)})").Matches(entry).Should().BeTrue();
        var other = (byte[])guid.Clone();
        other[0] ^= 0xFF;
        LdapFilter.Parse($"(objectGUID={LdapFilter.EscapeValue(other)})").Matches(entry).Should().BeFalse();
    }

    [Theory]
    [InlineData("(uid=x", "expected ')'")]
    [InlineData("(uid=x))", "unexpected ')' after the end")]
    [InlineData("", "empty")]
    [InlineData("(=x)", "expected an attribute name at offset 1")]
    [InlineData("(uid=a(b)", "unescaped '('")]
    [InlineData(@"(uid=\zz)", "two hex digits")]
    [InlineData("(uid>x)", "expected '='")]
    [InlineData("(uid>=a*b)", "'*' is not allowed")]
    [InlineData("(uid=a**b)", "'**'")]
    [InlineData("(cn:2.5.13.5:=x)", "cannot be evaluated offline")]
    [InlineData("(memberOf:1.2.840.113556.1.4.1941:=not a DN)", "must be a DN")]
    [InlineData("(cn:dn:=x)", "cannot be evaluated offline")]
    [InlineData("(userAccountControl:1.2.840.113556.1.4.803:=two)", "must be an integer")]
    public void Malformed_or_unsupported_filters_are_refused_with_a_reason(string filter, string message)
    {
        LdapFilter.TryParse(filter, out _, out var error).Should().BeFalse();
        error.Should().Contain(message);
    }

    [Fact]
    public void Hostile_sizes_are_refused()
    {
        LdapFilter.TryParse("(cn=" + new string('a', LdapFilter.MaxLength) + ")", out _, out var tooLong).Should().BeFalse();
        tooLong.Should().Contain("at most");
        var deep = string.Concat(Enumerable.Repeat("(!", LdapFilter.MaxDepth + 1)) + "(cn=x)" + new string(')', LdapFilter.MaxDepth + 1);
        LdapFilter.TryParse(deep, out _, out var tooDeep).Should().BeFalse();
        tooDeep.Should().Contain("nests deeper");
    }

    [Fact]
    public void Attribute_names_are_collected_lower_case()
    {
        LdapFilter.Parse("(&(objectClass=user)(|(Mail=*)(!(userAccountControl:1.2.840.113556.1.4.803:=2))))").AttributeNames
            .Should().BeEquivalentTo("objectclass", "mail", "useraccountcontrol");
    }

    [Theory]
    [InlineData("(&(objectClass=user)(!(cn=a\\2ab*c*d)))")]
    [InlineData("(|(uid>=5)(uid<=3)(cn~=x)(mail=*))")]
    [InlineData("(userAccountControl:1.2.840.113556.1.4.803:=2)")]
    [InlineData("(displayName=山田\\29)")]
    public void ToString_round_trips(string filter)
    {
        var canonical = LdapFilter.Parse(filter).ToString();

        LdapFilter.Parse(canonical).ToString().Should().Be(canonical);
        canonical.Should().Be(filter.Replace("\\2a", "\\2a", StringComparison.Ordinal));
    }

    [Fact]
    public void Any_escaped_value_matches_exactly_itself()
    {
        Prop.ForAll<NonNull<string>>(value =>
        {
            var text = value.Get;
            if (text.Any(char.IsSurrogate))
            {
                return true;
            }

            var filter = LdapFilter.Parse("(description=" + LdapFilter.EscapeValue(text) + ")");
            var same = Entry(("description", text));
            var other = Entry(("description", text + "x"));
            return filter.Matches(same) && !filter.Matches(other);
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void Escaped_bytes_round_trip_as_hex_pairs()
    {
        LdapFilter.EscapeValue(Encoding.UTF8.GetBytes("a*")).Should().Be(@"\61\2a");
        LdapFilter.EscapeValue("a*(b)\\\0").Should().Be(@"a\2a\28b\29\5c\00");
    }
}
