using AuthSplit.Core.Configuration;
using AuthSplit.Core.Execution;
using AuthSplit.Core.Model;
using AuthSplit.Core.Planning.Format;
using AuthSplit.Core.Tests.Planning;
using AuthSplit.Testing.Execution;

namespace AuthSplit.Core.Tests.Execution;

public sealed class ActiveDirectoryWaveTests
{
    private const string Base = "DC=corp,DC=example";
    private const string Staff = "OU=Staff," + Base;

    private static DirectoryEntry User(string name, string uac = "512", string? adminCount = null)
    {
        var attributes = new Dictionary<string, IReadOnlyList<byte[]>>(StringComparer.OrdinalIgnoreCase)
        {
            ["objectClass"] = [.. new[] { "top", "person", "organizationalPerson", "user" }.Select(v => System.Text.Encoding.UTF8.GetBytes(v))],
            ["cn"] = [System.Text.Encoding.UTF8.GetBytes(name)],
            ["sAMAccountName"] = [System.Text.Encoding.UTF8.GetBytes(name)],
            ["employeeID"] = [System.Text.Encoding.UTF8.GetBytes("E-" + name)],
            ["userAccountControl"] = [System.Text.Encoding.UTF8.GetBytes(uac)],
            ["objectGUID"] = [Guid.Parse(PlanningScenario.IdFor(name)).ToByteArray()],
        };
        if (adminCount is not null)
        {
            attributes["adminCount"] = [System.Text.Encoding.UTF8.GetBytes(adminCount)];
        }

        return new DirectoryEntry($"CN={name},{Staff}", attributes);
    }

    [Fact]
    public async Task On_Active_Directory_the_disable_sets_ACCOUNTDISABLE_on_the_value_read_and_groups_are_left_to_the_server()
    {
        var planning = new PlanningScenario();
        planning.Options.Source = new SourceOptions { BaseDn = Base, Dialect = DirectoryDialect.ActiveDirectory, BindDn = "CN=reader,OU=Service," + Base };
        planning.Options.Waves.Clear();
        planning.Options.Waves.Add(new WaveOptions { Name = "staff", Order = 1, Deadline = "2026-12-31", BaseDn = Staff, Filter = "(objectClass=user)" });
        planning.Options.Matching.Clear();
        planning.Options.Matching.Add(new MatchingRuleOptions { Source = "employeeID", Target = "employeeId" });
        planning.Options.Safety = new SafetyOptions();
        var directory = new InMemoryLegacyDirectory(DirectoryDialect.ActiveDirectory);
        var tenant = new FakeTargetTenant();
        var ann = User("ann", uac: "66048");
        var root = User("root", adminCount: "1");
        foreach (var entry in new[] { ann, root })
        {
            planning.Entry(entry);
            directory.Add(entry);
        }

        directory.Add(DirectoryEntry.FromStrings("CN=Team,OU=Groups," + Base, [new("objectClass", ["group"]), new("member", [ann.Dn])]));
        planning.Target("t-ann", employeeId: "E-ann", upn: "ann@corp.example");
        tenant.AddUser("t-ann", "ann@corp.example");
        var plan = planning.PlanAccepted();
        plan.Entities.Single(e => e.Dn == root.Dn).Disposition.Should().Be(Disposition.Protected);
        var store = new InMemoryExecutionStore();
        await store.SavePlanAsync(plan.PlanId!, PlanSerializer.Serialize(plan), CancellationToken.None);
        await store.ApproveAsync(new Approval(plan.PlanId!, "alice", DateTimeOffset.UnixEpoch, null), CancellationToken.None);
        var execution = new WaveExecution(store, directory, tenant, new WaveExecutionSettings { Concurrency = 1, CloudManagedReadDelay = TimeSpan.Zero }, new ManualClock(DateTimeOffset.UnixEpoch));

        var result = await execution.ExecuteAsync(new WaveJobRequest(plan.PlanId!, "staff", "bob", Recovering: false), CancellationToken.None);

        result.Kind.Should().Be(WaveResultKind.Completed);
        var disable = store.Steps.Single(s => s.Step == StepAction.DisableLegacyAccount);
        disable.Before.Should().Contain("\"userAccountControl\":\"66048\"");
        disable.After.Should().Contain("\"userAccountControl\":\"66050\"", "66048 | 0x2, the other flags kept");
        directory.Writes.Should().NotContain(w => w.Dn.StartsWith("CN=Team", StringComparison.Ordinal), "Active Directory removes link values itself");
        directory.Get(ann.Dn).Should().BeNull();
        directory.Get(root.Dn).Should().NotBeNull();
        tenant.Changes.Should().Equal(new SoaChange("t-ann", true));
    }
}
