using AuthSplit.Core.Configuration;
using AuthSplit.Core.Model;
using AuthSplit.Core.Planning.Decisions;
using AuthSplit.Core.Planning.Format;

namespace AuthSplit.Core.Tests.Planning;

public sealed class PlannerTests
{
    [Fact]
    public void Planner_gives_a_byte_identical_plan_for_the_same_inputs()
    {
        static PlanningScenario Build() => new PlanningScenario()
            .Person("akira", mail: "akira@example.com", employeeNumber: "E1")
            .Person("yuki", mail: "yuki@example.com")
            .Person("min", country: "KR")
            .Target("t1", mail: "akira@example.com", employeeId: "E1")
            .Target("t2", mail: "YUKI@example.com");

        var first = PlanSerializer.Serialize(Build().PlanAccepted());
        var second = PlanSerializer.Serialize(Build().PlanAccepted());

        second.Should().Equal(first);
        Build().PlanAccepted().PlanId.Should().StartWith("sha256:").And.Be(Build().PlanAccepted().PlanId);
    }

    [Fact]
    public void Planner_removes_a_matched_person_with_the_legacy_delete_after_the_cloud_check()
    {
        var plan = new PlanningScenario()
            .Person("akira", employeeNumber: "E1")
            .Target("t1", employeeId: "E1")
            .PlanAccepted();

        var akira = plan.Entity("akira");
        akira.Disposition.Should().Be(Disposition.Remove);
        akira.Kind.Should().Be(EntityKind.Person);
        akira.Wave.Should().Be("hq");
        akira.Match.Status.Should().Be(MatchStatus.Matched);
        akira.Match.TargetId.Should().Be("t1");
        akira.Match.Rule.Should().Be(1);
        akira.Actions().Should().Equal(
            StepAction.VerifyTargetAccount,
            StepAction.StopPasswordSync,
            StepAction.VerifyCloudManaged,
            StepAction.BackupLegacyEntry,
            StepAction.DisableLegacyAccount,
            StepAction.DeleteLegacyEntry,
            StepAction.VerifyLegacyAbsent);
        akira.Steps.Single(s => s.Action == StepAction.StopPasswordSync).DryRun.Should().Be(DryRunCheck.Unchecked, "a dry run cannot see onPremisesSyncBehavior and must not claim it did");
    }

    [Fact]
    public void Planner_matches_case_insensitively_and_falls_through_to_the_next_rule()
    {
        var plan = new PlanningScenario()
            .Person("ken", mail: "Ken.Ito@Example.com", employeeNumber: "E404")
            .Target("t-ken", mail: "ken.ito@example.com")
            .PlanAccepted();

        var ken = plan.Entity("ken");
        ken.Match.Status.Should().Be(MatchStatus.Matched);
        ken.Match.Rule.Should().Be(2);
        ken.Match.Considered!.Select(c => c.Result).Should().Equal("none", "unique");
    }

    [Fact]
    public void Planner_blocks_an_ambiguous_match_and_does_not_try_later_rules()
    {
        var plan = new PlanningScenario()
            .Person("mari", mail: "m.kato@example.com", employeeNumber: "E4")
            .Target("a", employeeId: "E4")
            .Target("b", employeeId: "e4")
            .Target("c", mail: "m.kato@example.com")
            .PlanAccepted();

        var mari = plan.Entity("mari");
        mari.Disposition.Should().Be(Disposition.Blocked);
        mari.Match.Status.Should().Be(MatchStatus.Ambiguous);
        mari.Blockers.Select(b => b.Code).Should().Equal(BlockerCode.AmbiguousTargetMatch);
        mari.Blockers[0].Message.Should().Contain("a").And.Contain("b");
        mari.Match.Considered.Should().HaveCount(1);
        mari.Steps.Should().BeEmpty();
    }

    [Fact]
    public void Planner_blocks_a_person_without_a_target_account()
    {
        var plan = new PlanningScenario().Person("leaver", mail: "gone@example.com").PlanAccepted();

        var leaver = plan.Entity("leaver");
        leaver.Disposition.Should().Be(Disposition.Blocked);
        leaver.Blockers.Single().Code.Should().Be(BlockerCode.NoTargetAccount);
        leaver.Match.Considered!.Select(c => c.Result).Should().Equal("no-source-value", "none");
    }

    [Fact]
    public void Planner_blocks_an_entity_matched_by_two_waves()
    {
        var plan = new PlanningScenario()
            .Person("min", employeeNumber: "E9", country: "KR")
            .Target("t9", employeeId: "E9")
            .PlanAccepted();

        var min = plan.Entity("min");
        min.Disposition.Should().Be(Disposition.Blocked);
        min.Blockers.Single().Code.Should().Be(BlockerCode.MultipleWaves);
        min.CandidateWaves.Should().Equal("hq", "overseas");
        min.Wave.Should().Be("hq", "a blocked entity is listed under the first of its waves");
    }

    [Fact]
    public void Planner_blocks_both_people_that_match_the_same_target_user()
    {
        var plan = new PlanningScenario()
            .Person("twin1", mail: "shared@example.com")
            .Person("twin2", mail: "SHARED@example.com")
            .Target("t-shared", mail: "shared@example.com")
            .PlanAccepted();

        plan.Entity("twin1").Blockers.Select(b => b.Code).Should().Equal(BlockerCode.TargetShared);
        plan.Entity("twin2").Blockers.Single().Message.Should().Contain("uid=twin1");
    }

    [Fact]
    public void A_use_target_decision_naming_a_user_another_entity_matches_blocks_both_as_target_shared()
    {
        var plan = new PlanningScenario()
            .Person("akira", employeeNumber: "E1")
            .Person("leaver", mail: "gone@example.com")
            .Target("t1", employeeId: "E1")
            .Decide("leaver", DecisionKind.UseTarget, targetId: "t1")
            .PlanAccepted();

        var akira = plan.Entity("akira");
        var leaver = plan.Entity("leaver");
        akira.Disposition.Should().Be(Disposition.Blocked);
        akira.Blockers.Select(b => b.Code).Should().Equal(BlockerCode.TargetShared);
        akira.Blockers[0].Message.Should().Contain("t1").And.Contain("uid=leaver");
        leaver.Disposition.Should().Be(Disposition.Blocked);
        leaver.Blockers.Select(b => b.Code).Should().Contain(BlockerCode.TargetShared);
        leaver.Blockers.Single(b => b.Code == BlockerCode.TargetShared).Message.Should().Contain("uid=akira");
        plan.Entities.Where(e => e.Disposition == Disposition.Remove).Should().BeEmpty("no two entities may switch the same target user");
        var record = plan.Decisions.Single();
        record.Status.Should().Be(DecisionStatus.Rejected);
        record.Note.Should().Contain("uid=akira");
    }

    [Fact]
    public void Two_use_target_decisions_naming_the_same_user_block_both()
    {
        var plan = new PlanningScenario()
            .Person("mari", mail: "m@example.com")
            .Person("leaver", mail: "gone@example.com")
            .Target("a", mail: "m@example.com")
            .Target("b", mail: "M@example.com")
            .Decide("mari", DecisionKind.UseTarget, targetId: "b")
            .Decide("leaver", DecisionKind.UseTarget, targetId: "B")
            .PlanAccepted();

        plan.Entity("mari").Blockers.Select(b => b.Code).Should().BeEquivalentTo([BlockerCode.AmbiguousTargetMatch, BlockerCode.TargetShared]);
        plan.Entity("leaver").Blockers.Select(b => b.Code).Should().BeEquivalentTo([BlockerCode.NoTargetAccount, BlockerCode.TargetShared]);
        plan.Decisions.Should().OnlyContain(d => d.Status == DecisionStatus.Rejected);
    }

    [Fact]
    public void A_use_target_decision_stands_once_the_other_claimant_is_kept()
    {
        var plan = new PlanningScenario()
            .Person("twin1", mail: "shared@example.com")
            .Person("twin2", mail: "SHARED@example.com")
            .Target("t-shared", mail: "shared@example.com")
            .Decide("twin1", DecisionKind.UseTarget, targetId: "t-shared")
            .Decide("twin2", DecisionKind.Keep)
            .PlanAccepted();

        plan.Entity("twin1").Disposition.Should().Be(Disposition.Remove);
        plan.Entity("twin1").Match.TargetId.Should().Be("t-shared");
        plan.Entity("twin2").Disposition.Should().Be(Disposition.Kept);
        plan.Decisions.Should().OnlyContain(d => d.Status == DecisionStatus.Applied);
    }

    [Fact]
    public void Protection_wins_over_every_blocker_and_decision()
    {
        var plan = new PlanningScenario()
            .Person("contractor", employeeType: "partner", country: "KR")
            .Decide("contractor", DecisionKind.Remove)
            .PlanAccepted();

        var contractor = plan.Entity("contractor");
        contractor.Disposition.Should().Be(Disposition.Protected);
        contractor.Protection!.Reason.Should().Be("protected-filter");
        contractor.Steps.Should().BeEmpty();
        plan.Decisions.Single().Status.Should().Be(DecisionStatus.Rejected);
    }

    [Fact]
    public void Planner_never_plans_the_bind_account_or_entries_under_a_protected_dn()
    {
        var scenario = new PlanningScenario();
        scenario.Options.Waves[0].BaseDn = PlanningScenario.Base;
        scenario.Options.Waves[1].BaseDn = "ou=hq," + PlanningScenario.Base;
        scenario.Options.Source.BindDn = "uid=reader,ou=hq," + PlanningScenario.Base;
        var plan = scenario
            .Person("reader", employeeNumber: "E1")
            .Person("admin", parent: "ou=system," + PlanningScenario.Base, employeeNumber: "E2")
            .Target("t1", employeeId: "E1")
            .Target("t2", employeeId: "E2")
            .PlanAccepted();

        plan.Entity("reader").Protection!.Reason.Should().Be("builtin-bind-account");
        plan.Entity("admin").Protection!.Reason.Should().Be("protected-dn");
    }

    [Theory]
    [InlineData("adminCount", "1", "builtin-admin-count")]
    [InlineData("isCriticalSystemObject", "TRUE", "builtin-critical-system-object")]
    [InlineData("sAMAccountName", "krbtgt", "builtin-krbtgt")]
    public void Active_Directory_rails_protect_privileged_and_system_objects(string attribute, string value, string reason)
    {
        var entry = AdUser($"CN=x,OU=HQ,{AdBase}", Guid.NewGuid(), Sid(21, 1, 2, 3, 1_500), (attribute, value));
        var plan = ActiveDirectoryScenario().Entry(entry).PlanAccepted();

        plan.Entities.Single().Disposition.Should().Be(Disposition.Protected);
        plan.Entities.Single().Protection!.Reason.Should().Be(reason);
    }

    [Fact]
    public void Active_Directory_rails_protect_well_known_sids_and_identify_entries_by_objectGUID()
    {
        var guid = Guid.Parse("0f9e5a52-6f1d-4b7e-9d5b-3c1f2f1c9a01");
        var plan = ActiveDirectoryScenario()
            .Entry(AdUser($"CN=Administrator,OU=HQ,{AdBase}", Guid.NewGuid(), Sid(21, 1_111, 2_222, 3_333, 500)))
            .Entry(AdUser($"CN=Users,OU=HQ,{AdBase}", Guid.NewGuid(), Sid(32, 545)))
            .Entry(AdUser($"CN=Jane,OU=HQ,{AdBase}", guid, Sid(21, 1_111, 2_222, 3_333, 1_105)))
            .PlanAccepted();

        plan.Entities.Single(e => e.Dn.StartsWith("CN=Administrator", StringComparison.Ordinal)).Protection!.Reason.Should().Be("builtin-well-known-sid");
        plan.Entities.Single(e => e.Dn.StartsWith("CN=Users", StringComparison.Ordinal)).Protection!.Detail.Should().Contain("BUILTIN");
        var jane = plan.Entities.Single(e => e.Dn.StartsWith("CN=Jane", StringComparison.Ordinal));
        jane.Protection.Should().BeNull();
        jane.Id.Should().Be(guid.ToString("D"));
    }

    [Fact]
    public void Matching_on_onPremisesImmutableId_compares_the_base64_of_the_raw_objectGUID()
    {
        var guid = Guid.Parse("0f9e5a52-6f1d-4b7e-9d5b-3c1f2f1c9a01");
        var immutableId = Convert.ToBase64String(guid.ToByteArray());
        var scenario = ActiveDirectoryScenario();
        scenario.Options.Matching.Clear();
        scenario.Options.Matching.Add(new MatchingRuleOptions { Source = "objectGUID", Target = "onPremisesImmutableId" });
        var plan = scenario
            .Entry(AdUser($"CN=Jane,OU=HQ,{AdBase}", guid, Sid(21, 1, 2, 3, 1_200)))
            .Target(new TargetUser("t-jane", new Dictionary<string, string?> { ["onPremisesImmutableId"] = immutableId }))
            .PlanAccepted();

        plan.Entities.Single().Match.TargetId.Should().Be("t-jane");
        plan.Entities.Single().Match.Value.Should().Be(immutableId);
    }

    [Fact]
    public void Entries_in_no_wave_are_counted_but_not_listed()
    {
        var plan = new PlanningScenario()
            .Person("akira", employeeNumber: "E1")
            .Person("partner1", parent: "ou=partner," + PlanningScenario.Base)
            .Person("partner2", parent: "ou=partner," + PlanningScenario.Base)
            .Person("min", parent: "ou=overseas," + PlanningScenario.Base, country: "US", employeeNumber: "E2")
            .Target("t1", employeeId: "E1")
            .Target("t2", employeeId: "E2")
            .PlanAccepted();

        plan.Entities.Should().HaveCount(2);
        plan.Summary.OutOfScope.Should().Be(2);
        plan.Summary.EntriesRead.Should().Be(4);
    }

    [Fact]
    public void Service_accounts_and_groups_get_their_own_steps_without_target_matching()
    {
        var plan = new PlanningScenario()
            .Entry("uid=svc-wiki,ou=hq," + PlanningScenario.Base, new() { ["objectClass"] = ["account", "simpleSecurityObject"], ["uid"] = ["svc-wiki"], ["entryUUID"] = [PlanningScenario.IdFor("svc")] })
            .Entry("cn=staff,ou=hq," + PlanningScenario.Base, new() { ["objectClass"] = ["groupOfNames"], ["cn"] = ["staff"], ["member"] = ["uid=x"], ["entryUUID"] = [PlanningScenario.IdFor("staff")] })
            .PlanAccepted();

        var service = plan.Entity("svc");
        service.Kind.Should().Be(EntityKind.ServiceAccount);
        service.Match.Status.Should().Be(MatchStatus.NotApplicable);
        service.Actions().Should().Equal(StepAction.BackupLegacyEntry, StepAction.DisableLegacyAccount, StepAction.DeleteLegacyEntry, StepAction.VerifyLegacyAbsent);
        plan.Entity("staff").Actions().Should().Equal(StepAction.BackupLegacyEntry, StepAction.DeleteLegacyEntry, StepAction.VerifyLegacyAbsent);
    }

    [Fact]
    public void Quarantine_and_hold_are_inserted_between_disable_and_delete_when_configured()
    {
        var scenario = new PlanningScenario().Person("akira", employeeNumber: "E1").Target("t1", employeeId: "E1");
        scenario.Options.Removal.QuarantineDn = "ou=quarantine," + PlanningScenario.Base;
        scenario.Options.Removal.HoldDays = 14;
        var plan = scenario.PlanAccepted();
        var akira = plan.Entity("akira");

        akira.Actions().Should().ContainInOrder(StepAction.DisableLegacyAccount, StepAction.QuarantineLegacyEntry, StepAction.Hold, StepAction.DeleteLegacyEntry);
        plan.Settings.Removal.Should().Be(new RemovalSettings("ou=quarantine," + PlanningScenario.Base, 14, 400));
        plan.StepCatalog.Single(s => s.Action == StepAction.Hold).Description.Should().Contain("14 day(s)");
    }

    [Fact]
    public void Unsupported_kinds_are_blocked_until_decided()
    {
        var plan = new PlanningScenario()
            .Entry("cn=printer,ou=hq," + PlanningScenario.Base, new() { ["objectClass"] = ["device", "account"], ["cn"] = ["printer"], ["uid"] = ["printer"], ["entryUUID"] = [PlanningScenario.IdFor("printer")] })
            .Entry("cn=room,ou=hq," + PlanningScenario.Base, new() { ["objectClass"] = ["inetOrgPerson", "person"], ["cn"] = ["room"], ["sn"] = ["room"], ["uid"] = ["room"], ["entryUUID"] = [PlanningScenario.IdFor("room")] })
            .PlanAccepted();

        plan.Entity("printer").Kind.Should().Be(EntityKind.ServiceAccount, "account without person is a service identity in OpenLDAP");
        plan.Entity("room").Kind.Should().Be(EntityKind.Person);
    }

    [Fact]
    public void An_entry_without_its_identity_attribute_is_blocked_with_a_dn_based_id()
    {
        var plan = new PlanningScenario()
            .Entry("uid=ghost,ou=hq," + PlanningScenario.Base, new() { ["objectClass"] = ["inetOrgPerson"], ["uid"] = ["ghost"], ["employeeNumber"] = ["E1"] })
            .Target("t1", employeeId: "E1")
            .PlanAccepted();

        var ghost = plan.Entities.Single();
        ghost.Id.Should().StartWith("dn-sha256:");
        ghost.Blockers.Select(b => b.Code).Should().Equal(BlockerCode.MissingIdentity);
    }

    [Fact]
    public void Decisions_resolve_blockers_and_the_plan_records_what_they_resolved()
    {
        var plan = new PlanningScenario()
            .Person("mari", mail: "m@example.com")
            .Person("leaver", mail: "gone@example.com")
            .Person("min", employeeNumber: "E9", country: "KR")
            .Person("keeper", employeeNumber: "E7")
            .Target("a", mail: "m@example.com")
            .Target("b", mail: "M@example.com")
            .Target("t9", employeeId: "E9")
            .Target("t7", employeeId: "E7")
            .Decide("mari", DecisionKind.UseTarget, targetId: "b")
            .Decide("leaver", DecisionKind.Remove)
            .Decide("min", DecisionKind.AssignWave, wave: "overseas")
            .Decide("keeper", DecisionKind.Keep)
            .PlanAccepted();

        var mari = plan.Entity("mari");
        mari.Disposition.Should().Be(Disposition.Remove);
        mari.Match.Status.Should().Be(MatchStatus.Decided);
        mari.Match.TargetId.Should().Be("b");
        mari.Decision!.Resolved.Should().Equal(BlockerCode.AmbiguousTargetMatch);

        var leaver = plan.Entity("leaver");
        leaver.Disposition.Should().Be(Disposition.Remove);
        leaver.Actions().Should().NotContain(StepAction.StopPasswordSync).And.Contain(StepAction.DeleteLegacyEntry);

        var min = plan.Entity("min");
        min.Wave.Should().Be("overseas");
        min.Disposition.Should().Be(Disposition.Remove);

        plan.Entity("keeper").Disposition.Should().Be(Disposition.Kept);
        plan.Entity("keeper").Steps.Should().BeEmpty();
        plan.Decisions.Should().OnlyContain(d => d.Status == DecisionStatus.Applied);
    }

    [Fact]
    public void Decisions_that_do_not_fit_are_rejected_or_unused_and_change_nothing()
    {
        var plan = new PlanningScenario()
            .Person("min", employeeNumber: "E9", country: "KR")
            .Person("akira", employeeNumber: "E1")
            .Target("t9", employeeId: "E9")
            .Target("t1", employeeId: "E1")
            .Decide("min", DecisionKind.AssignWave, wave: "domestic")
            .Decide("akira", DecisionKind.UseTarget, targetId: "nope")
            .Decide("nobody", DecisionKind.Keep)
            .PlanAccepted();

        plan.Entity("min").Disposition.Should().Be(Disposition.Blocked);
        plan.Entity("akira").Match.TargetId.Should().Be("t1");
        plan.Decisions.Select(d => d.Status).Should().BeEquivalentTo([DecisionStatus.Rejected, DecisionStatus.Rejected, DecisionStatus.Unused]);
    }

    [Fact]
    public void A_wave_over_its_delete_budget_is_flagged()
    {
        var scenario = new PlanningScenario();
        scenario.Options.Safety.MaxDeletesPerWave = 2;
        for (var i = 0; i < 3; i++)
        {
            scenario.Person($"p{i}", employeeNumber: $"E{i}").Target($"t{i}", employeeId: $"E{i}");
        }

        var hq = scenario.PlanAccepted().Summary.Waves.Single(w => w.Name == "hq");

        hq.PlannedDeletes.Should().Be(3);
        hq.DeleteBudgetExceeded.Should().BeTrue();
    }

    [Fact]
    public void Planning_refuses_an_empty_wave_unless_it_is_allowed()
    {
        var scenario = new PlanningScenario().Person("akira", employeeNumber: "E1").Target("t1", employeeId: "E1");
        scenario.Options.Waves[1].AllowEmptyScope = false;

        var refused = scenario.Plan();
        refused.Refusals.Select(r => r.Code).Should().Equal("empty-wave-scope");
        refused.Refusals[0].Message.Should().Contain("overseas");

        scenario.Options.Waves[1].AllowEmptyScope = true;
        scenario.Plan().Refused.Should().BeFalse();
    }

    [Fact]
    public void Two_waves_with_the_same_scope_are_refused_as_overlapping_not_as_empty()
    {
        var scenario = new PlanningScenario().Person("akira", employeeNumber: "E1").Person("ken", employeeNumber: "E2").Target("t1", employeeId: "E1").Target("t2", employeeId: "E2");
        scenario.Options.Waves[1].BaseDn = scenario.Options.Waves[0].BaseDn;
        scenario.Options.Waves[1].Filter = scenario.Options.Waves[0].Filter;
        scenario.Options.Waves[1].AllowEmptyScope = false;

        var refused = scenario.Plan();

        refused.Refusals.Select(r => r.Code).Should().Equal("waves-overlap");
        refused.Refusals[0].Message.Should().Contain("overseas").And.Contain("hq").And.Contain("2 entities").And.NotContain("nothing in scope");
        refused.Plan.Entities.Should().HaveCount(2).And.OnlyContain(e => e.Blockers.Any(b => b.Code == BlockerCode.MultipleWaves) && e.CandidateWaves!.SequenceEqual(new[] { "hq", "overseas" }));
    }

    [Fact]
    public void Two_waves_with_the_same_scope_plan_with_every_entity_blocked_when_an_empty_scope_is_allowed()
    {
        var scenario = new PlanningScenario().Person("akira", employeeNumber: "E1").Target("t1", employeeId: "E1");
        scenario.Options.Waves[1].BaseDn = scenario.Options.Waves[0].BaseDn;
        scenario.Options.Waves[1].Filter = scenario.Options.Waves[0].Filter;

        var plan = scenario.PlanAccepted();

        plan.Entity("akira").Blockers.Select(b => b.Code).Should().Equal(BlockerCode.MultipleWaves);
    }

    [Fact]
    public void Planning_refuses_a_sharp_drop_against_the_previous_plan_unless_accepted()
    {
        var big = new PlanningScenario().Person("o", parent: "ou=overseas," + PlanningScenario.Base, country: "US");
        for (var i = 0; i < 10; i++)
        {
            big.Person($"p{i}", employeeNumber: $"E{i}").Target($"t{i}", employeeId: $"E{i}");
        }

        var previous = big.PlanAccepted();
        var small = new PlanningScenario().Person("o", parent: "ou=overseas," + PlanningScenario.Base, country: "US");
        for (var i = 0; i < 7; i++)
        {
            small.Person($"p{i}", employeeNumber: $"E{i}").Target($"t{i}", employeeId: $"E{i}");
        }

        var refused = small.Plan(previous);
        refused.Refusals.Single().Code.Should().Be("scope-drop");
        refused.Refusals[0].Message.Should().Contain("10 to 7");
        small.Plan(previous, acceptScopeDrop: true).Refused.Should().BeFalse();
    }

    [Fact]
    public void The_fingerprint_changes_with_attributes_the_plan_relied_on_and_only_those()
    {
        static string Fingerprint(string? mail, string description)
        {
            var scenario = new PlanningScenario().Person("akira", employeeNumber: "E1", mail: mail, description: description).Target("t1", employeeId: "E1");
            return scenario.PlanAccepted().Entity("akira").Precondition.Sha256;
        }

        var original = Fingerprint("a@example.com", "x");
        Fingerprint("a@example.com", "y").Should().Be(original, "description is not read by any filter or rule");
        Fingerprint("b@example.com", "x").Should().NotBe(original, "mail is a matching attribute");
    }

    [Fact]
    public void An_invalid_dn_is_reported_with_its_control_characters_escaped()
    {
        var scenario = new PlanningScenario().Entry("uid=a\u001b[31m;x,ou=hq," + PlanningScenario.Base, new() { ["objectClass"] = ["inetOrgPerson"] });

        var plan = () => scenario.Plan();

        plan.Should().Throw<AuthSplit.Core.Errors.InputException>().Which.Message.Should().Contain("uid=a\\x1B[31m").And.NotContain("\u001b");
    }

    private const string AdBase = "DC=corp,DC=example,DC=com";

    private static PlanningScenario ActiveDirectoryScenario()
    {
        var scenario = new PlanningScenario();
        scenario.Options.Source.Dialect = DirectoryDialect.ActiveDirectory;
        scenario.Options.Source.BaseDn = AdBase;
        scenario.Options.Source.BindDn = null;
        scenario.Options.Waves.Clear();
        scenario.Options.Waves.Add(new WaveOptions { Name = "hq", Order = 1, Deadline = "2025-04-30", BaseDn = "OU=HQ," + AdBase, Filter = "(objectClass=user)" });
        scenario.Options.Safety.ProtectedDns.Clear();
        scenario.Options.Safety.ProtectedFilter = null;
        return scenario;
    }

    private static DirectoryEntry AdUser(string dn, Guid guid, byte[] sid, params (string Name, string Value)[] extra)
    {
        var attributes = new Dictionary<string, IReadOnlyList<byte[]>>(StringComparer.OrdinalIgnoreCase)
        {
            ["objectClass"] = new[] { "top", "person", "organizationalPerson", "user" }.Select(System.Text.Encoding.UTF8.GetBytes).ToArray(),
            ["objectGUID"] = [guid.ToByteArray()],
            ["objectSid"] = [sid],
        };
        foreach (var (name, value) in extra)
        {
            attributes[name] = [System.Text.Encoding.UTF8.GetBytes(value)];
        }

        return new DirectoryEntry(dn, attributes);
    }

    private static byte[] Sid(params uint[] subAuthorities)
    {
        var sid = new byte[8 + (4 * subAuthorities.Length)];
        sid[0] = 1;
        sid[1] = (byte)subAuthorities.Length;
        sid[7] = 5;
        for (var i = 0; i < subAuthorities.Length; i++)
        {
            BitConverter.TryWriteBytes(sid.AsSpan(8 + (4 * i)), subAuthorities[i]).Should().BeTrue();
        }

        return sid;
    }
}
