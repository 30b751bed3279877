using AuthSplit.Core.Configuration;
using AuthSplit.Core.Model;
using AuthSplit.Core.Planning;
using AuthSplit.Core.Planning.Decisions;
using AuthSplit.Core.Planning.Format;

namespace AuthSplit.Core.Tests.Planning.Systems;

public sealed class SystemPlannerTests
{
    private const string Base = PlanningScenario.Base;
    private const string CrmAccount = "uid=svc-crm,ou=services," + Base;
    private static readonly string CrmPrincipal = PlanningScenario.IdFor("sp-crm");

    // A wave with one person to remove, and the crm system cut over in it with its bind account.
    private static PlanningScenario Scenario() => new PlanningScenario()
        .Person("akira", employeeNumber: "E1")
        .Target("t1", employeeId: "E1")
        .ServiceAccount("svc-crm")
        .ServicePrincipal(CrmPrincipal, name: "CRM")
        .System("crm", "hq", CrmPrincipal, CrmAccount);

    [Fact]
    public void A_system_with_a_command_cutover_and_probes_both_ways_gets_every_step_in_order()
    {
        var scenario = Scenario();
        var crm = scenario.Options.Systems[0];
        crm.Cutover = new CutoverOptions { Command = ["/opt/crm/switch-idp", "--to", "entra"], TimeoutSeconds = 120 };
        crm.Probes.Add(new ProbeOptions { Name = "sso-login", Kind = ProbeKind.Http, Http = new HttpCallOptions { Method = "GET", Url = "https://crm.example.com/health", ExpectStatus = 200 } });
        crm.Probes.Add(new ProbeOptions { Name = "legacy-bind", Kind = ProbeKind.LdapBind, Expect = ProbeExpectation.Failure, Url = "ldaps://ldap.example.com", BindDn = CrmAccount, CredentialEnvVar = "CRM_BIND_PASSWORD" });

        var plan = scenario.PlanAccepted();

        var system = plan.System("crm");
        system.Disposition.Should().Be(Disposition.Remove);
        system.Name.Should().Be("CRM");
        system.Wave.Should().Be("hq");
        system.Blockers.Should().BeEmpty();
        system.Actions().Should().Equal(
            StepAction.VerifyTargetApp,
            StepAction.Cutover,
            StepAction.ProbeTarget,
            StepAction.VerifyLegacyQuiet,
            StepAction.BackupLegacyEntry,
            StepAction.DisableLegacyAccount,
            StepAction.ProbeLegacyRefused);
        system.Steps.Single(s => s.Action == StepAction.VerifyTargetApp).DryRun.Should().Be(DryRunCheck.Checked);
        system.Target.Should().BeEquivalentTo(new SystemTargetPlan { ServicePrincipalId = CrmPrincipal, AppId = system.Target.AppId, Found = true, DisplayName = "CRM", AccountEnabled = true });
        system.Cutover!.Kind.Should().Be(CutoverKind.Command);
        system.Cutover.Command.Should().Equal("/opt/crm/switch-idp", "--to", "entra");
        system.Cutover.TimeoutSeconds.Should().Be(120);
        system.Probes.Select(p => (p.Name, p.Expect)).Should().Equal(("sso-login", ProbeExpectation.Success), ("legacy-bind", ProbeExpectation.Failure));
        system.Probes[1].CredentialSource.Should().Be("env:CRM_BIND_PASSWORD", "the plan names where a credential is, never the credential");
        var account = system.LegacyAccounts.Single();
        account.Id.Should().Be(PlanningScenario.IdFor("svc-crm"));
        account.Precondition!.Dn.Should().Be(CrmAccount);
        account.LastAuthenticationAttribute.Should().Be("pwdLastSuccess", "the disable relies on ppolicy (the default), which keeps pwdLastSuccess");
        plan.Summary.Waves.Single(w => w.Name == "hq").Systems.Should().Be(1);
        plan.StepCatalog.Select(s => s.Action).Should().Contain([StepAction.VerifyTargetApp, StepAction.ProbeLegacyRefused]);
    }

    [Fact]
    public void A_system_its_owners_switch_themselves_gets_no_cutover_and_no_target_probe()
    {
        var plan = Scenario().PlanAccepted();

        plan.System("crm").Actions().Should().Equal(
            StepAction.VerifyTargetApp,
            StepAction.VerifyLegacyQuiet,
            StepAction.BackupLegacyEntry,
            StepAction.DisableLegacyAccount,
            StepAction.ProbeLegacyRefused);
    }

    [Fact]
    public void An_http_cutover_names_its_secret_header_by_where_it_is()
    {
        var scenario = Scenario();
        scenario.Options.Systems[0].Cutover = new CutoverOptions
        {
            Http = new HttpCallOptions
            {
                Url = "https://crm.example.com/admin/idp",
                Body = "{\"idp\":\"entra\"}",
                Headers = { new HttpHeaderOptions { Name = "Authorization", ValueFile = "/run/secrets/crm-token" }, new HttpHeaderOptions { Name = "X-Tenant", Value = "example" } },
            },
        };

        var cutover = scenario.PlanAccepted().System("crm").Cutover!;

        cutover.Kind.Should().Be(CutoverKind.Http);
        cutover.Http!.Method.Should().Be("POST");
        cutover.Http.Headers.Should().Equal(new HttpHeaderSpec("Authorization", null, "file:/run/secrets/crm-token"), new HttpHeaderSpec("X-Tenant", "example", null));
    }

    [Fact]
    public void A_system_whose_service_principal_is_not_in_the_target_is_blocked_as_target_app_missing()
    {
        var plan = new PlanningScenario()
            .ServiceAccount("svc-crm")
            .System("crm", "hq", CrmPrincipal, CrmAccount)
            .Person("akira", employeeNumber: "E1").Target("t1", employeeId: "E1")
            .PlanAccepted();

        var system = plan.System("crm");
        system.Disposition.Should().Be(Disposition.Blocked);
        system.BlockerCodes().Should().Equal(SystemBlockerCode.TargetAppMissing);
        system.Steps.Should().BeEmpty("a blocked system, like a blocked entity, has no steps until it is unblocked");
        system.Target.Found.Should().BeFalse();
        plan.Summary.Waves.Single(w => w.Name == "hq").SystemsBlocked.Should().Be(1);
    }

    [Fact]
    public void An_application_registered_without_its_service_principal_is_missing_and_says_so()
    {
        var appId = Guid.NewGuid().ToString();
        var scenario = new PlanningScenario()
            .ServiceAccount("svc-crm")
            .Application(Guid.NewGuid().ToString(), appId, "CRM registration")
            .Person("akira", employeeNumber: "E1").Target("t1", employeeId: "E1");
        scenario.System(new SystemOptions { Id = "crm", Wave = "hq", Target = new SystemTargetOptions { AppId = appId }, LegacyAccounts = { new LegacyAccountOptions { Dn = CrmAccount } } });

        var system = scenario.PlanAccepted().System("crm");

        system.BlockerCodes().Should().Equal(SystemBlockerCode.TargetAppMissing);
        system.Blockers[0].Message.Should().Contain("CRM registration").And.Contain("no service principal");
    }

    [Fact]
    public void A_system_is_found_by_its_app_id()
    {
        var appId = Guid.NewGuid().ToString();
        var scenario = new PlanningScenario()
            .ServiceAccount("svc-crm")
            .ServicePrincipal(CrmPrincipal, appId: appId.ToUpperInvariant())
            .Person("akira", employeeNumber: "E1").Target("t1", employeeId: "E1");
        scenario.System(new SystemOptions { Id = "crm", Wave = "hq", Target = new SystemTargetOptions { AppId = appId }, LegacyAccounts = { new LegacyAccountOptions { Dn = CrmAccount } } });

        var system = scenario.PlanAccepted().System("crm");

        system.Disposition.Should().Be(Disposition.Remove);
        system.Target.ServicePrincipalId.Should().Be(CrmPrincipal);
    }

    [Fact]
    public void A_disabled_service_principal_blocks_its_system()
    {
        var plan = new PlanningScenario()
            .ServiceAccount("svc-crm")
            .ServicePrincipal(CrmPrincipal, enabled: false)
            .System("crm", "hq", CrmPrincipal, CrmAccount)
            .Person("akira", employeeNumber: "E1").Target("t1", employeeId: "E1")
            .PlanAccepted();

        plan.System("crm").BlockerCodes().Should().Equal(SystemBlockerCode.TargetAppDisabled);
        plan.System("crm").Target.AccountEnabled.Should().BeFalse();
    }

    [Fact]
    public void A_legacy_account_not_in_the_read_blocks_its_system()
    {
        var plan = new PlanningScenario()
            .ServicePrincipal(CrmPrincipal)
            .System("crm", "hq", CrmPrincipal, "uid=gone,ou=services," + Base)
            .Person("akira", employeeNumber: "E1").Target("t1", employeeId: "E1")
            .PlanAccepted();

        var system = plan.System("crm");
        system.BlockerCodes().Should().Equal(SystemBlockerCode.LegacyAccountMissing);
        system.LegacyAccounts.Single().Id.Should().BeNull();
        system.LegacyAccounts.Single().Precondition.Should().BeNull();
    }

    [Fact]
    public void A_legacy_account_is_matched_by_its_normalised_dn()
    {
        var plan = new PlanningScenario()
            .ServiceAccount("svc-crm")
            .ServicePrincipal(CrmPrincipal)
            .System("crm", "hq", CrmPrincipal, "UID=svc-crm, OU=Services, DC=Example, DC=com")
            .Person("akira", employeeNumber: "E1").Target("t1", employeeId: "E1")
            .PlanAccepted();

        var system = plan.System("crm");
        system.Disposition.Should().Be(Disposition.Remove);
        system.LegacyAccounts.Single().Id.Should().Be(PlanningScenario.IdFor("svc-crm"));
    }

    [Fact]
    public void A_protected_legacy_account_blocks_its_system()
    {
        // ou=system is in Safety:ProtectedDns; the tool's own bind account lives there too.
        var plan = new PlanningScenario()
            .ServiceAccount("svc-crm", parent: "ou=system," + Base)
            .ServicePrincipal(CrmPrincipal)
            .System("crm", "hq", CrmPrincipal, "uid=svc-crm,ou=system," + Base)
            .Person("akira", employeeNumber: "E1").Target("t1", employeeId: "E1")
            .PlanAccepted();

        var system = plan.System("crm");
        system.BlockerCodes().Should().Equal(SystemBlockerCode.LegacyAccountProtected);
        system.Blockers[0].Message.Should().Contain("protected-dn");
    }

    [Fact]
    public void Two_systems_claiming_one_account_are_both_blocked()
    {
        var erpPrincipal = PlanningScenario.IdFor("sp-erp");
        var plan = Scenario()
            .ServicePrincipal(erpPrincipal)
            .System("erp", "hq", erpPrincipal, CrmAccount)
            .PlanAccepted();

        plan.System("crm").BlockerCodes().Should().Equal(SystemBlockerCode.LegacyAccountShared);
        plan.System("crm").Blockers[0].Message.Should().Contain("erp");
        plan.System("erp").BlockerCodes().Should().Equal(SystemBlockerCode.LegacyAccountShared);
        plan.System("erp").Blockers[0].Message.Should().Contain("crm");
    }

    [Fact]
    public void A_legacy_account_without_identity_blocks_its_system()
    {
        var plan = new PlanningScenario()
            .Entry(CrmAccount, new Dictionary<string, string[]> { ["objectClass"] = ["account", "simpleSecurityObject"], ["uid"] = ["svc-crm"] })
            .ServicePrincipal(CrmPrincipal)
            .System("crm", "hq", CrmPrincipal, CrmAccount)
            .Person("akira", employeeNumber: "E1").Target("t1", employeeId: "E1")
            .PlanAccepted();

        plan.System("crm").BlockerCodes().Should().Equal(SystemBlockerCode.LegacyAccountMissingIdentity);
        plan.System("crm").LegacyAccounts.Single().Id.Should().BeNull();
    }

    [Fact]
    public void A_system_in_an_unknown_wave_is_blocked()
    {
        // Validation refuses such a config; the planner still says so rather than dropping the system.
        var scenario = Scenario();
        scenario.Options.Systems[0].Wave = "nowhere";
        var planner = new Planner(PlanningSettings.From(scenario.Options), [], [], scenario.Inventory);
        planner.Add(DirectoryEntry.FromStrings(CrmAccount, new Dictionary<string, string[]> { ["objectClass"] = ["account"], ["uid"] = ["svc-crm"], ["entryUUID"] = [PlanningScenario.IdFor("svc-crm")] }));

        var plan = planner.Complete(Inputs(), null, false).Plan;

        plan.System("crm").BlockerCodes().Should().Equal(SystemBlockerCode.WaveUnknown);
    }

    [Fact]
    public void A_legacy_account_that_is_a_person_of_the_plan_blocks_both_until_a_keep_decision_says_whose_it_is()
    {
        var personDn = "uid=akira,ou=hq," + Base;
        var scenario = new PlanningScenario()
            .Person("akira", employeeNumber: "E1")
            .Target("t1", employeeId: "E1")
            .ServicePrincipal(CrmPrincipal)
            .System("crm", "hq", CrmPrincipal, personDn);

        var plan = scenario.PlanAccepted();

        plan.System("crm").BlockerCodes().Should().Equal(SystemBlockerCode.LegacyAccountIsPerson);
        plan.System("crm").Blockers[0].Message.Should().Contain("wave hq");
        var akira = plan.Entity("akira");
        akira.Disposition.Should().Be(Disposition.Blocked, "deleting the person would cut the system off before its cutover");
        akira.Blockers.Select(b => b.Code).Should().Equal(BlockerCode.LegacyAccountOfSystem);
        akira.Steps.Should().BeEmpty();

        var decided = scenario.Decide("akira", DecisionKind.Keep).PlanAccepted();

        decided.Entity("akira").Disposition.Should().Be(Disposition.Kept);
        decided.System("crm").Disposition.Should().Be(Disposition.Remove, "a kept entry is the system's account, disabled by its steps");
    }

    [Fact]
    public void A_service_account_in_a_wave_scope_is_disabled_by_its_system_and_not_removed_as_an_entity()
    {
        var account = "uid=svc-crm,ou=hq," + Base;
        var plan = new PlanningScenario()
            .Person("akira", employeeNumber: "E1")
            .Target("t1", employeeId: "E1")
            .ServiceAccount("svc-crm", parent: "ou=hq," + Base)
            .ServiceAccount("svc-other", parent: "ou=hq," + Base)
            .ServicePrincipal(CrmPrincipal)
            .System("crm", "hq", CrmPrincipal, account)
            .PlanAccepted();

        var entity = plan.Entity("svc-crm");
        entity.Kind.Should().Be(EntityKind.ServiceAccount);
        entity.Disposition.Should().Be(Disposition.Kept);
        entity.LegacyAccountOf.Should().Be("crm");
        entity.Steps.Should().BeEmpty("its system's steps disable it; no entity step deletes it");
        plan.Entity("svc-other").Disposition.Should().Be(Disposition.Remove, "a service account of no system is removed as before");
        plan.System("crm").Disposition.Should().Be(Disposition.Remove);
        plan.System("crm").LegacyAccounts.Single().Id.Should().Be(entity.Id);
        plan.Summary.Waves.Single(w => w.Name == "hq").PlannedDeletes.Should().Be(2, "akira and svc-other");
    }

    [Fact]
    public void An_entity_decision_on_a_systems_account_is_rejected()
    {
        var plan = new PlanningScenario()
            .Person("akira", employeeNumber: "E1").Target("t1", employeeId: "E1")
            .ServiceAccount("svc-crm", parent: "ou=hq," + Base)
            .ServicePrincipal(CrmPrincipal)
            .System("crm", "hq", CrmPrincipal, "uid=svc-crm,ou=hq," + Base)
            .Decide("svc-crm", DecisionKind.Remove)
            .PlanAccepted();

        plan.Entity("svc-crm").Disposition.Should().Be(Disposition.Kept);
        var record = plan.Decisions.Single();
        record.Status.Should().Be(DecisionStatus.Rejected);
        record.Note.Should().Contain("system crm");
    }

    [Fact]
    public void An_except_system_decision_keeps_the_system_out_of_its_wave_with_who_and_why()
    {
        var plan = new PlanningScenario()
            .ServiceAccount("svc-crm")
            .System("crm", "hq", CrmPrincipal, CrmAccount)
            .Person("akira", employeeNumber: "E1").Target("t1", employeeId: "E1")
            .InventoryRead()
            .Decide(new Decision("crm", DecisionKind.ExceptSystem, null, null, "vendor moves it in Q3", "ciso@example.com"))
            .PlanAccepted();

        var system = plan.System("crm");
        system.Disposition.Should().Be(Disposition.Kept);
        system.Decision.Should().Be(new AppliedDecision("except-system", "vendor moves it in Q3", "ciso@example.com", []));
        system.Steps.Should().BeEmpty();
        system.BlockerCodes().Should().Equal([SystemBlockerCode.TargetAppMissing], "its blockers stay on record");
        plan.Decisions.Single().Should().Match<DecisionRecord>(r => r.EntityId == "crm" && r.Status == DecisionStatus.Applied && r.Decision == "except-system");
    }

    [Fact]
    public void An_except_system_decision_for_an_unknown_system_is_unused()
    {
        var plan = Scenario()
            .Decide(new Decision("billing", DecisionKind.ExceptSystem, null, null, "why", "who@example.com"))
            .PlanAccepted();

        var record = plan.Decisions.Single();
        record.Status.Should().Be(DecisionStatus.Unused);
        record.Note.Should().Contain("no configured system");
        plan.System("crm").Disposition.Should().Be(Disposition.Remove);
    }

    [Theory]
    [InlineData(DirectoryDialect.ActiveDirectory, OpenLdapDisableMethod.UnusablePassword, null, "lastLogonTimestamp")]
    [InlineData(DirectoryDialect.OpenLdap, OpenLdapDisableMethod.PasswordPolicyLock, null, "pwdLastSuccess")]
    [InlineData(DirectoryDialect.OpenLdap, OpenLdapDisableMethod.UnusablePassword, "pwdLastSuccess", "pwdLastSuccess")]
    [InlineData(DirectoryDialect.OpenLdap, OpenLdapDisableMethod.UnusablePassword, "authTimestamp", "authTimestamp")]
    [InlineData(DirectoryDialect.OpenLdap, OpenLdapDisableMethod.UnusablePassword, null, null)]
    public void The_last_authentication_attribute_follows_the_dialect_and_what_the_entry_carries(DirectoryDialect dialect, OpenLdapDisableMethod disable, string? carried, string? expected)
    {
        var attributes = new Dictionary<string, string[]> { ["objectClass"] = ["account"] };
        if (carried is not null)
        {
            attributes[carried] = ["20260101000000Z"];
        }

        Core.Planning.Systems.LastAuthentication.AttributeFor(dialect, disable, DirectoryEntry.FromStrings(CrmAccount, attributes)).Should().Be(expected);
    }

    [Fact]
    public void Systems_are_listed_in_config_order_and_the_plan_is_deterministic()
    {
        static PlanningScenario Build()
        {
            var erp = PlanningScenario.IdFor("sp-erp");
            return Scenario()
                .ServiceAccount("svc-erp")
                .ServicePrincipal(erp)
                .System("erp", "hq", erp, "uid=svc-erp,ou=services," + Base)
                .Group(PlanningScenario.IdFor("g-sales"), "Sales", true, "t1");
        }

        var first = Build().PlanAccepted();
        var second = Build().PlanAccepted();

        first.Systems!.Select(s => s.Id).Should().Equal("crm", "erp");
        second.PlanId.Should().Be(first.PlanId);
        PlanSerializer.Serialize(second).Should().Equal(PlanSerializer.Serialize(first));
    }

    [Fact]
    public void A_plan_with_systems_round_trips_through_its_file_with_its_id()
    {
        var scenario = Scenario();
        scenario.Options.Systems[0].Cutover = new CutoverOptions { Http = new HttpCallOptions { Url = "https://crm.example.com/idp", Headers = { new HttpHeaderOptions { Name = "Authorization", ValueEnvVar = "CRM_TOKEN" } } } };
        scenario.Options.Systems[0].Probes.Add(new ProbeOptions { Name = "login", Kind = ProbeKind.Command, Command = ["/bin/true"] });
        var plan = scenario.PlanAccepted();

        var read = PlanSerializer.Deserialize(PlanSerializer.Serialize(plan), "plan.json");

        read.PlanId.Should().Be(plan.PlanId);
        read.Systems.Should().BeEquivalentTo(plan.Systems);
        System.Text.Encoding.UTF8.GetString(PlanSerializer.Serialize(plan)).Should().Contain("\"verify-target-app\"").And.Contain("\"env:CRM_TOKEN\"");
    }

    [Fact]
    public void The_decisions_template_offers_except_system_for_a_blocked_system_and_the_filled_in_entry_applies()
    {
        var scenario = new PlanningScenario()
            .ServiceAccount("svc-crm")
            .System("crm", "hq", CrmPrincipal, CrmAccount)
            .Person("akira", employeeNumber: "E1").Target("t1", employeeId: "E1")
            .InventoryRead();
        var plan = scenario.PlanAccepted();

        var template = DecisionTemplate.Write(plan, DecisionTemplate.Undecided(plan.Entities), DecisionTemplate.UndecidedSystems(plan.Systems));

        template.Should().Contain("system crm (CRM, wave hq)").And.Contain("target-app-missing").And.Contain("resolve with: except-system");
        var untouched = () => DecisionFileParser.Parse(template, "decisions.json");
        untouched.Should().Throw<Errors.InputException>("an untouched template decides nothing");
        var filled = template.Replace("\"decision\": \"\"", "\"decision\": \"except-system\"", StringComparison.Ordinal)
            .Replace("\"reason\": \"\"", "\"reason\": \"vendor late\"", StringComparison.Ordinal)
            .Replace("\"decidedBy\": \"\"", "\"decidedBy\": \"ciso@example.com\"", StringComparison.Ordinal);
        foreach (var decision in DecisionFileParser.Parse(filled, "decisions.json"))
        {
            scenario.Decide(decision);
        }

        scenario.PlanAccepted().System("crm").Disposition.Should().Be(Disposition.Kept);
    }

    private static PlanInputs Inputs() => new()
    {
        Source = new InputDescription { Kind = "ldif", Location = "test.ldif", Sha256 = "sha256:source", Count = 1 },
        Target = new InputDescription { Kind = "graph-snapshot", Location = "target", Sha256 = "sha256:target", Count = 0 },
        ConfigSha256 = "sha256:config",
    };
}
