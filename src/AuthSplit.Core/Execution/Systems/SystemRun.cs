using System.Globalization;
using System.Text.Json.Nodes;
using AuthSplit.Core.Directory;
using AuthSplit.Core.Execution.Steps;
using AuthSplit.Core.Model;
using AuthSplit.Core.Planning.Format;
using AuthSplit.Core.Planning.Preconditions;

namespace AuthSplit.Core.Execution.Systems;

/// <summary>
/// One system's planned steps in one run, resumed from its journal (entity id <c>system:ID</c>):
/// verify-target-app, cutover, probe-target, verify-legacy-quiet, backup and disable of each legacy
/// account, probe-legacy-refused. Each step is an ensure journalled before the next begins; a step
/// whose journal shows it done is not run again, so a rerun after a fix does nothing twice. A step
/// covers all the system's accounts; its before and after list each.
/// </summary>
internal sealed class SystemRun : JournalledRun
{
    private readonly PlannedSystem _system;
    private readonly SystemPorts _ports;
    private readonly EntityPrecondition _precondition;

    private SystemRun(WaveContext wave, PlannedSystem system, SystemPorts ports, EntityProgress progress, List<StepRecord> journal)
        : base(wave, JournalId(system.Id), EntityKind.System, system.LegacyAccounts.Count > 0 ? system.LegacyAccounts[0].Dn : string.Empty, progress, journal)
    {
        _system = system;
        _ports = ports;
        _precondition = new EntityPrecondition(wave.FingerprintAttributes);
    }

    public static string JournalId(string systemId) => "system:" + systemId;

    public static async Task<SystemRun> LoadAsync(WaveContext wave, PlannedSystem system, SystemPorts ports, EntityProgress progress, CancellationToken cancellationToken)
    {
        var journal = (await wave.Store.GetStepsAsync(wave.PlanId, JournalId(system.Id), cancellationToken)).ToList();
        return new SystemRun(wave, system, ports, progress, journal);
    }

    protected override IReadOnlyList<StepAction> Steps => [.. _system.Steps.Select(s => s.Action)];

    protected override Task<StepResult> RunStepAsync(StepAction step, int attempt) => step switch
    {
        StepAction.VerifyTargetApp => VerifyTargetAppAsync(),
        StepAction.Cutover => CutoverAsync(attempt),
        StepAction.ProbeTarget => ProbesAsync(StepAction.ProbeTarget, _system.Probes.Where(p => p.Expect == Configuration.ProbeExpectation.Success)),
        StepAction.VerifyLegacyQuiet => VerifyLegacyQuietAsync(),
        StepAction.BackupLegacyEntry => BackupAccountsAsync(),
        StepAction.DisableLegacyAccount => DisableAccountsAsync(),
        StepAction.ProbeLegacyRefused => ProbeLegacyRefusedAsync(),
        _ => throw new ArgumentOutOfRangeException(nameof(step), step, "not a system step"),
    };

    // verify-target-app: the service principal exists and is enabled, read now (the plan's read may be days old).
    private async Task<StepResult> VerifyTargetAppAsync()
    {
        var target = _system.Target;
        var planned = StepJson.Of(new JsonObject { ["servicePrincipalId"] = target.ServicePrincipalId, ["appId"] = target.AppId });
        var principal = await Wave.Target.GetServicePrincipalAsync(target.ServicePrincipalId, target.AppId, CancellationToken.None);
        if (principal is null)
        {
            return StepResult.Failed(ReasonCodes.Format(ReasonCodes.TargetAppMissing, $"no service principal {target.ServicePrincipalId ?? "with appId " + target.AppId} in {Wave.Target.Description}; register the application, then run the wave again"), planned);
        }

        var found = StepJson.Of(new JsonObject { ["id"] = principal.Id, ["appId"] = principal.AppId, ["displayName"] = principal.DisplayName, ["accountEnabled"] = principal.AccountEnabled });
        return principal.AccountEnabled == false
            ? StepResult.Failed(ReasonCodes.Format(ReasonCodes.TargetAppMissing, $"service principal {principal.Id} ({principal.DisplayName}) is disabled in {Wave.Target.Description}; users could not sign in to {_system.Name} after the cutover"), found)
            : StepResult.Done(planned, found);
    }

    // cutover: the configured command or HTTP call. On record as started first: a kill during the hook
    // leaves a trace, and the rerun calls it again (a cutover hook must be safe to repeat).
    private async Task<StepResult> CutoverAsync(int attempt)
    {
        var cutover = _system.Cutover!;
        var timeout = TimeSpan.FromSeconds(cutover.TimeoutSeconds);
        var what = cutover.Kind == CutoverKind.Command ? "command " + cutover.Command![0] : $"{cutover.Http!.Method} {UrlForRecord(cutover.Http.Url)}";
        await RecordAsync(StepAction.Cutover, attempt, new StepResult(StepOutcome.Started, StepJson.Of(new JsonObject { ["cutover"] = what })));
        var outcome = cutover.Kind == CutoverKind.Command
            ? await _ports.Commands.RunAsync(cutover.Command!, Environment(), null, timeout, CancellationToken.None)
            : await _ports.Http.CallAsync(cutover.Http!, timeout, CancellationToken.None);
        var after = StepJson.Of(HookJson(what, outcome));
        return outcome.Status switch
        {
            HookStatus.Succeeded => StepResult.Done(null, after),
            HookStatus.Refused => new StepResult(StepOutcome.Failed, null, after, ReasonCodes.Format(ReasonCodes.CutoverFailed, $"{_system.Name}: {outcome.Detail}; fix it and run the wave again (the hook runs again)")),
            _ => new StepResult(StepOutcome.Failed, null, after, ReasonCodes.Format(ReasonCodes.CutoverFailed, $"{_system.Name}: {outcome.Detail}; run the wave again")) { Transient = true },
        };
    }

    // probe-target (probes expecting success) and the configured probes expecting failure in
    // probe-legacy-refused: every probe runs, so the journal shows each one's answer.
    private async Task<StepResult> ProbesAsync(StepAction step, IEnumerable<ProbeSpec> probes)
    {
        var results = new JsonArray();
        var failed = new List<string>();
        foreach (var probe in probes)
        {
            var outcome = await RunProbeAsync(probe);
            var passed = Passed(probe.Expect, outcome);
            results.Add(HookJson(probe.Name, outcome, passed));
            if (!passed)
            {
                failed.Add($"{probe.Name}: {outcome.Detail}");
            }
        }

        var after = StepJson.Of(new JsonObject { ["probes"] = results });
        if (failed.Count == 0)
        {
            return StepResult.Done(null, after);
        }

        var code = step == StepAction.ProbeTarget ? ReasonCodes.ProbeFailed : ReasonCodes.LegacyBindAccepted;
        // Failed, not unfinished, whatever the cause: the system waits for a person to look (a probe that could
        // not reach its endpoint is as much a reason not to go on), and running the wave again retries it.
        return new StepResult(StepOutcome.Failed, null, after, ReasonCodes.Format(code, $"{_system.Name}: {string.Join("; ", failed)}; the probe runs again when the wave runs again"));
    }

    private Task<HookOutcome> RunProbeAsync(ProbeSpec probe) => SystemProbes.RunAsync(_ports, probe, Environment(), CancellationToken.None);

    private static bool Passed(Configuration.ProbeExpectation expect, HookOutcome outcome) => SystemProbes.Passed(expect, outcome);

    // verify-legacy-quiet: no legacy account authenticated after the cutover, as far as the server records it.
    private async Task<StepResult> VerifyLegacyQuietAsync()
    {
        var since = QuietSince();
        var accounts = new JsonArray();
        var noisy = new List<string>();
        foreach (var account in _system.LegacyAccounts)
        {
            var live = await Wave.Legacy.ReadEntryAsync(account.Dn, CancellationToken.None);
            var record = new JsonObject { ["dn"] = account.Dn };
            if (live is null)
            {
                return StepResult.Stale(ReasonCodes.Format(ReasonCodes.StaleVanished, $"legacy account {account.Dn} of {_system.Name} no longer exists"), StepJson.Of(record));
            }

            if (account.LastAuthenticationAttribute is not { } attribute)
            {
                record["lastAuthentication"] = "cannot be checked here: the server keeps no last-authentication time for this account";
            }
            else if (LastBind(live, attribute) is not ({ } recordedIn, var last))
            {
                record[attribute] = null;
                record["lastAuthentication"] = "none recorded";
            }
            else
            {
                record[recordedIn] = last.ToString("O", CultureInfo.InvariantCulture);
                if (attribute.Equals("lastLogonTimestamp", StringComparison.OrdinalIgnoreCase))
                {
                    record["note"] = "lastLogonTimestamp is replicated lazily (up to about 14 days behind); lastLogon on each DC is exact";
                }

                if (last > since)
                {
                    noisy.Add($"{account.Dn} authenticated at {last:u}, after the cutover (confirmed at {since:u})");
                }
            }

            accounts.Add(record);
        }

        var after = StepJson.Of(new JsonObject { ["since"] = since.ToString("O", CultureInfo.InvariantCulture), ["accounts"] = accounts });
        return noisy.Count == 0
            ? StepResult.Done(null, after)
            : new StepResult(StepOutcome.Failed, null, after, ReasonCodes.Format(ReasonCodes.LegacyNotQuiet, $"{_system.Name} (or something else) still uses its legacy account: {string.Join("; ", noisy)}"));
    }

    // slapd records a bind in pwdLastSuccess (2.5+ with lastbind on) or in authTimestamp (the lastbind overlay),
    // as it is configured; an account that had bound to neither when planned carries the plan's guess, so on
    // OpenLDAP both are read and the later one counts. AD's attribute is read alone.
    private static (string Attribute, DateTimeOffset At)? LastBind(DirectoryEntry live, string planned)
    {
        string[] openLdap = ["pwdLastSuccess", "authTimestamp"];
        var attributes = openLdap.Contains(planned, StringComparer.OrdinalIgnoreCase) ? openLdap : [planned];
        (string Attribute, DateTimeOffset At)? latest = null;
        foreach (var attribute in attributes)
        {
            if (LastAuthentication.Of(live, attribute) is { } at && (latest is null || at > latest.Value.At))
            {
                latest = (attribute, at);
            }
        }

        return latest;
    }

    // backup-legacy-entry: each account read whole and stored under its own identity before it is disabled.
    private async Task<StepResult> BackupAccountsAsync()
    {
        var accounts = new JsonArray();
        foreach (var account in _system.LegacyAccounts)
        {
            var (live, problem) = await LocateAsync(account);
            if (problem is not null)
            {
                return problem;
            }

            var groups = await Wave.Legacy.FindGroupsListingAsync(live!.Dn, CancellationToken.None);

            // A system re-planned after its accounts were disabled: the backup holds them as they were before.
            var earlier = await Wave.Store.GetBackupAsync(account.Id!, CancellationToken.None);
            var (entry, revertedFor) = DisableMarks.WithoutEarlierPlansDisable(live, earlier, Wave.PlanId, Wave.Dialect, Wave.Settings.OpenLdapDisable);
            var stored = await Wave.Store.StoreBackupAsync(
                new EntryBackup { PlanId = Wave.PlanId, Wave = Wave.Wave.Name, EntityId = account.Id!, Entry = entry, Groups = groups, TakenAt = Wave.Time.GetUtcNow() },
                CancellationToken.None);
            accounts.Add(new JsonObject { ["dn"] = live.Dn, ["id"] = account.Id, ["sha256"] = stored.Sha256, ["groups"] = StepJson.Array(stored.Groups.Select(g => g.GroupDn)), ["disableRevertedFrom"] = revertedFor });
        }

        return StepResult.Done(null, StepJson.Of(new JsonObject { ["accounts"] = accounts }));
    }

    // disable-legacy-account: each account, as an entity's disable (AD userAccountControl, OpenLDAP ppolicy lock or unusable password), read back.
    private async Task<StepResult> DisableAccountsAsync()
    {
        var method = Wave.Settings.OpenLdapDisable;
        var before = new JsonArray();
        var after = new JsonArray();
        foreach (var account in _system.LegacyAccounts)
        {
            var (live, problem) = await LocateAsync(account);
            if (problem is not null)
            {
                return problem;
            }

            before.Add(DisableMarks.StateOf(live!, Wave.Dialect, method));
            if (DisableMarks.IsDisabled(live!, Wave.Dialect, method))
            {
                after.Add(DisableMarks.StateOf(live!, Wave.Dialect, method));
                continue;
            }

            if (DisableMarks.ChangeFor(live!, Wave.Dialect, method) is not { } change)
            {
                return StepResult.Failed(ReasonCodes.Format(ReasonCodes.Rejected, $"{live!.Dn} has no readable userAccountControl"), Json(before));
            }

            // Only the DN the approved plan names for this system is written.
            var result = await Wave.Legacy.ModifyAsync(account.Dn, [change], CancellationToken.None);
            if (result.Status is not (LegacyWriteStatus.Done or LegacyWriteStatus.AlreadyInState))
            {
                return StepResult.Failed(ReasonCodes.Format(ReasonCodes.Rejected, $"{Wave.Legacy.Description} refused disabling {account.Dn}: {result.Status} {result.Detail}"), Json(before));
            }

            var readBack = await Wave.Legacy.ReadEntryAsync(account.Dn, CancellationToken.None);
            if (readBack is null || !DisableMarks.IsDisabled(readBack, Wave.Dialect, method))
            {
                return StepResult.Failed(ReasonCodes.Format(ReasonCodes.Rejected, $"{Wave.Legacy.Description} accepted the disable of {account.Dn} but reading it back does not show it disabled"), Json(before));
            }

            after.Add(DisableMarks.StateOf(readBack, Wave.Dialect, method));
        }

        return StepResult.Done(Json(before), Json(after));
    }

    // probe-legacy-refused: a bind as each account must now fail (when its credential is supplied),
    // otherwise its disabled state is read back; then the configured probes expecting a refusal.
    private async Task<StepResult> ProbeLegacyRefusedAsync()
    {
        var results = new JsonArray();
        var accepted = new List<string>();
        var unreachable = new List<string>();
        foreach (var account in _system.LegacyAccounts)
        {
            if (account.CredentialSource is { } credential)
            {
                var outcome = await SystemProbes.BindAsLegacyAccountAsync(_ports, account.Dn, credential, CancellationToken.None);
                results.Add(HookJson("bind as " + account.Dn, outcome, outcome.Status == HookStatus.Refused));
                if (outcome.Status == HookStatus.Succeeded)
                {
                    accepted.Add($"a bind as {account.Dn} still succeeds");
                }
                else if (outcome.Status != HookStatus.Refused)
                {
                    unreachable.Add($"{account.Dn}: {outcome.Detail}");
                }

                continue;
            }

            var live = await Wave.Legacy.ReadEntryAsync(account.Dn, CancellationToken.None);
            var disabled = live is not null && DisableMarks.IsDisabled(live, Wave.Dialect, Wave.Settings.OpenLdapDisable);
            results.Add(new JsonObject { ["account"] = account.Dn, ["check"] = "no credential supplied: the disabled state was read back", ["disabled"] = disabled });
            if (!disabled)
            {
                accepted.Add($"{account.Dn} does not read back disabled");
            }
        }

        var probes = await ProbesAsync(StepAction.ProbeLegacyRefused, _system.Probes.Where(p => p.Expect == Configuration.ProbeExpectation.Failure));
        // Each configured probe's answer joins the binds' as one check (not its list as one element).
        foreach (var probe in JsonNode.Parse(probes.After!)!["probes"]!.AsArray())
        {
            results.Add(probe!.DeepClone());
        }
        var after = StepJson.Of(new JsonObject { ["checks"] = results });
        if (accepted.Count > 0 || probes.Outcome == StepOutcome.Failed)
        {
            var reasons = accepted.Concat(probes.Reason is null ? [] : [probes.Reason]);
            return new StepResult(StepOutcome.Failed, null, after, ReasonCodes.Format(ReasonCodes.LegacyBindAccepted, $"{_system.Name}: {string.Join("; ", reasons)}"));
        }

        return unreachable.Count > 0
            ? new StepResult(StepOutcome.Failed, null, after, ReasonCodes.Format(ReasonCodes.Transient, $"{_system.Name}: the bind probe could not ask: {string.Join("; ", unreachable)}; run the wave again")) { Transient = true }
            : StepResult.Done(null, after);
    }

    // The account's live entry, the plan's precondition checked (this executor's own disable taken back
    // using the backup), and the rails re-evaluated on it.
    private async Task<(DirectoryEntry? Live, StepResult? Problem)> LocateAsync(SystemLegacyAccount account)
    {
        var live = await Wave.Legacy.ReadEntryAsync(account.Dn, CancellationToken.None);
        if (live is null || account.Id is null || account.Precondition is null)
        {
            return (null, StepResult.Stale(ReasonCodes.Format(ReasonCodes.StaleVanished, $"legacy account {account.Dn} of {_system.Name} no longer exists"), StepJson.Of(new JsonObject { ["dn"] = account.Dn })));
        }

        var backup = await Wave.Store.GetBackupAsync(account.Id, CancellationToken.None);
        var ours = backup is not null && (backup.PlanId == Wave.PlanId || StepJournal.IsCarriedOver(Journal, StepAction.BackupLegacyEntry));
        var asPlanned = ours ? DisableMarks.RevertOwn(live, backup!.Entry, live.Dn) : live;
        if (ours && _precondition.Check(account.Precondition, asPlanned) != PreconditionCheck.Holds && _precondition.Check(account.Precondition, live) == PreconditionCheck.Holds)
        {
            // A plan made after this executor's disable (carried over from an earlier plan): its fingerprint is of the disabled account.
            asPlanned = live;
        }

        if (_precondition.Check(account.Precondition, asPlanned) != PreconditionCheck.Holds)
        {
            return (null, StepResult.Stale(ReasonCodes.Format(ReasonCodes.StaleChanged, $"legacy account {account.Dn} of {_system.Name} changed since the plan (moved, replaced or an attribute the plan relied on)"), StepJson.Of(new JsonObject { ["dn"] = live.Dn })));
        }

        var dn = DistinguishedName.Parse(live.Dn);
        var protection = Wave.Protection.Check(asPlanned, dn) ?? Wave.ConfiguredProtection?.Check(asPlanned, dn);
        return protection is not null
            ? (null, StepResult.Refused(ReasonCodes.Format(ReasonCodes.Protected, $"{protection.Reason}: {protection.Detail}; {account.Dn} is not disabled although the plan names it for {_system.Name}"), StepJson.Of(new JsonObject { ["dn"] = live.Dn })))
            : (live, null);
    }

    // The legacy accounts must be quiet from the moment the new path is confirmed: the last probe-target
    // that passed, else the cutover, else the target check. A system whose probe failed was not on the new
    // path yet, so its binds until the fix are expected; counting from the hook's first run would fail the
    // step on every rerun after the fix (a last-bind time never goes back) and leave the wave's deletes held.
    private DateTimeOffset QuietSince() => DoneAt(StepAction.ProbeTarget) ?? DoneAt(StepAction.Cutover) ?? DoneAt(StepAction.VerifyTargetApp) ?? Wave.Time.GetUtcNow();

    private Dictionary<string, string> Environment() => SystemProbes.Environment(_system.Id, Wave.Wave.Name, Wave.PlanId);

    private static JsonObject HookJson(string what, HookOutcome outcome, bool? passed = null)
    {
        var json = new JsonObject
        {
            ["what"] = what,
            ["status"] = outcome.Status.ToString().ToLowerInvariant(),
            ["exitCode"] = outcome.ExitCode,
            ["httpStatus"] = outcome.HttpStatus,
            ["ldapResultCode"] = outcome.LdapResultCode,
            ["durationMs"] = (long)outcome.Duration.TotalMilliseconds,
            ["outputSha256"] = outcome.OutputSha256,
            ["output"] = outcome.OutputExcerpt,
            ["detail"] = outcome.Detail,
        };
        if (passed is { } value)
        {
            json["passed"] = value;
        }

        return json;
    }

    private static string UrlForRecord(string url) => SystemProbes.UrlForRecord(url);

    private static string Json(JsonArray items) => StepJson.Of(new JsonObject { ["accounts"] = items });
}
