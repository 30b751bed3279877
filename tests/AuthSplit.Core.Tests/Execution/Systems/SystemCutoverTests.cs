using AuthSplit.Core.Configuration;
using AuthSplit.Core.Execution;
using AuthSplit.Core.Execution.Systems;
using AuthSplit.Core.Model;
using AuthSplit.Core.Planning;
using AuthSplit.Core.Planning.Format;
using AuthSplit.Core.Planning.Preconditions;

namespace AuthSplit.Core.Tests.Execution.Systems;

public sealed class SystemCutoverTests
{
    private const string Services = "ou=services," + ExecutionScenario.Base;
    private const string CrmAccount = "uid=crm-bind," + Services;
    private const string CrmAccountId = "5e1f0000-0000-4000-8000-00000000c0de";
    private const string ProbeUrl = "https://crm.example.com/health/sso";
    private const string CrmPrincipal = "8a5e0000-0000-4000-8000-000000000001";

    internal static ExecutionScenario Scenario(bool withCredential = true, Disposition disposition = Disposition.Remove, Action<Dictionary<string, string[]>>? account = null)
    {
        var scenario = new ExecutionScenario().Person("akira");
        var attributes = new Dictionary<string, string[]>
        {
            ["objectClass"] = ["top", "account", "simpleSecurityObject"],
            ["uid"] = ["crm-bind"],
            ["entryUUID"] = [CrmAccountId],
            ["userPassword"] = ["{SSHA}crm"],
        };
        account?.Invoke(attributes);
        var entry = DirectoryEntry.FromStrings(CrmAccount, attributes);
        scenario.DirectoryOnly(entry);
        scenario.Tenant.AddServicePrincipal(new TargetServicePrincipal(CrmPrincipal, "app-crm", "CRM", AccountEnabled: true, "Application"));
        var fingerprint = scenario.Plan.Settings.FingerprintAttributes;
        var system = new PlannedSystem
        {
            Id = "crm",
            Name = "CRM",
            Wave = "hq",
            Disposition = disposition,
            Target = new SystemTargetPlan { ServicePrincipalId = CrmPrincipal, Found = true, DisplayName = "CRM", AccountEnabled = true },
            LegacyAccounts =
            [
                new SystemLegacyAccount
                {
                    Dn = CrmAccount,
                    Id = CrmAccountId,
                    CredentialSource = withCredential ? "env:CRM_BIND_PASSWORD" : null,
                    LastAuthenticationAttribute = "pwdLastSuccess",
                    Precondition = EntityPrecondition.Compute(entry, fingerprint),
                },
            ],
            Cutover = new CutoverSpec { Kind = CutoverKind.Command, Command = ["/opt/crm/switch-to-entra", "--tenant", "t1"], TimeoutSeconds = 60 },
            Probes =
            [
                new ProbeSpec { Name = "sso-login", Kind = ProbeKind.Http, Expect = ProbeExpectation.Success, Http = new HttpCallSpec { Method = "GET", Url = ProbeUrl, Headers = [] }, TimeoutSeconds = 10 },
            ],
            Blockers = disposition == Disposition.Blocked ? [new SystemBlocker(SystemBlockerCode.TargetAppMissing, "no service principal")] : [],
            Decision = disposition == Disposition.Kept ? new AppliedDecision("except-system", "retired next month", "carol", []) : null,
            Steps = [.. new[] { StepAction.VerifyTargetApp, StepAction.Cutover, StepAction.ProbeTarget, StepAction.VerifyLegacyQuiet, StepAction.BackupLegacyEntry, StepAction.DisableLegacyAccount, StepAction.ProbeLegacyRefused }
                .Select(a => new PlannedStep(a, StepCatalog.DryRunOf(a)))],
        };
        return scenario.EditPlan(plan => plan with { Systems = [system], StepCatalog = StepCatalog.Describe(plan.Settings.Removal, systems: true) });
    }

    private static IReadOnlyList<StepRecord> SystemJournal(ExecutionScenario scenario) =>
        [.. scenario.Store.Steps.Where(s => s.EntityId == "system:crm")];

    [Fact]
    public async Task A_new_plan_of_a_wave_begun_under_another_carries_the_done_cutover_over_instead_of_running_it_again()
    {
        var scenario = Scenario();
        scenario.Systems.HttpAnswers[ProbeUrl] = HookStatus.Refused;
        (await scenario.ApproveAndRunAsync()).Kind.Should().Be(WaveResultKind.Interrupted, "the probe fails and the delete waits");
        var firstPlan = scenario.Plan.PlanId!;
        scenario.Systems.HttpAnswers.Remove(ProbeUrl);

        // A new plan of the same wave (re-planned, approved again), the system's spec unchanged.
        scenario.EditPlan(plan => plan with { Inputs = plan.Inputs with { ConfigSha256 = "sha256:" + new string('b', 64) } });
        scenario.Plan.PlanId.Should().NotBe(firstPlan);
        var second = await scenario.ApproveAndRunAsync();

        second.Kind.Should().Be(WaveResultKind.Completed, second.Reason);
        scenario.Systems.Calls.Count(c => c.StartsWith("command ", StringComparison.Ordinal)).Should().Be(1, "the cutover done under the first plan is not run again");
        var carried = scenario.Store.Steps.Where(s => s.PlanId == scenario.Plan.PlanId && s.EntityId == "system:crm").ToList();
        carried.Where(s => s.Reason?.StartsWith(ReasonCodes.CarriedOver + ":", StringComparison.Ordinal) == true).Select(s => s.Step)
            .Should().Equal([StepAction.VerifyTargetApp, StepAction.Cutover], "the steps done under the first plan, up to the failed probe");
        carried.Single(s => s.Step == StepAction.Cutover).Reason.Should().Contain(firstPlan);
        carried.Single(s => s.Step == StepAction.ProbeTarget).Outcome.Should().Be(StepOutcome.Done, "the probe that failed runs again");
        scenario.Directory.Get(ExecutionScenario.DnOf("akira")).Should().BeNull();
    }

    [Fact]
    public async Task A_new_plan_that_changes_the_cutover_runs_it_again()
    {
        var scenario = Scenario();
        scenario.Systems.HttpAnswers[ProbeUrl] = HookStatus.Refused;
        (await scenario.ApproveAndRunAsync()).Kind.Should().Be(WaveResultKind.Interrupted);
        scenario.Systems.HttpAnswers.Remove(ProbeUrl);

        scenario.EditPlan(plan => plan with { Systems = [plan.Systems![0] with { Cutover = plan.Systems[0].Cutover! with { Command = ["/opt/crm/switch-to-entra", "--tenant", "t2"] } }] });
        var second = await scenario.ApproveAndRunAsync();

        second.Kind.Should().Be(WaveResultKind.Completed, second.Reason);
        scenario.Systems.Calls.Count(c => c.StartsWith("command ", StringComparison.Ordinal)).Should().Be(2, "the new plan's cutover is another command: it runs");
        scenario.Store.Steps.Where(s => s.PlanId == scenario.Plan.PlanId).Should().NotContain(s => s.Reason != null && s.Reason.StartsWith(ReasonCodes.CarriedOver, StringComparison.Ordinal) && s.EntityId == "system:crm");
    }

    [Fact]
    public async Task A_system_is_cut_over_probed_and_its_account_disabled_before_the_waves_person_is_deleted()
    {
        var scenario = Scenario();

        var result = await scenario.ApproveAndRunAsync();

        result.Kind.Should().Be(WaveResultKind.Completed, result.Reason);
        SystemJournal(scenario).Where(s => s.Outcome != StepOutcome.Started).Select(s => (s.Step, s.Outcome)).Should().Equal(
            (StepAction.VerifyTargetApp, StepOutcome.Done),
            (StepAction.Cutover, StepOutcome.Done),
            (StepAction.ProbeTarget, StepOutcome.Done),
            (StepAction.VerifyLegacyQuiet, StepOutcome.Done),
            (StepAction.BackupLegacyEntry, StepOutcome.Done),
            (StepAction.DisableLegacyAccount, StepOutcome.Done),
            (StepAction.ProbeLegacyRefused, StepOutcome.Done));
        SystemJournal(scenario).Should().Contain(s => s.Step == StepAction.Cutover && s.Outcome == StepOutcome.Started, "the cutover is on record before the hook runs");
        scenario.Systems.Calls.Should().Equal("command /opt/crm/switch-to-entra", "http GET " + ProbeUrl, "bind " + CrmAccount);
        scenario.Directory.Get(CrmAccount)!.GetString("pwdAccountLockedTime").Should().NotBeNull("the system's legacy account is disabled, not deleted");
        (await scenario.Store.GetBackupAsync(CrmAccountId, CancellationToken.None)).Should().NotBeNull();
        scenario.Directory.Get(ExecutionScenario.DnOf("akira")).Should().BeNull();
        var lastSystemStep = scenario.Store.Steps.Last(s => s.EntityId == "system:crm").At;
        scenario.Store.Steps.Single(s => s.EntityId == ExecutionScenario.IdFor("akira") && s.Step == StepAction.DeleteLegacyEntry && s.Outcome == StepOutcome.Done).At
            .Should().BeOnOrAfter(lastSystemStep);
        scenario.Store.Ledger.Select(r => r.EntityId).Should().ContainInConsecutiveOrder("system:crm", "system:crm");
        scenario.Entity("akira").State.Should().Be(EntityState.Done);
        (await scenario.Store.GetEntityAsync(scenario.Plan.PlanId!, "system:crm", CancellationToken.None))!.Should().Match<EntityProgress>(p => p.State == EntityState.Done && p.Kind == EntityKind.System);
    }

    [Fact]
    public async Task A_failing_target_probe_leaves_the_system_failed_and_holds_the_waves_deletes_until_a_rerun_after_the_fix_does_nothing_twice()
    {
        var scenario = Scenario();
        scenario.Systems.HttpAnswers[ProbeUrl] = HookStatus.Refused;

        var first = await scenario.ApproveAndRunAsync();

        first.Kind.Should().Be(WaveResultKind.Interrupted);
        first.Reason.Should().Contain("crm (failed)").And.Contain("wait");
        var system = (await scenario.Store.GetEntityAsync(scenario.Plan.PlanId!, "system:crm", CancellationToken.None))!;
        system.State.Should().Be(EntityState.Failed);
        system.Reason.Should().StartWith(ReasonCodes.ProbeFailed).And.Contain("sso-login");
        SystemJournal(scenario).Single(s => s.Step == StepAction.ProbeTarget).After.Should().Contain("\"passed\":false").And.Contain("\"httpStatus\":500");
        scenario.Directory.Get(CrmAccount)!.GetString("pwdAccountLockedTime").Should().BeNull("nothing after the failed probe ran");
        var akira = scenario.Entity("akira");
        akira.State.Should().Be(EntityState.InProgress);
        akira.Reason.Should().StartWith(ReasonCodes.DeleteHeld).And.Contain("crm");
        scenario.Directory.Get(ExecutionScenario.DnOf("akira"))!.GetString("pwdAccountLockedTime").Should().NotBeNull("everything up to the delete was done");
        scenario.Store.Steps.Count(s => s.EntityId == ExecutionScenario.IdFor("akira") && s.Step == StepAction.DeleteLegacyEntry)
            .Should().Be(1, "a delete held for the wave's systems waits for the next run, not for another round of this one (Execution:RetryRounds is 3 here)");

        scenario.Systems.HttpAnswers.Remove(ProbeUrl);
        var second = await scenario.RunAsync();

        second.Kind.Should().Be(WaveResultKind.Completed, second.Reason);
        scenario.Systems.Calls.Count(c => c.StartsWith("command ", StringComparison.Ordinal)).Should().Be(1, "the cutover that succeeded is not run again");
        scenario.Systems.Calls.Count(c => c.StartsWith("http ", StringComparison.Ordinal)).Should().Be(2, "the failed probe runs again");
        scenario.Directory.Get(ExecutionScenario.DnOf("akira")).Should().BeNull();
        scenario.Directory.Writes.Count(w => w.Operation == "delete" && w.Dn == ExecutionScenario.DnOf("akira")).Should().Be(1);
        scenario.Store.Steps.Count(s => s.EntityId == ExecutionScenario.IdFor("akira") && s.Step == StepAction.DisableLegacyAccount).Should().Be(1, "the person's disable is not done twice");
    }

    [Fact]
    public async Task Binds_between_a_failed_probe_and_the_fix_do_not_fail_verify_legacy_quiet_but_a_bind_after_the_passing_probe_does()
    {
        var scenario = Scenario();
        scenario.Systems.HttpAnswers[ProbeUrl] = HookStatus.Refused;
        (await scenario.ApproveAndRunAsync()).Kind.Should().Be(WaveResultKind.Interrupted);

        // The system kept binding to the legacy directory while its cutover had not taken, until the fix.
        scenario.Clock.Advance(TimeSpan.FromHours(1));
        scenario.Directory.Set(CrmAccount, "pwdLastSuccess", scenario.Clock.GetUtcNow().UtcDateTime.ToString("yyyyMMddHHmmss'Z'", System.Globalization.CultureInfo.InvariantCulture));
        scenario.Clock.Advance(TimeSpan.FromMinutes(5));
        scenario.Systems.HttpAnswers.Remove(ProbeUrl);
        var second = await scenario.RunAsync();

        second.Kind.Should().Be(WaveResultKind.Completed, second.Reason);
        var quiet = SystemJournal(scenario).Single(s => s.Step == StepAction.VerifyLegacyQuiet);
        quiet.Outcome.Should().Be(StepOutcome.Done, quiet.Reason);
        quiet.After.Should().Contain("\"since\":\"" + SystemJournal(scenario).Single(s => s.Step == StepAction.ProbeTarget && s.Outcome == StepOutcome.Done).At.ToString("O", System.Globalization.CultureInfo.InvariantCulture), "quiet counts from the probe that passed");
    }

    [Theory]
    [InlineData("pwdLastSuccess")]
    [InlineData("authTimestamp")] // the plan named pwdLastSuccess (the account had bound to neither); this slapd stamps authTimestamp
    public async Task A_bind_after_the_passing_probe_still_fails_verify_legacy_quiet(string stampedIn)
    {
        var scenario = Scenario();
        // The probe passes at the clock's time; the account binds a minute later (the hook did not really switch it).
        scenario.Directory.Set(CrmAccount, stampedIn, scenario.Clock.GetUtcNow().AddMinutes(1).UtcDateTime.ToString("yyyyMMddHHmmss'Z'", System.Globalization.CultureInfo.InvariantCulture));

        await scenario.ApproveAndRunAsync();

        var system = (await scenario.Store.GetEntityAsync(scenario.Plan.PlanId!, "system:crm", CancellationToken.None))!;
        system.State.Should().Be(EntityState.Failed);
        system.Reason.Should().StartWith(ReasonCodes.LegacyNotQuiet).And.Contain("confirmed at");
        SystemJournal(scenario).Single(s => s.Step == StepAction.VerifyLegacyQuiet).After.Should().Contain($"\"{stampedIn}\":\"");
    }

    [Fact]
    public async Task A_system_excepted_by_a_decision_is_not_touched_and_does_not_hold_the_deletes()
    {
        var scenario = Scenario(disposition: Disposition.Kept);

        var result = await scenario.ApproveAndRunAsync();

        result.Kind.Should().Be(WaveResultKind.Completed, result.Reason);
        scenario.Systems.Calls.Should().BeEmpty();
        var system = (await scenario.Store.GetEntityAsync(scenario.Plan.PlanId!, "system:crm", CancellationToken.None))!;
        system.State.Should().Be(EntityState.Excluded);
        system.Reason.Should().StartWith(ReasonCodes.ExcludedExcepted).And.Contain("retired next month").And.Contain("carol");
        scenario.Directory.Get(ExecutionScenario.DnOf("akira")).Should().BeNull();
    }

    [Fact]
    public async Task A_blocked_system_holds_the_deletes_and_says_why()
    {
        var scenario = Scenario(disposition: Disposition.Blocked);

        var result = await scenario.ApproveAndRunAsync();

        result.Kind.Should().Be(WaveResultKind.Interrupted);
        result.Reason.Should().Contain("crm (blocked: no service principal)");
        scenario.Systems.Calls.Should().BeEmpty();
        scenario.Directory.Get(ExecutionScenario.DnOf("akira")).Should().NotBeNull();
    }

    [Fact]
    public async Task A_service_principal_gone_since_the_plan_fails_verify_target_app_before_any_hook_runs()
    {
        var scenario = Scenario();
        scenario.Tenant.RemoveServicePrincipal(CrmPrincipal);

        await scenario.ApproveAndRunAsync();

        var system = (await scenario.Store.GetEntityAsync(scenario.Plan.PlanId!, "system:crm", CancellationToken.None))!;
        system.State.Should().Be(EntityState.Failed);
        system.Reason.Should().StartWith(ReasonCodes.TargetAppMissing);
        scenario.Systems.Calls.Should().BeEmpty();
    }

    [Fact]
    public async Task A_legacy_account_that_still_accepts_a_bind_after_the_disable_fails_the_system()
    {
        var scenario = Scenario();
        scenario.Systems.BindsAlwaysAccepted.Add(CrmAccount);

        await scenario.ApproveAndRunAsync();

        var system = (await scenario.Store.GetEntityAsync(scenario.Plan.PlanId!, "system:crm", CancellationToken.None))!;
        system.State.Should().Be(EntityState.Failed);
        system.Reason.Should().StartWith(ReasonCodes.LegacyBindAccepted).And.Contain("still succeeds");
        scenario.Directory.Get(ExecutionScenario.DnOf("akira")).Should().NotBeNull();
    }

    [Fact]
    public async Task Without_a_credential_the_disabled_state_is_read_back_instead_of_a_bind()
    {
        var scenario = Scenario(withCredential: false);

        var result = await scenario.ApproveAndRunAsync();

        result.Kind.Should().Be(WaveResultKind.Completed, result.Reason);
        scenario.Systems.Calls.Should().NotContain(c => c.StartsWith("bind ", StringComparison.Ordinal));
        SystemJournal(scenario).Single(s => s.Step == StepAction.ProbeLegacyRefused).After.Should().Contain("disabled state was read back").And.Contain("\"disabled\":true");
    }

    [Fact]
    public async Task A_legacy_account_used_after_the_cutover_fails_verify_legacy_quiet()
    {
        var scenario = Scenario(account: a => a["pwdLastSuccess"] = ["20991231235959Z"]);

        await scenario.ApproveAndRunAsync();

        var system = (await scenario.Store.GetEntityAsync(scenario.Plan.PlanId!, "system:crm", CancellationToken.None))!;
        system.State.Should().Be(EntityState.Failed);
        system.Reason.Should().StartWith(ReasonCodes.LegacyNotQuiet).And.Contain(CrmAccount);
        scenario.Directory.Get(CrmAccount)!.GetString("pwdAccountLockedTime").Should().BeNull();
    }

    [Theory]
    [InlineData("lastLogonTimestamp", "134090208000000000", "2025-12-01T00:00:00.0000000+00:00")]
    [InlineData("pwdLastSuccess", "20261201103000Z", "2026-12-01T10:30:00.0000000+00:00")]
    [InlineData("authTimestamp", "20261201103000.123456Z", "2026-12-01T10:30:00.1234560+00:00")]
    [InlineData("lastLogonTimestamp", "0", null)]
    [InlineData("pwdLastSuccess", "yesterday", null)]
    public void Last_authentication_is_read_in_each_servers_format(string attribute, string value, string? expected)
    {
        var entry = DirectoryEntry.FromStrings("uid=x," + Services, new Dictionary<string, string[]> { [attribute] = [value] });

        var read = LastAuthentication.Of(entry, attribute);

        read?.ToString("O", System.Globalization.CultureInfo.InvariantCulture).Should().Be(expected);
        if (expected is null)
        {
            read.Should().BeNull();
        }
    }

    [Theory]
    [InlineData("authTimestamp", OpenLdapDisableMethod.PasswordPolicyLock, "authTimestamp")] // slapd's lastbind overlay, ppolicy without olcLastBind: the lab's slapd
    [InlineData("pwdLastSuccess", OpenLdapDisableMethod.PasswordPolicyLock, "pwdLastSuccess")]
    [InlineData(null, OpenLdapDisableMethod.PasswordPolicyLock, "pwdLastSuccess")]
    [InlineData("authTimestamp", OpenLdapDisableMethod.UnusablePassword, "authTimestamp")]
    [InlineData(null, OpenLdapDisableMethod.UnusablePassword, null)]
    public void On_OpenLdap_the_last_authentication_is_read_from_the_attribute_the_entry_carries(string? carried, OpenLdapDisableMethod disable, string? expected)
    {
        var attributes = new Dictionary<string, string[]> { ["uid"] = ["x"] };
        if (carried is not null)
        {
            attributes[carried] = ["20261201103000Z"];
        }

        Core.Planning.Systems.LastAuthentication.AttributeFor(DirectoryDialect.OpenLdap, disable, DirectoryEntry.FromStrings("uid=x," + Services, attributes)).Should().Be(expected);
    }
}
