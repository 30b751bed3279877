using System.Text;
using AuthSplit.Core.Directory;
using AuthSplit.Core.Execution;
using AuthSplit.Core.Model;
using AuthSplit.Core.Planning.Decisions;
using AuthSplit.Core.Planning.Format;

namespace AuthSplit.Core.Tests.Execution.Groups;

/// <summary>
/// A legacy group the wave deletes whose cloud counterpart (<c>onPremisesSecurityIdentifier</c> = its
/// <c>objectSid</c>) is still synchronised: deleting it would delete the cloud group at the next sync, so the
/// plan switches that cloud group first and the legacy group's delete waits for the switch.
/// </summary>
public sealed class LegacyGroupCounterpartTests
{
    private const string CloudSales = "8b000000-0000-4000-8000-0000000051a1";
    private const string SalesSid = "S-1-5-21-1004336348-1177238915-682003330-1107";

    // S-1-5-21-1004336348-1177238915-682003330-1107 as AD stores it.
    private static byte[] SalesSidBytes()
    {
        uint[] sub = [21, 1004336348, 1177238915, 682003330, 1107];
        var bytes = new byte[8 + (4 * sub.Length)];
        bytes[0] = 1;
        bytes[1] = (byte)sub.Length;
        bytes[7] = 5;
        for (var i = 0; i < sub.Length; i++)
        {
            BitConverter.TryWriteBytes(bytes.AsSpan(8 + (4 * i), 4), sub[i]);
        }

        return bytes;
    }

    private static ExecutionScenario Scenario(bool accept = false)
    {
        var scenario = new ExecutionScenario().Person("akira").Person("partner", employeeType: "partner");
        var group = new DirectoryEntry($"cn=sales,{ExecutionScenario.Hq}", new Dictionary<string, IReadOnlyList<byte[]>>
        {
            ["objectClass"] = [Encoding.UTF8.GetBytes("top"), Encoding.UTF8.GetBytes("groupOfNames")],
            ["cn"] = [Encoding.UTF8.GetBytes("sales")],
            ["entryUUID"] = [Encoding.UTF8.GetBytes(ExecutionScenario.IdFor("sales"))],
            ["member"] = [Encoding.UTF8.GetBytes(ExecutionScenario.DnOf("partner"))],
            ["objectSid"] = [SalesSidBytes()],
        });
        scenario.Planning.Entry(group);
        scenario.Directory.Add(group);

        // The cloud group has no member among the plan's people: only the legacy group's delete makes it matter.
        scenario.Planning.CloudGroup(new TargetGroup(CloudSales, "Sales", true, false, OnPremisesSyncEnabled: true, SalesSid), []);
        scenario.Tenant.AddGroup(CloudSales);
        if (accept)
        {
            scenario.Planning.Decide(new Decision(CloudSales, DecisionKind.AcceptGroupLoss, null, null, "the Sales group is rebuilt in the cloud", "dana@example.com"));
        }

        return scenario;
    }

    [Fact]
    public void Objects_sid_reads_in_the_text_form_graph_uses()
    {
        SecurityIdentifiers.Format(SalesSidBytes()).Should().Be(SalesSid);
        SecurityIdentifiers.Format([1, 2, 0, 0, 0, 0, 0, 5, 32, 0, 0, 0, 32, 2, 0, 0]).Should().Be("S-1-5-32-544");
        SecurityIdentifiers.Format([1, 2, 0, 0]).Should().BeNull("truncated");
        SecurityIdentifiers.Format(Encoding.UTF8.GetBytes("S-1-5-21-1")).Should().BeNull("not binary");
    }

    [Fact]
    public void The_plan_links_the_legacy_group_to_its_synchronised_counterpart_and_switches_that_in_the_groups_wave()
    {
        var plan = Scenario().Plan;

        var sales = plan.Entities.Single(e => e.Dn == $"cn=sales,{ExecutionScenario.Hq}");
        sales.Disposition.Should().Be(Disposition.Remove);
        sales.SynchronisedCloudGroup.Should().Be(CloudSales);
        var groupSwitch = plan.GroupSwitches.Should().ContainSingle().Subject;
        groupSwitch.GroupId.Should().Be(CloudSales);
        groupSwitch.Wave.Should().Be("hq");
        groupSwitch.MembersInPlan.Should().Be(0, "no person of the plan is a member: the legacy group's own delete needs the switch");
        groupSwitch.Disposition.Should().Be(Disposition.Remove);
    }

    [Fact]
    public async Task A_refused_switch_holds_the_legacy_groups_delete_and_says_why_and_a_switch_releases_it()
    {
        var scenario = Scenario();
        scenario.Tenant.RejectGroup(CloudSales);

        var first = await scenario.ApproveAndRunAsync();

        first.Kind.Should().Be(WaveResultKind.Interrupted);
        scenario.Directory.Get($"cn=sales,{ExecutionScenario.Hq}").Should().NotBeNull("the legacy group stays while its cloud counterpart is synchronised");
        var sales = scenario.EntityById(ExecutionScenario.IdFor("sales"));
        sales.State.Should().Be(EntityState.InProgress);
        sales.Reason.Should().StartWith(ReasonCodes.DeleteHeld + ":").And.Contain("cloud counterpart").And.Contain(CloudSales);
        scenario.Directory.Get(ExecutionScenario.DnOf("akira")).Should().BeNull("akira is in no synchronised group: nothing holds her");

        scenario.Tenant.AcceptGroup(CloudSales);
        var second = await scenario.RunAsync();

        second.Kind.Should().Be(WaveResultKind.Completed, second.Reason);
        scenario.Tenant.IsGroupCloudManaged(CloudSales).Should().BeTrue();
        scenario.Directory.Get($"cn=sales,{ExecutionScenario.Hq}").Should().BeNull();
    }

    [Fact]
    public async Task An_accepted_loss_lets_the_legacy_group_go_without_a_switch()
    {
        var scenario = Scenario(accept: true);

        var result = await scenario.ApproveAndRunAsync();

        result.Kind.Should().Be(WaveResultKind.Completed, result.Reason);
        scenario.Tenant.GroupChanges.Should().BeEmpty();
        scenario.Directory.Get($"cn=sales,{ExecutionScenario.Hq}").Should().BeNull();
    }
}
