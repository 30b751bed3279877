using System.Text.Json.Nodes;
using AuthSplit.Core.Execution;
using AuthSplit.Core.Planning.Format;
using AuthSplit.Graph.Emulator;
using Xunit.Abstractions;

namespace AuthSplit.Cli.EndToEndTests.Execution;

/// <summary>
/// Cloud groups still synchronised from the legacy directory, through the real CLI against slapd and the
/// Graph emulator: planned (per wave, and per person), switched to cloud-managed before any member's legacy
/// entry is deleted, a refused switch holding exactly its members' deletes until a decision accepts the
/// loss; and a person whose target account is already cloud-only, recorded as such and not switched.
/// </summary>
public sealed class SynchronisedGroupsTests(ITestOutputHelper output)
{
    // The hq wave of 12 generated people holds employees 0, 4 and 8 and the twelve hostile names (all with
    // a target account); employee 1 is in the domestic wave.
    private const string SalesGroup = "6a0d1f3c-5b7e-4c21-9d8a-000000000a01";
    private const string VpnGroup = "6a0d1f3c-5b7e-4c21-9d8a-000000000b02";
    private const string CloudGroup = "6a0d1f3c-5b7e-4c21-9d8a-000000000c03";

    [Fact]
    public async Task A_person_in_two_synchronised_groups_keeps_both_memberships_because_the_groups_are_switched_before_any_member_is_deleted()
    {
        var world = new Seeded();
        await using var lab = await ExecutionLab.StartAsync(people: 12, seedEmulator: world.Seed);
        var plan = await lab.PlanAsync();

        // The plan: both groups switched in hq (its first wave with members), the person in both shows both.
        plan.GroupSwitches.Should().NotBeNull();
        plan.GroupSwitches!.Select(g => (g.GroupId, g.Wave, g.Disposition, g.MembersInPlan)).Should().Equal(
            (SalesGroup, "hq", Disposition.Remove, 3),
            (VpnGroup, "hq", Disposition.Remove, 3));
        plan.GroupSwitches.Should().AllSatisfy(g => g.Steps.Select(s => s.Action).Should().Equal(StepAction.SwitchGroupSourceOfAuthority, StepAction.VerifyGroupCloudManaged));
        var raw = JsonNode.Parse(await File.ReadAllTextAsync(lab.PlanPath))!;
        raw["groupSwitches"]!.AsArray().Select(g => g!["groupId"]!.GetValue<string>()).Should().Equal(SalesGroup, VpnGroup);
        var both = PersonOf(plan, world.Employee[0]);
        var sync = RawEntity(raw, both.Id)["passwordSync"]!;
        sync["synchronisedGroups"]!.AsArray().Select(g => g!.GetValue<string>()).Should().Equal(SalesGroup, VpnGroup);
        sync["status"]!.GetValue<string>().Should().Be("synchronised");
        sync["strategy"]!.GetValue<string>().Should().Be("source-of-authority");
        PersonOf(plan, world.Employee[4]).PasswordSync!.SynchronisedGroups.Should().Equal(SalesGroup);
        PersonOf(plan, world.Employee[8]).PasswordSync!.SynchronisedGroups.Should().Equal(VpnGroup);

        await lab.ApproveAsync("alice");
        var run = await lab.CliAsync(lab.Run("hq"));
        output.WriteLine(run.ToString());
        run.ExitCode.Should().Be(0, run + (await lab.StatusAsync("hq")).ToJsonString());

        lab.Emulator.IsGroupCloudManaged(SalesGroup).Should().BeTrue();
        lab.Emulator.IsGroupCloudManaged(VpnGroup).Should().BeTrue();
        lab.Emulator.IsGroupCloudManaged(CloudGroup).Should().BeFalse("a cloud group that was never synchronised is not touched");
        var writes = lab.Emulator.Writes;
        var groupWrites = writes.Where(w => w.Path.Contains("/groups/", StringComparison.Ordinal)).ToList();
        groupWrites.Select(w => w.Path).Should().BeEquivalentTo(
            [$"/v1.0/groups/{SalesGroup}/onPremisesSyncBehavior", $"/v1.0/groups/{VpnGroup}/onPremisesSyncBehavior"],
            "each synchronised group is switched once, and nothing else of a group is written");
        groupWrites.Should().AllSatisfy(w => w.Body.Should().Be("{\"isCloudManaged\":true}"));
        var userSwitches = writes.Where(w => w.Path.Contains("/users/", StringComparison.Ordinal)).ToList();
        userSwitches.Select(w => w.Path).Should().OnlyHaveUniqueItems().And.HaveCount(plan.Entities.Count(e => e.Wave == "hq" && e.Disposition == Disposition.Remove && e.Match.TargetId is not null), "each of hq's people is switched once");
        groupWrites.Max(w => w.Sequence).Should().BeLessThan(userSwitches.Min(w => w.Sequence), "the wave's groups are switched before its people");

        foreach (var (group, members) in world.Members)
        {
            lab.Emulator.GroupMemberIds(group).Should().BeEquivalentTo(members, $"group {group} keeps every member");
        }

        var directory = await lab.ReadDirectoryAsync();
        var store = await lab.OpenStoreAsync();
        await using (store as IAsyncDisposable)
        {
            foreach (var (group, members) in world.Members.Where(m => m.Key != CloudGroup))
            {
                var switched = groupWrites.Single(w => w.Path.Contains(group, StringComparison.Ordinal));
                var journal = await store.GetStepsAsync(plan.PlanId!, "group-switch:" + group, CancellationToken.None);
                journal.Select(s => (s.Step, s.Outcome)).Should().Equal(
                    (StepAction.SwitchGroupSourceOfAuthority, StepOutcome.Done),
                    (StepAction.VerifyGroupCloudManaged, StepOutcome.Done));
                foreach (var member in members.Where(world.InHq))
                {
                    var person = PersonOf(plan, member);
                    directory.Should().NotContainKey(person.Dn.ToLowerInvariant(), $"{person.Dn} was removed");
                    var steps = await store.GetStepsAsync(plan.PlanId!, person.Id, CancellationToken.None);
                    steps.Where(s => s.Step == StepAction.DeleteLegacyEntry).Select(s => s.Outcome).Should().Equal(StepOutcome.Started, StepOutcome.Done);
                    var delete = steps.First(s => s.Step == StepAction.DeleteLegacyEntry);
                    switched.At.Should().BeBefore(delete.At, $"group {group} was switched before its member {person.Dn} was deleted");
                    journal[^1].At.Should().BeBefore(delete.At, $"group {group}'s switch was verified before its member {person.Dn} was deleted");
                }
            }
        }

        var status = await lab.StatusAsync("hq");
        var entities = status["waves"]![0]!["entityList"]!.AsArray();
        foreach (var group in new[] { SalesGroup, VpnGroup })
        {
            entities.Single(e => e!["id"]!.GetValue<string>() == "group-switch:" + group)!["state"]!.GetValue<string>().Should().Be("done");
        }
    }

    [Fact]
    public async Task A_refused_group_switch_holds_exactly_its_members_deletes_and_says_why_until_a_decision_accepts_the_loss()
    {
        var world = new Seeded();
        await using var lab = await ExecutionLab.StartAsync(people: 12, faults: new GraphFaults { RefuseGroupSyncBehavior = [VpnGroup] }, seedEmulator: world.Seed);
        var plan = await lab.PlanAsync();
        await lab.ApproveAsync("alice");
        var hq = plan.Entities.Where(e => e.Wave == "hq" && e.Disposition == Disposition.Remove).ToList();
        var before = await lab.ReadDirectoryAsync();

        var run = await lab.CliAsync(lab.Run("hq"));
        output.WriteLine(run.ToString());
        run.ExitCode.Should().Be(6, "the members of the refused group wait before their delete: " + run);
        lab.Emulator.IsGroupCloudManaged(SalesGroup).Should().BeTrue();
        lab.Emulator.IsGroupCloudManaged(VpnGroup).Should().BeFalse();

        var status = await lab.StatusAsync("hq");
        output.WriteLine(status.ToJsonString());
        var entities = status["waves"]![0]!["entityList"]!.AsArray().ToDictionary(e => e!["id"]!.GetValue<string>(), e => e!.AsObject());
        var refused = entities["group-switch:" + VpnGroup];
        refused["state"]!.GetValue<string>().Should().Be("failed");
        refused["reason"]!.GetValue<string>().Should().StartWith("group-switch-refused:").And.Contain(VpnGroup).And.Contain("accept-group-loss");
        entities["group-switch:" + SalesGroup]["state"]!.GetValue<string>().Should().Be("done");

        var vpnMembers = world.Members[VpnGroup].Where(world.InHq).Select(id => PersonOf(plan, id)).ToList();
        vpnMembers.Should().HaveCount(2);
        var directory = await lab.ReadDirectoryAsync();
        foreach (var person in vpnMembers)
        {
            var entity = entities[person.Id];
            entity["state"]!.GetValue<string>().Should().Be("in-progress", "unfinished, neither failed nor done: the next run resumes at the delete");
            entity["lastStep"]!.GetValue<string>().Should().Be("delete-legacy-entry");
            entity["reason"]!.GetValue<string>().Should().StartWith("delete-held:").And.Contain($"VPN users ({VpnGroup}, failed)", "the hold names the group it waits for, by the id a decision needs");
            var entry = directory[person.Dn.ToLowerInvariant()];
            entry.Values("pwdAccountLockedTime").Should().NotBeEmpty($"{person.Dn} is disabled, everything before the delete is done");
            lab.Emulator.IsCloudManaged(person.Match.TargetId!).Should().BeTrue();
        }

        var others = hq.Where(e => vpnMembers.All(m => m.Id != e.Id)).ToList();
        others.Should().NotBeEmpty();
        foreach (var person in others)
        {
            entities[person.Id]["state"]!.GetValue<string>().Should().Be("done", person.Dn);
            directory.Should().NotContainKey(person.Dn.ToLowerInvariant(), $"{person.Dn} is in no unswitched group: deleted");
        }

        // The held wave is unfinished: the tenant's password-sync gate stays shut.
        var gate = await lab.CliAsync("gate", "password-sync", "--config", lab.Config, "--as", "carol", "--wait", "0");
        gate.ExitCode.Should().Be(13, gate.ToString());
        gate.Error.Should().Contain("wave hq is interrupted");

        // The decision: the VPN group's membership is given up; re-plan, re-approve, run.
        var decisions = Path.Combine(lab.Work, "decisions.json");
        await File.WriteAllTextAsync(decisions, new JsonObject
        {
            ["formatVersion"] = 1,
            ["decisions"] = new JsonArray(new JsonObject
            {
                ["entityId"] = VpnGroup,
                ["decision"] = "accept-group-loss",
                ["reason"] = "VPN access moves to the cloud conditional-access policy; the group is retired",
                ["decidedBy"] = "dana",
            }),
        }.ToJsonString());
        var second = Path.Combine(lab.Work, "plan-2.json");
        var replanned = await lab.CliAsync("plan", "--config", lab.Config, "--out", second, "--decisions", decisions);
        replanned.ExitCode.Should().Be(0, replanned.ToString());
        var plan2 = await ExecutionLab.ReadPlanAsync(second);
        var accepted = plan2.GroupSwitches!.Single(g => g.GroupId == VpnGroup);
        accepted.Disposition.Should().Be(Disposition.Kept);
        accepted.Decision!.DecidedBy.Should().Be("dana");
        plan2.GroupSwitches!.Should().NotContain(g => g.GroupId == SalesGroup, "the switched group no longer reads as synchronised");
        await lab.ApproveAsync("alice", second);
        var rerun = await lab.CliAsync(lab.Run("hq", plan: second));
        output.WriteLine(rerun.ToString());
        rerun.ExitCode.Should().Be(0, rerun + (await lab.StatusAsync("hq")).ToJsonString());

        var after = await lab.ReadDirectoryAsync();
        foreach (var person in vpnMembers)
        {
            after.Should().NotContainKey(person.Dn.ToLowerInvariant(), $"{person.Dn}'s delete proceeds once the loss is accepted");
        }

        ExecutionLab.ShouldBeTheOutcome(before, after, hq);
        var store = await lab.OpenStoreAsync();
        await using (store as IAsyncDisposable)
        {
            foreach (var person in vpnMembers)
            {
                var backup = await store.GetBackupAsync(person.Id, CancellationToken.None);
                backup!.Entry.GetString("pwdAccountLockedTime").Should().BeNull($"{person.Dn}'s restore (from its newest backup) brings the account back enabled, as it was before the first plan disabled it");
                backup.Entry.GetString("mail").Should().NotBeNull("the backup is otherwise the whole entry");
                var steps = await store.GetStepsAsync(plan2.PlanId!, person.Id, CancellationToken.None);
                steps.Single(s => s.Step == StepAction.StopPasswordSync).Outcome.Should().Be(StepOutcome.AlreadyDone, "switched by the first plan");
                steps.Single(s => s.Step == StepAction.DisableLegacyAccount).Outcome.Should().Be(StepOutcome.AlreadyDone, "disabled by the first plan");
            }
        }

        lab.Emulator.IsGroupCloudManaged(VpnGroup).Should().BeFalse("an accepted loss writes nothing to the group");
        var rerunStatus = (await lab.StatusAsync("hq"))["waves"]![0]!["entityList"]!.AsArray();
        var excluded = rerunStatus.Single(e => e!["id"]!.GetValue<string>() == "group-switch:" + VpnGroup)!;
        excluded["state"]!.GetValue<string>().Should().Be("excluded");
        excluded["reason"]!.GetValue<string>().Should().Contain("dana");
        lab.Emulator.Writes.Where(w => w.Path.Contains("/users/", StringComparison.Ordinal)).Select(w => w.Path)
            .Should().OnlyHaveUniqueItems("no person is switched twice across the two plans");
    }

    [Fact]
    public async Task A_person_whose_target_account_is_already_cloud_only_gets_no_switch_and_is_recorded_as_already_cloud_managed()
    {
        var world = new Seeded(cloudOnly: 4);
        await using var lab = await ExecutionLab.StartAsync(people: 12, seedEmulator: world.Seed);
        var plan = await lab.PlanAsync();
        var cloudOnly = PersonOf(plan, world.Employee[4]);
        cloudOnly.PasswordSync!.Status.Should().Be(TargetSyncStatus.CloudOnly);
        var raw = JsonNode.Parse(await File.ReadAllTextAsync(lab.PlanPath))!;
        RawEntity(raw, cloudOnly.Id)["passwordSync"]!["status"]!.GetValue<string>().Should().Be("cloud-only");
        PersonOf(plan, world.Employee[0]).PasswordSync!.Status.Should().Be(TargetSyncStatus.Synchronised);
        cloudOnly.Steps.Select(s => s.Action).Should().Contain(StepAction.StopPasswordSync, "the step stays, and records that nothing was to stop");

        await lab.ApproveAsync("alice");
        var run = await lab.CliAsync(lab.Run("hq"));
        run.ExitCode.Should().Be(0, run + (await lab.StatusAsync("hq")).ToJsonString());

        lab.Emulator.Writes.Should().NotContain(w => w.Path.Contains(cloudOnly.Match.TargetId!, StringComparison.Ordinal), "an account already cloud-managed gets no switch");
        foreach (var employee in new[] { 0, 8 })
        {
            lab.Emulator.Writes.Should().ContainSingle(w => w.Path.Contains(world.Employee[employee], StringComparison.Ordinal), "a synchronised person is switched once");
        }

        (await lab.ReadDirectoryAsync()).Should().NotContainKey(cloudOnly.Dn.ToLowerInvariant(), "the cloud-only person's legacy entry is removed like the others");
        var store = await lab.OpenStoreAsync();
        await using (store as IAsyncDisposable)
        {
            var steps = await store.GetStepsAsync(plan.PlanId!, cloudOnly.Id, CancellationToken.None);
            var stop = steps.Single(s => s.Step == StepAction.StopPasswordSync);
            stop.Outcome.Should().Be(StepOutcome.AlreadyDone);
            stop.Reason.Should().StartWith("already-cloud-managed:").And.Contain("cloud-only");
            stop.Before.Should().Contain("\"isCloudManaged\":true");
            var synchronised = (await store.GetStepsAsync(plan.PlanId!, PersonOf(plan, world.Employee[0]).Id, CancellationToken.None)).Single(s => s.Step == StepAction.StopPasswordSync);
            synchronised.Outcome.Should().Be(StepOutcome.Done);
        }
    }

    private static PlannedEntity PersonOf(PlanDocument plan, string targetId) =>
        plan.Entities.Single(e => e.Match.TargetId == targetId && e.Disposition == Disposition.Remove);

    private static JsonNode RawEntity(JsonNode plan, string id) => plan["entities"]!.AsArray().Single(e => e!["id"]!.GetValue<string>() == id)!;

    /// <summary>
    /// The emulator's seed: every employee synchronised from the legacy directory (<c>onPremisesSyncEnabled</c>
    /// true), except <paramref name="cloudOnly"/>'s, already cloud-managed; two synchronised groups sharing
    /// employee 0 (hq), each with one more hq employee and employee 1 (domestic); and a cloud-only group.
    /// </summary>
    private sealed class Seeded(int? cloudOnly = null)
    {
        /// <summary>Target ids by employee number.</summary>
        public Dictionary<int, string> Employee { get; } = [];

        public Dictionary<string, string[]> Members { get; } = [];

        public bool InHq(string targetId) => Employee.Where(e => e.Key % 4 == 0).Any(e => e.Value == targetId);

        public GraphEmulatorOptions Seed(GraphEmulatorOptions options)
        {
            foreach (var user in options.Users.Where(u => u["employeeId"]?.GetValue<string>() is not null))
            {
                // E000000…: the numbered employees; H000…: the hostile names (hq too), synchronised alike.
                var employeeId = user["employeeId"]!.GetValue<string>();
                int? number = employeeId.StartsWith('E') ? int.Parse(employeeId[1..], System.Globalization.CultureInfo.InvariantCulture) : null;
                if (number is { } n)
                {
                    Employee[n] = user["id"]!.GetValue<string>();
                }

                if (number is not null && number == cloudOnly)
                {
                    user["onPremisesSyncEnabled"] = null;
                    user["onPremisesSyncBehavior"] = new JsonObject { ["isCloudManaged"] = true };
                }
                else
                {
                    user["onPremisesSyncEnabled"] = true;
                }
            }

            Members[SalesGroup] = [Employee[0], Employee[4], Employee[1]];
            Members[VpnGroup] = [Employee[0], Employee[8], Employee[1]];
            Members[CloudGroup] = [Employee[0]];
            return options with
            {
                Groups =
                [
                    Group(SalesGroup, "Sales Japan", true, "S-1-5-21-3623811015-3361044348-30300820-1101"),
                    Group(VpnGroup, "VPN users", true, "S-1-5-21-3623811015-3361044348-30300820-1102"),
                    Group(CloudGroup, "Cloud project team", null, null),
                ],
            };
        }

        private JsonObject Group(string id, string name, bool? synchronised, string? sid) => new()
        {
            ["id"] = id,
            ["displayName"] = name,
            ["securityEnabled"] = true,
            ["mailEnabled"] = false,
            ["onPremisesSyncEnabled"] = synchronised,
            ["onPremisesSecurityIdentifier"] = sid,
            ["members"] = new JsonArray([.. Members[id].Select(m => (JsonNode)JsonValue.Create(m))]),
        };
    }
}
