using System.Text;
using AuthSplit.Core.Configuration;
using AuthSplit.Core.Execution;
using AuthSplit.Core.Execution.Restoring;
using AuthSplit.Core.Model;

namespace AuthSplit.Core.Tests.Execution.Restoring;

public sealed class RestoreRecipesTests
{
    private const string PersonDn = "uid=jdoe,ou=people,dc=example,dc=jp";

    private static EntryBackup Backup(DirectoryEntry entry, params GroupListing[] groups) => new()
    {
        PlanId = "sha256:plan",
        Wave = "w1",
        EntityId = "id",
        Entry = entry,
        Groups = groups,
        TakenAt = DateTimeOffset.UnixEpoch,
    };

    private static DirectoryEntry OpenLdapPerson() => DirectoryEntry.FromStrings(PersonDn, new Dictionary<string, string[]>
    {
        ["objectClass"] = ["top", "person", "organizationalPerson", "inetOrgPerson"],
        ["uid"] = ["jdoe"],
        ["cn"] = ["John Doe"],
        ["sn"] = ["Doe"],
        ["userPassword"] = ["{SSHA}abc"],
        ["entryUUID"] = ["6b1e3a9c-0000-4000-8000-000000000001"],
        ["createTimestamp"] = ["20260101000000Z"],
        ["creatorsName"] = ["cn=admin,dc=example,dc=jp"],
        ["modifyTimestamp"] = ["20260102000000Z"],
        ["modifiersName"] = ["cn=admin,dc=example,dc=jp"],
        ["entryCSN"] = ["20260102000000.000000Z#000000#000#000000"],
        ["structuralObjectClass"] = ["inetOrgPerson"],
        ["subschemaSubentry"] = ["cn=Subschema"],
        ["hasSubordinates"] = ["FALSE"],
        ["entryDN"] = [PersonDn],
        ["memberOf"] = ["cn=staff,ou=groups,dc=example,dc=jp"],
        ["pwdChangedTime"] = ["20260101000000Z"],
        ["authTimestamp"] = ["20260103000000Z"],
    });

    [Fact]
    public void An_OpenLdap_restore_keeps_user_attributes_and_identity_and_leaves_out_what_slapd_manages()
    {
        var recipe = RestoreRecipes.For(Backup(OpenLdapPerson()), DirectoryDialect.OpenLdap);

        recipe.Entry.Dn.Should().Be(PersonDn);
        recipe.Entry.Attributes.Keys.Should().BeEquivalentTo(["objectClass", "uid", "cn", "sn", "userPassword", "entryUUID", "createTimestamp", "creatorsName", "pwdChangedTime", "authTimestamp"]);
        recipe.LeftOut.Should().Equal("entryCSN", "entryDN", "hasSubordinates", "memberOf", "modifiersName", "modifyTimestamp", "structuralObjectClass", "subschemaSubentry");
        recipe.KeepsIdentity.Should().BeTrue();
        recipe.CreatedDisabled.Should().BeFalse();
        recipe.Notes.Should().BeEmpty();
    }

    [Fact]
    public void An_OpenLdap_restore_without_identity_leaves_out_entryUUID_and_says_the_entry_gets_a_new_one()
    {
        var recipe = RestoreRecipes.For(Backup(OpenLdapPerson()), DirectoryDialect.OpenLdap, keepIdentity: false);

        recipe.Entry.Has("entryUUID").Should().BeFalse();
        recipe.Entry.Has("createTimestamp").Should().BeFalse();
        recipe.Entry.Has("creatorsName").Should().BeFalse();
        recipe.Entry.Has("pwdChangedTime").Should().BeFalse();
        recipe.Entry.Has("authTimestamp").Should().BeFalse();
        recipe.KeepsIdentity.Should().BeFalse();
        recipe.Notes.Should().ContainSingle().Which.Should().Contain("new entryUUID");
    }

    [Fact]
    public void Every_group_that_listed_the_entry_gets_its_dn_back_in_the_attribute_that_held_it()
    {
        var backup = Backup(OpenLdapPerson(), new GroupListing("cn=staff,ou=groups,dc=example,dc=jp", "g1", "member"), new GroupListing("cn=ops,ou=groups,dc=example,dc=jp", "g2", "uniqueMember"));

        var recipe = RestoreRecipes.For(backup, DirectoryDialect.OpenLdap);

        recipe.Groups.Select(g => (g.GroupDn, g.GroupId, g.Change.Kind, g.Change.Attribute, Encoding.UTF8.GetString(g.Change.Values.Single())))
            .Should().Equal(
                ("cn=staff,ou=groups,dc=example,dc=jp", "g1", AttributeChangeKind.Add, "member", PersonDn),
                ("cn=ops,ou=groups,dc=example,dc=jp", "g2", AttributeChangeKind.Add, "uniqueMember", PersonDn));
    }

    [Fact]
    public void An_OpenLdap_account_backed_up_without_its_password_is_said_to_come_back_without_one()
    {
        var entry = OpenLdapPerson();
        var withoutPassword = new DirectoryEntry(entry.Dn, entry.Attributes.Where(a => a.Key != "userPassword").ToDictionary(a => a.Key, a => a.Value));

        var recipe = RestoreRecipes.For(Backup(withoutPassword), DirectoryDialect.OpenLdap);

        recipe.Notes.Should().ContainSingle().Which.Should().Contain("no userPassword");
    }

    [Theory]
    [InlineData("512", "514")]
    [InlineData("66048", "66050")]
    [InlineData("514", "514")]
    [InlineData("8389136", "514")]
    public void An_Active_Directory_account_comes_back_disabled_without_identity_and_says_so(string before, string after)
    {
        var guid = Guid.NewGuid().ToByteArray();
        var entry = new DirectoryEntry("CN=John Doe,OU=HQ,DC=authsplit,DC=lab", new Dictionary<string, IReadOnlyList<byte[]>>
        {
            ["objectClass"] = [.. new[] { "top", "person", "organizationalPerson", "user" }.Select(Encoding.UTF8.GetBytes)],
            ["cn"] = [Encoding.UTF8.GetBytes("John Doe")],
            ["sAMAccountName"] = [Encoding.UTF8.GetBytes("jdoe")],
            ["userAccountControl"] = [Encoding.UTF8.GetBytes(before)],
            ["objectGUID"] = [guid],
            ["objectSid"] = [new byte[28]],
            ["whenCreated"] = [Encoding.UTF8.GetBytes("20260101000000.0Z")],
            ["uSNChanged"] = [Encoding.UTF8.GetBytes("4711")],
            ["distinguishedName"] = [Encoding.UTF8.GetBytes("CN=John Doe,OU=HQ,DC=authsplit,DC=lab")],
            ["memberOf"] = [Encoding.UTF8.GetBytes("CN=hq-staff,OU=HQ,DC=authsplit,DC=lab")],
            ["name"] = [Encoding.UTF8.GetBytes("John Doe")],
            ["instanceType"] = [Encoding.UTF8.GetBytes("4")],
            ["objectCategory"] = [Encoding.UTF8.GetBytes("CN=Person,CN=Schema,CN=Configuration,DC=authsplit,DC=lab")],
            ["pwdLastSet"] = [Encoding.UTF8.GetBytes("0")],
        });

        var recipe = RestoreRecipes.For(Backup(entry), DirectoryDialect.ActiveDirectory);

        recipe.Entry.Attributes.Keys.Should().BeEquivalentTo(["objectClass", "cn", "sAMAccountName", "userAccountControl"]);
        recipe.Entry.GetString("userAccountControl").Should().Be(after);
        recipe.KeepsIdentity.Should().BeFalse();
        recipe.CreatedDisabled.Should().BeTrue();
        recipe.Notes.Should().Contain(n => n.Contains("new objectGUID and objectSid", StringComparison.Ordinal) && n.Contains("Recycle Bin", StringComparison.Ordinal));
        recipe.Notes.Should().Contain(n => n.Contains("created disabled", StringComparison.Ordinal));
    }

    [Fact]
    public void Attribute_options_do_not_smuggle_a_managed_attribute_into_the_add()
    {
        var entry = new DirectoryEntry(PersonDn, new Dictionary<string, IReadOnlyList<byte[]>>
        {
            ["objectClass"] = [Encoding.UTF8.GetBytes("person")],
            ["memberOf;x-tag"] = [Encoding.UTF8.GetBytes("cn=g,dc=example,dc=jp")],
            ["userCertificate;binary"] = [new byte[] { 1, 2 }],
        });

        var recipe = RestoreRecipes.For(Backup(entry), DirectoryDialect.OpenLdap);

        recipe.Entry.Attributes.Keys.Should().BeEquivalentTo(["objectClass", "userCertificate;binary"]);
    }
}
