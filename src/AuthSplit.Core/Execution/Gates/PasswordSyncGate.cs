using System.Globalization;
using AuthSplit.Core.Model;

namespace AuthSplit.Core.Execution.Gates;

/// <summary>What the password-sync gate is asked to do.</summary>
/// <param name="Waves">Every configured wave, in order; the gate belongs to the last one's evidence.</param>
/// <param name="Operator">Who runs the gate and confirms what is read.</param>
/// <param name="DespiteUnfinished">A recorded decision to open the gate although waves are unfinished: why (null: refuse).</param>
/// <param name="Wait">How long this run waits for the administrator's switch-off to read back.</param>
/// <param name="PollInterval">How often the tenant is read while waiting.</param>
/// <param name="GraphBaseUrl">The Graph root the instructions name (a national cloud's, or the public one).</param>
public sealed record PasswordSyncGateRequest(IReadOnlyList<string> Waves, string Operator, string? DespiteUnfinished, TimeSpan Wait, TimeSpan PollInterval, Uri GraphBaseUrl);

public enum PasswordSyncGateOutcome
{
    /// <summary>The tenant reads <c>passwordSyncEnabled == false</c>; recorded.</summary>
    Verified,

    /// <summary>Waves are unfinished and no decision overrides it; recorded, nothing waited for.</summary>
    Refused,

    /// <summary>Still on when <see cref="PasswordSyncGateRequest.Wait"/> ran out; running the gate again keeps waiting (the waiting is on record).</summary>
    StillOn,
}

public sealed record PasswordSyncGateResult(PasswordSyncGateOutcome Outcome, string Message, TenantSyncState? LastRead, IReadOnlyList<string> Unfinished);

/// <summary>
/// The tenant-wide switch-off of password hash sync, after the last wave. Graph lets only a delegated
/// Global Administrator write it (<c>PATCH /directory/onPremisesSynchronization/{id}</c>; application
/// permissions are not supported), so this is a manual gate: the tool refuses while a wave is unfinished
/// (unless a recorded decision says why), tells the operator exactly what the administrator must do,
/// then reads <c>GET /directory/onPremisesSynchronization</c> until <c>passwordSyncEnabled</c> is false,
/// bounded by the request's wait. Every outcome is a ledger record (who, when, what was read), so a run
/// killed while waiting resumes knowing when the waiting began.
/// </summary>
public sealed class PasswordSyncGate(IExecutionStore store, ITargetTenant tenant, TimeProvider time, string node)
{
    public async Task<PasswordSyncGateResult> RunAsync(PasswordSyncGateRequest request, IProgress<string> report, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(report);
        if (request.Waves.Count == 0)
        {
            throw new ArgumentException("the configuration has no waves", nameof(request));
        }

        var lastWave = request.Waves[^1];
        var actor = new ExecutionActor(request.Operator, node);
        var unfinished = await UnfinishedWavesAsync(request.Waves, cancellationToken);
        if (unfinished.Count > 0)
        {
            var list = string.Join("; ", unfinished);
            if (request.DespiteUnfinished is null)
            {
                var refusal = $"the password-sync gate opens only after every wave is complete: {list}. Finish them (authsplit run), or record why it must open anyway (--despite-unfinished REASON)";
                await RecordAsync(GateEventKind.Refused, lastWave, actor, null, refusal, cancellationToken);
                return new PasswordSyncGateResult(PasswordSyncGateOutcome.Refused, refusal, null, unfinished);
            }

            await RecordAsync(GateEventKind.Overridden, lastWave, actor, null, $"{request.DespiteUnfinished} (unfinished: {list})", cancellationToken);
            report.Report($"Opening the gate although waves are unfinished, as {request.Operator} decided: {request.DespiteUnfinished} ({list}). On record.");
        }

        var events = await store.GetGateEventsAsync(GateNames.PasswordSync, cancellationToken);
        var waitingSince = events.LastOrDefault(e => e.Kind is GateEventKind.Waiting or GateEventKind.Verified) is { Kind: GateEventKind.Waiting } waiting ? waiting : null;
        var read = await tenant.GetTenantSyncStateAsync(cancellationToken);
        if (!read.PasswordSyncEnabled)
        {
            return await VerifiedAsync(read, lastWave, actor, waitingSince, cancellationToken);
        }

        if (waitingSince is null)
        {
            await RecordAsync(GateEventKind.Waiting, lastWave, actor, read, "password hash sync is on; the administrator was asked to switch it off", cancellationToken);
        }
        else
        {
            report.Report($"Still waiting since {Format(waitingSince.At)} (first asked by {waitingSince.Actor.Operator}).");
        }

        report.Report(Instructions(read, request));
        var deadline = time.GetUtcNow() + request.Wait;
        while (time.GetUtcNow() < deadline)
        {
            var pause = request.PollInterval < deadline - time.GetUtcNow() ? request.PollInterval : deadline - time.GetUtcNow();
            await Task.Delay(pause, time, cancellationToken);
            read = await tenant.GetTenantSyncStateAsync(cancellationToken);
            if (!read.PasswordSyncEnabled)
            {
                return await VerifiedAsync(read, lastWave, actor, waitingSince, cancellationToken);
            }

            report.Report($"{Format(time.GetUtcNow())}: passwordSyncEnabled is still true for tenant {read.TenantId}; checking again in {Seconds(request.PollInterval)}.");
        }

        var message = $"password hash sync is still on for tenant {read.TenantId} after waiting {Seconds(request.Wait)}; the wait is on record, and running the gate again keeps waiting";
        return new PasswordSyncGateResult(PasswordSyncGateOutcome.StillOn, message, read, unfinished);
    }

    /// <summary>Every wave whose newest run is not complete with each of its entities in a final state and none failed, described.</summary>
    public async Task<IReadOnlyList<string>> UnfinishedWavesAsync(IReadOnlyList<string> waves, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(waves);
        var unfinished = new List<string>();
        foreach (var wave in waves)
        {
            var runs = await store.GetWaveRunsAsync(wave, cancellationToken);
            if (runs.Count == 0)
            {
                unfinished.Add($"wave {wave} has never run");
                continue;
            }

            var newest = runs[0];
            if (newest.Status != WaveStatus.Completed)
            {
                unfinished.Add($"wave {wave} is {newest.Status.ToString().ToLowerInvariant()} (plan {newest.PlanId})");
                continue;
            }

            int failed = 0, open = 0, rolledBack = 0;
            await foreach (var entity in store.ReadEntitiesAsync(newest.PlanId, wave, cancellationToken))
            {
                failed += entity.State == EntityState.Failed ? 1 : 0;
                open += entity.State is EntityState.Pending or EntityState.InProgress or EntityState.Held ? 1 : 0;
                rolledBack += entity.State == EntityState.Refused && ReasonCodes.CodeOf(entity.Reason) == ReasonCodes.RolledBack ? 1 : 0;
            }

            if (failed + open > 0)
            {
                unfinished.Add($"wave {wave} has {failed} failed and {open} unfinished entit{(failed + open == 1 ? "y" : "ies")} (plan {newest.PlanId})");
            }

            // A rolled-back person is the legacy directory's again and signs in with the password it syncs:
            // switching password hash sync off for the tenant would strand it. A new plan takes it again
            // (removal) or keeps it by a decision; until then the wave is not finished.
            if (rolledBack > 0)
            {
                unfinished.Add($"wave {wave} has {rolledBack} rolled-back entit{(rolledBack == 1 ? "y" : "ies")} (plan {newest.PlanId}): synchronised from the legacy directory again, they still need its password sync; plan them again (a removal, or kept by a decision) and run the wave");
            }
        }

        return unfinished;
    }

    private async Task<PasswordSyncGateResult> VerifiedAsync(TenantSyncState read, string wave, ExecutionActor actor, GateEvent? waitingSince, CancellationToken cancellationToken)
    {
        var since = waitingSince is null ? string.Empty : $", waited for since {Format(waitingSince.At)}";
        var reason = $"GET /directory/onPremisesSynchronization read passwordSyncEnabled=false for tenant {read.TenantId}; confirmed by {actor.Operator}{since}";

        // Recorded whatever the caller's token says: it was read and must be on record.
        await RecordAsync(GateEventKind.Verified, wave, actor, read, reason, CancellationToken.None);
        return new PasswordSyncGateResult(PasswordSyncGateOutcome.Verified, $"password hash sync is off for tenant {read.TenantId}: verified and recorded", read, []);
    }

    private Task RecordAsync(GateEventKind kind, string wave, ExecutionActor actor, TenantSyncState? read, string reason, CancellationToken cancellationToken) =>
        store.RecordGateEventAsync(
            new GateEvent
            {
                Gate = GateNames.PasswordSync,
                Kind = kind,
                Wave = wave,
                Actor = actor,
                At = time.GetUtcNow(),
                TenantId = read?.TenantId,
                PasswordSyncEnabled = read?.PasswordSyncEnabled,
                Reason = reason,
            },
            cancellationToken);

    /// <summary>What the administrator must do, exactly; the tool itself never holds the right to do it.</summary>
    public static string Instructions(TenantSyncState read, PasswordSyncGateRequest request)
    {
        ArgumentNullException.ThrowIfNull(read);
        ArgumentNullException.ThrowIfNull(request);
        var root = request.GraphBaseUrl.ToString().TrimEnd('/');
        return string.Join(
            Environment.NewLine,
            $"Password hash sync is still ON for tenant {read.TenantId}.",
            "Only a Global Administrator, signed in (delegated), can switch it off: Graph does not let an application do it, so AuthSplit does not hold that right. Ask one to do ONE of:",
            "  1. Microsoft Graph, signed in as Global Administrator with OnPremDirectorySynchronization.ReadWrite.All (Graph Explorer, or any Graph client):",
            $"       PATCH {root}/v1.0/directory/onPremisesSynchronization/{read.TenantId}",
            "       Content-Type: application/json",
            "       {\"features\":{\"passwordSyncEnabled\":false}}",
            "  2. Microsoft Entra Connect, on the sync server: Configure > Customize synchronization options > Optional features > clear \"Password hash synchronization\" > Configure.",
            $"AuthSplit reads GET {root}/v1.0/directory/onPremisesSynchronization every {Seconds(request.PollInterval)} for up to {Seconds(request.Wait)} and records what it reads.");
    }

    private static string Format(DateTimeOffset at) => at.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static string Seconds(TimeSpan span) => string.Create(CultureInfo.InvariantCulture, $"{span.TotalSeconds:0} s");
}
