using AuthSplit.Core.Directory;
using AuthSplit.Core.Model;
using AuthSplit.Core.Planning;
using AuthSplit.Core.Planning.Format;

namespace AuthSplit.Core.Tests.Execution;

/// <summary>The executor rebuilds the planner's protection from the approved plan's settings; the same rule must come out.</summary>
public sealed class ProtectionPolicyTests
{
    private static PlanSettings AdSettings(string? protectedFilter = null) => new()
    {
        Dialect = "ActiveDirectory",
        BaseDn = "DC=corp,DC=example",
        Waves = [],
        Matching = [],
        Safety = new SafetySettings(protectedFilter, ["OU=Tier0,DC=corp,DC=example"], [], 500, 20),
        Classification = new ClassificationSettings("(objectClass=msDS-ManagedServiceAccount)", "(objectClass=group)", "(objectClass=user)"),
        Removal = new RemovalSettings(null, 0, 400),
        FingerprintAttributes = [],
    };

    private static DirectoryEntry User(string dn, params (string Name, string Value)[] attributes) =>
        DirectoryEntry.FromStrings(dn, attributes.GroupBy(a => a.Name).Select(g => new KeyValuePair<string, string[]>(g.Key, [.. g.Select(a => a.Value)])).Append(new("objectClass", ["top", "person", "user"])));

    private static ProtectionRecord? Check(PlanSettings settings, DirectoryEntry entry, string? bindDn = null) =>
        ProtectionPolicy.FromPlan(settings, bindDn is null ? null : DistinguishedName.Parse(bindDn)).Check(entry, DistinguishedName.Parse(entry.Dn));

    [Fact]
    public void Active_Directory_admins_and_critical_objects_are_protected_by_the_plans_rails()
    {
        Check(AdSettings(), User("CN=Ann,OU=Staff,DC=corp,DC=example", ("adminCount", "1")))!.Reason.Should().Be("builtin-admin-count");
        Check(AdSettings(), User("CN=Sys,OU=Staff,DC=corp,DC=example", ("isCriticalSystemObject", "TRUE")))!.Reason.Should().Be("builtin-critical-system-object");
        Check(AdSettings(), User("CN=krbtgt,CN=Users,DC=corp,DC=example", ("sAMAccountName", "krbtgt")))!.Reason.Should().Be("builtin-krbtgt");
        Check(AdSettings(), User("CN=Bob,OU=Staff,DC=corp,DC=example", ("sAMAccountName", "bob"))).Should().BeNull();
    }

    [Fact]
    public void The_plans_protected_DNs_and_filter_and_the_running_bind_account_are_applied()
    {
        var settings = AdSettings("(description=partner*)");

        Check(settings, User("CN=Eve,OU=Tier0,DC=corp,DC=example"))!.Reason.Should().Be("protected-dn");
        Check(settings, User("CN=Pat,OU=Staff,DC=corp,DC=example", ("description", "partner from ACME")))!.Reason.Should().Be("protected-filter");
        Check(settings, User("CN=Svc,OU=Staff,DC=corp,DC=example"), bindDn: "cn=svc,ou=staff,dc=corp,dc=example")!.Reason.Should().Be("builtin-bind-account");
    }
}
