using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.Versioning;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using AuthSplit.Core.Evidence.Packs;
using AuthSplit.Core.Execution;
using AuthSplit.Core.Planning.Format;
using Xunit.Abstractions;

namespace AuthSplit.Cli.EndToEndTests.Execution;

/// <summary>
/// Issue 11's proof for systems, through the real CLI against slapd (ppolicy), the Graph emulator and a
/// local HTTP server standing for the systems' own endpoints: wave hq with three systems, crm cut over
/// by a command, wiki by an HTTP call, hr whose target probe fails. Two systems end done with their bind
/// accounts locked (a real bind as them fails), hr failed with its probe's answer, the wave's people
/// disabled but their deletes held; a fix (or an except-system decision) lets the rerun finish with
/// nothing done twice.
/// </summary>
[UnsupportedOSPlatform("windows")]
public sealed class SystemsCutoverTests(ITestOutputHelper output)
{
    private const string CrmPrincipal = "6b1f6c2e-3f3a-4a55-9d4e-0c7f2f1c9a11";
    private const string WikiPrincipal = "7c2f7d3f-4a4b-4b66-8e5f-1d8a3a2d0b22";
    private const string WikiAppId = "1d3e5f70-8192-4a3b-9c4d-5e6f708192a3";
    private const string HrPrincipal = "8d3a8e4a-5b5c-4c77-9f6a-2e9b4b3e1c33";
    private const string LockedValue = "000001010000Z";

    private static readonly string Services = "ou=services," + ExecutionLab.Suffix;

    private static string AccountDn(string system) => $"uid={system}-bind,{Services}";

    private static string PasswordVariable(string system) => $"AUTHSPLIT_E2E_{system.ToUpperInvariant()}_BIND_PW";

    [Fact]
    public async Task A_failed_target_probe_holds_the_waves_deletes_and_the_rerun_after_the_fix_completes_it_with_nothing_done_twice()
    {
        await using var world = await SystemsWorld.StartAsync();
        var lab = world.Lab;
        var plan = await lab.PlanAsync();
        var removals = ShouldPlanTheThreeSystems(plan);
        await lab.ApproveAsync("alice");

        var clock = Stopwatch.StartNew();
        var first = await lab.CliAsync(lab.Run("hq"));
        output.WriteLine($"first run {clock.Elapsed.TotalSeconds:F1} s\n{first}");
        await ShouldEndTheFirstRunHeldAsync(world, plan, removals, first);

        // The hr portal is fixed: its health endpoint answers 200. The rerun retries hr's probe (not its cutover) and deletes.
        world.Hooks.Answer("GET /hr/health", HttpStatusCode.OK, "hr portal: signed in through Entra ID");
        clock.Restart();
        var second = await lab.CliAsync(lab.Run("hq"));
        output.WriteLine($"second run {clock.Elapsed.TotalSeconds:F1} s\n{second}");
        second.ExitCode.Should().Be(0, second + (await lab.StatusAsync("hq")).ToJsonString());

        var states = await StatesAsync(lab);
        states.Should().Contain("system:crm", "done").And.Contain("system:wiki", "done").And.Contain("system:hr", "done");
        states.Where(s => !s.Key.StartsWith("system:", StringComparison.Ordinal)).Select(s => s.Value).Should().AllBe("done");
        var directory = await lab.ReadDirectoryAsync();
        foreach (var entity in removals)
        {
            directory.Should().NotContainKey(entity.Dn.ToLowerInvariant(), $"{entity.Dn} is deleted once hr is cut over");
        }

        foreach (var system in new[] { "crm", "wiki", "hr" })
        {
            directory[AccountDn(system).ToLowerInvariant()].Values("pwdAccountLockedTime").Should().Equal([LockedValue], $"{system}-bind is disabled");
            (await world.BindAsync(system)).ExitCode.Should().Be(49, $"a bind as {system}-bind is refused (invalidCredentials)");
        }

        await lab.ShouldHaveWrittenOnceAndBackedUpAsync(removals);
        await ShouldHaveDeletedEachOnceAsync(lab, plan, removals);
        world.Calls().Should().BeEquivalentTo(["crm", "hr"], "each command cutover ran exactly once over both runs");
        world.Hooks.Calls("POST /wiki/cutover").Should().Be(1, "the wiki cutover call was made once");
        world.Hooks.Calls("GET /hr/health").Should().Be(2, "hr's probe ran once per run: failed, then passed");
        world.Hooks.Calls("GET /crm/health").Should().Be(1, "crm was done in the first run and not probed again");
        var hrJournal = await StepsAsync(lab, plan, "system:hr");
        hrJournal.Where(s => s.Step == StepAction.Cutover && s.Outcome == StepOutcome.Done).Should().ContainSingle();
        hrJournal.Where(s => s.Step == StepAction.ProbeTarget).Select(s => s.Outcome).Should().Equal(StepOutcome.Failed, StepOutcome.Done);

        // hr-bind was used (by this test, as by an application whose cutover had not taken) after the hook
        // ran but before the fix: the step counts from the probe that passed, and records that bind.
        var hrQuiet = hrJournal.Single(s => s.Step == StepAction.VerifyLegacyQuiet);
        output.WriteLine("hr verify-legacy-quiet: " + hrQuiet.After);
        hrQuiet.Outcome.Should().Be(StepOutcome.Done, hrQuiet.Reason);
        var hrLastBind = JsonNode.Parse(hrQuiet.After!)!["accounts"]![0]!["authTimestamp"]!.GetValue<DateTimeOffset>();
        hrLastBind.Should().BeAfter(hrJournal.Single(s => s.Step == StepAction.Cutover && s.Outcome == StepOutcome.Done).At.AddSeconds(-1), "the bind after the first run is what the server recorded");
        hrLastBind.Should().BeOnOrBefore(hrJournal.Single(s => s.Step == StepAction.ProbeTarget && s.Outcome == StepOutcome.Done).At);

        // A third run finds the wave complete and writes nothing anywhere.
        var writes = lab.Emulator.Writes.Count;
        var third = await lab.CliAsync(lab.Run("hq"));
        third.ExitCode.Should().Be(0, third.ToString());
        third.Output.Should().Contain("nothing was changed");
        lab.Emulator.Writes.Should().HaveCount(writes);
        var after = await lab.ReadDirectoryAsync();
        after.Keys.Should().BeEquivalentTo(directory.Keys);
        foreach (var (dn, entry) in after)
        {
            string.Join('\n', entry.Attributes).Should().Be(string.Join('\n', directory[dn].Attributes), $"{dn} is not written by the third run");
        }

        world.Calls().Should().HaveCount(2);
        world.Hooks.Total.Should().Be(4, "no hook or probe called by the third run");
    }

    [Fact]
    public async Task An_except_system_decision_in_a_new_plan_lets_the_deletes_proceed_and_leaves_the_excepted_system_untouched()
    {
        await using var world = await SystemsWorld.StartAsync();
        var (plan, second, removals) = await ExceptHrInANewPlanAsync(world);
        var lab = world.Lab;

        var states = await StatesAsync(lab);
        states.Should().Contain("system:hr", "excluded");
        states.Where(s => !s.Key.StartsWith("system:", StringComparison.Ordinal)).Select(s => s.Value).Should().AllBe("done");
        var status = await lab.StatusAsync("hq");
        Entity(status, "system:hr")["reason"]!.GetValue<string>().Should().StartWith(ReasonCodes.ExcludedExcepted).And.Contain("ciso@example.com");
        var directory = await lab.ReadDirectoryAsync();
        foreach (var entity in removals)
        {
            directory.Should().NotContainKey(entity.Dn.ToLowerInvariant(), $"{entity.Dn} is deleted: hr is excepted");
        }

        directory[AccountDn("hr").ToLowerInvariant()].Values("pwdAccountLockedTime").Should().BeEmpty("an excepted system's account is left as it is");
        (await world.BindAsync("hr")).ExitCode.Should().Be(0, "hr still binds to the legacy directory");
        world.Calls().Count(c => c == "hr").Should().Be(1, "hr's cutover is not run again once excepted");
        world.Hooks.Calls("GET /hr/health").Should().Be(1, "hr is not probed once excepted");
        foreach (var system in new[] { "crm", "wiki" })
        {
            directory[AccountDn(system).ToLowerInvariant()].Values("pwdAccountLockedTime").Should().Equal([LockedValue], $"{system}-bind stays disabled");
        }

        await lab.ShouldHaveWrittenOnceAndBackedUpAsync(removals);
        var deletes = 0;
        foreach (var planId in new[] { plan.PlanId!, second.PlanId! })
        {
            var store = await lab.OpenStoreAsync();
            await using (store as IAsyncDisposable)
            {
                foreach (var entity in removals)
                {
                    deletes += (await store.GetStepsAsync(planId, entity.Id, CancellationToken.None)).Count(s => s.Step == StepAction.DeleteLegacyEntry && s.Outcome == StepOutcome.Done);
                }
            }
        }

        deletes.Should().Be(removals.Count, "each person deleted once over both plans");
    }

    // A system's and an entity's journal are keyed by plan, and an except-system decision needs a new plan
    // while the wave's people are disabled and held: the new plan carries the first plan's done steps over
    // (crm's script, wiki's POST, the backups taken before the disables) instead of running them again.
    [Fact]
    public async Task An_except_system_decision_in_a_new_plan_neither_runs_done_cutovers_again_nor_replaces_the_backups_taken_before_the_disables()
    {
        await using var world = await SystemsWorld.StartAsync();
        var (first, _, removals) = await ExceptHrInANewPlanAsync(world);

        // Each backup is the one taken before the disable: a restore from it gives back a usable entry.
        var crm = first.Systems!.Single(s => s.Id == "crm").LegacyAccounts.Single();
        var store = await world.Lab.OpenStoreAsync();
        await using (store as IAsyncDisposable)
        {
            var lockedPeople = new List<string>();
            foreach (var person in removals.Where(e => e.Kind == Core.Model.EntityKind.Person))
            {
                if ((await store.GetBackupAsync(person.Id, CancellationToken.None))!.Entry.Has("pwdAccountLockedTime"))
                {
                    lockedPeople.Add(person.Dn);
                }
            }

            output.WriteLine($"{lockedPeople.Count} of {removals.Count} people's newest backups hold the lock");
            lockedPeople.Should().BeEmpty("a deleted person's newest backup is the entry before its disable");

            var backup = (await store.GetBackupAsync(crm.Id!, CancellationToken.None))!;
            backup.Entry.Has("pwdAccountLockedTime").Should().BeFalse($"the newest backup of {crm.Dn} (taken under plan {backup.PlanId}) must be the account before its disable");
        }

        world.Calls().Should().BeEquivalentTo(["crm", "hr"], "no cutover runs again under the new plan (crm was done, hr is excepted)");
        world.Hooks.Calls("POST /wiki/cutover").Should().Be(1, "the wiki cutover call is not made again under the new plan");
        world.Hooks.Calls("GET /crm/health").Should().Be(1, "crm's probe passed under the first plan");
    }

    /// <summary>The first run (hr fails, deletes held), then a new plan with hr excepted by a decision, approved and run.</summary>
    private async Task<(PlanDocument First, PlanDocument Second, List<PlannedEntity> Removals)> ExceptHrInANewPlanAsync(SystemsWorld world)
    {
        var lab = world.Lab;
        var plan = await lab.PlanAsync();
        var removals = ShouldPlanTheThreeSystems(plan);
        await lab.ApproveAsync("alice");
        var first = await lab.CliAsync(lab.Run("hq"));
        await ShouldEndTheFirstRunHeldAsync(world, plan, removals, first);

        // hr is not fixed: its owner defers it, and the decision goes into a new plan, approved again.
        var decisions = Path.Combine(lab.Work, "decisions.json");
        await File.WriteAllTextAsync(decisions, """
            {"formatVersion":1,"decisions":[{"entityId":"hr","decision":"except-system","reason":"hr portal moves to Entra with its vendor in Q3; its bind account stays until then","decidedBy":"ciso@example.com"}]}
            """);
        var excepting = Path.Combine(lab.Work, "plan-except-hr.json");
        var replan = await lab.CliAsync("plan", "--config", lab.Config, "--decisions", decisions, "--out", excepting);
        replan.ExitCode.Should().Be(0, replan.ToString());
        var second = await ExecutionLab.ReadPlanAsync(excepting);
        var hr = second.Systems!.Single(s => s.Id == "hr");
        hr.Disposition.Should().Be(Disposition.Kept, "the decision excepts hr");
        hr.Steps.Should().BeEmpty();
        hr.Decision!.DecidedBy.Should().Be("ciso@example.com");
        second.Entities.Where(e => e.Wave == "hq" && e.Disposition == Disposition.Remove).Select(e => e.Id)
            .Should().BeEquivalentTo(removals.Select(e => e.Id), "the disabled, held people are still the wave's removals");
        await lab.ApproveAsync("alice", excepting);
        var hooksBefore = world.Hooks.Total;

        var run = await lab.CliAsync(lab.Run("hq", plan: excepting));
        output.WriteLine($"{run}\nhooks and probes called by the run of the new plan: {world.Hooks.Total - hooksBefore}, cutover script calls {string.Join(",", world.Calls())}");
        run.ExitCode.Should().Be(0, run + (await lab.StatusAsync("hq")).ToJsonString());
        return (plan, second, removals);
    }

    // In this class for its systems' world; named for the evidence tests' filter (FullyQualifiedName~EvidenceExport).
    [Fact]
    public async Task EvidenceExport_live_asks_the_systems_probes_again_and_a_probe_failing_now_fails_verify_naming_the_system()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var fingerprint = SigningKeys.Fingerprint(key);
        await using var world = await SystemsWorld.StartAsync(config => config["Evidence"] = new JsonObject { ["SigningKeyFile"] = "evidence-signing.pem" });
        var lab = world.Lab;
        var keyFile = Path.Combine(lab.Work, "evidence-signing.pem");
        await File.WriteAllTextAsync(keyFile, key.ExportPkcs8PrivateKeyPem());
        File.SetUnixFileMode(keyFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        world.Hooks.Answer("GET /hr/health", HttpStatusCode.OK, "hr portal: signed in through Entra ID");
        var plan = await lab.PlanAsync();
        await lab.ApproveAsync("alice");
        var run = await lab.CliAsync(lab.Run("hq"));
        run.ExitCode.Should().Be(0, run.ToString());
        var probesByRun = world.Hooks.Total;

        // export --live: each system's probes asked again, signed into the manifest.
        var pack = Path.Combine(lab.Work, "evidence", "hq");
        var clock = Stopwatch.StartNew();
        var export = await lab.CliAsync("evidence", "export", "--config", lab.Config, "--wave", "hq", "--out", pack, "--live");
        output.WriteLine($"export --live {clock.Elapsed.TotalSeconds:F1} s\n{export}");
        export.ExitCode.Should().Be(0, export.ToString());
        export.Output.Should().Contain(", 0 residual(s), recorded in the manifest and the report.");
        var manifest = EvidenceManifest.Parse(await File.ReadAllBytesAsync(Path.Combine(pack, "manifest.json")));
        var systems = manifest.Reconciliation!.Systems!;
        systems.Select(s => s.Id).Should().Equal("crm", "wiki", "hr");
        systems.SelectMany(s => s.Probes).Should().OnlyContain(p => p.Passed && p.At.Length > 0);
        systems.Single(s => s.Id == "crm").Probes.Select(p => (p.Name, p.Kind, p.Status)).Should().Equal(("sso-login", "Http", "succeeded"), ($"bind as {AccountDn("crm")}", "LdapBind", "refused"));
        systems.Single(s => s.Id == "crm").Probes[0].Checked.Should().Be($"HTTP GET {world.Hooks.BaseUrl}/crm/health, expect status 200");
        systems.Single(s => s.Id == "wiki").Probes.Select(p => (p.Name, p.Status)).Should().Equal(($"bind as {AccountDn("wiki")}", "refused"), ("legacy-bind", "refused"));
        systems.Single(s => s.Id == "wiki").Probes[1].Checked.Should().StartWith($"LDAP simple bind as {AccountDn("wiki")} to ldaps://").And.Contain($"(credential from env:{PasswordVariable("wiki")}), expect a refusal");
        manifest.Reconciliation.Queries.Should().Contain($"HTTP GET {world.Hooks.BaseUrl}/hr/health, expect status 200");
        world.Hooks.Calls("GET /crm/health").Should().Be(2, "asked once by the run and once by export --live");
        world.Hooks.Calls("POST /wiki/cutover").Should().Be(1, "a live check never cuts over again");
        world.Calls().Should().BeEquivalentTo(["crm", "hr"], "no cutover command ran again");

        // verify --live: the same probes again, shown and recorded per system.
        var record = Path.Combine(lab.Work, "live-record.json");
        var live = await lab.CliAsync("evidence", "verify", pack, "--fingerprint", fingerprint, "--live", "--config", lab.Config, "--record", record);
        live.ExitCode.Should().Be(0, live.ToString());
        live.Output.Should().Contain("System crm (CRM): sso-login (Http) passed at ").And.Contain($"System wiki (Wiki): bind as {AccountDn("wiki")} (LdapBind) passed at ").And.Contain(", 0 residual(s).");
        var liveRecord = JsonNode.Parse(await File.ReadAllTextAsync(record))!;
        liveRecord["systems"]!.AsArray().Select(s => s!["id"]!.GetValue<string>()).Should().Equal("crm", "wiki", "hr");
        liveRecord["checks"]!.AsArray().Select(c => c!["subject"]!.GetValue<string>()).Should().Contain(["system:crm", "system:wiki", "system:hr"]);
        var secrets = lab.Environment.Values.Where(v => v.Length >= 8).ToList();
        foreach (var file in new[] { record, Path.Combine(pack, "manifest.json"), Path.Combine(pack, "report.html") })
        {
            (await File.ReadAllTextAsync(file)).Should().NotContainAny(secrets, $"{Path.GetFileName(file)} holds no secret");
        }

        // hr's sign-in breaks after the wave: verify --live fails naming hr and its probe.
        world.Hooks.Answer("GET /hr/health", HttpStatusCode.ServiceUnavailable, "hr portal: IdP not configured");
        var broken = await lab.CliAsync("evidence", "verify", pack, "--fingerprint", fingerprint, "--live", "--config", lab.Config);
        broken.ExitCode.Should().Be(15, broken.ToString());
        broken.Output.Should().Contain("System hr (HR portal): sso-login (Http) FAILED at ").And.Contain(", 1 residual(s).");
        broken.Error.Should().Contain("residual: system:hr: HR portal: probe sso-login (Http): refused: ").And.Contain($"(HTTP GET {world.Hooks.BaseUrl}/hr/health, expect status 200)");

        // hr fixed, but crm's legacy bind account unlocked (restored by someone): a bind as it succeeds again.
        world.Hooks.Answer("GET /hr/health", HttpStatusCode.OK, "hr portal: signed in through Entra ID");
        await lab.Server.ModifyAsync($"dn: {AccountDn("crm")}\nchangetype: modify\ndelete: pwdAccountLockedTime\n\n", CancellationToken.None);
        (await world.BindAsync("crm")).ExitCode.Should().Be(0, "crm-bind is usable again");
        var restored = await lab.CliAsync("evidence", "verify", pack, "--fingerprint", fingerprint, "--live", "--config", lab.Config);
        restored.ExitCode.Should().Be(15, restored.ToString());
        restored.Output.Should().Contain(", 1 residual(s).");
        restored.Error.Should().Contain($"residual: system:crm: CRM: probe bind as {AccountDn("crm")} (LdapBind): succeeded: ").And.NotContain("system:hr");
        output.WriteLine($"probe calls: run {probesByRun}, total {world.Hooks.Total}");
    }

    private static List<PlannedEntity> ShouldPlanTheThreeSystems(PlanDocument plan)
    {
        plan.Systems.Should().NotBeNull();
        plan.Systems!.Select(s => (s.Id, s.Disposition)).Should().Equal(("crm", Disposition.Remove), ("wiki", Disposition.Remove), ("hr", Disposition.Remove));
        foreach (var system in plan.Systems!)
        {
            system.Blockers.Should().BeEmpty(system.Id);
            system.Steps.Select(s => s.Action).Should().Contain([StepAction.VerifyTargetApp, StepAction.Cutover, StepAction.DisableLegacyAccount, StepAction.ProbeLegacyRefused]);
        }

        plan.Systems![1].Target.ServicePrincipalId.Should().Be(WikiPrincipal, "found by its appId");
        var removals = plan.Entities.Where(e => e.Wave == "hq" && e.Disposition == Disposition.Remove).ToList();
        removals.Should().NotBeEmpty();
        removals.Should().NotContain(e => e.Dn.EndsWith(Services, StringComparison.OrdinalIgnoreCase), "bind accounts are not removed as entities");
        return removals;
    }

    [Fact]
    public async Task A_cut_over_system_rolled_back_binds_to_the_legacy_directory_again_is_not_cut_over_again_and_keeps_the_deletes_held()
    {
        await using var world = await SystemsWorld.StartAsync();
        var lab = world.Lab;
        var plan = await lab.PlanAsync();
        var removals = ShouldPlanTheThreeSystems(plan);
        await lab.ApproveAsync("alice");
        var first = await lab.CliAsync(lab.Run("hq"));
        first.ExitCode.Should().Be(6, first.ToString());
        (await world.BindAsync("crm")).ExitCode.Should().Be(49, "the wave disabled crm-bind");

        var rollback = await lab.CliAsync("rollback", "--config", lab.Config, "--entity", "system:crm", "--as", "carol");

        output.WriteLine(rollback.ToString());
        rollback.ExitCode.Should().Be(0, rollback.ToString());
        rollback.Output.Should().Contain(AccountDn("crm") + ": re-enabled from its backup").And.Contain("owner's to undo").And.Contain("(by carol)");
        (await world.BindAsync("crm")).ExitCode.Should().Be(0, "crm binds to the legacy directory again");
        (await world.BindAsync("wiki")).ExitCode.Should().Be(49, "only crm was rolled back");
        (await StatesAsync(lab)).Should().Contain("system:crm", "refused");

        // hr is fixed: the rerun finishes hr, but does not cut crm over again, and the people's deletes wait for crm.
        world.Hooks.Answer("GET /hr/health", HttpStatusCode.OK, "hr portal: signed in through Entra ID");
        var second = await lab.CliAsync(lab.Run("hq"));
        output.WriteLine(second.ToString());
        second.ExitCode.Should().Be(6, "the deletes wait for the rolled-back crm: " + second);
        second.ToString().Should().Contain("crm (rolled back: this plan never cuts it over again; a new plan and approval cut it over, or except it)", "the run says what the deletes wait for, and what it takes");
        var states = await StatesAsync(lab);
        states.Should().Contain("system:crm", "refused").And.Contain("system:hr", "done");
        world.Calls().Should().BeEquivalentTo(["crm", "hr"], "crm's cutover is not run again");
        (await world.BindAsync("crm")).ExitCode.Should().Be(0, "nor is its account disabled again");
        var directory = await lab.ReadDirectoryAsync();
        removals.Should().OnlyContain(e => directory.ContainsKey(e.Dn.ToLowerInvariant()), "no person is deleted while a system of the wave binds to the legacy directory");
    }

    private async Task ShouldEndTheFirstRunHeldAsync(SystemsWorld world, PlanDocument plan, List<PlannedEntity> removals, CliResult first)
    {
        var lab = world.Lab;
        first.ExitCode.Should().Be(6, "docs/exit-codes.md: unfinished, the deletes wait for hr: " + first);
        var status = await lab.StatusAsync("hq");
        output.WriteLine(status.ToJsonString());
        var wave = status["waves"]![0]!;
        wave["status"]!.GetValue<string>().Should().Be("interrupted", wave.ToJsonString());
        wave["reason"]!.GetValue<string>().Should().Contain("hr (failed)");
        Entity(status, "system:crm")["state"]!.GetValue<string>().Should().Be("done");
        Entity(status, "system:wiki")["state"]!.GetValue<string>().Should().Be("done");
        var hr = Entity(status, "system:hr");
        hr["state"]!.GetValue<string>().Should().Be("failed");
        hr["lastStep"]!.GetValue<string>().Should().Be("probe-target");
        hr["reason"]!.GetValue<string>().Should().StartWith(ReasonCodes.ProbeFailed).And.Contain("sso-login").And.Contain("503");

        var probe = (await StepsAsync(lab, plan, "system:hr")).Single(s => s.Step == StepAction.ProbeTarget);
        probe.Outcome.Should().Be(StepOutcome.Failed);
        var answer = JsonNode.Parse(probe.After!)!["probes"]![0]!;
        answer["httpStatus"]!.GetValue<int>().Should().Be(503);
        answer["passed"]!.GetValue<bool>().Should().BeFalse();
        answer["output"]!.GetValue<string>().Should().Contain("hr portal: IdP not configured", "the probe's output is journalled");
        answer["outputSha256"]!.GetValue<string>().Should().StartWith("sha256:");

        var crmCutover = (await StepsAsync(lab, plan, "system:crm")).Single(s => s.Step == StepAction.Cutover && s.Outcome == StepOutcome.Done);
        var cut = JsonNode.Parse(crmCutover.After!)!;
        cut["exitCode"]!.GetValue<int>().Should().Be(0);
        cut["output"]!.GetValue<string>().Should().Contain("crm switched to Entra ID");
        // crm-bind bound before the cutover (SystemsWorld), and this slapd stamps authTimestamp (lastbind):
        // the step reads that time, before the cutover, rather than an attribute this server never sets.
        var quiet = (await StepsAsync(lab, plan, "system:crm")).Single(s => s.Step == StepAction.VerifyLegacyQuiet);
        output.WriteLine("crm verify-legacy-quiet: " + quiet.After);
        quiet.Outcome.Should().Be(StepOutcome.Done);
        var lastBind = JsonNode.Parse(quiet.After!)!["accounts"]![0]!;
        lastBind["authTimestamp"]?.GetValue<DateTimeOffset>().Should().BeBefore(crmCutover.At, "the recorded bind is the one before the cutover: " + quiet.After);
        lastBind["authTimestamp"].Should().NotBeNull("the server records the account's last bind in authTimestamp: " + quiet.After);
        var refused = (await StepsAsync(lab, plan, "system:wiki")).Single(s => s.Step == StepAction.ProbeLegacyRefused && s.Outcome == StepOutcome.Done);
        refused.After.Should().Contain("\"ldapResultCode\":49", "a real bind as wiki-bind was refused");
        var checks = JsonNode.Parse(refused.After!)!["checks"]!.AsArray();
        checks.Select(c => c!["what"]!.GetValue<string>()).Should().Equal(["bind as " + AccountDn("wiki"), "legacy-bind"], "the account's own bind and the configured probe, one check each: " + refused.After);
        checks.Should().OnlyContain(c => c!["passed"]!.GetValue<bool>() && c["status"]!.GetValue<string>() == "refused");

        foreach (var entity in removals)
        {
            Entity(status, entity.Id)["reason"]!.GetValue<string>().Should().StartWith(ReasonCodes.DeleteHeld, entity.Dn);
        }

        var directory = await lab.ReadDirectoryAsync();
        foreach (var entity in removals)
        {
            directory.Should().ContainKey(entity.Dn.ToLowerInvariant(), $"{entity.Dn} is not deleted while hr is not cut over");
            if (entity.Kind == Core.Model.EntityKind.Person)
            {
                directory[entity.Dn.ToLowerInvariant()].Values("pwdAccountLockedTime").Should().Equal([LockedValue], $"{entity.Dn} is disabled");
            }
        }

        foreach (var system in new[] { "crm", "wiki" })
        {
            directory[AccountDn(system).ToLowerInvariant()].Values("pwdAccountLockedTime").Should().Equal([LockedValue], $"{system}-bind is disabled");
            var bind = await world.BindAsync(system);
            bind.ExitCode.Should().Be(49, $"a real bind as {system}-bind is refused: {bind.Output}");
        }

        directory[AccountDn("hr").ToLowerInvariant()].Values("pwdAccountLockedTime").Should().BeEmpty("hr failed before its account's disable");
        var hrBind = await world.BindAsync("hr");
        hrBind.ExitCode.Should().Be(0, "hr-bind still binds: " + hrBind.Output);
        hrBind.Output.Should().Contain("dn:" + AccountDn("hr"));

        world.Calls().Should().BeEquivalentTo(["crm", "hr"]);
        world.Hooks.Calls("POST /wiki/cutover").Should().Be(1);
        world.Hooks.Calls("GET /hr/health").Should().Be(1);
        lab.Emulator.Writes.Where(w => w.Path.Contains("onPremisesSyncBehavior", StringComparison.Ordinal))
            .Should().HaveCount(removals.Count(e => e.Kind == Core.Model.EntityKind.Person), "the people were switched before their deletes were held");
    }

    private static async Task ShouldHaveDeletedEachOnceAsync(ExecutionLab lab, PlanDocument plan, List<PlannedEntity> removals)
    {
        var store = await lab.OpenStoreAsync();
        await using (store as IAsyncDisposable)
        {
            foreach (var entity in removals)
            {
                var steps = await store.GetStepsAsync(plan.PlanId!, entity.Id, CancellationToken.None);
                steps.Where(s => s.Step == StepAction.DeleteLegacyEntry && s.Outcome == StepOutcome.Done).Should().ContainSingle(entity.Dn);
                steps.Where(s => s.Step == StepAction.DeleteLegacyEntry && s.Outcome is not (StepOutcome.Done or StepOutcome.Started))
                    .Should().NotBeEmpty("the first run held the delete").And.OnlyContain(s => s.Outcome == StepOutcome.Failed && s.Reason!.StartsWith(ReasonCodes.DeleteHeld, StringComparison.Ordinal));
                steps.Where(s => s.Step == StepAction.DeleteLegacyEntry && s.Outcome == StepOutcome.Started).Should().ContainSingle("the delete was begun once");
                steps.Where(s => s.Step == StepAction.DisableLegacyAccount && s.Outcome == StepOutcome.Done).Should().ContainSingle(entity.Dn);
            }
        }
    }

    private static async Task<IReadOnlyList<StepRecord>> StepsAsync(ExecutionLab lab, PlanDocument plan, string entityId)
    {
        var store = await lab.OpenStoreAsync();
        await using (store as IAsyncDisposable)
        {
            return [.. await store.GetStepsAsync(plan.PlanId!, entityId, CancellationToken.None)];
        }
    }

    private static JsonNode Entity(JsonObject status, string id) =>
        status["waves"]![0]!["entityList"]!.AsArray().SingleOrDefault(e => e!["id"]!.GetValue<string>() == id)
        ?? throw new InvalidOperationException($"{id} is not in the status: {status.ToJsonString()}");

    private static async Task<Dictionary<string, string>> StatesAsync(ExecutionLab lab)
    {
        var status = await lab.StatusAsync("hq");
        return status["waves"]![0]!["entityList"]!.AsArray().ToDictionary(e => e!["id"]!.GetValue<string>(), e => e!["state"]!.GetValue<string>());
    }

    /// <summary>The lab, its three systems' accounts and service principals, the cutover script and the local HTTP server.</summary>
    private sealed class SystemsWorld : IAsyncDisposable
    {
        private readonly Dictionary<string, string> _passwords;

        private SystemsWorld(ExecutionLab lab, LoopbackHookServer hooks, string callsFile, Dictionary<string, string> passwords)
        {
            Lab = lab;
            Hooks = hooks;
            CallsFile = callsFile;
            _passwords = passwords;
        }

        public ExecutionLab Lab { get; }

        public LoopbackHookServer Hooks { get; }

        public string CallsFile { get; }

        public static async Task<SystemsWorld> StartAsync(Action<JsonObject>? configure = null)
        {
            var hooks = LoopbackHookServer.Start();
            hooks.Answer("GET /crm/health", HttpStatusCode.OK, "crm: signed in through Entra ID");
            hooks.Answer("POST /wiki/cutover", HttpStatusCode.OK, "{\"switched\":true}");
            hooks.Answer("GET /hr/health", HttpStatusCode.ServiceUnavailable, "hr portal: IdP not configured");
            var scripts = CliRunner.NewWorkDirectory();
            var calls = Path.Combine(scripts, "cutover-calls.txt");
            var script = Path.Combine(scripts, "cutover.sh");
            await File.WriteAllTextAsync(script, $"#!/bin/sh\nset -e\necho \"$AUTHSPLIT_SYSTEM_ID\" >> '{calls}'\necho \"$AUTHSPLIT_SYSTEM_ID switched to Entra ID\"\n");
            File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            var passwords = new[] { "crm", "wiki", "hr" }.ToDictionary(s => s, s => $"{s}-Bind-{Guid.NewGuid():N}");
            ExecutionLab? lab = null;
            try
            {
                lab = await ExecutionLab.StartAsync(
                    people: 20,
                    servicePrincipals:
                    [
                        Principal(CrmPrincipal, "2c4e6a80-1a2b-4c3d-8e9f-0a1b2c3d4e5f", "CRM"),
                        Principal(WikiPrincipal, WikiAppId, "Wiki"),
                        Principal(HrPrincipal, "3e5a7c90-2b3c-4d4e-9fa0-1b2c3d4e5f60", "HR portal"),
                    ],
                    configure: config =>
                    {
                        config["Systems"] = Systems(config, hooks.BaseUrl, script);
                        configure?.Invoke(config);
                    });
                foreach (var (system, password) in passwords)
                {
                    lab.SetEnvironment(PasswordVariable(system), password);
                }

                var ldif = new StringBuilder($"dn: {Services}\nobjectClass: organizationalUnit\nou: services\n\n");
                foreach (var (system, password) in passwords)
                {
                    ldif.Append($"dn: {AccountDn(system)}\nobjectClass: account\nobjectClass: simpleSecurityObject\nuid: {system}-bind\nuserPassword: {password}\n\n");
                }

                await lab.Server.AddLdifTextAsync(ldif.ToString(), CancellationToken.None);
                var world = new SystemsWorld(lab, hooks, calls, passwords);
                foreach (var system in passwords.Keys)
                {
                    // Each system binds as its account before the cutover, as it has for years.
                    (await world.BindAsync(system)).ExitCode.Should().Be(0, $"{system}-bind binds before the cutover");
                }

                return world;
            }
            catch
            {
                if (lab is not null)
                {
                    await lab.DisposeAsync();
                }

                await hooks.DisposeAsync();
                throw;
            }
        }

        private static JsonObject Principal(string id, string appId, string name) => new()
        {
            ["id"] = id,
            ["appId"] = appId,
            ["displayName"] = name,
            ["accountEnabled"] = true,
            ["servicePrincipalType"] = "Application",
        };

        private static JsonArray Systems(JsonObject config, string hooks, string script)
        {
            var source = config["Source"]!;
            JsonArray Account(string system) => [new JsonObject { ["Dn"] = AccountDn(system), ["CredentialEnvVar"] = PasswordVariable(system) }];
            JsonObject HttpProbe(string path) => new()
            {
                ["Name"] = "sso-login",
                ["Kind"] = "Http",
                ["Http"] = new JsonObject { ["Method"] = "GET", ["Url"] = hooks + path, ["ExpectStatus"] = 200 },
                ["TimeoutSeconds"] = 10,
            };
            return
            [
                new JsonObject
                {
                    ["Id"] = "crm", ["Name"] = "CRM", ["Wave"] = "hq",
                    ["LegacyAccounts"] = Account("crm"),
                    ["Target"] = new JsonObject { ["ServicePrincipalId"] = CrmPrincipal },
                    ["Cutover"] = new JsonObject { ["Command"] = new JsonArray(script), ["TimeoutSeconds"] = 30 },
                    ["Probes"] = new JsonArray(HttpProbe("/crm/health")),
                },
                new JsonObject
                {
                    ["Id"] = "wiki", ["Name"] = "Wiki", ["Wave"] = "hq",
                    ["LegacyAccounts"] = Account("wiki"),
                    ["Target"] = new JsonObject { ["AppId"] = WikiAppId },
                    ["Cutover"] = new JsonObject { ["Http"] = new JsonObject { ["Method"] = "POST", ["Url"] = hooks + "/wiki/cutover", ["Body"] = "{\"idp\":\"entra\"}" }, ["TimeoutSeconds"] = 30 },
                    ["Probes"] = new JsonArray(new JsonObject
                    {
                        ["Name"] = "legacy-bind", ["Kind"] = "LdapBind", ["Expect"] = "Failure",
                        ["Url"] = source["Url"]!.GetValue<string>(), ["BindDn"] = AccountDn("wiki"), ["CredentialEnvVar"] = PasswordVariable("wiki"),
                        ["CaFile"] = source["CaFile"]!.GetValue<string>(), ["TimeoutSeconds"] = 10,
                    }),
                },
                new JsonObject
                {
                    ["Id"] = "hr", ["Name"] = "HR portal", ["Wave"] = "hq",
                    ["LegacyAccounts"] = Account("hr"),
                    ["Target"] = new JsonObject { ["ServicePrincipalId"] = HrPrincipal },
                    ["Cutover"] = new JsonObject { ["Command"] = new JsonArray(script), ["TimeoutSeconds"] = 30 },
                    ["Probes"] = new JsonArray(HttpProbe("/hr/health")),
                },
            ];
        }

        /// <summary>The systems the cutover script ran for, in order.</summary>
        public string[] Calls() => File.Exists(CallsFile) ? File.ReadAllLines(CallsFile) : [];

        /// <summary>A real simple bind as the system's account: <c>ldapwhoami</c> over LDAPS against the lab's slapd.</summary>
        public async Task<CliResult> BindAsync(string system)
        {
            var start = new ProcessStartInfo("ldapwhoami") { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var argument in new[] { "-x", "-H", Lab.Server.LdapsUrl, "-D", AccountDn(system), "-w", _passwords[system] })
            {
                start.ArgumentList.Add(argument);
            }

            start.Environment["LDAPTLS_CACERT"] = Lab.Server.CaFile;
            using var process = Process.Start(start)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
            return new CliResult(process.ExitCode, await stdout, await stderr);
        }

        public async ValueTask DisposeAsync()
        {
            await Lab.DisposeAsync();
            await Hooks.DisposeAsync();
        }
    }

    /// <summary>The systems' own endpoints, on 127.0.0.1: each "METHOD /path" answers as set and counts its calls.</summary>
    private sealed class LoopbackHookServer : IAsyncDisposable
    {
        private readonly HttpListener _listener;
        private readonly ConcurrentDictionary<string, (HttpStatusCode Status, string Body)> _answers = new(StringComparer.Ordinal);
        private readonly ConcurrentDictionary<string, int> _calls = new(StringComparer.Ordinal);
        private readonly Task _serving;

        private LoopbackHookServer(HttpListener listener, string baseUrl)
        {
            _listener = listener;
            BaseUrl = baseUrl;
            _serving = Task.Run(ServeAsync);
        }

        public string BaseUrl { get; }

        public int Total => _calls.Values.Sum();

        public static LoopbackHookServer Start()
        {
            using var probe = new TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            var port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
            var baseUrl = $"http://127.0.0.1:{port}";
            var listener = new HttpListener();
            listener.Prefixes.Add(baseUrl + "/");
            listener.Start();
            return new LoopbackHookServer(listener, baseUrl);
        }

        public void Answer(string call, HttpStatusCode status, string body) => _answers[call] = (status, body);

        public int Calls(string call) => _calls.GetValueOrDefault(call);

        private async Task ServeAsync()
        {
            while (_listener.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await _listener.GetContextAsync();
                }
                catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
                {
                    return;
                }

                var call = $"{context.Request.HttpMethod} {context.Request.Url!.AbsolutePath}";
                _calls.AddOrUpdate(call, 1, (_, n) => n + 1);
                var (status, body) = _answers.TryGetValue(call, out var answer) ? answer : (HttpStatusCode.NotFound, "no such endpoint");
                var bytes = Encoding.UTF8.GetBytes(body);
                context.Response.StatusCode = (int)status;
                context.Response.ContentType = "text/plain";
                context.Response.ContentLength64 = bytes.Length;
                await context.Response.OutputStream.WriteAsync(bytes);
                context.Response.Close();
            }
        }

        public async ValueTask DisposeAsync()
        {
            _listener.Stop();
            _listener.Close();
            await _serving;
        }
    }
}
