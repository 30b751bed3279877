using AuthSplit.Core.Configuration;
using AuthSplit.Core.Execution;
using AuthSplit.Core.Execution.Rollback;
using AuthSplit.Core.Model;
using AuthSplit.Core.Planning;
using AuthSplit.Core.Planning.Format;
using AuthSplit.Core.Planning.Preconditions;
using AuthSplit.Testing.Execution;
using Microsoft.Extensions.Time.Testing;

namespace AuthSplit.Core.Tests.Execution.Rollback;

public sealed class EntityRollbackTests
{
    private static readonly TimeSpan Poll = TimeSpan.FromSeconds(30);

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 2, 3, 0, 0, TimeSpan.Zero));

    private static string Akira => ExecutionScenario.IdFor("akira");

    private static async Task<ExecutionScenario> HeldAsync(Action<ExecutionScenario>? arrange = null)
    {
        var scenario = new ExecutionScenario().Person("akira").Person("yuki");
        scenario.Planning.Options.Removal.HoldDays = 3;
        arrange?.Invoke(scenario);
        await scenario.ApproveAsync();
        (await scenario.RunAsync()).Kind.Should().Be(WaveResultKind.Holding);
        return scenario;
    }

    private EntityRollback Rollback(ExecutionScenario scenario) =>
        new(scenario.Store, scenario.Directory, scenario.Tenant, DirectoryDialect.OpenLdap, _time, "node-1");

    private static RollbackRequest Request(string id, TimeSpan wait) =>
        new(id, "carol", ["hq", "overseas"], wait, Poll, new Uri("https://graph.microsoft.com/"));

    // Runs the rollback while moving the fake clock a second at a time, as the real one would.
    private async Task<RollbackResult> RunAsync(ExecutionScenario scenario, RollbackRequest request, List<string> lines)
    {
        var run = Rollback(scenario).RunAsync(request, new Lines(lines), CancellationToken.None);
        for (var i = 0; i < 10_000 && !run.IsCompleted; i++)
        {
            await Task.Delay(1, CancellationToken.None);
            _time.Advance(TimeSpan.FromSeconds(1));
        }

        return await run;
    }

    private static IReadOnlyList<string> RollbackActions(ExecutionScenario scenario, string id) =>
        [.. scenario.Store.Ledger.Where(r => r.Kind == LedgerKind.Rollback && r.EntityId == id).Select(r => r.Data![..r.Data!.IndexOf(':', StringComparison.Ordinal)])];

    [Fact]
    public async Task A_new_plan_after_a_rollback_does_the_rolled_back_steps_again_instead_of_carrying_them_over()
    {
        var scenario = await HeldAsync();
        var firstPlan = scenario.Plan.PlanId!;
        (await RunAsync(scenario, Request(Akira, TimeSpan.FromMinutes(5)), [])).Outcome.Should().Be(RollbackOutcome.RolledBack);

        // Removing akira again: a new plan (no hold this time), approved.
        scenario.EditPlan(plan => plan with { Inputs = plan.Inputs with { ConfigSha256 = "sha256:" + new string('d', 64) } });
        scenario.Plan.PlanId.Should().NotBe(firstPlan);
        await scenario.ApproveAsync();
        await scenario.RunAsync();

        var journal = scenario.Store.Steps.Where(s => s.PlanId == scenario.Plan.PlanId && s.EntityId == Akira).ToList();
        journal.Should().NotContain(s => s.Reason != null && s.Reason.StartsWith(ReasonCodes.CarriedOver, StringComparison.Ordinal), "what the rollback undid is not carried over");
        journal.Single(s => s.Step == StepAction.StopPasswordSync).Outcome.Should().Be(StepOutcome.Done, "the switch the rollback took back is made again");
        scenario.Tenant.IsCloudManaged(ExecutionScenario.TargetIdOf("akira")).Should().BeTrue();
        scenario.Store.Steps.Where(s => s.PlanId == scenario.Plan.PlanId && s.EntityId == ExecutionScenario.IdFor("yuki"))
            .Should().Contain(s => s.Reason != null && s.Reason.StartsWith(ReasonCodes.CarriedOver, StringComparison.Ordinal), "yuki was not rolled back: her steps are carried");
    }

    [Fact]
    public async Task A_held_person_is_re_enabled_from_its_backup_switched_back_and_recorded_and_the_wave_never_takes_it_again()
    {
        var scenario = await HeldAsync();
        scenario.Directory.Get(ExecutionScenario.DnOf("akira"))!.GetString("pwdAccountLockedTime").Should().Be("000001010000Z");
        scenario.Tenant.IsCloudManaged(ExecutionScenario.TargetIdOf("akira")).Should().BeTrue();
        var lines = new List<string>();

        var result = await RunAsync(scenario, Request(Akira, TimeSpan.FromMinutes(5)), lines);

        result.Outcome.Should().Be(RollbackOutcome.RolledBack, result.Message);
        var entry = scenario.Directory.Get(ExecutionScenario.DnOf("akira"))!;
        entry.GetString("pwdAccountLockedTime").Should().BeNull("the ppolicy lock the wave set is taken away");
        entry.GetString("userPassword").Should().Be("{SSHA}secret-akira", "the password was never touched by the lock method");
        scenario.Tenant.IsCloudManaged(ExecutionScenario.TargetIdOf("akira")).Should().BeFalse();
        scenario.Tenant.Changes.Should().EndWith(new SoaChange(ExecutionScenario.TargetIdOf("akira"), false));
        RollbackActions(scenario, Akira).Should().Equal("begun", "re-enable-legacy-account", "switch-back", "sync-verified", "completed");
        scenario.Store.Ledger.Where(r => r.Kind == LedgerKind.Rollback).Should().OnlyContain(r => r.Actor == "carol" && r.Node == "node-1" && r.Wave == "hq");
        scenario.Store.Ledger.Single(r => r.Kind == LedgerKind.Rollback && r.Data!.StartsWith("re-enable", StringComparison.Ordinal)).Data
            .Should().Contain("\"before\":{").And.Contain("000001010000Z").And.Contain("\"after\":{").And.NotContain("secret-akira", "never a password");
        var progress = scenario.Entity("akira");
        progress.State.Should().Be(EntityState.Refused);
        ReasonCodes.CodeOf(progress.Reason).Should().Be(ReasonCodes.RolledBack);
        progress.Reason.Should().Contain("carol").And.Contain("new plan");
        lines.Should().NotContain(l => l.Contains("PATCH", StringComparison.Ordinal), "the tenant did not block hard-match takeover: nothing is asked of an administrator");

        // The hold ends and the hold-expiry run comes: the rolled-back person is not taken again.
        var steps = scenario.Journal("akira").Count;
        scenario.Clock.Advance(TimeSpan.FromDays(3));
        var rerun = await scenario.RunAsync();

        rerun.Kind.Should().Be(WaveResultKind.Completed, rerun.Reason);
        scenario.Directory.Get(ExecutionScenario.DnOf("akira")).Should().NotBeNull("a rolled-back entity is never deleted by its plan");
        scenario.Directory.Get(ExecutionScenario.DnOf("yuki")).Should().BeNull("the rest of the wave goes on");
        scenario.Journal("akira").Should().HaveCount(steps, "the executor does not touch it again");
        scenario.Tenant.IsCloudManaged(ExecutionScenario.TargetIdOf("akira")).Should().BeFalse();
        scenario.Entity("akira").State.Should().Be(EntityState.Refused);
    }

    [Fact]
    public async Task A_rolled_back_person_keeps_the_password_sync_gate_shut_for_its_wave()
    {
        var scenario = await HeldAsync();
        (await RunAsync(scenario, Request(Akira, TimeSpan.FromMinutes(5)), [])).Outcome.Should().Be(RollbackOutcome.RolledBack);
        scenario.Clock.Advance(TimeSpan.FromDays(3));
        (await scenario.RunAsync()).Kind.Should().Be(WaveResultKind.Completed);

        var unfinished = await new Core.Execution.Gates.PasswordSyncGate(scenario.Store, scenario.Tenant, _time, "node-1").UnfinishedWavesAsync(["hq"], CancellationToken.None);

        unfinished.Should().ContainSingle().Which.Should().Contain("wave hq has 1 rolled-back entity").And.Contain("still need its password sync");
    }

    [Fact]
    public async Task A_quarantined_person_is_moved_back_to_its_DN_and_an_unusable_password_is_replaced_by_the_backups()
    {
        var scenario = await HeldAsync(s =>
        {
            s.WithQuarantine();
            s.Directory.AddContainer(ExecutionScenario.Hq);
            s.Settings = s.Settings with { OpenLdapDisable = OpenLdapDisableMethod.UnusablePassword };
        });
        scenario.Directory.Get(ExecutionScenario.DnOf("akira")).Should().BeNull();
        scenario.Directory.Get("uid=akira," + ExecutionScenario.Quarantine)!.GetString("userPassword").Should().StartWith("{CRYPT}!authsplit-disabled-");

        var result = await RunAsync(scenario, Request(Akira, TimeSpan.FromMinutes(5)), []);

        result.Outcome.Should().Be(RollbackOutcome.RolledBack, result.Message);
        scenario.Directory.Get("uid=akira," + ExecutionScenario.Quarantine).Should().BeNull();
        scenario.Directory.Get(ExecutionScenario.DnOf("akira"))!.GetString("userPassword").Should().Be("{SSHA}secret-akira", "the password as backed up");
        RollbackActions(scenario, Akira).Should().Equal("begun", "re-enable-legacy-account", "move-back-from-quarantine", "switch-back", "sync-verified", "completed");
    }

    [Fact]
    public async Task With_the_hard_match_takeover_block_on_it_tells_the_administrator_waits_for_it_off_then_switches_back_and_asks_for_it_back_on()
    {
        var scenario = await HeldAsync();
        scenario.Tenant.BlockCloudObjectTakeoverThroughHardMatchEnabled = true;
        // The administrator switches it off while the rollback waits (the third read).
        scenario.Tenant.BeforeTenantSyncRead = read =>
        {
            if (read == 3)
            {
                scenario.Tenant.BlockCloudObjectTakeoverThroughHardMatchEnabled = false;
            }
        };
        var lines = new List<string>();

        var result = await RunAsync(scenario, Request(Akira, TimeSpan.FromMinutes(5)), lines);

        result.Outcome.Should().Be(RollbackOutcome.RolledBack, result.Message);
        var text = string.Join('\n', lines);
        text.Should().Contain("PATCH https://graph.microsoft.com/v1.0/directory/onPremisesSynchronization/fake-tenant")
            .And.Contain("{\"features\":{\"blockCloudObjectTakeoverThroughHardMatchEnabled\":false}}")
            .And.Contain("is still true")
            .And.Contain("{\"features\":{\"blockCloudObjectTakeoverThroughHardMatchEnabled\":true}}", "the administrator is told to set it back once the user is synchronised again");
        text.IndexOf(":true}}", StringComparison.Ordinal).Should().BeGreaterThan(text.IndexOf("isCloudManaged=false", StringComparison.Ordinal), "the flag goes back on only after the switch back");
        RollbackActions(scenario, Akira).Should().Equal("begun", "re-enable-legacy-account", "flag-waiting", "flag-verified", "switch-back", "sync-verified", "completed");
    }

    [Fact]
    public async Task A_block_still_on_when_the_wait_ends_leaves_the_user_cloud_managed_and_a_rerun_continues_once_it_is_off()
    {
        var scenario = await HeldAsync();
        scenario.Tenant.BlockCloudObjectTakeoverThroughHardMatchEnabled = true;

        var waiting = await RunAsync(scenario, Request(Akira, TimeSpan.FromSeconds(90)), []);

        waiting.Outcome.Should().Be(RollbackOutcome.Waiting);
        waiting.Code.Should().Be("flag-waiting");
        scenario.Tenant.IsCloudManaged(ExecutionScenario.TargetIdOf("akira")).Should().BeTrue("isCloudManaged goes false only once the block is off");
        scenario.Directory.Get(ExecutionScenario.DnOf("akira"))!.GetString("pwdAccountLockedTime").Should().BeNull("the legacy side is rolled back already");
        ReasonCodes.CodeOf(scenario.Entity("akira").Reason).Should().Be(ReasonCodes.RolledBack, "from the first write on, the executor leaves it alone");

        scenario.Tenant.BlockCloudObjectTakeoverThroughHardMatchEnabled = false;
        var lines = new List<string>();
        var resumed = await RunAsync(scenario, Request(Akira, TimeSpan.FromSeconds(90)), lines);

        resumed.Outcome.Should().Be(RollbackOutcome.RolledBack, resumed.Message);
        lines.Should().Contain(l => l.Contains("Resuming", StringComparison.Ordinal));
        lines.Should().Contain(l => l.Contains("\"blockCloudObjectTakeoverThroughHardMatchEnabled\":true", StringComparison.Ordinal), "the first run found the block on, so it is to go back on");
        RollbackActions(scenario, Akira).Should().Equal(
            "begun", "re-enable-legacy-account", "flag-waiting",
            "resumed", "re-enable-legacy-account", "switch-back", "sync-verified", "completed");
    }

    [Fact]
    public async Task A_deleted_person_is_refused_naming_authsplit_restore_and_nothing_is_written()
    {
        var scenario = new ExecutionScenario().Person("akira");
        (await scenario.ApproveAndRunAsync()).Kind.Should().Be(WaveResultKind.Completed);
        var writes = scenario.Directory.Writes.Count;
        var changes = scenario.Tenant.Changes.Count;

        var result = await RunAsync(scenario, Request(Akira, TimeSpan.FromMinutes(5)), []);

        result.Outcome.Should().Be(RollbackOutcome.Refused);
        result.Code.Should().Be("restore-first");
        result.Message.Should().Contain("authsplit restore --entity " + Akira).And.Contain("deleted");
        scenario.Directory.Writes.Should().HaveCount(writes);
        scenario.Tenant.Changes.Should().HaveCount(changes, "the cloud user stays cloud-managed: switched back, the next sync would delete it");
        scenario.Entity("akira").State.Should().Be(EntityState.Done, "a refusal leaves the journal's state as it was");
        RollbackActions(scenario, Akira).Should().Equal("refused");
    }

    [Fact]
    public async Task After_authsplit_restore_the_rollback_switches_the_person_back()
    {
        var scenario = new ExecutionScenario().Person("akira");
        (await scenario.ApproveAndRunAsync()).Kind.Should().Be(WaveResultKind.Completed);
        var backup = (await scenario.Store.GetBackupAsync(Akira, CancellationToken.None))!;
        scenario.Directory.Add(backup.Entry);

        var result = await RunAsync(scenario, Request(Akira, TimeSpan.FromMinutes(5)), []);

        result.Outcome.Should().Be(RollbackOutcome.RolledBack, result.Message);
        scenario.Tenant.IsCloudManaged(ExecutionScenario.TargetIdOf("akira")).Should().BeFalse();
    }

    [Fact]
    public async Task Without_a_backup_or_while_the_wave_runs_it_refuses()
    {
        var scenario = new ExecutionScenario().Person("akira");
        scenario.Planning.Options.Removal.HoldDays = 3;
        await scenario.ApproveAsync();

        var none = await RunAsync(scenario, Request(Akira, TimeSpan.Zero), []);
        none.Outcome.Should().Be(RollbackOutcome.Refused);
        none.Code.Should().Be(ReasonCodes.NoBackup);

        (await scenario.RunAsync()).Kind.Should().Be(WaveResultKind.Holding);
        var run = (await scenario.Store.GetWaveAsync(scenario.Plan.PlanId!, "hq", CancellationToken.None))!;
        await scenario.Store.SaveWaveAsync(run with { Status = WaveStatus.Running }, CancellationToken.None);
        var writes = scenario.Directory.Writes.Count;

        var running = await RunAsync(scenario, Request(Akira, TimeSpan.Zero), []);

        running.Outcome.Should().Be(RollbackOutcome.Refused);
        running.Code.Should().Be("wave-running");
        running.Message.Should().Contain("authsplit pause --wave hq");
        scenario.Directory.Writes.Should().HaveCount(writes);
        scenario.Entity("akira").State.Should().Be(EntityState.Held);
    }

    [Fact]
    public async Task A_run_that_starts_while_the_rollback_begins_stops_it_before_any_write()
    {
        var scenario = await HeldAsync();
        var run = (await scenario.Store.GetWaveAsync(scenario.Plan.PlanId!, "hq", CancellationToken.None))!;
        scenario.Store.AfterRollbackRecorded = async record =>
        {
            if (record.Action == "begun")
            {
                await scenario.Store.SaveWaveAsync(run with { Status = WaveStatus.Running }, CancellationToken.None);
            }
        };
        var writes = scenario.Directory.Writes.Count;

        var result = await RunAsync(scenario, Request(Akira, TimeSpan.Zero), []);

        result.Outcome.Should().Be(RollbackOutcome.Failed);
        result.Code.Should().Be("wave-running");
        scenario.Directory.Writes.Should().HaveCount(writes, "nothing is written while a run may take the entity");
        scenario.Tenant.IsCloudManaged(ExecutionScenario.TargetIdOf("akira")).Should().BeTrue();
    }

    [Fact]
    public async Task A_system_has_its_disabled_legacy_account_re_enabled_from_its_backup_and_stays_rolled_back()
    {
        const string Services = "ou=services," + ExecutionScenario.Base;
        const string Account = "uid=crm-bind," + Services;
        const string AccountId = "5e1f0000-0000-4000-8000-00000000c0de";
        var scenario = new ExecutionScenario().Person("akira");
        var entry = DirectoryEntry.FromStrings(Account, new Dictionary<string, string[]>
        {
            ["objectClass"] = ["top", "account", "simpleSecurityObject"],
            ["uid"] = ["crm-bind"],
            ["entryUUID"] = [AccountId],
            ["userPassword"] = ["{SSHA}crm"],
        });
        scenario.DirectoryOnly(entry);
        scenario.Tenant.AddServicePrincipal(new TargetServicePrincipal("sp-crm", "app-crm", "CRM", AccountEnabled: true, "Application"));
        var system = new PlannedSystem
        {
            Id = "crm",
            Name = "CRM",
            Wave = "hq",
            Disposition = Disposition.Remove,
            Target = new SystemTargetPlan { ServicePrincipalId = "sp-crm", Found = true, DisplayName = "CRM", AccountEnabled = true },
            LegacyAccounts = [new SystemLegacyAccount { Dn = Account, Id = AccountId, Precondition = EntityPrecondition.Compute(entry, scenario.Plan.Settings.FingerprintAttributes) }],
            Cutover = new CutoverSpec { Kind = CutoverKind.Command, Command = ["/opt/crm/switch-to-entra"], TimeoutSeconds = 60 },
            Probes = [],
            Blockers = [],
            Steps = [.. new[] { StepAction.VerifyTargetApp, StepAction.Cutover, StepAction.ProbeTarget, StepAction.VerifyLegacyQuiet, StepAction.BackupLegacyEntry, StepAction.DisableLegacyAccount, StepAction.ProbeLegacyRefused }
                .Select(a => new PlannedStep(a, StepCatalog.DryRunOf(a)))],
        };
        scenario.EditPlan(plan => plan with { Systems = [system], StepCatalog = StepCatalog.Describe(plan.Settings.Removal, systems: true) });
        (await scenario.ApproveAndRunAsync()).Kind.Should().Be(WaveResultKind.Completed);
        scenario.Directory.Get(Account)!.GetString("pwdAccountLockedTime").Should().NotBeNull();

        var result = await RunAsync(scenario, Request("system:crm", TimeSpan.Zero), []);

        result.Outcome.Should().Be(RollbackOutcome.RolledBack, result.Message);
        scenario.Directory.Get(Account)!.GetString("pwdAccountLockedTime").Should().BeNull("the system binds to the legacy directory again");
        RollbackActions(scenario, "system:crm").Should().Equal("begun", "re-enable-legacy-account", "completed");
        var progress = (await scenario.Store.GetEntityAsync(scenario.Plan.PlanId!, "system:crm", CancellationToken.None))!;
        progress.State.Should().Be(EntityState.Refused);
        ReasonCodes.CodeOf(progress.Reason).Should().Be(ReasonCodes.RolledBack);

        var calls = scenario.Systems.Calls.Count;
        (await scenario.RunAsync()).Kind.Should().Be(WaveResultKind.Completed);
        scenario.Systems.Calls.Should().HaveCount(calls, "a rerun does not cut the rolled-back system over again");
        scenario.Directory.Get(Account)!.GetString("pwdAccountLockedTime").Should().BeNull("nor disable its account again");
    }

    [Theory]
    [InlineData("514", "512", "512")] // the wave's ACCOUNTDISABLE taken back: the backup's value
    [InlineData("66050", "512", "66048")] // DONT_EXPIRE_PASSWORD set by someone since: kept, only the bit goes
    [InlineData("514", "514", null)] // disabled before the wave: stays disabled
    [InlineData("512", "512", null)] // already enabled: nothing to write
    public void On_Active_Directory_only_the_ACCOUNTDISABLE_bit_the_wave_set_is_taken_back(string live, string backup, string? expected)
    {
        static DirectoryEntry Account(string uac) => DirectoryEntry.FromStrings("CN=Mari,OU=HQ,DC=example,DC=jp", new Dictionary<string, string[]> { ["userAccountControl"] = [uac] });

        var changes = LegacyReEnable.ChangesFor(Account(live), Account(backup), DirectoryDialect.ActiveDirectory, out var problem);

        problem.Should().BeNull();
        changes.Select(c => (c.Kind, c.Attribute, System.Text.Encoding.UTF8.GetString(c.Values[0]))).Should().Equal(
            expected is null ? [] : [(AttributeChangeKind.Replace, "userAccountControl", expected)]);
        LegacyReEnable.IsReEnabled(Account(expected ?? live), Account(backup), DirectoryDialect.ActiveDirectory).Should().BeTrue();
    }

    [Fact]
    public void An_unusable_password_without_one_in_the_backup_cannot_be_re_enabled_and_says_why()
    {
        var live = DirectoryEntry.FromStrings(ExecutionScenario.DnOf("akira"), new Dictionary<string, string[]> { ["userPassword"] = ["{CRYPT}!authsplit-disabled-00"] });
        var backup = DirectoryEntry.FromStrings(ExecutionScenario.DnOf("akira"), new Dictionary<string, string[]> { ["uid"] = ["akira"] });

        var changes = LegacyReEnable.ChangesFor(live, backup, DirectoryDialect.OpenLdap, out var problem);

        changes.Should().BeEmpty();
        problem.Should().Contain("no userPassword").And.Contain("set a new one");
    }

    private sealed class Lines(List<string> lines) : IProgress<string>
    {
        public void Report(string value) => lines.Add(value);
    }
}
