using System.Text.Json.Nodes;
using AuthSplit.Core.Model;
using AuthSplit.Core.Planning.Format;

namespace AuthSplit.Core.Execution.Steps;

internal sealed partial class EntityRun
{
    private string? TargetId => _entity.Match.TargetId;

    // verify-target-account: the matched user still exists and is the one the plan matched.
    private async Task<StepResult> VerifyTargetAccountAsync()
    {
        if (TargetId is not { } id)
        {
            return StepResult.Failed(ReasonCodes.Format(ReasonCodes.Rejected, "the plan gives this person no target account to verify"));
        }

        var users = await _wave.Target.GetUsersAsync([id], CancellationToken.None);
        var user = users.FirstOrDefault(u => string.Equals(u.Id, id, StringComparison.OrdinalIgnoreCase));
        var planned = StepJson.Of(new JsonObject { ["id"] = id, ["userPrincipalName"] = _entity.Match.TargetUserPrincipalName });
        if (user is null)
        {
            return StepResult.Stale(ReasonCodes.Format(ReasonCodes.StaleTargetVanished, $"target user {id} no longer exists in {_wave.Target.Description}"), planned);
        }

        var found = StepJson.Of(new JsonObject { ["id"] = user.Id, ["userPrincipalName"] = user.UserPrincipalName });
        if (_entity.Match.TargetUserPrincipalName is { } upn && !string.Equals(upn, user.UserPrincipalName, StringComparison.OrdinalIgnoreCase))
        {
            return StepResult.Stale(ReasonCodes.Format(ReasonCodes.StaleTargetChanged, $"target user {id} is now {user.UserPrincipalName}, the plan matched {upn}"), found);
        }

        return StepResult.Done(planned, found);
    }

    // stop-password-sync: the per-user source-of-authority switch, written only when the read shows it is
    // still synchronised from on-premises.
    private async Task<StepResult> StopPasswordSyncAsync()
    {
        if (TargetId is not { } id)
        {
            return StepResult.Failed(ReasonCodes.Format(ReasonCodes.Rejected, "the plan gives this person no target account"));
        }

        if (_wave.PasswordSyncHook is { } hook)
        {
            return await StopPasswordSyncByHookAsync(hook, id);
        }

        var read = (await _wave.Target.GetSourceOfAuthorityAsync([id], CancellationToken.None)).Single(s => string.Equals(s.UserId, id, StringComparison.OrdinalIgnoreCase));
        var before = Soa(read.IsCloudManaged);
        if (Problem(read.Status, read.Problem, before) is { } problem)
        {
            return problem;
        }

        if (read.IsCloudManaged == true)
        {
            return StepResult.AlreadyDone(before, ReasonCodes.Format(ReasonCodes.AlreadyCloudManaged, _entity.PasswordSync?.Status == TargetSyncStatus.CloudOnly
                ? $"target user {id} is cloud-only (the plan's target read showed it not synchronised from on-premises) and reads isCloudManaged=true; there is no password sync to stop, nothing was written"
                : $"target user {id} already reads isCloudManaged=true (switched by an earlier attempt or outside AuthSplit); nothing was written"));
        }

        var written = (await _wave.Target.SetSourceOfAuthorityAsync([id], true, CancellationToken.None)).Single(s => string.Equals(s.UserId, id, StringComparison.OrdinalIgnoreCase));
        return written.Status switch
        {
            TargetWriteStatus.Verified => StepResult.Done(before, Soa(true)),

            // Accepted, not visible yet (Graph replicates): verify-cloud-managed waits for it.
            TargetWriteStatus.Mismatch => StepResult.Done(before, StepJson.Of(new JsonObject { ["isCloudManaged"] = "written, not yet read back" })),
            _ => Problem(written.Status, written.Problem, before)!,
        };
    }

    // verify-cloud-managed: read back with backoff (Graph replicates writes), bounded; a legacy entry is
    // only deleted once this has passed.
    private async Task<StepResult> VerifyCloudManagedAsync()
    {
        var id = TargetId!;
        var delay = _wave.Settings.CloudManagedReadDelay;
        SourceOfAuthority? read = null;
        for (var attempt = 1; attempt <= _wave.Settings.CloudManagedReadAttempts; attempt++)
        {
            if (attempt > 1)
            {
                await Task.Delay(delay, _wave.Time, CancellationToken.None);
                delay *= 2;
            }

            read = (await _wave.Target.GetSourceOfAuthorityAsync([id], CancellationToken.None)).Single(s => string.Equals(s.UserId, id, StringComparison.OrdinalIgnoreCase));
            if (Problem(read.Status, read.Problem, null) is { } problem)
            {
                return problem;
            }

            if (read.IsCloudManaged == true)
            {
                return StepResult.Done(null, Soa(true));
            }
        }

        return StepResult.TransientFailure(
            ReasonCodes.Format(ReasonCodes.NotCloudManaged, $"target user {id} still reads isCloudManaged={read?.IsCloudManaged?.ToString() ?? "unknown"} after {_wave.Settings.CloudManagedReadAttempts} reads; the next run writes the switch again if needed and verifies it"),
            Soa(read?.IsCloudManaged));
    }

    // stop-password-sync under the Command strategy: the person's batch was read back, the hook run for
    // those not yet stopped, and read back again (PasswordSyncHookRun); the journal keeps what the hook
    // did for the batch (exit code, duration, output hash and excerpt) beside this person's verdict.
    private static async Task<StepResult> StopPasswordSyncByHookAsync(PasswordSync.PasswordSyncHookRun hook, string id)
    {
        var answer = await hook.StopAsync(id);
        var after = new JsonObject
        {
            ["strategy"] = "command",
            ["userId"] = id,
            ["readBack"] = answer.ReadBack,
            ["batchSize"] = answer.BatchSize,
        };
        if (answer.Hook is { } run)
        {
            after["hook"] = new JsonObject
            {
                ["status"] = WireName.Of(run.Status),
                ["exitCode"] = run.ExitCode,
                ["durationMs"] = (long)run.Duration.TotalMilliseconds,
                ["outputSha256"] = run.OutputSha256,
                ["output"] = run.OutputExcerpt,
            };
        }

        var state = StepJson.Of(after);
        return answer.Kind switch
        {
            PasswordSync.SyncStopKind.AlreadyStopped => StepResult.AlreadyDone(null, ReasonCodes.Format(ReasonCodes.AlreadyStopped, $"the read-back shows target user {id}'s password sync stopped already; the hook was not run for this person")) with { After = state },
            PasswordSync.SyncStopKind.Stopped => StepResult.Done(null, state),
            PasswordSync.SyncStopKind.Unconfirmed => StepResult.Failed(
                ReasonCodes.Format(ReasonCodes.SyncStopUnconfirmed, $"the password-sync hook ran for a batch of {answer.BatchSize} ({answer.Hook?.Detail ?? "not run"}) and the read-back does not confirm target user {id}'s stop ({answer.ReadBack}); nothing legacy was touched; fix the sync engine's side and run the wave again")) with { After = state },
            _ => StepResult.TransientFailure(ReasonCodes.Format(ReasonCodes.Transient, $"whether target user {id}'s password sync is stopped could not be read back: {answer.ReadBack}; run the wave again")) with { After = state },
        };
    }

    private static string Soa(bool? cloudManaged) => StepJson.Of(new JsonObject { ["isCloudManaged"] = cloudManaged });

    // NotFound and Rejected are for good (the entity fails); Failed and Mismatch may pass (it stays unfinished).
    private StepResult? Problem(TargetWriteStatus status, string? detail, string? before) => status switch
    {
        TargetWriteStatus.Verified => null,
        TargetWriteStatus.NotFound => StepResult.Failed(ReasonCodes.Format(ReasonCodes.Rejected, $"target user {TargetId} not found in {_wave.Target.Description}{Detail(detail)}"), before),
        TargetWriteStatus.Rejected => StepResult.Failed(ReasonCodes.Format(ReasonCodes.Rejected, $"{_wave.Target.Description} refused the source-of-authority switch for {TargetId}{Detail(detail)}"), before),
        _ => StepResult.TransientFailure(ReasonCodes.Format(ReasonCodes.Transient, $"{_wave.Target.Description} did not answer for {TargetId} after its retries ({status}){Detail(detail)}; run the wave again"), before),
    };

    private static string Detail(string? detail) => detail is null ? string.Empty : ": " + detail;
}
