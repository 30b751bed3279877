using System.Text;
using AuthSplit.Core.Configuration;
using AuthSplit.Core.Directory;
using AuthSplit.Core.Errors;
using AuthSplit.Core.Execution;
using AuthSplit.Core.Execution.Restoring;
using AuthSplit.Lab.Servers;
using AuthSplit.Ldap.Writing;
using AuthSplit.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace AuthSplit.Ldap.IntegrationTests.Writing;

/// <summary>
/// The writer against a real Active Directory (Samba AD DC). Each test works in its own OU and removes
/// it afterwards, so the shared domain the read tests see is left as it was.
/// </summary>
[Collection(SambaAdFixture.Collection)]
public sealed class LdapWriterActiveDirectoryTests(SambaAdFixture fixture) : IAsyncLifetime
{
    private static readonly CancellationToken None = CancellationToken.None;
    private readonly List<string> _created = [];
    private readonly string _ou = $"OU=writer-{Guid.NewGuid().ToString("N")[..8]}";

    private string Ou => $"{_ou},{fixture.Server.BaseDn}";

    private static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    public async Task InitializeAsync()
    {
        await fixture.Server.AddLdifTextAsync($"dn: {Ou}\nobjectClass: organizationalUnit\n\ndn: OU=quarantine,{Ou}\nobjectClass: organizationalUnit\n", None);
        _created.Add(Ou);
        _created.Add($"OU=quarantine,{Ou}");
    }

    public async Task DisposeAsync()
    {
        using var writer = Writer();
        foreach (var dn in Enumerable.Reverse(_created))
        {
            await writer.DeleteAsync(dn, None);
        }
    }

    private SourceOptions Options(string? bindDn = null, string? password = null)
    {
        var passwordFile = Path.Combine(TestPaths.NewWorkDirectory(), "pw");
        File.WriteAllText(passwordFile, password ?? fixture.Server.AdministratorPassword);
        return new SourceOptions
        {
            Url = SambaAdDc.LdapsUrl,
            BaseDn = fixture.Server.BaseDn,
            BindDn = bindDn ?? fixture.Server.AdministratorDn,
            PasswordFile = passwordFile,
            CaFile = fixture.Server.CaFile,
            Dialect = DirectoryDialect.ActiveDirectory,
            TimeoutSeconds = 30,
        };
    }

    private LdapLegacyDirectoryWriter Writer() =>
        new(Options(), new ExecutionOptions { LdapMaxRetries = 3, LdapOperationTimeoutSeconds = 20 }, NullLogger<LdapLegacyDirectoryWriter>.Instance);

    private async Task<string> AddUserAsync(string name, string? password = null)
    {
        var dn = $"CN={name},{Ou}";
        await fixture.Server.AddLdifTextAsync($"dn: {dn}\nobjectClass: user\nsAMAccountName: {name}\nmail: {name}@authsplit.lab\nuserAccountControl: 514\n", None);
        _created.Insert(2, dn);
        if (password is not null)
        {
            var encoded = Convert.ToBase64String(Encoding.Unicode.GetBytes($"\"{password}\""));
            await fixture.Server.ModifyAsync($"dn: {dn}\nchangetype: modify\nreplace: unicodePwd\nunicodePwd:: {encoded}\n-\nreplace: userAccountControl\nuserAccountControl: 512\n", None);
        }

        return dn;
    }

    private async Task<string> AddGroupAsync(string name, params string[] members)
    {
        var dn = $"CN={name},{Ou}";
        await fixture.Server.AddLdifTextAsync($"dn: {dn}\nobjectClass: group\nsAMAccountName: {name}\n{string.Concat(members.Select(m => $"member: {m}\n"))}", None);
        _created.Insert(2, dn);
        return dn;
    }

    private async Task BindAsAsync(string dn, string password) =>
        await LdapConnectionCheck.ReadBaseEntryAsync(Options(dn, password), NullLogger.Instance, None);

    private static string Password() => "Aa1!" + Guid.NewGuid().ToString("N");

    private static string Name(string prefix) => prefix + Guid.NewGuid().ToString("N")[..6];

    [Fact]
    public async Task Setting_ACCOUNTDISABLE_in_userAccountControl_makes_the_accounts_bind_fail()
    {
        var password = Password();
        var dn = await AddUserAsync(Name("wtdis"), password);
        await BindAsAsync(dn, password);
        using var writer = Writer();
        var control = long.Parse((await writer.ReadEntryAsync(dn, None))!.GetString("userAccountControl")!, System.Globalization.CultureInfo.InvariantCulture);

        var result = await writer.ModifyAsync(dn, [new AttributeChange(AttributeChangeKind.Replace, "userAccountControl", [Utf8((control | 2).ToString(System.Globalization.CultureInfo.InvariantCulture))])], None);

        control.Should().Be(512);
        result.Should().Be(LegacyWriteResult.Done(dn));
        (await writer.ReadEntryAsync(dn, None))!.GetString("userAccountControl").Should().Be("514");
        var bind = async () => await BindAsAsync(dn, password);
        (await bind.Should().ThrowAsync<ExternalSystemException>()).Which.Message.Should().Contain("invalid credentials").And.NotContain(password);
    }

    [Fact]
    public async Task Finds_an_entry_by_the_objectGUID_text_the_plan_writes_and_its_groups_by_member()
    {
        var dn = await AddUserAsync(Name("wtid"));
        var group = await AddGroupAsync(Name("wtgrp"), dn);
        using var writer = Writer();
        var entry = (await writer.ReadEntryAsync(dn, None))!;
        var id = new Guid(entry.GetValues("objectGUID")[0]).ToString("D");
        var groupId = new Guid((await writer.ReadEntryAsync(group, None))!.GetValues("objectGUID")[0]).ToString("D");

        var found = await writer.FindByIdentityAsync(id, None);
        var listings = await writer.FindGroupsListingAsync(dn, None);

        found.Should().ContainSingle().Which.Dn.Should().Be(dn);
        found[0].GetStrings("memberOf").Should().Equal(group);
        listings.Should().Equal(new GroupListing(group, groupId, "member"));
        (await writer.FindByIdentityAsync(Guid.NewGuid().ToString("D"), None)).Should().BeEmpty();
    }

    [Fact]
    public async Task Moves_deletes_and_removes_memberships_with_outcomes_as_values()
    {
        var mover = await AddUserAsync(Name("wtmv"));
        var leaver = await AddUserAsync(Name("wtlv"));
        var group = await AddGroupAsync(Name("wtgrp"), leaver, mover);
        using var writer = Writer();
        AttributeChange[] remove = [new(AttributeChangeKind.Delete, "member", [Utf8(leaver)])];

        var moved = await writer.MoveAsync(mover, $"OU=quarantine,{Ou}", None);
        var movedAgain = await writer.MoveAsync(mover, $"OU=quarantine,{Ou}", None);
        var removed = await writer.ModifyAsync(group, remove, None);
        var removedAgain = await writer.ModifyAsync(group, remove, None);
        var readded = await writer.ModifyAsync(group, [new(AttributeChangeKind.Add, "member", [Utf8(leaver)])], None);
        var readdedAgain = await writer.ModifyAsync(group, [new(AttributeChangeKind.Add, "member", [Utf8(leaver.ToUpperInvariant())])], None);
        var refused = await writer.ModifyAsync(group, [new(AttributeChangeKind.Add, "member", [Utf8($"CN=nobody,{Ou}")])], None);
        var deleted = await writer.DeleteAsync(leaver, None);
        var deletedAgain = await writer.DeleteAsync(leaver, None);
        var nonLeaf = await writer.DeleteAsync(Ou, None);
        _created.Insert(2, moved.Dn!);

        moved.Status.Should().Be(LegacyWriteStatus.Done);
        DistinguishedName.Parse(moved.Dn!).Should().Be(DistinguishedName.Parse(mover.Replace(Ou, $"OU=quarantine,{Ou}", StringComparison.Ordinal)));
        (await writer.ReadEntryAsync(moved.Dn!, None))!.GetStrings("memberOf").Should().Equal([group], "AD keeps links across a move");
        movedAgain.Status.Should().Be(LegacyWriteStatus.NoSuchObject);
        removed.Status.Should().Be(LegacyWriteStatus.Done);
        removedAgain.Status.Should().Be(LegacyWriteStatus.AlreadyInState, removedAgain.Detail);
        readded.Status.Should().Be(LegacyWriteStatus.Done);
        readdedAgain.Status.Should().Be(LegacyWriteStatus.AlreadyInState, readdedAgain.Detail);
        refused.Status.Should().NotBe(LegacyWriteStatus.Done).And.NotBe(LegacyWriteStatus.AlreadyInState);
        deleted.Status.Should().Be(LegacyWriteStatus.Done);
        deletedAgain.Status.Should().Be(LegacyWriteStatus.NoSuchObject);
        nonLeaf.Status.Should().Be(LegacyWriteStatus.Rejected);
        nonLeaf.Detail.Should().StartWith("notAllowedOnNonLeaf (66)");
    }

    [Fact]
    public async Task A_restore_gives_a_new_disabled_object_without_password_with_its_memberships_back()
    {
        var password = Password();
        var dn = await AddUserAsync(Name("wtrs"), password);
        var first = await AddGroupAsync(Name("wtg1"), dn);
        var second = await AddGroupAsync(Name("wtg2"), dn);
        using var writer = Writer();
        var original = (await writer.ReadEntryAsync(dn, None))!;
        var backup = new EntryBackup
        {
            PlanId = "sha256:test",
            Wave = "w",
            EntityId = new Guid(original.GetValues("objectGUID")[0]).ToString("D"),
            Entry = original,
            Groups = await writer.FindGroupsListingAsync(dn, None),
            TakenAt = DateTimeOffset.UnixEpoch,
        };
        (await writer.DeleteAsync(dn, None)).Status.Should().Be(LegacyWriteStatus.Done);
        (await writer.ReadEntryAsync(first, None))!.Has("member").Should().BeFalse("AD removes the link values itself");

        var recipe = RestoreRecipes.For(backup, DirectoryDialect.ActiveDirectory);
        var added = await writer.AddAsync(recipe.Entry, None);
        var regrouped = new List<LegacyWriteResult>();
        foreach (var group in recipe.Groups)
        {
            regrouped.Add(await writer.ModifyAsync(group.GroupDn, [group.Change], None));
        }

        added.Should().Be(LegacyWriteResult.Done(dn), added.Detail);
        regrouped.Should().HaveCount(2).And.OnlyContain(r => r.Status == LegacyWriteStatus.Done);
        var restored = (await writer.ReadEntryAsync(dn, None))!;
        restored.GetValues("objectGUID")[0].Should().NotEqual(original.GetValues("objectGUID")[0], "Active Directory gives a re-created object a new objectGUID");
        restored.GetValues("objectSid")[0].Should().NotEqual(original.GetValues("objectSid")[0]);
        restored.GetString("sAMAccountName").Should().Be(original.GetString("sAMAccountName"));
        restored.GetString("mail").Should().Be(original.GetString("mail"));
        restored.GetString("userAccountControl").Should().Be("514");
        restored.GetStrings("memberOf").Should().BeEquivalentTo([first, second]);
        (await writer.FindByIdentityAsync(backup.EntityId, None)).Should().BeEmpty("the old objectGUID is gone for good");
        recipe.CreatedDisabled.Should().BeTrue();
        recipe.Notes.Should().Contain(n => n.Contains("new objectGUID and objectSid", StringComparison.Ordinal));
        var bind = async () => await BindAsAsync(dn, password);
        await bind.Should().ThrowAsync<ExternalSystemException>("the old password did not come back");
    }

    [Fact]
    public async Task Hostile_member_dns_match_only_their_own_groups()
    {
        using var writer = Writer();
        var hq = fixture.HqDn;
        var hostile = (await writer.FindByIdentityAsync(new Guid((await writer.ReadEntryAsync($@"CN=\*)(cn\=\*,{hq}", None))!.GetValues("objectGUID")[0]).ToString("D"), None)).Single();

        var listings = await writer.FindGroupsListingAsync(hostile.Dn, None);
        var smith = await writer.FindGroupsListingAsync($@"CN=Smith\, John,{hq}", None);

        listings.Select(l => l.GroupDn).Should().Equal($"CN=hq-staff,{hq}");
        smith.Select(l => l.GroupDn).Should().Equal($"CN=hq-staff,{hq}");
        (await writer.FindGroupsListingAsync("*", None)).Should().BeEmpty();
        (await writer.FindGroupsListingAsync($"CN=*,{hq}", None)).Should().BeEmpty();
        (await writer.FindGroupsListingAsync($"*)(member=*", None)).Should().BeEmpty();
    }
}
