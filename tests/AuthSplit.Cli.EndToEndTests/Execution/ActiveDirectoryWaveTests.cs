using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using AuthSplit.Core.Directory;
using AuthSplit.Core.Execution;
using AuthSplit.Core.Planning.Format;
using AuthSplit.Testing;
using Xunit.Abstractions;

namespace AuthSplit.Cli.EndToEndTests.Execution;

/// <summary>
/// The executor on a real Active Directory (Samba AD DC) through the CLI: plan (dialect ActiveDirectory),
/// approve, run with the Graph emulator as the target, restore. Every outcome is checked against the DC's
/// own answer (ldapsearch), with <c>uSNChanged</c> as the witness that an entry was not written. Needs
/// root, as every Samba AD test does (CI runs as root).
/// </summary>
[Collection(SambaAdFixture.Collection)]
public sealed class ActiveDirectoryWaveTests(SambaAdFixture fixture, ITestOutputHelper output)
{
    private const int AccountDisable = 0x2;
    private static readonly string[] ChangeStamps = ["uSNChanged", "whenChanged"];

    [Fact]
    public async Task A_wave_on_Active_Directory_disables_then_deletes_exactly_the_planned_people_leaves_group_links_to_AD_and_a_second_run_writes_nothing()
    {
        var names = new (string Cn, int Uac)[] { ("Ann Abe", 512), ("Ben Baba", 66048), ("Cho Chiba", 514), ("Smith, Jane", 512), ("山田 花子", 512), ("*)(cn=*", 512) };
        await using var lab = await ActiveDirectoryLab.StartAsync(
            fixture,
            l =>
            {
                var people = names.Select(n => ActiveDirectoryLab.Dn(n.Cn, l.Ou)).ToList();
                var other = $"OU=exec-{l.Tag}-other,{l.Domain}";
                var kept = ActiveDirectoryLab.Dn("Kai Kept", l.Ou);
                var legal = ActiveDirectoryLab.Dn("Lee Legal", l.Ou);
                var computer = ActiveDirectoryLab.Dn("PC-" + l.Tag, l.Ou);
                var outsider = ActiveDirectoryLab.Dn("Oda Outside", other);
                return string.Concat(names.Select((n, i) => ActiveDirectoryLab.User(people[i], $"x{l.Tag}p{i}", n.Uac, $"E-{l.Tag}-{i}", $"p{i}.{l.Tag}@corp.example")))
                    + ActiveDirectoryLab.User(kept, $"x{l.Tag}k", 512, $"E-{l.Tag}-k", $"k.{l.Tag}@corp.example")
                    + ActiveDirectoryLab.User(legal, $"x{l.Tag}l", 512, $"E-{l.Tag}-l", $"l.{l.Tag}@corp.example", department: "Legal")
                    + $"dn: {computer}\nobjectClass: computer\nsAMAccountName: PC{l.Tag}$\n\n"
                    + $"dn: {other}\nobjectClass: organizationalUnit\n\n"
                    + ActiveDirectoryLab.User(outsider, $"x{l.Tag}o", 512, $"E-{l.Tag}-o", $"o.{l.Tag}@corp.example")
                    + ActiveDirectoryLab.Group(ActiveDirectoryLab.Dn("g-all", l.Ou), $"x{l.Tag}gall", [.. people, kept, legal, computer])
                    + ActiveDirectoryLab.Group(ActiveDirectoryLab.Dn("g-one", l.Ou), $"x{l.Tag}gone", [people[0]])
                    + ActiveDirectoryLab.Group(ActiveDirectoryLab.Dn("g-parent", l.Ou), $"x{l.Tag}gpar", [ActiveDirectoryLab.Dn("g-all", l.Ou)])
                    + ActiveDirectoryLab.Group(ActiveDirectoryLab.Dn("g-outside", other), $"x{l.Tag}gout", [people[0], people[3], outsider]);
            },
            // Kai Kept has no cloud account (the plan blocks him); Lee Legal and Oda Outside have one.
            l => names.Select((_, i) => ($"E-{l.Tag}-{i}", $"p{i}.{l.Tag}@corp.example")).Append(($"E-{l.Tag}-l", $"l.{l.Tag}@corp.example")).Append(($"E-{l.Tag}-o", $"o.{l.Tag}@corp.example")));
        var plan = await lab.PlanAsync();
        var wave = plan.Entities.Where(e => e.Wave == "staff").ToList();
        var removals = wave.Where(e => e.Disposition == Disposition.Remove).ToList();
        var planned = names.Select(n => DistinguishedName.Normalize(ActiveDirectoryLab.Dn(n.Cn, lab.Ou))).ToHashSet();
        removals.Select(e => DistinguishedName.Normalize(e.Dn)).Should().BeEquivalentTo(planned, "the six matched people of the OU, and nobody else, are planned for removal");
        wave.Single(e => e.Dn.StartsWith("CN=Lee Legal", StringComparison.Ordinal)).Protection!.Reason.Should().Be("protected-filter");
        wave.Single(e => e.Dn.StartsWith("CN=Kai Kept", StringComparison.Ordinal)).Disposition.Should().NotBe(Disposition.Remove);
        wave.Should().NotContain(e => e.Dn.StartsWith("CN=PC-", StringComparison.Ordinal), "objectCategory=person leaves the computer out");
        await lab.ApproveAsync("alice");
        var before = await lab.ReadDomainAsync();

        var clock = Stopwatch.StartNew();
        var run = await lab.CliAsync(lab.Run("staff"));
        clock.Stop();

        run.ExitCode.Should().Be(0, run + (await lab.StatusAsync("staff")).ToJsonString());
        output.WriteLine($"{removals.Count} removals on Samba AD in {clock.Elapsed.TotalSeconds:F1} s (CLI process included)\n{run.Output}");
        var after = await lab.ReadDomainAsync();
        before.Keys.Except(after.Keys).Should().BeEquivalentTo(planned, "exactly the planned people are gone from the domain");
        after.Keys.Except(before.Keys).Should().BeEmpty();
        var groupsOf = planned.ToDictionary(dn => dn, dn => before.Where(g => g.Value.Strings("member").Any(m => DistinguishedName.Normalize(m) == dn)).Select(g => g.Key).ToHashSet());
        groupsOf.Values.SelectMany(g => g).Distinct().Should().HaveCount(3, "g-all, g-one and g-outside listed the removed people");
        foreach (var (dn, entry) in after)
        {
            var was = before[dn];
            if (groupsOf.Values.Any(g => g.Contains(dn)))
            {
                entry.Strings("member").Select(DistinguishedName.Normalize).Should().BeEquivalentTo(
                    was.Strings("member").Select(DistinguishedName.Normalize).Where(m => !planned.Contains(m)), $"AD took the deleted people's links out of {dn}");
                entry.Content([.. ChangeStamps, "member"]).Should().Be(was.Content([.. ChangeStamps, "member"]), $"{dn} is otherwise as it was");
            }
            else
            {
                entry.Content().Should().Be(was.Content(), $"{dn} was not written (its uSNChanged included)");
            }
        }

        var store = await lab.OpenStoreAsync();
        await using (store as IAsyncDisposable)
        {
            foreach (var entity in removals)
            {
                var dn = DistinguishedName.Normalize(entity.Dn);
                var control = int.Parse(before[dn].String("userAccountControl")!, CultureInfo.InvariantCulture);
                var steps = (await store.GetStepsAsync(plan.PlanId!, entity.Id, CancellationToken.None)).ToList();
                var disable = steps.Single(s => s.Step == StepAction.DisableLegacyAccount);
                var delete = steps.Single(s => s.Step == StepAction.DeleteLegacyEntry && s.Outcome == StepOutcome.Done);
                steps.IndexOf(disable).Should().BeLessThan(steps.IndexOf(delete), $"{entity.Dn} was disabled before it was deleted");
                JsonNode.Parse(disable.Before!)!["userAccountControl"]!.GetValue<string>().Should().Be(control.ToString(CultureInfo.InvariantCulture), "the journal keeps the value read before the disable");
                if ((control & AccountDisable) == 0)
                {
                    disable.Outcome.Should().Be(StepOutcome.Done);
                    JsonNode.Parse(disable.After!)!["userAccountControl"]!.GetValue<string>().Should().Be((control | AccountDisable).ToString(CultureInfo.InvariantCulture), $"{entity.Dn}: ACCOUNTDISABLE set, every other flag kept, as read back from the DC");
                }
                else
                {
                    disable.Outcome.Should().Be(StepOutcome.AlreadyDone, $"{entity.Dn} was disabled already (514): nothing written");
                }

                JsonNode.Parse(delete.After!)!["groupsCleaned"]!.AsArray().Should().BeEmpty("on Active Directory the executor leaves the link values to the server and writes to no group");
                steps.Should().ContainSingle(s => s.Step == StepAction.VerifyLegacyAbsent && s.Outcome == StepOutcome.Done);
                var backup = (await store.GetBackupAsync(entity.Id, CancellationToken.None))!;
                backup.Entry.GetString("userAccountControl").Should().Be(control.ToString(CultureInfo.InvariantCulture), "the backup holds the entry before any write");
                backup.Groups.Select(g => DistinguishedName.Normalize(g.GroupDn)).Should().BeEquivalentTo(groupsOf[dn], $"the backup lists every group that listed {entity.Dn}");
            }
        }

        var states = await lab.EntityStatesAsync("staff");
        removals.Select(e => states[e.Id].State).Should().OnlyContain(s => s == "done");
        states.Where(s => !removals.Any(e => e.Id == s.Key)).Select(s => s.Value.State).Should().OnlyContain(s => s == "excluded");
        var switches = lab.Emulator.Writes.Where(w => w.Path.Contains("onPremisesSyncBehavior", StringComparison.Ordinal)).Select(w => w.Path).ToList();
        switches.Should().OnlyHaveUniqueItems().And.HaveCount(removals.Count, "one source-of-authority switch per removed person");
        foreach (var person in removals)
        {
            switches.Should().ContainSingle(p => p.Contains(person.Match.TargetId!, StringComparison.Ordinal), person.Dn);
        }

        var writes = lab.Emulator.Writes.Count;
        var again = await lab.CliAsync(lab.Run("staff"));
        again.ExitCode.Should().Be(0, again.ToString());
        again.Output.Should().Contain("already complete").And.Contain("nothing was changed");
        lab.Emulator.Writes.Should().HaveCount(writes, "a second run writes nothing to Graph");
        var third = await lab.ReadDomainAsync();
        third.Keys.Should().BeEquivalentTo(after.Keys);
        foreach (var (dn, entry) in third)
        {
            entry.Content().Should().Be(after[dn].Content(), $"{dn} is not written by the second run (uSNChanged included)");
        }
    }

    [Fact]
    public async Task An_AD_admin_a_critical_system_object_and_a_well_known_SID_forged_into_a_rehashed_and_approved_plan_are_refused_at_run_time_and_left_untouched()
    {
        // A RID of the well-known range (below 1000) not used by the domain (Samba's built-ins end at 572).
        var rid = 700 + RandomNumberGenerator.GetInt32(200);
        await using var lab = await ActiveDirectoryLab.StartAsync(
            fixture,
            l => ActiveDirectoryLab.User(ActiveDirectoryLab.Dn("Rae Regular", l.Ou), $"x{l.Tag}r", 512, $"E-{l.Tag}-r", $"r.{l.Tag}@corp.example")
                + ActiveDirectoryLab.User(ActiveDirectoryLab.Dn("Ada Admin", l.Ou), $"x{l.Tag}a", 512, $"E-{l.Tag}-a", $"a.{l.Tag}@corp.example", adminCount: 1),
            l => [($"E-{l.Tag}-r", $"r.{l.Tag}@corp.example"), ($"E-{l.Tag}-a", $"a.{l.Tag}@corp.example")],
            l =>
            [
                new JsonObject { ["Name"] = "staff", ["Order"] = 1, ["Deadline"] = "2027-04-30", ["BaseDn"] = l.Ou, ["Filter"] = "(&(objectCategory=person)(objectClass=user))" },
                new JsonObject
                {
                    ["Name"] = "accounts", ["Order"] = 2, ["Deadline"] = "2027-04-30", ["BaseDn"] = "CN=Users," + l.Domain,
                    ["Filter"] = "(&(objectCategory=person)(objectClass=user)(|(sAMAccountName=Administrator)(sAMAccountName=Guest)(sAMAccountName=krbtgt)))",
                },
            ]);
        var wellKnown = ActiveDirectoryLab.Dn("Wes WellKnown", lab.Ou);
        await lab.AddUserWithRidAsync(wellKnown, $"x{lab.Tag}w", rid);
        var plan = await lab.PlanAsync();
        var regular = plan.Entities.Single(e => e.Dn.StartsWith("CN=Rae Regular", StringComparison.Ordinal));
        regular.Disposition.Should().Be(Disposition.Remove);
        var guarded = plan.Entities.Where(e => e.Disposition == Disposition.Protected).ToList();
        guarded.ToDictionary(e => e.Dn.Split(',')[0], e => e.Protection!.Reason).Should().BeEquivalentTo(new Dictionary<string, string>
        {
            ["CN=Ada Admin"] = "builtin-admin-count",
            ["CN=Wes WellKnown"] = "builtin-well-known-sid",
            ["CN=Administrator"] = "builtin-bind-account",
            ["CN=Guest"] = "builtin-critical-system-object",
            ["CN=krbtgt"] = "builtin-admin-count",
        }, "the planner protects them; the forger below undoes that");

        // The forger knows the format: every protected entry made a removal, the steps of a real one copied, the planId recomputed.
        var forged = PlanSerializer.WithPlanId(plan with
        {
            PlanId = null,
            Entities = [.. plan.Entities.Select(e => e.Disposition == Disposition.Protected ? e with { Disposition = Disposition.Remove, Protection = null, Blockers = [], Steps = regular.Steps } : e)],
        });
        var forgedPath = Path.Combine(lab.Work, "forged-plan.json");
        await File.WriteAllBytesAsync(forgedPath, PlanSerializer.Serialize(forged));
        await lab.ApproveAsync("alice", forgedPath);
        var before = await lab.ReadDomainAsync();

        var staff = await lab.CliAsync(lab.Run("staff", forgedPath));
        var accounts = await lab.CliAsync(lab.Run("accounts", forgedPath));

        staff.ExitCode.Should().Be(0, "refused is a final state, not a failure: " + staff);
        staff.Output.Should().Contain("1 done, 0 stale, 2 refused", staff.ToString());
        accounts.ExitCode.Should().Be(0, accounts.ToString());
        accounts.Output.Should().Contain("0 done, 0 stale, 3 refused", accounts.ToString());
        var states = (await lab.EntityStatesAsync("staff")).Concat(await lab.EntityStatesAsync("accounts")).ToDictionary();
        var after = await lab.ReadDomainAsync();
        var store = await lab.OpenStoreAsync();
        await using (store as IAsyncDisposable)
        {
            foreach (var entity in guarded)
            {
                var (state, reason) = states[entity.Id];
                state.Should().Be("refused", entity.Dn);
                reason.Should().StartWith("protected").And.Contain(entity.Protection!.Reason, "the run-time rail names the same rule as the planner").And.Contain("refused at run time");
                var dn = DistinguishedName.Normalize(entity.Dn);
                after[dn].Content().Should().Be(before[dn].Content(), $"{entity.Dn} is not written at all, not even disabled (uSNChanged included)");
                var steps = await store.GetStepsAsync(forged.PlanId!, entity.Id, CancellationToken.None);
                steps.Should().ContainSingle().Which.Outcome.Should().Be(StepOutcome.Refused, "refused before its first step, and journalled");
                (await store.GetBackupAsync(entity.Id, CancellationToken.None)).Should().BeNull("nothing was read for a backup either");
            }
        }

        after.Should().NotContainKey(DistinguishedName.Normalize(regular.Dn), "the wave's real removal went ahead");
        states[regular.Id].State.Should().Be("done");
        lab.Emulator.Writes.Where(w => w.Path.Contains("onPremisesSyncBehavior", StringComparison.Ordinal)).Should().ContainSingle()
            .Which.Path.Should().Contain(regular.Match.TargetId!, "the only switch in the target is the regular person's");
    }

    [Fact]
    public async Task With_a_quarantine_OU_on_Active_Directory_each_person_is_disabled_moved_there_and_then_deleted_and_its_groups_lose_only_that_link()
    {
        var names = new[] { "Ann Abe", "Smith, Jane", "山田 花子" };
        string Quarantine(ActiveDirectoryLab l) => $"OU=quarantine-{l.Tag},{l.Domain}";
        string Kept(ActiveDirectoryLab l) => ActiveDirectoryLab.Dn("Kai Kept", $"OU=exec-{l.Tag}-other,{l.Domain}");
        await using var lab = await ActiveDirectoryLab.StartAsync(
            fixture,
            l => string.Concat(names.Select((n, i) => ActiveDirectoryLab.User(ActiveDirectoryLab.Dn(n, l.Ou), $"x{l.Tag}p{i}", 512, $"E-{l.Tag}-{i}", $"p{i}.{l.Tag}@corp.example")))
                + $"dn: OU=exec-{l.Tag}-other,{l.Domain}\nobjectClass: organizationalUnit\n\n"
                + ActiveDirectoryLab.User(Kept(l), $"x{l.Tag}k", 512, $"E-{l.Tag}-k", $"k.{l.Tag}@corp.example")
                + ActiveDirectoryLab.Group(ActiveDirectoryLab.Dn("g-all", l.Ou), $"x{l.Tag}g", [.. names.Select(n => ActiveDirectoryLab.Dn(n, l.Ou)), Kept(l)])
                + $"dn: {Quarantine(l)}\nobjectClass: organizationalUnit\n\n",
            l => names.Select((_, i) => ($"E-{l.Tag}-{i}", $"p{i}.{l.Tag}@corp.example")),
            configure: (l, config) => config["Removal"]!["QuarantineDn"] = Quarantine(l));
        var plan = await lab.PlanAsync();
        var removals = plan.Entities.Where(e => e.Disposition == Disposition.Remove).ToList();
        removals.Should().HaveCount(3);
        removals.Should().OnlyContain(e => e.Steps.Any(s => s.Action == StepAction.QuarantineLegacyEntry), "Removal:QuarantineDn adds the move to each removal");
        await lab.ApproveAsync("alice");
        var before = await lab.ReadDomainAsync();

        var run = await lab.CliAsync(lab.Run("staff"));

        run.ExitCode.Should().Be(0, run + (await lab.StatusAsync("staff")).ToJsonString());
        var after = await lab.ReadDomainAsync();
        var planned = removals.Select(e => DistinguishedName.Normalize(e.Dn)).ToHashSet();
        before.Keys.Except(after.Keys).Should().BeEquivalentTo(planned);
        after.Keys.Except(before.Keys).Should().BeEmpty("nothing is left in the quarantine OU");
        var group = DistinguishedName.Normalize(ActiveDirectoryLab.Dn("g-all", lab.Ou));
        after[group].Strings("member").Select(DistinguishedName.Normalize).Should().Equal(DistinguishedName.Normalize(Kept(lab)));
        foreach (var (dn, entry) in after.Where(e => e.Key != group))
        {
            entry.Content().Should().Be(before[dn].Content(), $"{dn} was not written");
        }

        var store = await lab.OpenStoreAsync();
        await using (store as IAsyncDisposable)
        {
            foreach (var entity in removals)
            {
                var steps = (await store.GetStepsAsync(plan.PlanId!, entity.Id, CancellationToken.None)).Where(s => s.Outcome != StepOutcome.Started).ToList();
                steps.Select(s => s.Step).Should().Equal(entity.Steps.Select(s => s.Action), "each planned step once, in order");
                steps.Should().OnlyContain(s => s.Outcome == StepOutcome.Done, string.Join("\n", steps.Select(s => $"{s.Step} {s.Outcome} {s.Reason}")));
                var moved = JsonNode.Parse(steps.Single(s => s.Step == StepAction.QuarantineLegacyEntry).After!)!["dn"]!.GetValue<string>();
                DistinguishedName.Parse(moved).IsWithin(DistinguishedName.Parse(Quarantine(lab))).Should().BeTrue(moved);
                var deleted = JsonNode.Parse(steps.Single(s => s.Step == StepAction.DeleteLegacyEntry).After!)!["deleted"]!.GetValue<string>();
                DistinguishedName.Normalize(deleted).Should().Be(DistinguishedName.Normalize(moved), "the delete took the quarantined entry");
                var backup = (await store.GetBackupAsync(entity.Id, CancellationToken.None))!;
                backup.Groups.Select(g => DistinguishedName.Normalize(g.GroupDn)).Should().Equal(group);
            }
        }

        var again = await lab.CliAsync(lab.Run("staff"));
        again.ExitCode.Should().Be(0, again.ToString());
        again.Output.Should().Contain("nothing was changed");
    }

    [Fact]
    public async Task A_person_with_a_child_object_on_Active_Directory_fails_disabled_but_present_and_the_rerun_after_the_child_is_gone_deletes_it_without_writing_anything_twice()
    {
        // Devices and the like live under user objects in real domains (AD refuses to delete a non-leaf
        // without the tree-delete control, which would take children the backup does not hold). The wave
        // takes enabled people only, as AD operators write it: the executor's own disable must not make the
        // person drop out of the plan (stale) when the wave is run again.
        string Ann(ActiveDirectoryLab l) => ActiveDirectoryLab.Dn("Ann Abe", l.Ou);
        await using var lab = await ActiveDirectoryLab.StartAsync(
            fixture,
            l => ActiveDirectoryLab.User(Ann(l), $"x{l.Tag}a", 512, $"E-{l.Tag}-a", $"a.{l.Tag}@corp.example")
                + $"dn: CN=device-1,{Ann(l)}\nobjectClass: classStore\n\n"
                + ActiveDirectoryLab.User(ActiveDirectoryLab.Dn("Ben Baba", l.Ou), $"x{l.Tag}b", 512, $"E-{l.Tag}-b", $"b.{l.Tag}@corp.example"),
            l => [($"E-{l.Tag}-a", $"a.{l.Tag}@corp.example"), ($"E-{l.Tag}-b", $"b.{l.Tag}@corp.example")],
            l =>
            [
                new JsonObject
                {
                    ["Name"] = "staff", ["Order"] = 1, ["Deadline"] = "2027-04-30", ["BaseDn"] = l.Ou,
                    ["Filter"] = "(&(objectCategory=person)(objectClass=user)(!(userAccountControl:1.2.840.113556.1.4.803:=2)))",
                },
            ]);
        var plan = await lab.PlanAsync();
        plan.Entities.Where(e => e.Disposition == Disposition.Remove).Should().HaveCount(2);
        var ann = plan.Entities.Single(e => e.Dn.StartsWith("CN=Ann", StringComparison.Ordinal));
        await lab.ApproveAsync("alice");

        var first = await lab.CliAsync(lab.Run("staff"));

        first.ExitCode.Should().Be(5, "an entity failed: " + first);
        var states = await lab.EntityStatesAsync("staff");
        states[ann.Id].State.Should().Be("failed");
        states[ann.Id].Reason.Should().Contain("notAllowedOnNonLeaf");
        states.Where(s => s.Key != ann.Id).Select(s => s.Value.State).Should().Equal("done");
        var held = (await lab.ReadEntryAsync(ann.Dn))!;
        int.Parse(held.String("userAccountControl")!, CultureInfo.InvariantCulture).Should().Be(512 | AccountDisable, "the person is disabled, and still there");
        (await lab.ReadEntryAsync($"CN=device-1,{ann.Dn}")).Should().NotBeNull("no child was deleted");

        await lab.Server.ModifyAsync($"dn: CN=device-1,{ann.Dn}\nchangetype: delete\n", CancellationToken.None);
        var second = await lab.CliAsync(lab.Run("staff"));

        second.ExitCode.Should().Be(0, second + (await lab.StatusAsync("staff")).ToJsonString());
        (await lab.ReadEntryAsync(ann.Dn)).Should().BeNull();
        (await lab.EntityStatesAsync("staff")).Values.Select(v => v.State).Should().OnlyContain(s => s == "done");
        var store = await lab.OpenStoreAsync();
        await using (store as IAsyncDisposable)
        {
            var steps = await store.GetStepsAsync(plan.PlanId!, ann.Id, CancellationToken.None);
            steps.Where(s => s.Step == StepAction.DisableLegacyAccount).Should().ContainSingle("the disable of the first run stands; the rerun does not write it again")
                .Which.Outcome.Should().Be(StepOutcome.Done);
            steps.Where(s => s.Step == StepAction.DeleteLegacyEntry).Select(s => s.Outcome).Should().Contain([StepOutcome.Failed, StepOutcome.Done]);
            steps.Should().NotContain(s => s.Outcome == StepOutcome.Stale, "its own disable does not take it out of an enabled-only wave");
        }

        lab.Emulator.Writes.Where(w => w.Path.Contains(ann.Match.TargetId!, StringComparison.Ordinal)).Should().ContainSingle("the source-of-authority switch is not written again");
    }

    [Fact]
    public async Task A_wave_on_Active_Directory_killed_4_times_at_random_moments_ends_as_an_uninterrupted_run()
    {
        const int People = 40;
        const int SigKill = 9;
        var random = new Random(4);
        string Person(ActiveDirectoryLab l, int i) => ActiveDirectoryLab.Dn($"Person {i:D2}", l.Ou);
        string Kept(ActiveDirectoryLab l) => ActiveDirectoryLab.Dn("Kai Kept", $"OU=exec-{l.Tag}-other,{l.Domain}");
        await using var lab = await ActiveDirectoryLab.StartAsync(
            fixture,
            l => string.Concat(Enumerable.Range(0, People).Select(i => ActiveDirectoryLab.User(Person(l, i), $"x{l.Tag}p{i}", i % 5 == 0 ? 66048 : 512, $"E-{l.Tag}-{i}", $"p{i}.{l.Tag}@corp.example")))
                + $"dn: OU=exec-{l.Tag}-other,{l.Domain}\nobjectClass: organizationalUnit\n\n"
                + ActiveDirectoryLab.User(Kept(l), $"x{l.Tag}k", 512, null, null)
                + ActiveDirectoryLab.Group(ActiveDirectoryLab.Dn("g-even", l.Ou), $"x{l.Tag}ge", [.. Enumerable.Range(0, People).Where(i => i % 2 == 0).Select(i => Person(l, i)), Kept(l)])
                + ActiveDirectoryLab.Group(ActiveDirectoryLab.Dn("g-all", l.Ou), $"x{l.Tag}ga", [.. Enumerable.Range(0, People).Select(i => Person(l, i)), Kept(l)]),
            l => Enumerable.Range(0, People).Select(i => ($"E-{l.Tag}-{i}", $"p{i}.{l.Tag}@corp.example")),
            // One person at a time (the default is 32): the wave of 40 must still be running when each kill
            // lands; at four at a time it once finished after the second kill.
            configure: (_, config) => config["Execution"]!["Concurrency"] = 1);
        var plan = await lab.PlanAsync();
        var removals = plan.Entities.Where(e => e.Disposition == Disposition.Remove).ToList();
        removals.Should().HaveCount(People);
        await lab.ApproveAsync("alice");
        var before = await lab.ReadDomainAsync();

        var killed = 0;
        for (var attempt = 0; attempt < 12 && killed < 4; attempt++)
        {
            using var run = lab.StartCli(lab.Run("staff"));
            for (var i = 0; i < 600 && !run.HasExited && !run.OutputSoFar.Contains("remaining of", StringComparison.Ordinal); i++)
            {
                await Task.Delay(50);
            }

            await Task.Delay(random.Next(100, 700));
            if (run.HasExited)
            {
                break;
            }

            run.Signal(SigKill);
            (await run.WaitAsync(TimeSpan.FromSeconds(30))).ExitCode.Should().Be(128 + SigKill);
            killed++;
            output.WriteLine($"kill {killed}: {lab.Emulator.Writes.Count} Graph writes, {People - (await lab.ReadDomainAsync()).Keys.Count(k => k.StartsWith("cn=person", StringComparison.Ordinal))} people deleted so far");
        }

        var final = await lab.CliAsync(lab.Run("staff"));

        final.ExitCode.Should().Be(0, final + (await lab.StatusAsync("staff")).ToJsonString());
        killed.Should().BeGreaterThan(2, "the kills landed while the wave was running");
        var after = await lab.ReadDomainAsync();
        var planned = removals.Select(e => DistinguishedName.Normalize(e.Dn)).ToHashSet();
        before.Keys.Except(after.Keys).Should().BeEquivalentTo(planned);
        after.Keys.Except(before.Keys).Should().BeEmpty();
        foreach (var (dn, entry) in after)
        {
            if (before[dn].Strings("member").Any(m => planned.Contains(DistinguishedName.Normalize(m))))
            {
                entry.Strings("member").Select(DistinguishedName.Normalize).Should().BeEquivalentTo([DistinguishedName.Normalize(Kept(lab))], dn);
                entry.Content([.. ChangeStamps, "member"]).Should().Be(before[dn].Content([.. ChangeStamps, "member"]), dn);
            }
            else
            {
                entry.Content().Should().Be(before[dn].Content(), $"{dn} was not written (uSNChanged included)");
            }
        }

        (await lab.EntityStatesAsync("staff")).Values.Select(v => v.State).Should().OnlyContain(s => s == "done");
        lab.Emulator.Writes.Where(w => w.Path.Contains("onPremisesSyncBehavior", StringComparison.Ordinal)).Select(w => w.Path)
            .Should().OnlyHaveUniqueItems("no source-of-authority write is applied twice").And.HaveCount(People);
        var store = await lab.OpenStoreAsync();
        await using (store as IAsyncDisposable)
        {
            foreach (var entity in removals)
            {
                var steps = await store.GetStepsAsync(plan.PlanId!, entity.Id, CancellationToken.None);
                var journal = string.Join("\n", steps.Select(s => $"{s.Step} {s.Outcome} #{s.Attempt} {s.Before} {s.After}"));

                // A kill between the write and its journal row leaves the next run to find it done (already-done).
                steps.Count(s => s.Step == StepAction.DisableLegacyAccount && s.Outcome is StepOutcome.Done or StepOutcome.AlreadyDone).Should().Be(1, $"{entity.Dn} is disabled once:\n{journal}");
                steps.Count(s => s.Step == StepAction.DeleteLegacyEntry && s.Outcome is StepOutcome.Done or StepOutcome.AlreadyDone).Should().Be(1, $"{entity.Dn} is deleted once:\n{journal}");
                steps.Should().NotContain(s => s.Outcome == StepOutcome.Stale || s.Outcome == StepOutcome.Refused || s.Outcome == StepOutcome.Failed, journal);
                (await store.GetBackupAsync(entity.Id, CancellationToken.None)).Should().NotBeNull($"{entity.Dn} was deleted, so its backup is stored");
            }
        }
    }

    [Fact]
    public async Task A_plan_rehashed_without_the_configured_protection_is_refused_by_approve_and_by_run_and_the_protected_person_is_left_untouched_and_approve_counts_what_it_really_removes()
    {
        // The executor re-checks protection with the rules the plan carries: a forger who drops
        // Safety:ProtectedFilter from a plan and has it approved under a config without it must not get a
        // protected person removed by an operator whose config protects them.
        await using var lab = await ActiveDirectoryLab.StartAsync(
            fixture,
            l => ActiveDirectoryLab.User(ActiveDirectoryLab.Dn("Rae Regular", l.Ou), $"x{l.Tag}r", 512, $"E-{l.Tag}-r", $"r.{l.Tag}@corp.example")
                + ActiveDirectoryLab.User(ActiveDirectoryLab.Dn("Lee Legal", l.Ou), $"x{l.Tag}l", 512, $"E-{l.Tag}-l", $"l.{l.Tag}@corp.example", department: "Legal"),
            l => [($"E-{l.Tag}-r", $"r.{l.Tag}@corp.example"), ($"E-{l.Tag}-l", $"l.{l.Tag}@corp.example")]);
        var plan = await lab.PlanAsync();
        var regular = plan.Entities.Single(e => e.Disposition == Disposition.Remove);
        var legal = plan.Entities.Single(e => e.Disposition == Disposition.Protected);
        legal.Protection!.Reason.Should().Be("protected-filter");
        var forged = PlanSerializer.WithPlanId(plan with
        {
            PlanId = null,
            Settings = plan.Settings with { Safety = plan.Settings.Safety with { ProtectedFilter = null } },
            Entities = [.. plan.Entities.Select(e => e.Id == legal.Id ? e with { Disposition = Disposition.Remove, Protection = null, Steps = regular.Steps } : e)],
        });
        var forgedPath = Path.Combine(lab.Work, "forged-plan.json");
        await File.WriteAllBytesAsync(forgedPath, PlanSerializer.Serialize(forged));
        var weak = JsonNode.Parse(await File.ReadAllTextAsync(lab.Config))!.AsObject();
        weak["Safety"]!.AsObject().Remove("ProtectedFilter");
        var weakConfig = Path.Combine(lab.Work, "weak.json");
        await File.WriteAllTextAsync(weakConfig, weak.ToJsonString());
        var before = await lab.ReadDomainAsync();

        var approve = await lab.CliAsync("approve", "--config", lab.Config, "--plan", forgedPath, "--by", "alice");
        var approveWeak = await lab.CliAsync("approve", "--config", weakConfig, "--plan", forgedPath, "--by", "alice");
        var run = await lab.CliAsync(lab.Run("staff", forgedPath));

        approve.ExitCode.Should().Be(2, approve.ToString());
        approve.Error.Should().Contain("Safety:ProtectedFilter").And.Contain("(department=Legal)");
        approveWeak.ExitCode.Should().Be(0, "that config matches the forged plan: " + approveWeak);
        approveWeak.Output.Should().Contain("wave staff: 2 to remove", "the approver is shown what the entities remove, not the plan's own summary");
        approveWeak.Error.Should().Contain("the plan's summary says 1 to remove").And.Contain("edited after planning");
        run.ExitCode.Should().Be(2, "the operator's config protects more than the plan: " + run);
        run.Error.Should().Contain("Safety:ProtectedFilter");
        lab.Emulator.Writes.Should().BeEmpty();
        var after = await lab.ReadDomainAsync();
        after.Keys.Should().BeEquivalentTo(before.Keys);
        foreach (var (dn, entry) in after)
        {
            entry.Content().Should().Be(before[dn].Content(), $"{dn} was not written");
        }
    }
}
