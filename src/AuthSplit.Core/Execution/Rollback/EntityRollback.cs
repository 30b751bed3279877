using System.Globalization;
using System.Text.Json.Nodes;
using AuthSplit.Core.Configuration;
using AuthSplit.Core.Directory;
using AuthSplit.Core.Execution.Safety;
using AuthSplit.Core.Execution.Steps;
using AuthSplit.Core.Model;
using AuthSplit.Core.Planning.Format;
using AuthSplit.Core.Planning.Preconditions;

namespace AuthSplit.Core.Execution.Rollback;

/// <summary>What a rollback is asked to do.</summary>
/// <param name="EntityId">A person's id as the plan gives it, or <c>system:ID</c> for a system.</param>
/// <param name="Operator">Who rolls back (on every ledger record).</param>
/// <param name="Waves">Every configured wave: where a system's journal is looked for (newest run first).</param>
/// <param name="Wait">How long this run waits for the administrator's flag switch and for the sync cycle.</param>
/// <param name="PollInterval">How often the tenant is read while waiting.</param>
/// <param name="GraphBaseUrl">The Graph root the administrator's instructions name.</param>
public sealed record RollbackRequest(string EntityId, string Operator, IReadOnlyList<string> Waves, TimeSpan Wait, TimeSpan PollInterval, Uri GraphBaseUrl);

public enum RollbackOutcome
{
    /// <summary>Everything the wave did that can be undone is undone and read back; the entity is recorded rolled back.</summary>
    RolledBack,

    /// <summary>Nothing was written: the rollback is not possible or not safe now (<see cref="RollbackResult.Code"/> says why).</summary>
    Refused,

    /// <summary>Begun and on record; waiting for the administrator's flag switch or for the sync cycle. Running it again continues.</summary>
    Waiting,

    /// <summary>The directory or the tenant refused a write, or its read-back disagrees; on record, running it again retries.</summary>
    Failed,
}

/// <summary>How a rollback ended; <see cref="Code"/> is a stable code (<c>restore-first</c>, <c>wave-running</c>, <c>no-backup</c>...).</summary>
public sealed record RollbackResult(RollbackOutcome Outcome, string Code, string Message);

/// <summary>
/// Undoes a wave's work on one person or one system while the legacy entry still exists, every action an
/// ensure that reads, writes only if needed, reads back and is recorded in the ledger (who, when, what was
/// read before and after).
/// <para>
/// A person: the legacy account re-enabled from its backup, the entry moved back from quarantine, and
/// the source-of-authority switch taken back by Entra's sequence: the tenant's
/// <c>blockCloudObjectTakeoverThroughHardMatchEnabled</c> must read false (only a delegated Global
/// Administrator may write it: the tool says exactly what to do and reads until it does), then
/// <c>isCloudManaged=false</c> read back, then the user must read <c>onPremisesSyncEnabled</c> true again
/// (a sync cycle took it back), then the administrator sets the flag back. A system: each of its legacy
/// accounts the wave disabled, re-enabled from its backup.
/// </para>
/// <para>
/// The rule for the executor: before the first write, the entity's journal state becomes
/// <see cref="EntityState.Refused"/> with reason <see cref="ReasonCodes.RolledBack"/>. That state is final,
/// so no run of the same plan (a rerun, the hold-expiry trigger) takes the entity again; removing it again
/// needs a new plan and a new approval. A system rolled back is no longer done, so its wave's deletes stay
/// held (as for a failed system) until a new plan cuts it over again or excepts it.
/// </para>
/// </summary>
public sealed class EntityRollback(IExecutionStore store, ILegacyDirectoryWriter legacy, ITargetTenant? tenant, DirectoryDialect dialect, TimeProvider time, string node)
{
    public const string SystemPrefix = "system:";

    public async Task<RollbackResult> RunAsync(RollbackRequest request, IProgress<string> report, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(report);
        return request.EntityId.StartsWith(SystemPrefix, StringComparison.Ordinal)
            ? await SystemAsync(request, report, cancellationToken)
            : await PersonAsync(request, report, cancellationToken);
    }

    private async Task<RollbackResult> PersonAsync(RollbackRequest request, IProgress<string> report, CancellationToken cancellationToken)
    {
        var id = request.EntityId;
        var backup = await store.GetBackupAsync(id, cancellationToken);
        if (backup is null)
        {
            return Refused(ReasonCodes.NoBackup, $"the state store holds no backup of entity \"{id}\": the executor backs an entry up before its first legacy write, so nothing of it can be re-enabled from one (authsplit status --wave W lists the ids; a system is given as system:ID)");
        }

        var context = await OpenAsync(backup.PlanId, backup.Wave, id, request, cancellationToken);
        if (context.Refusal is not null)
        {
            return context.Refusal;
        }

        var (progress, plan, steps) = (context.Progress!, context.Plan!, context.Steps!);
        var entity = plan.Entities.FirstOrDefault(e => e.Id == id);
        if (entity is null)
        {
            return await RefuseAsync(context, "unknown-entity", $"plan {backup.PlanId} does not list entity {id}");
        }

        var deleted = steps.Any(s => s.Step == StepAction.DeleteLegacyEntry && s.Outcome is StepOutcome.Done or StepOutcome.AlreadyDone or StepOutcome.Started);
        var quarantined = plan.Settings.Removal.QuarantineDn is { } quarantine
            ? EntityWriteScope.QuarantineDnOf(DistinguishedName.Parse(backup.Entry.Dn), DistinguishedName.Parse(quarantine)).Original
            : null;
        var live = await LocateAsync(id, backup.Entry, [backup.Entry.Dn, entity.Dn, quarantined], cancellationToken);
        if (live is null)
        {
            var why = deleted
                ? $"the legacy entry of {id} was deleted by wave {backup.Wave} (plan {backup.PlanId}): the source-of-authority switch can no longer be taken back, because the next sync would delete the cloud user. Run authsplit restore --entity {id} first (it re-creates the entry from its backup), then run the rollback again"
                : $"the legacy entry of {id} is found neither by its identity nor at {backup.Entry.Dn}{(quarantined is null ? string.Empty : " nor at " + quarantined)}: it was deleted or moved by someone else. Run authsplit restore --entity {id} first if it is to come back, then run the rollback again";
            return await RefuseAsync(context, "restore-first", why);
        }

        await BeginAsync(context, request, report, cancellationToken);
        if (await StartedMeanwhileAsync(context, cancellationToken) is { } raced)
        {
            return raced;
        }

        if (deleted)
        {
            report.Report($"The entry was deleted by the wave and is back at {live.Dn} (authsplit restore); rolling back the rest.");
        }

        var enabled = await ReEnableAsync(context, backup, live, report, cancellationToken);
        if (enabled is not null)
        {
            return enabled;
        }

        if (quarantined is not null && DistinguishedName.Parse(live.Dn).Equals(DistinguishedName.Parse(quarantined)))
        {
            var moved = await MoveBackAsync(context, backup, live, report, cancellationToken);
            if (moved is not null)
            {
                return moved;
            }
        }

        var switched = await SwitchBackAsync(context, request, entity, steps, report, cancellationToken);
        if (switched is not null)
        {
            return switched;
        }

        return await CompleteAsync(context, request, $"person {id}: legacy account re-enabled from its backup of {Format(backup.TakenAt)}, at {backup.Entry.Dn}", report, cancellationToken);
    }

    private async Task<RollbackResult> SystemAsync(RollbackRequest request, IProgress<string> report, CancellationToken cancellationToken)
    {
        var id = request.EntityId;
        var systemId = id[SystemPrefix.Length..];
        string? planId = null, wave = null;
        foreach (var name in request.Waves)
        {
            foreach (var run in await store.GetWaveRunsAsync(name, cancellationToken))
            {
                if (await store.GetEntityAsync(run.PlanId, id, cancellationToken) is not null)
                {
                    (planId, wave) = (run.PlanId, name);
                    break;
                }
            }

            if (planId is not null)
            {
                break;
            }
        }

        if (planId is null || wave is null)
        {
            return Refused("unknown-entity", $"no wave run's journal holds system {systemId} ({id}): it was never run, so there is nothing to roll back");
        }

        var context = await OpenAsync(planId, wave, id, request, cancellationToken);
        if (context.Refusal is not null)
        {
            return context.Refusal;
        }

        var system = (context.Plan!.Systems ?? []).FirstOrDefault(s => s.Id == systemId);
        if (system is null)
        {
            return await RefuseAsync(context, "unknown-entity", $"plan {planId} does not list system {systemId}");
        }

        var accounts = new List<(SystemLegacyAccount Account, EntryBackup Backup)>();
        foreach (var account in system.LegacyAccounts.Where(a => a.Id is not null))
        {
            if (await store.GetBackupAsync(account.Id!, cancellationToken) is { } backup)
            {
                accounts.Add((account, backup));
            }
        }

        if (accounts.Count == 0)
        {
            return await RefuseAsync(context, ReasonCodes.NoBackup, $"no legacy account of system {systemId} has a backup: the wave disables an account only after backing it up, so none was disabled and there is nothing to re-enable");
        }

        var missing = new List<string>();
        var present = new List<(EntryBackup Backup, DirectoryEntry Live)>();
        foreach (var (account, backup) in accounts)
        {
            if (await LocateAsync(account.Id!, backup.Entry, [account.Dn, backup.Entry.Dn], cancellationToken) is { } live)
            {
                present.Add((backup, live));
            }
            else
            {
                missing.Add(account.Dn);
            }
        }

        if (missing.Count > 0)
        {
            return await RefuseAsync(context, "restore-first", $"legacy account(s) of system {systemId} no longer exist: {string.Join("; ", missing)}. Run authsplit restore --entity ID for each (its entryUUID/objectGUID as the plan lists it) first, then run the rollback again");
        }

        await BeginAsync(context, request, report, cancellationToken);
        if (await StartedMeanwhileAsync(context, cancellationToken) is { } raced)
        {
            return raced;
        }

        foreach (var (backup, live) in present)
        {
            var failed = await ReEnableAsync(context, backup, live, report, cancellationToken);
            if (failed is not null)
            {
                return failed;
            }
        }

        report.Report($"The system's own cutover (its hook, run by the wave) is its owner's to undo: the journal of {id} holds what the hook printed.");
        return await CompleteAsync(context, request, $"system {systemId}: {present.Count} legacy account(s) re-enabled from their backups ({string.Join("; ", present.Select(p => p.Live.Dn))})", report, cancellationToken);
    }

    // The entity's plan, journal and progress; refused while a run of its wave is under way.
    private async Task<Context> OpenAsync(string planId, string wave, string id, RollbackRequest request, CancellationToken cancellationToken)
    {
        var context = new Context(planId, wave, id, new ExecutionActor(request.Operator, node));
        var progress = await store.GetEntityAsync(planId, id, cancellationToken);
        if (progress is null)
        {
            return context with { Refusal = Refused("unknown-entity", $"the journal of plan {planId} holds no entity {id}: its wave never took it, so there is nothing to roll back (a system's legacy account is rolled back with its system: --entity system:ID)") };
        }

        // Any run of the wave, this plan's or a newer one's: each would take the entity under its own plan.
        var run = (await store.GetRunningWavesAsync(cancellationToken)).FirstOrDefault(r => r.Wave == wave);
        if (run is not null)
        {
            context = context with { Progress = progress };
            return context with { Refusal = await RefuseAsync(context, "wave-running", $"wave {wave} (plan {run.PlanId}) is running, started by {run.StartedBy.Operator} on {run.StartedBy.Node} at {Format(run.StartedAt)}: a rollback never races the executor. Pause it (authsplit pause --wave {wave}) and wait for it to stop; a run killed mid-wave reads running until it is resumed (authsplit run) or recovered") };
        }

        var bytes = await store.GetPlanAsync(planId, cancellationToken);
        if (bytes is null)
        {
            return context with { Refusal = Refused("unknown-entity", $"the state store does not hold plan {planId}, which the journal of {id} names") };
        }

        var plan = PlanSerializer.Deserialize(bytes, $"plan {planId} (state store)");
        var steps = await store.GetStepsAsync(planId, id, cancellationToken);
        return context with { Progress = progress, Plan = plan, Steps = steps };
    }

    // By identity first; otherwise at the DNs the entry may be at, if it is the backup's account there (AD: a
    // restored object has a new objectGUID, but its sAMAccountName, unique in the domain, is the backup's).
    private async Task<DirectoryEntry?> LocateAsync(string id, DirectoryEntry backedUp, IEnumerable<string?> dns, CancellationToken cancellationToken)
    {
        var found = await legacy.FindByIdentityAsync(id, cancellationToken);
        if (found.Count == 1)
        {
            return found[0];
        }

        var identity = EntityIdentity.AttributeFor(dialect);
        foreach (var dn in dns.OfType<string>().Distinct(StringComparer.OrdinalIgnoreCase))
        {
            if (await legacy.ReadEntryAsync(dn, cancellationToken) is not { } entry)
            {
                continue;
            }

            var wanted = backedUp.GetValues(identity);
            var present = entry.GetValues(identity);
            var sameIdentity = wanted.Count == 1 && present.Count == 1 && wanted[0].AsSpan().SequenceEqual(present[0]);
            var sameAccount = dialect == DirectoryDialect.ActiveDirectory && backedUp.GetString("sAMAccountName") is { } account
                && string.Equals(entry.GetString("sAMAccountName"), account, StringComparison.OrdinalIgnoreCase);
            if (sameIdentity || sameAccount)
            {
                return entry;
            }
        }

        return null;
    }

    // Before the first write: the journal state says rolled back, so the executor never takes the entity again under this plan.
    private async Task BeginAsync(Context context, RollbackRequest request, IProgress<string> report, CancellationToken cancellationToken)
    {
        var progress = context.Progress!;
        var resumed = ReasonCodes.CodeOf(progress.Reason) == ReasonCodes.RolledBack;
        var detail = new JsonObject
        {
            ["stateBefore"] = WireName.Of(progress.State),
            ["reasonBefore"] = progress.Reason,
            ["lastStep"] = progress.LastStep is { } last ? WireName.Of(last) : null,
        };
        var reason = resumed
            ? progress.Reason!
            : ReasonCodes.Format(ReasonCodes.RolledBack, $"rollback begun by {request.Operator} at {Format(time.GetUtcNow())}; no run of plan {context.PlanId} takes the entity again (removing it again needs a new plan and a new approval)");
        var updated = progress with { State = EntityState.Refused, Reason = reason, UpdatedAt = time.GetUtcNow() };
        await RecordAsync(context, resumed ? "resumed" : "begun", detail, updated, CancellationToken.None);
        context.Progress = updated;
        report.Report(resumed
            ? $"Resuming the rollback of {context.EntityId} (plan {context.PlanId}, wave {context.Wave})."
            : $"Rolling back {context.EntityId} (plan {context.PlanId}, wave {context.Wave}, was {WireName.Of(progress.State)}); the journal now says rolled back, so no run of this plan takes it again.");
    }

    // A run that started between the check and the begun record read the entity's state before it said
    // rolled back, and may still take it: nothing is written while it runs.
    private async Task<RollbackResult?> StartedMeanwhileAsync(Context context, CancellationToken cancellationToken) =>
        (await store.GetRunningWavesAsync(cancellationToken)).FirstOrDefault(r => r.Wave == context.Wave) is { } run
            ? await FailAsync(context, "begun", "wave-running", $"a run of wave {context.Wave} (plan {run.PlanId}) started by {run.StartedBy.Operator} at {Format(run.StartedAt)} while the rollback began; nothing was written. Let it stop (authsplit pause --wave {context.Wave}), check the entity with authsplit status, and run the rollback again", null)
            : null;

    private async Task<RollbackResult?> ReEnableAsync(Context context, EntryBackup backup, DirectoryEntry live, IProgress<string> report, CancellationToken cancellationToken)
    {
        var before = LegacyReEnable.StateOf(live, dialect);
        var changes = LegacyReEnable.ChangesFor(live, backup.Entry, dialect, out var problem);
        if (problem is not null)
        {
            return await FailAsync(context, "re-enable-legacy-account", "legacy-rejected", $"cannot re-enable from the backup: {problem}", before);
        }

        if (changes.Count == 0)
        {
            await RecordAsync(context, "re-enable-legacy-account", new JsonObject { ["outcome"] = "already-done", ["before"] = before, ["backupSha256"] = backup.Sha256 }, null, cancellationToken);
            report.Report($"{live.Dn}: already enabled as its backup was.");
            return null;
        }

        var written = await legacy.ModifyAsync(live.Dn, changes, CancellationToken.None);
        if (written.Status is not (LegacyWriteStatus.Done or LegacyWriteStatus.AlreadyInState))
        {
            return await FailAsync(context, "re-enable-legacy-account", "legacy-rejected", $"{legacy.Description} refused re-enabling {live.Dn}: {written.Status}{(written.Detail is null ? string.Empty : " " + written.Detail)}", before);
        }

        var readBack = await legacy.ReadEntryAsync(live.Dn, CancellationToken.None);
        if (readBack is null || !LegacyReEnable.IsReEnabled(readBack, backup.Entry, dialect))
        {
            return await FailAsync(context, "re-enable-legacy-account", "legacy-rejected", $"{legacy.Description} accepted re-enabling {live.Dn} but reading it back does not show it enabled", before);
        }

        await RecordAsync(context, "re-enable-legacy-account", new JsonObject
        {
            ["outcome"] = "done",
            ["before"] = before,
            ["after"] = LegacyReEnable.StateOf(readBack, dialect),
            ["attributes"] = StepJson.Array(changes.Select(c => c.Attribute)),
            ["backupSha256"] = backup.Sha256,
        }, null, CancellationToken.None);
        report.Report($"{live.Dn}: re-enabled from its backup ({string.Join(", ", changes.Select(c => c.Attribute))}), read back.");
        return null;
    }

    private async Task<RollbackResult?> MoveBackAsync(Context context, EntryBackup backup, DirectoryEntry live, IProgress<string> report, CancellationToken cancellationToken)
    {
        var home = DistinguishedName.Parse(backup.Entry.Dn);
        var before = new JsonObject { ["dn"] = live.Dn };
        if (home.Parent is not { } parent)
        {
            return await FailAsync(context, "move-back-from-quarantine", "legacy-rejected", $"the backup's DN {backup.Entry.Dn} has no parent to move back under", before);
        }

        var moved = await legacy.MoveAsync(live.Dn, parent.Original, CancellationToken.None);
        if (moved.Status != LegacyWriteStatus.Done)
        {
            var why = moved.Status switch
            {
                LegacyWriteStatus.AlreadyExists => $"an entry already exists at {backup.Entry.Dn}",
                LegacyWriteStatus.NoSuchObject => $"the container {parent.Original} no longer exists: re-create it first",
                _ => $"{moved.Status} {moved.Detail}",
            };
            return await FailAsync(context, "move-back-from-quarantine", "legacy-rejected", $"{legacy.Description} refused moving {live.Dn} back under {parent.Original}: {why}", before);
        }

        var newDn = moved.Dn ?? backup.Entry.Dn;
        if (await legacy.ReadEntryAsync(newDn, CancellationToken.None) is null)
        {
            return await FailAsync(context, "move-back-from-quarantine", "legacy-rejected", $"{legacy.Description} accepted moving {live.Dn} back but nothing reads back at {newDn}", before);
        }

        await RecordAsync(context, "move-back-from-quarantine", new JsonObject { ["outcome"] = "done", ["before"] = before, ["after"] = new JsonObject { ["dn"] = newDn } }, null, CancellationToken.None);
        report.Report($"Moved back from quarantine: {live.Dn} -> {newDn}.");
        return null;
    }

    // Entra's rollback of the source-of-authority switch: the tenant's hard-match takeover block off, the
    // user's isCloudManaged false (read back), a sync cycle takes the user again, the block back on.
    private async Task<RollbackResult?> SwitchBackAsync(Context context, RollbackRequest request, PlannedEntity entity, IReadOnlyList<StepRecord> steps, IProgress<string> report, CancellationToken cancellationToken)
    {
        if (!steps.Any(s => s.Step == StepAction.StopPasswordSync && s.Outcome == StepOutcome.Done))
        {
            // Never switched by the wave (not reached, or the user was already cloud-managed before it): nothing to take back.
            report.Report("The wave did not switch the user's source of authority (the journal has no stop-password-sync done): nothing to take back in the tenant.");
            return null;
        }

        if (entity.PasswordSync?.Strategy == PasswordSyncStrategy.Command)
        {
            await RecordAsync(context, "switch-back", new JsonObject { ["outcome"] = "not-ours", ["strategy"] = "command" }, null, cancellationToken);
            report.Report("The person's password sync was stopped by the configured Command hook: taking it back is the hook owner's (the journal holds what the hook printed).");
            return null;
        }

        if (tenant is null || entity.Match.TargetId is not { } userId)
        {
            return await FailAsync(context, "switch-back", "target-missing", "the person's source of authority was switched, and the configuration has no Target (or the plan no target id) to switch it back with: configure Target and run the rollback again", null);
        }

        var deadline = time.GetUtcNow() + request.Wait;
        var soa = (await tenant.GetSourceOfAuthorityAsync([userId], cancellationToken)).Single();
        if (soa.Status != TargetWriteStatus.Verified || soa.IsCloudManaged is null)
        {
            return await FailAsync(context, "switch-back", "target-rejected", $"reading user {userId}'s onPremisesSyncBehavior failed: {soa.Status} {soa.Problem}", null);
        }

        var flagWasOn = await FlagWasOnAsync(context, cancellationToken);
        if (soa.IsCloudManaged == true)
        {
            var sync = await tenant.GetTenantSyncStateAsync(cancellationToken);
            if (sync.BlockCloudObjectTakeoverThroughHardMatchEnabled)
            {
                flagWasOn = true;
                await RecordAsync(context, "flag-waiting", new JsonObject { ["tenantId"] = sync.TenantId, ["blockCloudObjectTakeoverThroughHardMatchEnabled"] = true }, null, cancellationToken);
                report.Report(FlagInstructions(sync.TenantId, request, off: true));
                while (sync.BlockCloudObjectTakeoverThroughHardMatchEnabled && time.GetUtcNow() < deadline)
                {
                    await PauseAsync(request, deadline, cancellationToken);
                    sync = await tenant.GetTenantSyncStateAsync(cancellationToken);
                    if (sync.BlockCloudObjectTakeoverThroughHardMatchEnabled)
                    {
                        report.Report($"{Format(time.GetUtcNow())}: blockCloudObjectTakeoverThroughHardMatchEnabled is still true for tenant {sync.TenantId}; checking again in {Seconds(request.PollInterval)}.");
                    }
                }

                if (sync.BlockCloudObjectTakeoverThroughHardMatchEnabled)
                {
                    return new RollbackResult(RollbackOutcome.Waiting, "flag-waiting", $"blockCloudObjectTakeoverThroughHardMatchEnabled still reads true for tenant {sync.TenantId} after waiting {Seconds(request.Wait)}: the legacy side is rolled back and on record; once the administrator has switched it off, run the same command again");
                }

                await RecordAsync(context, "flag-verified", new JsonObject { ["tenantId"] = sync.TenantId, ["blockCloudObjectTakeoverThroughHardMatchEnabled"] = false }, null, CancellationToken.None);
                report.Report($"blockCloudObjectTakeoverThroughHardMatchEnabled reads false for tenant {sync.TenantId}.");
            }

            var written = (await tenant.SetSourceOfAuthorityAsync([userId], false, CancellationToken.None)).Single();
            if (!written.Verified)
            {
                return await FailAsync(context, "switch-back", "target-rejected", $"setting user {userId}'s isCloudManaged to false: {written.Status} {written.Problem}", new JsonObject { ["userId"] = userId, ["isCloudManaged"] = true });
            }

            await RecordAsync(context, "switch-back", new JsonObject
            {
                ["outcome"] = "done",
                ["userId"] = userId,
                ["before"] = new JsonObject { ["isCloudManaged"] = true },
                ["after"] = new JsonObject { ["isCloudManaged"] = false },
            }, null, CancellationToken.None);
            report.Report($"User {userId}: isCloudManaged=false, read back.");
        }
        else
        {
            await RecordAsync(context, "switch-back", new JsonObject { ["outcome"] = "already-done", ["userId"] = userId, ["before"] = new JsonObject { ["isCloudManaged"] = false } }, null, cancellationToken);
        }

        // The user is the legacy directory's again only once a sync cycle took it back (onPremisesSyncEnabled true).
        var synced = await SyncedAsync(userId, cancellationToken);
        while (!synced && time.GetUtcNow() < deadline)
        {
            report.Report($"{Format(time.GetUtcNow())}: user {userId} does not read onPremisesSyncEnabled true yet (waiting for a sync cycle); checking again in {Seconds(request.PollInterval)}.");
            await PauseAsync(request, deadline, cancellationToken);
            synced = await SyncedAsync(userId, cancellationToken);
        }

        if (!synced)
        {
            await RecordAsync(context, "sync-waiting", new JsonObject { ["userId"] = userId, ["onPremisesSyncEnabled"] = false }, null, CancellationToken.None);
            var hint = flagWasOn ? " (blockCloudObjectTakeoverThroughHardMatchEnabled must stay false until it does)" : string.Empty;
            return new RollbackResult(RollbackOutcome.Waiting, "sync-waiting", $"user {userId} is switched back (isCloudManaged false) but does not read onPremisesSyncEnabled true after {Seconds(request.Wait)}: the next sync cycle takes it back{hint}; run the same command again to verify it");
        }

        await RecordAsync(context, "sync-verified", new JsonObject { ["userId"] = userId, ["onPremisesSyncEnabled"] = true }, null, CancellationToken.None);
        report.Report($"User {userId} reads onPremisesSyncEnabled true: the legacy directory is its source of authority again.");
        if (flagWasOn)
        {
            var sync = await tenant.GetTenantSyncStateAsync(cancellationToken);
            report.Report(FlagInstructions(sync.TenantId, request, off: false));
        }

        return null;
    }

    private async Task<bool> SyncedAsync(string userId, CancellationToken cancellationToken) =>
        await tenant!.GetUsersAsync([userId], cancellationToken) is [var user, ..]
        && string.Equals(user.Properties.GetValueOrDefault("onPremisesSyncEnabled"), "true", StringComparison.OrdinalIgnoreCase);

    // Whether an earlier run of this rollback found the flag on (it is then off now, and the administrator must set it back).
    private async Task<bool> FlagWasOnAsync(Context context, CancellationToken cancellationToken)
    {
        await foreach (var record in store.ReadLedgerAsync(context.Wave, cancellationToken))
        {
            if (record.Kind == LedgerKind.Rollback && record.EntityId == context.EntityId && record.PlanId == context.PlanId
                && record.Data?.Contains("flag-waiting", StringComparison.Ordinal) == true)
            {
                return true;
            }
        }

        return false;
    }

    private async Task PauseAsync(RollbackRequest request, DateTimeOffset deadline, CancellationToken cancellationToken)
    {
        var left = deadline - time.GetUtcNow();
        var pause = request.PollInterval < left ? request.PollInterval : left;
        if (pause > TimeSpan.Zero)
        {
            await Task.Delay(pause, time, cancellationToken);
        }
    }

    private async Task<RollbackResult> CompleteAsync(Context context, RollbackRequest request, string what, IProgress<string> report, CancellationToken cancellationToken)
    {
        var reason = ReasonCodes.Format(ReasonCodes.RolledBack, $"{what}; rolled back by {request.Operator} at {Format(time.GetUtcNow())}. No run of plan {context.PlanId} takes it again: removing it again needs a new plan and a new approval");
        var updated = context.Progress! with { State = EntityState.Refused, Reason = reason, UpdatedAt = time.GetUtcNow() };
        await RecordAsync(context, "completed", new JsonObject { ["summary"] = what }, updated, CancellationToken.None);
        return new RollbackResult(RollbackOutcome.RolledBack, ReasonCodes.RolledBack, $"{what}; recorded in the ledger of wave {context.Wave}, and no run of plan {context.PlanId} takes it again");
    }

    private async Task<RollbackResult> FailAsync(Context context, string action, string code, string message, JsonNode? before)
    {
        await RecordAsync(context, action, new JsonObject { ["outcome"] = "failed", ["code"] = code, ["reason"] = message, ["before"] = before?.DeepClone() }, null, CancellationToken.None);
        return new RollbackResult(RollbackOutcome.Failed, code, message + "; on record, run the same command again once that is fixed");
    }

    private async Task<RollbackResult> RefuseAsync(Context context, string code, string message)
    {
        var result = Refused(code, message);
        if (context.Progress is not null)
        {
            // The journal knows the entity: the refusal joins its wave's ledger (who tried, why); its state is left as it is.
            await RecordAsync(context, "refused", new JsonObject { ["code"] = code, ["reason"] = message }, null, CancellationToken.None);
        }

        return result;
    }

    private static RollbackResult Refused(string code, string message) => new(RollbackOutcome.Refused, code, message);

    private Task<LedgerRecord> RecordAsync(Context context, string action, JsonObject detail, EntityProgress? progress, CancellationToken cancellationToken) =>
        store.RecordRollbackAsync(new RollbackRecord(context.PlanId, context.Wave, context.EntityId, action, context.Actor, time.GetUtcNow(), StepJson.Of(detail)), progress, cancellationToken);

    /// <summary>What the administrator must do with the tenant's hard-match takeover block: switch it off for the rollback, or back on after it.</summary>
    public static string FlagInstructions(string tenantId, RollbackRequest request, bool off)
    {
        ArgumentNullException.ThrowIfNull(request);
        var root = request.GraphBaseUrl.ToString().TrimEnd('/');
        var value = off ? "false" : "true";
        var lines = new List<string>
        {
            off
                ? $"The tenant blocks cloud-object takeover by hard match (blockCloudObjectTakeoverThroughHardMatchEnabled is true for tenant {tenantId}): switched back, the user would not be synchronised again."
                : $"Rollback done: set the tenant's hard-match takeover block back on, as Entra's source-of-authority guide says (it was on before this rollback).",
            "Only a Global Administrator, signed in (delegated), can write it: AuthSplit does not hold that right. Ask one to call Microsoft Graph with OnPremDirectorySynchronization.ReadWrite.All:",
            $"       PATCH {root}/v1.0/directory/onPremisesSynchronization/{tenantId}",
            "       Content-Type: application/json",
            $"       {{\"features\":{{\"blockCloudObjectTakeoverThroughHardMatchEnabled\":{value}}}}}",
        };
        lines.Add(off
            ? $"AuthSplit reads GET {root}/v1.0/directory/onPremisesSynchronization every {Seconds(request.PollInterval)} for up to {Seconds(request.Wait)}, then switches the user back."
            : $"Check it with GET {root}/v1.0/directory/onPremisesSynchronization (features.blockCloudObjectTakeoverThroughHardMatchEnabled reads true).");
        return string.Join(Environment.NewLine, lines);
    }

    private static string Format(DateTimeOffset at) => at.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static string Seconds(TimeSpan span) => string.Create(CultureInfo.InvariantCulture, $"{span.TotalSeconds:0} s");

    private sealed record Context(string PlanId, string Wave, string EntityId, ExecutionActor Actor)
    {
        public EntityProgress? Progress { get; set; }

        public PlanDocument? Plan { get; init; }

        public IReadOnlyList<StepRecord>? Steps { get; init; }

        public RollbackResult? Refusal { get; init; }
    }
}
