using AuthSplit.Core.Model;
using AuthSplit.Core.Planning.Preconditions;

namespace AuthSplit.Core.Tests.Planning.Preconditions;

public sealed class EntityPreconditionTests
{
    private static DirectoryEntry Akira(string mail = "a@example.com", string description = "x", string dn = "uid=akira,ou=hq," + PlanningScenario.Base) =>
        DirectoryEntry.FromStrings(dn, new Dictionary<string, string[]>
        {
            ["objectClass"] = ["top", "person", "organizationalPerson", "inetOrgPerson"],
            ["uid"] = ["akira"],
            ["cn"] = ["akira"],
            ["sn"] = ["akira"],
            ["entryUUID"] = [PlanningScenario.IdFor("akira")],
            ["employeeNumber"] = ["E1"],
            ["mail"] = [mail],
            ["description"] = [description],
        });

    private static (AuthSplit.Core.Planning.Format.PlanDocument Plan, DirectoryEntry Entry) Planned()
    {
        var entry = Akira();
        var plan = new PlanningScenario().Entry(entry).Target("t1", employeeId: "E1").PlanAccepted();
        return (plan, entry);
    }

    [Fact]
    public void The_recorded_precondition_equals_a_recomputation_from_the_same_entry()
    {
        var (plan, entry) = Planned();

        var recomputed = EntityPrecondition.Compute(entry, plan.Settings.FingerprintAttributes);

        recomputed.Should().Be(plan.Entity("akira").Precondition);
        EntityPrecondition.Matches(plan.Entity("akira").Precondition, Akira(), plan.Settings.FingerprintAttributes).Should().BeTrue();
    }

    [Fact]
    public void The_precondition_fails_when_a_relied_on_attribute_changes_and_holds_when_another_does()
    {
        var (plan, _) = Planned();
        var recorded = plan.Entity("akira").Precondition;
        var check = new EntityPrecondition(plan.Settings.FingerprintAttributes);

        check.Check(recorded, Akira(mail: "b@example.com")).Should().Be(PreconditionCheck.Changed, "mail is a matching attribute");
        EntityPrecondition.Compute(Akira(mail: "b@example.com"), plan.Settings.FingerprintAttributes).Sha256.Should().NotBe(recorded.Sha256);
        check.Check(recorded, Akira(description: "y")).Should().Be(PreconditionCheck.Holds, "no filter or rule reads description");
        check.Check(recorded, Akira(dn: "uid=akira,ou=moved," + PlanningScenario.Base)).Should().Be(PreconditionCheck.Moved);
        check.Check(recorded, Akira(dn: "UID=Akira, OU=HQ," + PlanningScenario.Base)).Should().Be(PreconditionCheck.Holds, "the DN is compared normalised");
    }

    [Fact]
    public void The_identity_is_the_entryUUID_lower_case_or_a_dn_hash_when_there_is_none()
    {
        var dn = AuthSplit.Core.Directory.DistinguishedName.Parse("uid=x," + PlanningScenario.Base);
        var withId = DirectoryEntry.FromStrings(dn.Original, new Dictionary<string, string[]> { ["entryUUID"] = ["ABC-1"] });
        var without = DirectoryEntry.FromStrings(dn.Original, new Dictionary<string, string[]> { ["uid"] = ["x"] });

        EntityIdentity.Of(withId, dn, AuthSplit.Core.Configuration.DirectoryDialect.OpenLdap, out var has).Should().Be("abc-1");
        has.Should().BeTrue();
        EntityIdentity.Of(without, dn, AuthSplit.Core.Configuration.DirectoryDialect.OpenLdap, out has).Should().StartWith("dn-sha256:");
        has.Should().BeFalse();
    }
}
