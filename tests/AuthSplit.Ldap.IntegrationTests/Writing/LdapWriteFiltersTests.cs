using AuthSplit.Core.Configuration;
using AuthSplit.Core.Directory;
using AuthSplit.Ldap.Writing;

namespace AuthSplit.Ldap.IntegrationTests.Writing;

public sealed class LdapWriteFiltersTests
{
    [Fact]
    public void An_Active_Directory_id_is_searched_with_the_objectGUID_bytes_in_the_order_AD_stores_them()
    {
        byte[] stored = [0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x2a];
        var planId = new Guid(stored).ToString("D");

        var filter = LdapWriteFilters.ByIdentity(planId, DirectoryDialect.ActiveDirectory);

        planId.Should().Be("04030201-0605-0807-090a-0b0c0d0e0f2a", "AD's GUID text is mixed-endian");
        filter.Should().Be(@"(objectGUID=\01\02\03\04\05\06\07\08\09\0a\0b\0c\0d\0e\0f\2a)");
    }

    [Fact]
    public void An_OpenLdap_id_is_searched_as_its_entryUUID_in_lower_case()
    {
        LdapWriteFilters.ByIdentity("6B1E3A9C-0000-4000-8000-00000000002A", DirectoryDialect.OpenLdap)
            .Should().Be("(entryUUID=6b1e3a9c-0000-4000-8000-00000000002a)");
    }

    [Theory]
    [InlineData("*")]
    [InlineData("dn-sha256:0123456789abcdef")]
    [InlineData("6b1e3a9c-0000-4000-8000-00000000002a)(objectClass=*")]
    [InlineData("")]
    public void An_id_that_is_not_a_GUID_gives_no_filter_at_all(string id)
    {
        LdapWriteFilters.ByIdentity(id, DirectoryDialect.OpenLdap).Should().BeNull();
        LdapWriteFilters.ByIdentity(id, DirectoryDialect.ActiveDirectory).Should().BeNull();
    }

    [Theory]
    [InlineData(@"cn=Smith\, John,ou=people,dc=example,dc=jp", @"(member=cn=Smith\5c, John,ou=people,dc=example,dc=jp)")]
    [InlineData("cn=*)(cn=*,dc=example,dc=jp", @"(member=cn=\2a\29\28cn=\2a,dc=example,dc=jp)")]
    [InlineData("cn=a\0b,dc=example,dc=jp", @"(member=cn=a\00b,dc=example,dc=jp)")]
    [InlineData("cn=\"quoted\",dc=example,dc=jp", "(member=cn=\"quoted\",dc=example,dc=jp)")]
    [InlineData("*", @"(member=\2a)")]
    public void A_member_dn_is_one_escaped_value_of_the_filter(string dn, string expected)
    {
        var filter = LdapWriteFilters.Listing("member", dn);

        filter.Should().Be(expected);
        var parsed = LdapFilter.Parse(filter);
        parsed.ToString().Should().Be(filter, "the filter parses back as one equality test");
    }

    [Fact]
    public void Active_Directory_groups_list_members_only_in_member()
    {
        LdapWriteFilters.MembershipAttributes(DirectoryDialect.ActiveDirectory).Should().Equal("member");
        LdapWriteFilters.MembershipAttributes(DirectoryDialect.OpenLdap).Should().Equal("member", "uniqueMember");
    }
}
