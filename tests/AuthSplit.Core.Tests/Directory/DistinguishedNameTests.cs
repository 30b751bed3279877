using AuthSplit.Core.Directory;
using FsCheck;
using FsCheck.Fluent;

namespace AuthSplit.Core.Tests.Directory;

public sealed class DistinguishedNameTests
{
    [Theory]
    [InlineData(@"cn=Smith\, John,ou=hq,dc=example,dc=com", "Smith, John")]
    [InlineData(@"cn=a\+b,dc=x", "a+b")]
    [InlineData(@"cn=\""quoted\"",dc=x", "\"quoted\"")]
    [InlineData(@"cn=back\\slash,dc=x", @"back\slash")]
    [InlineData(@"cn=\<tag\>,dc=x", "<tag>")]
    [InlineData(@"cn=semi\;colon,dc=x", "semi;colon")]
    [InlineData(@"cn=\#hash,dc=x", "#hash")]
    [InlineData(@"cn=\ leading,dc=x", " leading")]
    [InlineData(@"cn=trailing\ ,dc=x", "trailing ")]
    [InlineData(@"cn=*)(uid=*,dc=x", "*)(uid=*")]
    [InlineData(@"cn=a=b,dc=x", "a=b")]
    [InlineData(@"cn=caf\c3\a9,dc=x", "café")]
    [InlineData("cn=山田 太郎,ou=本社,dc=example,dc=jp", "山田 太郎")]
    [InlineData(@"cn=nul\00byte,dc=x", "nul\0byte")]
    [InlineData("cn=#04024869,dc=x", "Hi")]
    public void Parses_escaped_and_hostile_values(string dn, string expected)
    {
        DistinguishedName.Parse(dn).Rdns[0].Parts[0].Value.Should().Be(expected);
    }

    [Fact]
    public void Parses_multi_valued_rdns_and_tolerates_spaces_around_separators()
    {
        var dn = DistinguishedName.Parse("cn=John Smith + uid=jsmith , ou=hq ; dc=example");

        dn.Rdns.Should().HaveCount(3);
        dn.Rdns[0].Parts.Should().Equal(new AttributeTypeAndValue("cn", "John Smith"), new AttributeTypeAndValue("uid", "jsmith"));
        dn.Rdns[2].Parts[0].Value.Should().Be("example");
    }

    [Theory]
    [InlineData(@"CN=Foo\,Bar , DC=Example", @"cn=foo\2cbar,dc=example")]
    [InlineData("uid=jsmith+cn=John,dc=x", "cn=John+uid=jsmith,dc=x")]
    [InlineData("cn=John   Smith,dc=x", "cn=john smith,dc=x")]
    [InlineData("2.5.4.3=x,dc=y", "2.5.4.3=X,DC=Y")]
    [InlineData("cn=ＡＢＣ,dc=x", "cn=abc,dc=x")]
    public void Equivalent_forms_are_equal_after_normalisation(string left, string right)
    {
        DistinguishedName.Parse(left).Should().Be(DistinguishedName.Parse(right));
        DistinguishedName.Parse(left).GetHashCode().Should().Be(DistinguishedName.Parse(right).GetHashCode());
    }

    [Theory]
    [InlineData("cn=a,dc=x", "cn=b,dc=x")]
    [InlineData("cn=a,dc=x", "uid=a,dc=x")]
    [InlineData(@"cn=a\ ,dc=x", "cn=a b,dc=x")]
    public void Different_names_are_not_equal(string left, string right)
    {
        DistinguishedName.Parse(left).Should().NotBe(DistinguishedName.Parse(right));
    }

    [Theory]
    [InlineData("ou=hq,dc=x", "ou=hq,dc=x", true)]
    [InlineData("uid=a,ou=hq,dc=x", "ou=hq,dc=x", true)]
    [InlineData("uid=a,ou=team,ou=hq,dc=x", "OU=HQ,DC=X", true)]
    [InlineData("ou=xhq,dc=x", "ou=hq,dc=x", false)]
    [InlineData("uid=a,ou=hq2,dc=x", "ou=hq,dc=x", false)]
    [InlineData("dc=x", "ou=hq,dc=x", false)]
    [InlineData("cn=anything", "", true)]
    public void IsWithin_compares_whole_rdns_from_the_root(string dn, string baseDn, bool expected)
    {
        DistinguishedName.Parse(dn).IsWithin(DistinguishedName.Parse(baseDn)).Should().Be(expected);
    }

    [Fact]
    public void Parent_drops_the_leaf()
    {
        DistinguishedName.Parse(@"cn=Smith\, John,ou=hq,dc=x").Parent!.Should().Be(DistinguishedName.Parse("ou=hq,dc=x"));
        DistinguishedName.Parse("dc=x").Parent.Should().Be(DistinguishedName.Root);
        DistinguishedName.Root.Parent.Should().BeNull();
    }

    [Theory]
    [InlineData("cn=a,", "empty RDN")]
    [InlineData("cn", "expected '='")]
    [InlineData("=a,dc=x", "expected an attribute type at offset 0")]
    [InlineData(@"cn=a\", "unexpected end after '\\' at offset 4")]
    [InlineData(@"cn=a\q", @"'\q' at offset 4 is not a valid escape")]
    [InlineData(@"cn=a\zz", "not a valid escape")]
    [InlineData("cn=\"open", "unterminated quoted value")]
    [InlineData("cn=#abc", "even number of hex digits")]
    [InlineData(@"cn=\ff\fe", "not valid UTF-8")]
    public void Malformed_names_are_refused_with_the_offset(string dn, string message)
    {
        DistinguishedName.TryParse(dn, out _, out var error).Should().BeFalse();
        error.Should().Contain(message);
    }

    [Theory]
    [InlineData("Smith, John", @"Smith\, John")]
    [InlineData("#1 fan", @"\#1 fan")]
    [InlineData(" padded ", @"\ padded\ ")]
    [InlineData("a+b;c<d>e\"f\\g", @"a\+b\;c\<d\>e\""f\\g")]
    [InlineData("山田", "山田")]
    public void EscapeValue_follows_rfc4514(string value, string escaped)
    {
        DistinguishedName.EscapeValue(value).Should().Be(escaped);
    }

    [Fact]
    public void Any_string_survives_escape_and_parse()
    {
        Prop.ForAll<NonNull<string>>(value =>
        {
            var text = value.Get;
            if (text.Any(char.IsSurrogate))
            {
                return true;
            }

            var parsed = DistinguishedName.Parse("cn=" + DistinguishedName.EscapeValue(text) + ",dc=example");
            return parsed.Rdns[0].Parts[0].Value == text && parsed.Rdns.Count == 2;
        }).QuickCheckThrowOnFailure();
    }

    // The normal form is what duplicate DNs are found by and what the plan records: single-valued RDNs and
    // values with nothing to escape take a shorter path to it, which these pin.
    [Theory]
    [InlineData(@"CN=Foo\,Bar , DC=Example", @"cn=foo\,bar,dc=example")]
    [InlineData(@"cn=nul\00byte,dc=x", @"cn=nul\00byte,dc=x")]
    [InlineData(@"cn=\#hash,dc=x", @"cn=\#hash,dc=x")]
    [InlineData("cn=a#b,dc=x", "cn=a#b,dc=x")]
    [InlineData(@"cn=a\<b\>\;c\+d\""e,dc=x", @"cn=a\<b\>\;c\+d\""e,dc=x")]
    [InlineData("uid=JS+CN=John,DC=X", "cn=john+uid=js,dc=x")]
    [InlineData("UID=User000042, OU=HQ,DC=Example,DC=JP", "uid=user000042,ou=hq,dc=example,dc=jp")]
    [InlineData("cn=山田  太郎,dc=jp", "cn=山田 太郎,dc=jp")]
    public void Normalized_text_is_lower_cased_prepared_and_escaped(string dn, string normalized)
    {
        DistinguishedName.Parse(dn).Normalized.Should().Be(normalized);
    }
}
