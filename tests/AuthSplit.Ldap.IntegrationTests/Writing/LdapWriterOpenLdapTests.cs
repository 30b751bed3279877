using System.Text;
using AuthSplit.Core.Errors;
using AuthSplit.Core.Execution;
using AuthSplit.Core.Execution.Restoring;
using AuthSplit.Core.Configuration;
using AuthSplit.Ldap.Writing;
using Microsoft.Extensions.Logging.Abstractions;

namespace AuthSplit.Ldap.IntegrationTests.Writing;

/// <summary>The writer's primitives and outcomes against a real slapd (ppolicy, lastbind and memberof loaded).</summary>
public sealed class LdapWriterOpenLdapTests(WriterSlapdFixture fixture) : IClassFixture<WriterSlapdFixture>
{
    private static readonly CancellationToken None = CancellationToken.None;

    private static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    private static string Unique(string prefix) => prefix + "-" + Guid.NewGuid().ToString("N")[..8];

    private async Task BindAsAsync(string dn, string password) =>
        await LdapConnectionCheck.ReadBaseEntryAsync(WriterSlapdFixture.SourceOptionsFor(fixture.Server, bindDn: dn, password: password), NullLogger.Instance, None);

    [Fact]
    public async Task Reads_an_entry_with_its_operational_attributes_and_null_when_there_is_none()
    {
        var dn = await fixture.AddPersonAsync(Unique("read"), "pw");
        using var writer = fixture.Writer();

        var entry = await writer.ReadEntryAsync(dn, None);
        var missing = await writer.ReadEntryAsync("cn=nobody," + WriterSlapdFixture.People, None);

        entry.Should().NotBeNull();
        entry!.Dn.Should().Be(dn);
        entry.GetString("entryUUID").Should().MatchRegex("^[0-9a-f-]{36}$");
        entry.Has("createTimestamp").Should().BeTrue();
        entry.Has("userPassword").Should().BeTrue();
        missing.Should().BeNull();
        writer.Description.Should().Be(fixture.Server.LdapsUrl);
        writer.Dialect.Should().Be(DirectoryDialect.OpenLdap);
    }

    [Fact]
    public async Task Finds_an_entry_by_its_entryUUID_and_nothing_for_an_unknown_or_malformed_id()
    {
        var dn = await fixture.AddPersonAsync(Unique("ident"), "pw");
        using var writer = fixture.Writer();
        var id = (await writer.ReadEntryAsync(dn, None))!.GetString("entryUUID")!;

        var found = await writer.FindByIdentityAsync(id.ToUpperInvariant(), None);
        var unknown = await writer.FindByIdentityAsync(Guid.NewGuid().ToString("D"), None);
        var malformed = await writer.FindByIdentityAsync("*", None);

        found.Should().ContainSingle().Which.Dn.Should().Be(dn);
        found[0].Has("entryCSN").Should().BeTrue("the whole entry, operational attributes included, is returned");
        unknown.Should().BeEmpty();
        malformed.Should().BeEmpty("an id that is not a UUID matches nothing (never a wildcard)");
    }

    [Fact]
    public async Task Finds_the_groups_listing_a_member_with_their_ids_and_the_attribute_that_holds_it()
    {
        var person = await fixture.AddPersonAsync(Unique("member"), "pw");
        var other = await fixture.AddPersonAsync(Unique("other"), "pw");
        var names = await fixture.AddGroupAsync(Unique("names"), "groupOfNames", person, other);
        var unique = await fixture.AddGroupAsync(Unique("unique"), "groupOfUniqueNames", person);
        await fixture.AddGroupAsync(Unique("unrelated"), "groupOfNames", other);
        using var writer = fixture.Writer();

        var listings = await writer.FindGroupsListingAsync(person, None);

        var namesId = (await writer.ReadEntryAsync(names, None))!.GetString("entryUUID");
        var uniqueId = (await writer.ReadEntryAsync(unique, None))!.GetString("entryUUID");
        listings.Should().BeEquivalentTo([new GroupListing(names, namesId, "member"), new GroupListing(unique, uniqueId, "uniqueMember")]);
    }

    [Fact]
    public async Task A_ppolicy_lock_makes_the_accounts_bind_fail_with_invalid_credentials()
    {
        var password = "pw-" + Guid.NewGuid().ToString("N");
        var dn = await fixture.AddPersonAsync(Unique("lock"), password);
        await BindAsAsync(dn, password);
        using var writer = fixture.Writer();
        (await writer.ReadEntryAsync(dn, None))!.Has("authTimestamp").Should().BeTrue("lastbind stamps a successful bind");

        var result = await writer.ModifyAsync(dn, [new AttributeChange(AttributeChangeKind.Replace, "pwdAccountLockedTime", [Utf8("000001010000Z")])], None);

        result.Should().Be(LegacyWriteResult.Done(dn));
        var bind = async () => await BindAsAsync(dn, password);
        (await bind.Should().ThrowAsync<ExternalSystemException>()).Which.Message.Should().Contain("invalid credentials").And.NotContain(password);
        (await writer.ReadEntryAsync(dn, None))!.GetString("pwdAccountLockedTime").Should().Be("000001010000Z");
    }

    [Fact]
    public async Task A_ppolicy_lock_is_ignored_by_slapd_under_a_policy_without_pwdLockout()
    {
        var policy = $"cn={Unique("no-lockout")},{WriterSlapdFixture.Suffix}";
        await fixture.Server.AddLdifTextAsync($"dn: {policy}\nobjectClass: organizationalRole\nobjectClass: pwdPolicy\ncn: {policy[3..policy.IndexOf(',', StringComparison.Ordinal)]}\npwdAttribute: userPassword\n", None);
        var password = "pw-" + Guid.NewGuid().ToString("N");
        var dn = await fixture.AddPersonAsync(Unique("unlocked"), password);
        using var writer = fixture.Writer();
        (await writer.ModifyAsync(dn, [new AttributeChange(AttributeChangeKind.Replace, "pwdPolicySubentry", [Utf8(policy)])], None)).Status.Should().Be(LegacyWriteStatus.Done);

        var result = await writer.ModifyAsync(dn, [new AttributeChange(AttributeChangeKind.Replace, "pwdAccountLockedTime", [Utf8("000001010000Z")])], None);

        result.Status.Should().Be(LegacyWriteStatus.Done);
        await BindAsAsync(dn, password);
    }

    [Fact]
    public async Task Moves_an_entry_under_the_quarantine_ou_keeping_its_rdn_and_reports_a_missing_or_taken_place_as_values()
    {
        var uid = Unique("move");
        var dn = await fixture.AddPersonAsync(uid, "pw");
        var id = (await fixture.Writer().ReadEntryAsync(dn, None))!.GetString("entryUUID");
        using var writer = fixture.Writer();

        var moved = await writer.MoveAsync(dn, WriterSlapdFixture.Quarantine, None);
        var leftBehind = await writer.ReadEntryAsync(dn, None);
        var again = await writer.MoveAsync(dn, WriterSlapdFixture.Quarantine, None);
        var nowhere = await writer.MoveAsync(moved.Dn!, "ou=missing," + WriterSlapdFixture.Suffix, None);
        var twin = await fixture.AddPersonAsync(uid, "pw");
        var taken = await writer.MoveAsync(twin, WriterSlapdFixture.Quarantine, None);

        moved.Status.Should().Be(LegacyWriteStatus.Done);
        moved.Dn.Should().Be($"cn={uid},{WriterSlapdFixture.Quarantine}");
        (await writer.ReadEntryAsync(moved.Dn!, None))!.GetString("entryUUID").Should().Be(id);
        leftBehind.Should().BeNull();
        again.Status.Should().Be(LegacyWriteStatus.NoSuchObject);
        nowhere.Status.Should().Be(LegacyWriteStatus.NoSuchObject);
        taken.Status.Should().Be(LegacyWriteStatus.AlreadyExists);
        taken.Detail.Should().StartWith("entryAlreadyExists (68)");
    }

    [Fact]
    public async Task A_second_delete_of_the_same_entry_is_NoSuchObject()
    {
        var dn = await fixture.AddPersonAsync(Unique("delete"), "pw");
        using var writer = fixture.Writer();

        var first = await writer.DeleteAsync(dn, None);
        var second = await writer.DeleteAsync(dn, None);

        first.Should().Be(LegacyWriteResult.Done(dn));
        second.Status.Should().Be(LegacyWriteStatus.NoSuchObject);
        second.Detail.Should().StartWith("noSuchObject (32)");
        (await writer.ReadEntryAsync(dn, None)).Should().BeNull();
    }

    [Fact]
    public async Task Removing_a_member_twice_is_AlreadyInState_the_second_time_and_so_is_adding_one_twice()
    {
        var person = await fixture.AddPersonAsync(Unique("leaver"), "pw");
        var stays = await fixture.AddPersonAsync(Unique("stays"), "pw");
        var group = await fixture.AddGroupAsync(Unique("team"), "groupOfNames", person, stays);
        using var writer = fixture.Writer();
        AttributeChange[] remove = [new(AttributeChangeKind.Delete, "member", [Utf8(person)])];
        AttributeChange[] add = [new(AttributeChangeKind.Add, "member", [Utf8(person)])];

        var removed = await writer.ModifyAsync(group, remove, None);
        var removedAgain = await writer.ModifyAsync(group, remove, None);
        var memberOf = (await writer.ReadEntryAsync(person, None))!.GetStrings("memberOf");
        var added = await writer.ModifyAsync(group, add, None);
        var addedAgain = await writer.ModifyAsync(group, add, None);

        removed.Status.Should().Be(LegacyWriteStatus.Done);
        removedAgain.Status.Should().Be(LegacyWriteStatus.AlreadyInState);
        removedAgain.Detail.Should().StartWith("noSuchAttribute (16)");
        memberOf.Should().BeEmpty("the memberof overlay follows the group");
        added.Status.Should().Be(LegacyWriteStatus.Done);
        addedAgain.Status.Should().Be(LegacyWriteStatus.AlreadyInState);
        addedAgain.Detail.Should().StartWith("attributeOrValueExists (20)");
        (await writer.FindGroupsListingAsync(person, None)).Should().ContainSingle().Which.GroupDn.Should().Be(group);
    }

    [Fact]
    public async Task An_add_of_an_entry_that_exists_is_AlreadyExists()
    {
        var dn = await fixture.AddPersonAsync(Unique("twice"), "pw");
        using var writer = fixture.Writer();
        var entry = RestoreRecipes.For(Backup(await writer.ReadEntryAsync(dn, None), []), DirectoryDialect.OpenLdap, keepIdentity: false).Entry;

        var result = await writer.AddAsync(entry, None);

        result.Status.Should().Be(LegacyWriteStatus.AlreadyExists);
        result.Detail.Should().StartWith("entryAlreadyExists (68)");
    }

    [Fact]
    public async Task What_the_server_refuses_for_good_is_Rejected_with_the_code_name_and_its_message()
    {
        var password = "pw-" + Guid.NewGuid().ToString("N");
        var person = await fixture.AddPersonAsync(Unique("plain"), password);
        var solo = await fixture.AddGroupAsync(Unique("solo"), "groupOfNames", person);
        using var writer = fixture.Writer();
        using var unprivileged = new LdapLegacyDirectoryWriter(
            WriterSlapdFixture.SourceOptionsFor(fixture.Server, bindDn: person, password: password),
            new ExecutionOptions { LdapMaxRetries = 2, LdapOperationTimeoutSeconds = 5 },
            NullLogger<LdapLegacyDirectoryWriter>.Instance);

        var nonLeaf = await writer.DeleteAsync(WriterSlapdFixture.Groups, None);
        var lastMember = await writer.ModifyAsync(solo, [new AttributeChange(AttributeChangeKind.Delete, "member", [Utf8(person)])], None);
        var noClass = await writer.ModifyAsync(person, [new AttributeChange(AttributeChangeKind.Add, "gidNumber", [Utf8("100")])], None);
        var managed = await writer.ModifyAsync(person, [new AttributeChange(AttributeChangeKind.Replace, "entryUUID", [Utf8(Guid.NewGuid().ToString("D"))])], None);
        var forbidden = await unprivileged.DeleteAsync(solo, None);

        nonLeaf.Status.Should().Be(LegacyWriteStatus.Rejected);
        nonLeaf.Detail.Should().StartWith("notAllowedOnNonLeaf (66)");
        lastMember.Status.Should().Be(LegacyWriteStatus.Rejected);
        lastMember.Detail.Should().StartWith("objectClassViolation (65): ").And.Contain("member");
        noClass.Status.Should().Be(LegacyWriteStatus.Rejected);
        noClass.Detail.Should().StartWith("objectClassViolation (65)");
        managed.Status.Should().Be(LegacyWriteStatus.Rejected);
        managed.Detail.Should().MatchRegex("^(constraintViolation \\(19\\)|unwillingToPerform \\(53\\)|insufficientAccessRights \\(50\\))");
        forbidden.Status.Should().Be(LegacyWriteStatus.Rejected);
        forbidden.Detail.Should().StartWith("insufficientAccessRights (50)").And.NotContain(password);
        (await writer.ReadEntryAsync(solo, None)).Should().NotBeNull();
    }

    [Fact]
    public async Task A_restored_entry_equals_the_deleted_one_with_its_entryUUID_and_its_memberships()
    {
        var person = await fixture.AddPersonAsync(Unique("restore"), "pw-restore");
        var partner = await fixture.AddPersonAsync(Unique("partner"), "pw");
        var names = await fixture.AddGroupAsync(Unique("r-names"), "groupOfNames", person, partner);
        var unique = await fixture.AddGroupAsync(Unique("r-unique"), "groupOfUniqueNames", partner, person);
        await BindAsAsync(person, "pw-restore");
        string[] changeStamps = ["entryCSN", "modifyTimestamp", "modifiersName"];
        var before = new[] { await fixture.LdifOfAsync(person, changeStamps), await fixture.LdifOfAsync(names, changeStamps), await fixture.LdifOfAsync(unique, changeStamps) };
        using var writer = fixture.Writer();

        // The executor's order: back up the entry and its groups, remove the memberships, delete.
        var backup = Backup(await writer.ReadEntryAsync(person, None), await writer.FindGroupsListingAsync(person, None));
        foreach (var group in backup.Groups)
        {
            (await writer.ModifyAsync(group.GroupDn, [new AttributeChange(AttributeChangeKind.Delete, group.Attribute, [Utf8(person)])], None)).Status.Should().Be(LegacyWriteStatus.Done);
        }

        (await writer.DeleteAsync(person, None)).Status.Should().Be(LegacyWriteStatus.Done);
        (await fixture.LdifOfAsync(person)).Should().BeNull();

        var recipe = RestoreRecipes.For(backup, DirectoryDialect.OpenLdap);
        var added = await writer.AddAsync(recipe.Entry, None);
        var regrouped = new List<LegacyWriteResult>();
        foreach (var group in recipe.Groups)
        {
            regrouped.Add(await writer.ModifyAsync(group.GroupDn, [group.Change], None));
        }

        added.Should().Be(LegacyWriteResult.Done(person));
        regrouped.Should().HaveCount(2).And.OnlyContain(r => r.Status == LegacyWriteStatus.Done);
        recipe.KeepsIdentity.Should().BeTrue();
        recipe.Entry.Has("authTimestamp").Should().BeTrue("the person bound before the backup");
        var after = new[] { await fixture.LdifOfAsync(person, changeStamps), await fixture.LdifOfAsync(names, changeStamps), await fixture.LdifOfAsync(unique, changeStamps) };
        after.Should().Equal(before, "the entry (entryUUID, createTimestamp, creatorsName, password and its history, last bind, memberOf) and its groups are back as they were; only the change stamps are new");
        (await writer.FindByIdentityAsync(backup.Entry.GetString("entryUUID")!, None)).Should().ContainSingle().Which.Dn.Should().Be(person);
        await BindAsAsync(person, "pw-restore");
    }

    [Fact]
    public async Task Hostile_dns_are_matched_as_one_value_and_never_widen_a_search()
    {
        string[] hostile = ["*", "*)(cn=*", "Smith, John", "\"quoted\" \\ back", "a)(|(objectClass=*"];
        var people = new List<string>();
        foreach (var name in hostile)
        {
            people.Add(await fixture.AddPersonAsync(Unique("hostile"), "pw", cn: name + " " + Guid.NewGuid().ToString("N")[..6]));
        }

        var bystander = await fixture.AddPersonAsync(Unique("bystander"), "pw");
        var group = await fixture.AddGroupAsync(Unique("hostile-group"), "groupOfNames", [.. people, bystander]);
        var groupId = (await fixture.Writer().ReadEntryAsync(group, None))!.GetString("entryUUID");
        using var writer = fixture.Writer();

        foreach (var dn in people)
        {
            (await writer.FindGroupsListingAsync(dn, None)).Should().Equal([new GroupListing(group, groupId, "member")], $"only the group listing {dn} matches");
            Core.Directory.DistinguishedName.Parse((await writer.ReadEntryAsync(dn, None))!.Dn).Should().Be(Core.Directory.DistinguishedName.Parse(dn));
        }

        string[] probes = ["*", "cn=*", "*)(member=*", $"cn=*,{WriterSlapdFixture.People}", "\0", $"x\0)(member=*", "\\2a", "(|(member=*))"];
        foreach (var probe in probes)
        {
            (await writer.FindGroupsListingAsync(probe, None)).Should().BeEmpty($"\"{probe}\" is one odd DN, not a pattern");
            (await writer.FindByIdentityAsync(probe, None)).Should().BeEmpty();
        }

        var removed = await writer.ModifyAsync(group, [new AttributeChange(AttributeChangeKind.Delete, "member", [Utf8(people[1])])], None);
        removed.Status.Should().Be(LegacyWriteStatus.Done);
        (await writer.ReadEntryAsync(group, None))!.GetStrings("member").Should().HaveCount(hostile.Length, "exactly the one value was removed");
        (await writer.DeleteAsync(people[0], None)).Status.Should().Be(LegacyWriteStatus.Done);
        (await writer.ReadEntryAsync(people[2], None)).Should().NotBeNull();
        (await writer.ReadEntryAsync(bystander, None)).Should().NotBeNull();
    }

    private static EntryBackup Backup(Core.Model.DirectoryEntry? entry, IReadOnlyList<GroupListing> groups) => new()
    {
        PlanId = "sha256:test",
        Wave = "w",
        EntityId = entry!.GetString("entryUUID")!,
        Entry = entry,
        Groups = groups,
        TakenAt = DateTimeOffset.UnixEpoch,
    };
}
