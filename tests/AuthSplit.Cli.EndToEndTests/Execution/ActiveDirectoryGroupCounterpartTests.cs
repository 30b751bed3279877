using System.Runtime.Versioning;
using System.Text.Json.Nodes;
using AuthSplit.Core.Planning.Format;
using AuthSplit.Testing;
using Xunit.Abstractions;

namespace AuthSplit.Cli.EndToEndTests.Execution;

/// <summary>
/// A legacy group on a real Active Directory (Samba AD DC) whose cloud counterpart is still synchronised,
/// linked by the SID the DC gave it (as Samba itself renders it) and Graph's onPremisesSecurityIdentifier:
/// the plan switches the cloud group, the group's delete waits while the switch is refused, and goes once it
/// is switched. Needs root, as every Samba AD test does.
/// </summary>
[Collection(SambaAdFixture.Collection)]
[UnsupportedOSPlatform("windows")]
public sealed class ActiveDirectoryGroupCounterpartTests(SambaAdFixture fixture, ITestOutputHelper output)
{
    private const string CloudSales = "7c2d9e41-6b0a-4f3e-8d1c-00000000a51e";

    [Fact]
    public async Task A_legacy_group_whose_cloud_counterpart_is_synchronised_is_deleted_only_after_its_switch()
    {
        string Group(ActiveDirectoryLab l) => ActiveDirectoryLab.Dn("Sales " + l.Tag, l.Ou);
        string Ann(ActiveDirectoryLab l) => ActiveDirectoryLab.Dn("Ann Abe", l.Ou);
        await using var lab = await ActiveDirectoryLab.StartAsync(
            fixture,
            l => ActiveDirectoryLab.User(Ann(l), $"x{l.Tag}p0", 512, $"E-{l.Tag}-0", $"p0.{l.Tag}@corp.example")
                + ActiveDirectoryLab.Group(Group(l), $"x{l.Tag}sales", [Ann(l)]),
            l => [($"E-{l.Tag}-0", $"p0.{l.Tag}@corp.example")],
            waves: l => new JsonArray
            {
                new JsonObject { ["Name"] = "staff", ["Order"] = 1, ["Deadline"] = "2027-04-30", ["BaseDn"] = l.Ou, ["Filter"] = "(|(&(objectCategory=person)(objectClass=user))(objectClass=group))" },
            });
        var sid = await lab.SecurityIdentifierOfAsync(Group(lab));
        output.WriteLine($"the DC gave {Group(lab)} the SID {sid}");
        sid.Should().StartWith("S-1-5-21-");
        await lab.SeedCloudGroupsAsync([new JsonObject
        {
            ["id"] = CloudSales,
            ["displayName"] = "Sales",
            ["securityEnabled"] = true,
            ["mailEnabled"] = false,
            ["onPremisesSyncEnabled"] = true,
            ["onPremisesSecurityIdentifier"] = sid,
            ["members"] = new JsonArray(),
        }]);
        lab.Emulator.Faults = lab.Emulator.Faults with { RefuseGroupSyncBehavior = [CloudSales] };

        var plan = await lab.PlanAsync();
        var group = plan.Entities.Single(e => string.Equals(e.Dn, Group(lab), StringComparison.OrdinalIgnoreCase));
        group.Disposition.Should().Be(Disposition.Remove, string.Join("; ", group.Blockers.Select(b => b.Message)));
        group.SynchronisedCloudGroup.Should().Be(CloudSales, "linked by the SID the DC gave the group");
        plan.GroupSwitches.Should().ContainSingle().Which.GroupId.Should().Be(CloudSales);
        await lab.ApproveAsync("alice");

        var held = await lab.CliAsync(lab.Run("staff"));
        output.WriteLine(held.ToString());
        held.ExitCode.Should().Be(6, "the group's delete waits while its counterpart's switch is refused: " + held);
        (await lab.ReadEntryAsync(Group(lab))).Should().NotBeNull();
        var states = await lab.EntityStatesAsync("staff");
        states[group.Id].Reason.Should().StartWith("delete-held:").And.Contain("cloud counterpart").And.Contain(CloudSales);

        lab.Emulator.Faults = lab.Emulator.Faults with { RefuseGroupSyncBehavior = [] };
        var done = await lab.CliAsync(lab.Run("staff"));
        done.ExitCode.Should().Be(0, done + (await lab.StatusAsync("staff")).ToJsonString());
        lab.Emulator.IsGroupCloudManaged(CloudSales).Should().BeTrue();
        (await lab.ReadEntryAsync(Group(lab))).Should().BeNull("deleted once its cloud counterpart is cloud-managed");
        (await lab.ReadEntryAsync(Ann(lab))).Should().BeNull();
    }
}
