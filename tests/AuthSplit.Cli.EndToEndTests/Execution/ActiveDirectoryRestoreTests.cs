using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using AuthSplit.Core.Configuration;
using AuthSplit.Core.Directory;
using AuthSplit.Core.Execution;
using AuthSplit.Core.Execution.Restoring;
using AuthSplit.Core.Planning.Format;
using AuthSplit.Testing;
using Xunit.Abstractions;

namespace AuthSplit.Cli.EndToEndTests.Execution;

/// <summary>
/// <c>authsplit restore</c> on a real Active Directory (Samba AD DC), after a wave run through the CLI: what
/// AD lets a client re-create (a new object, disabled, its memberships), checked against the DC's own
/// answer (ldapsearch). Needs root, as every Samba AD test does (CI runs as root).
/// </summary>
[Collection(SambaAdFixture.Collection)]
public sealed class ActiveDirectoryRestoreTests(SambaAdFixture fixture, ITestOutputHelper output)
{
    private const int AccountDisable = 0x2;

    [Fact]
    public async Task Restore_on_Active_Directory_re_creates_the_person_as_a_new_object_with_its_memberships_and_names_the_Recycle_Bin_for_the_original()
    {
        string Smith(ActiveDirectoryLab l) => ActiveDirectoryLab.Dn("Smith, Jane", l.Ou);
        string Ann(ActiveDirectoryLab l) => ActiveDirectoryLab.Dn("Ann Abe", l.Ou);
        await using var lab = await ActiveDirectoryLab.StartAsync(
            fixture,
            l => ActiveDirectoryLab.User(Smith(l), $"x{l.Tag}s", 66048, $"E-{l.Tag}-s", $"s.{l.Tag}@corp.example", "Sales", null,
                    ("givenName", "Jane"), ("sn", "Smith"), ("displayName", "Smith, Jane"), ("description", "Sales, Tokyo office"), ("telephoneNumber", "+81 3 0000 0000"), ("title", "営業部長"))
                + ActiveDirectoryLab.User(Ann(l), $"x{l.Tag}a", 512, $"E-{l.Tag}-a", $"a.{l.Tag}@corp.example")
                + ActiveDirectoryLab.Group(ActiveDirectoryLab.Dn("g-sales", l.Ou), $"x{l.Tag}g1", [Smith(l), Ann(l)])
                + ActiveDirectoryLab.Group(ActiveDirectoryLab.Dn("g-tokyo", l.Ou), $"x{l.Tag}g2", [Smith(l)]),
            l => [($"E-{l.Tag}-s", $"s.{l.Tag}@corp.example"), ($"E-{l.Tag}-a", $"a.{l.Tag}@corp.example")]);
        var plan = await lab.PlanAsync();
        var smith = plan.Entities.Single(e => e.Disposition == Disposition.Remove && e.Dn.StartsWith("CN=Smith", StringComparison.Ordinal));
        var dn = DistinguishedName.Normalize(smith.Dn);
        var groups = new[] { ActiveDirectoryLab.Dn("g-sales", lab.Ou), ActiveDirectoryLab.Dn("g-tokyo", lab.Ou) }.Select(DistinguishedName.Normalize).ToList();
        await lab.ApproveAsync("alice");
        var run = await lab.CliAsync(lab.Run("staff"));
        run.ExitCode.Should().Be(0, run.ToString());
        (await lab.ReadEntryAsync(smith.Dn)).Should().BeNull();
        var deleted = await lab.ReadDomainAsync();
        EntryBackup backup;
        var store = await lab.OpenStoreAsync();
        await using (store as IAsyncDisposable)
        {
            backup = (await store.GetBackupAsync(smith.Id, CancellationToken.None))!;
        }

        var clock = Stopwatch.StartNew();
        var restore = await lab.CliAsync("restore", "--config", lab.Config, "--entity", smith.Id, "--as", "carol");
        clock.Stop();

        restore.ExitCode.Should().Be(0, restore.ToString());
        output.WriteLine($"restore in {clock.Elapsed.TotalSeconds:F1} s (CLI process included)\n{restore.Output}");
        restore.Output.Should().Contain("Restored").And.Contain("2 group membership(s)")
            .And.Contain("new objectGUID and objectSid", "the output says it is a new object")
            .And.Contain("AD Recycle Bin restores the original object", "and how the original comes back");
        var restored = (await lab.ReadEntryAsync(smith.Dn))!;
        restored.Should().NotBeNull();
        restored.Values("objectGUID").Single().Should().NotEqual(backup.Entry.GetValues("objectGUID")[0], "Active Directory gives the re-created object a new objectGUID");
        restored.Values("objectSid").Single().Should().NotEqual(backup.Entry.GetValues("objectSid")[0], "and a new objectSid");
        new Guid(backup.Entry.GetValues("objectGUID")[0]).ToString("D").Should().Be(smith.Id, "the backup is of the planned object");

        // What AD lets a client restore: every attribute of the backup it does not manage itself, equal value for value.
        var compared = new List<string>();
        foreach (var (name, values) in backup.Entry.Attributes)
        {
            if (ServerManagedAttributes.IsLeftOut(name, DirectoryDialect.ActiveDirectory, keepIdentity: false))
            {
                continue;
            }

            compared.Add(name);
            if (name.Equals("userAccountControl", StringComparison.OrdinalIgnoreCase))
            {
                restored.String(name).Should().Be((66048 | AccountDisable).ToString(CultureInfo.InvariantCulture), "the account comes back disabled (its password cannot be read from AD), its other flags kept");
                continue;
            }

            restored.Values(name).Select(Convert.ToBase64String).Should().BeEquivalentTo(values.Select(Convert.ToBase64String), $"{name} is restored as backed up");
        }

        compared.Select(n => n.ToLowerInvariant()).Should().Contain(
            ["objectclass", "cn", "samaccountname", "mail", "employeeid", "department", "givenname", "sn", "displayname", "description", "telephonenumber", "title", "useraccountcontrol"]);
        restored.Strings("memberOf").Select(DistinguishedName.Normalize).Should().BeEquivalentTo(groups, "its memberships are back");
        backup.Groups.Select(g => DistinguishedName.Normalize(g.GroupDn)).Should().BeEquivalentTo(groups);
        var now = await lab.ReadDomainAsync();
        now.Keys.Except(deleted.Keys).Should().Equal(dn);
        foreach (var group in groups)
        {
            now[group].Strings("member").Select(DistinguishedName.Normalize).Should().Contain(dn, $"{group} lists the person again");
        }

        var again = await lab.CliAsync("restore", "--config", lab.Config, "--entity", smith.Id, "--as", "carol");
        again.ExitCode.Should().Be(0, "a second restore finds it back and changes nothing: " + again);
        again.Output.Should().Contain("already back");
        var last = await lab.ReadDomainAsync();
        foreach (var key in groups.Append(dn))
        {
            last[key].Content().Should().Be(now[key].Content(), $"{key} is not written by the second restore (uSNChanged included)");
        }
    }

    [Fact]
    public async Task Restore_on_Active_Directory_refuses_when_another_account_now_holds_the_DN_and_gives_it_none_of_the_memberships()
    {
        string Smith(ActiveDirectoryLab l) => ActiveDirectoryLab.Dn("Smith, Jane", l.Ou);
        await using var lab = await ActiveDirectoryLab.StartAsync(
            fixture,
            l => ActiveDirectoryLab.User(Smith(l), $"x{l.Tag}s", 512, $"E-{l.Tag}-s", $"s.{l.Tag}@corp.example")
                + ActiveDirectoryLab.Group(ActiveDirectoryLab.Dn("g-finance-admins", l.Ou), $"x{l.Tag}g1", [Smith(l)]),
            l => [($"E-{l.Tag}-s", $"s.{l.Tag}@corp.example")]);
        var plan = await lab.PlanAsync();
        var smith = plan.Entities.Single(e => e.Disposition == Disposition.Remove);
        await lab.ApproveAsync("alice");
        var run = await lab.CliAsync(lab.Run("staff"));
        run.ExitCode.Should().Be(0, run.ToString());
        // A new hire of the same name, created by an administrator after the wave: another account at the same DN.
        await lab.Server.AddLdifTextAsync(ActiveDirectoryLab.User(smith.Dn, $"x{lab.Tag}n", 512, $"E-{lab.Tag}-n", $"n.{lab.Tag}@corp.example"), CancellationToken.None);
        var before = await lab.ReadDomainAsync();

        var restore = await lab.CliAsync("restore", "--config", lab.Config, "--entity", smith.Id, "--as", "carol");

        restore.ExitCode.Should().Be(2, "the DN is taken by another account: " + restore);
        restore.Error.Should().Contain("an entry other than the backup's already exists");
        var after = await lab.ReadDomainAsync();
        after.Keys.Should().BeEquivalentTo(before.Keys);
        foreach (var (dn, entry) in after)
        {
            entry.Content().Should().Be(before[dn].Content(), $"{dn} is not written: the new hire gets none of the deleted person's groups");
        }
    }

    [Fact]
    public async Task Restore_on_Active_Directory_of_a_person_with_another_primary_group_brings_back_its_memberships_and_the_primary_group_or_says_how()
    {
        // Setting primaryGroupID makes AD list the former primary group (Domain Users) as a member value and
        // drop the new one from its member values: the backup then lists Domain Users, which a re-created
        // account is already in through its default primaryGroupID (AD answers entryAlreadyExists).
        string Ann(ActiveDirectoryLab l) => ActiveDirectoryLab.Dn("Ann Abe", l.Ou);
        string Primary(ActiveDirectoryLab l) => ActiveDirectoryLab.Dn("g-primary", l.Ou);
        string Other(ActiveDirectoryLab l) => ActiveDirectoryLab.Dn("g-other", l.Ou);
        await using var lab = await ActiveDirectoryLab.StartAsync(
            fixture,
            l => ActiveDirectoryLab.User(Ann(l), $"x{l.Tag}a", 512, $"E-{l.Tag}-a", $"a.{l.Tag}@corp.example")
                + ActiveDirectoryLab.Group(Primary(l), $"x{l.Tag}gp", [Ann(l)])
                + ActiveDirectoryLab.Group(Other(l), $"x{l.Tag}go", [Ann(l)]),
            l => [($"E-{l.Tag}-a", $"a.{l.Tag}@corp.example")]);
        var sid = (await lab.ReadEntryAsync(Primary(lab)))!.Values("objectSid").Single();
        var rid = BitConverter.ToUInt32(sid, sid.Length - 4).ToString(CultureInfo.InvariantCulture);
        await lab.Server.ModifyAsync($"dn: {Ann(lab)}\nchangetype: modify\nreplace: primaryGroupID\nprimaryGroupID: {rid}\n", CancellationToken.None);
        var domainUsers = DistinguishedName.Normalize("CN=Domain Users,CN=Users," + lab.Domain);
        (await lab.ReadEntryAsync(Ann(lab)))!.Strings("memberOf").Select(DistinguishedName.Normalize).Should().BeEquivalentTo([domainUsers, DistinguishedName.Normalize(Other(lab))]);
        var plan = await lab.PlanAsync();
        var ann = plan.Entities.Single(e => e.Disposition == Disposition.Remove);
        await lab.ApproveAsync("alice");
        var run = await lab.CliAsync(lab.Run("staff"));
        run.ExitCode.Should().Be(0, run.ToString());

        var restore = await lab.CliAsync("restore", "--config", lab.Config, "--entity", ann.Id, "--as", "carol");

        restore.ExitCode.Should().Be(0, "Domain Users through the default primaryGroupID is that membership already: " + restore);
        output.WriteLine(restore.ToString());
        restore.Output.Should().Contain("with 2 group membership(s)");
        var restored = (await lab.ReadEntryAsync(Ann(lab)))!;
        restored.Strings("memberOf").Select(DistinguishedName.Normalize).Should().Contain(DistinguishedName.Normalize(Other(lab)));
        if (restored.String("primaryGroupID") != rid)
        {
            restore.Error.Should().Contain($"its primary group was not restored: primaryGroupID was {rid}", "the operator is told what did not come back and how to do it");
        }

        var again = await lab.CliAsync("restore", "--config", lab.Config, "--entity", ann.Id, "--as", "carol");
        again.ExitCode.Should().Be(0, again.ToString());
    }

    [Fact]
    public async Task Restore_on_Active_Directory_leaves_out_links_to_objects_deleted_since_the_backup_and_names_them()
    {
        // A manager and a report leave in one wave, their team's group in the next, and one more member of
        // the group leaves afterwards: the report's manager and that member are gone when the report and the
        // group are restored, and AD refuses an add that links to a missing object.
        string Mgr(ActiveDirectoryLab l) => ActiveDirectoryLab.Dn("Mia Manager", l.Ou);
        string Rep(ActiveDirectoryLab l) => ActiveDirectoryLab.Dn("Rex Report", l.Ou);
        string Stay(ActiveDirectoryLab l) => ActiveDirectoryLab.Dn("Sam Stays", $"OU=exec-{l.Tag}-other,{l.Domain}");
        string Later(ActiveDirectoryLab l) => ActiveDirectoryLab.Dn("Lou Later", $"OU=exec-{l.Tag}-other,{l.Domain}");
        string Team(ActiveDirectoryLab l) => ActiveDirectoryLab.Dn("g-team", l.Ou);
        string Parent(ActiveDirectoryLab l) => ActiveDirectoryLab.Dn("g-parent", l.Ou);
        await using var lab = await ActiveDirectoryLab.StartAsync(
            fixture,
            l => ActiveDirectoryLab.User(Mgr(l), $"x{l.Tag}m", 512, $"E-{l.Tag}-m", $"m.{l.Tag}@corp.example")
                + ActiveDirectoryLab.User(Rep(l), $"x{l.Tag}r", 512, $"E-{l.Tag}-r", $"r.{l.Tag}@corp.example", null, null, ("manager", Mgr(l)))
                + $"dn: OU=exec-{l.Tag}-other,{l.Domain}\nobjectClass: organizationalUnit\n\n"
                + ActiveDirectoryLab.User(Stay(l), $"x{l.Tag}s", 512, null, null)
                + ActiveDirectoryLab.User(Later(l), $"x{l.Tag}l", 512, null, null)
                + ActiveDirectoryLab.Group(Team(l), $"x{l.Tag}gt", [Mgr(l), Rep(l), Stay(l), Later(l)])
                + ActiveDirectoryLab.Group(Parent(l), $"x{l.Tag}gp", [Team(l)]),
            l => [($"E-{l.Tag}-m", $"m.{l.Tag}@corp.example"), ($"E-{l.Tag}-r", $"r.{l.Tag}@corp.example")],
            l =>
            [
                new JsonObject { ["Name"] = "people", ["Order"] = 1, ["Deadline"] = "2027-04-30", ["BaseDn"] = l.Ou, ["Filter"] = "(&(objectCategory=person)(objectClass=user))" },
                new JsonObject { ["Name"] = "groups", ["Order"] = 2, ["Deadline"] = "2027-04-30", ["BaseDn"] = l.Ou, ["Filter"] = "(&(objectCategory=group)(cn=g-team))", ["DependsOn"] = new JsonArray("people") },
            ]);
        var plan = await lab.PlanAsync();
        plan.Entities.Where(e => e.Disposition == Disposition.Remove).Select(e => e.Dn.Split(',')[0]).Should().BeEquivalentTo(["CN=Mia Manager", "CN=Rex Report", "CN=g-team"]);
        await lab.ApproveAsync("alice");
        foreach (var wave in new[] { "people", "groups" })
        {
            var run = await lab.CliAsync(lab.Run(wave));
            run.ExitCode.Should().Be(0, run.ToString());
        }

        await lab.Server.ModifyAsync($"dn: {Later(lab)}\nchangetype: delete\n", CancellationToken.None);
        var before = await lab.ReadDomainAsync();
        before.Keys.Should().NotContain(new[] { Mgr(lab), Rep(lab), Team(lab) }.Select(DistinguishedName.Normalize));
        var team = plan.Entities.Single(e => e.Dn.StartsWith("CN=g-team", StringComparison.Ordinal));
        var report = plan.Entities.Single(e => e.Dn.StartsWith("CN=Rex", StringComparison.Ordinal));

        var group = await lab.CliAsync("restore", "--config", lab.Config, "--entity", team.Id, "--as", "carol");

        group.ExitCode.Should().Be(0, group.ToString());
        output.WriteLine(group.ToString());
        group.Error.Should().Contain($"left out member {Later(lab)}: no such entry any more").And.NotContain("Mia").And.NotContain("Rex", "AD had taken the people of the first wave out of the group before its backup");
        var restoredTeam = (await lab.ReadEntryAsync(Team(lab)))!;
        restoredTeam.Strings("member").Select(DistinguishedName.Normalize).Should().BeEquivalentTo([DistinguishedName.Normalize(Stay(lab))], "the member still there is restored");
        restoredTeam.Strings("memberOf").Select(DistinguishedName.Normalize).Should().BeEquivalentTo([DistinguishedName.Normalize(Parent(lab))], "and the group is back in its parent group");
        var person = await lab.CliAsync("restore", "--config", lab.Config, "--entity", report.Id, "--as", "carol");
        person.ExitCode.Should().Be(0, person.ToString());
        person.Error.Should().Contain($"left out manager {Mgr(lab)}");
        var restoredReport = (await lab.ReadEntryAsync(Rep(lab)))!;
        restoredReport.Strings("manager").Should().BeEmpty();
        restoredReport.Strings("memberOf").Select(DistinguishedName.Normalize).Should().BeEquivalentTo([DistinguishedName.Normalize(Team(lab))], "the report is back in the restored team");
        restoredReport.String("mail").Should().Be($"r.{lab.Tag}@corp.example");
    }
}
