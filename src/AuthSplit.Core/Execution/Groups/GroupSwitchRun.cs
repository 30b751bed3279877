using System.Text.Json.Nodes;
using AuthSplit.Core.Execution.Steps;
using AuthSplit.Core.Model;
using AuthSplit.Core.Planning.Format;

namespace AuthSplit.Core.Execution.Groups;

/// <summary>
/// A cloud group still synchronised from the legacy directory, switched to cloud-managed before the wave's
/// people are deleted (entity id <c>group-switch:ID</c>): Entra drops a converted user from every group
/// still synchronised once their legacy entry is deleted, so the group moves first.
/// </summary>
internal sealed class GroupSwitchRun : JournalledRun
{
    private readonly PlannedGroupSwitch _group;

    private GroupSwitchRun(WaveContext wave, PlannedGroupSwitch group, EntityProgress progress, List<StepRecord> journal)
        : base(wave, JournalId(group.GroupId), EntityKind.GroupSwitch, group.DisplayName ?? group.GroupId, progress, journal)
    {
        _group = group;
    }

    public static string JournalId(string groupId) => "group-switch:" + groupId;

    public static async Task<GroupSwitchRun> LoadAsync(WaveContext wave, PlannedGroupSwitch group, EntityProgress progress, CancellationToken cancellationToken)
    {
        var journal = (await wave.Store.GetStepsAsync(wave.PlanId, JournalId(group.GroupId), cancellationToken)).ToList();
        return new GroupSwitchRun(wave, group, progress, journal);
    }

    protected override IReadOnlyList<StepAction> Steps => [.. _group.Steps.Select(s => s.Action)];

    protected override Task<StepResult> RunStepAsync(StepAction step, int attempt) => step switch
    {
        StepAction.SwitchGroupSourceOfAuthority => SwitchAsync(),
        StepAction.VerifyGroupCloudManaged => VerifyAsync(),
        _ => throw new ArgumentOutOfRangeException(nameof(step), step, "not a group switch step"),
    };

    // switch-group-source-of-authority: written only when the read shows the group still synchronised.
    private async Task<StepResult> SwitchAsync()
    {
        var read = (await Wave.Target.GetGroupSourceOfAuthorityAsync([_group.GroupId], CancellationToken.None)).Single();
        var before = Soa(read.IsCloudManaged);
        if (Problem(read.Status, read.Problem, before) is { } problem)
        {
            return problem;
        }

        if (read.IsCloudManaged == true)
        {
            return StepResult.AlreadyDone(before, ReasonCodes.Format(ReasonCodes.AlreadyCloudManaged, $"group {Name} already reads isCloudManaged=true; nothing was written"));
        }

        var written = (await Wave.Target.SetGroupSourceOfAuthorityAsync([_group.GroupId], true, CancellationToken.None)).Single();
        return written.Status switch
        {
            TargetWriteStatus.Verified => StepResult.Done(before, Soa(true)),
            TargetWriteStatus.Mismatch => StepResult.Done(before, StepJson.Of(new JsonObject { ["isCloudManaged"] = "written, not yet read back" })),
            _ => Problem(written.Status, written.Problem, before)!,
        };
    }

    // verify-group-cloud-managed: read back with backoff (Graph replicates writes), bounded.
    private async Task<StepResult> VerifyAsync()
    {
        var delay = Wave.Settings.CloudManagedReadDelay;
        SourceOfAuthority? read = null;
        for (var attempt = 1; attempt <= Wave.Settings.CloudManagedReadAttempts; attempt++)
        {
            if (attempt > 1)
            {
                await Task.Delay(delay, Wave.Time, CancellationToken.None);
                delay *= 2;
            }

            read = (await Wave.Target.GetGroupSourceOfAuthorityAsync([_group.GroupId], CancellationToken.None)).Single();
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
            ReasonCodes.Format(ReasonCodes.NotCloudManaged, $"group {Name} still reads isCloudManaged={read?.IsCloudManaged?.ToString() ?? "unknown"} after {Wave.Settings.CloudManagedReadAttempts} reads; the next run writes the switch again if needed"),
            Soa(read?.IsCloudManaged));
    }

    private string Name => _group.DisplayName is { } name ? $"{name} ({_group.GroupId})" : _group.GroupId;

    private static string Soa(bool? cloudManaged) => StepJson.Of(new JsonObject { ["isCloudManaged"] = cloudManaged });

    private StepResult? Problem(TargetWriteStatus status, string? detail, string? before) => status switch
    {
        TargetWriteStatus.Verified => null,
        TargetWriteStatus.NotFound => StepResult.Failed(ReasonCodes.Format(ReasonCodes.GroupSwitchRefused, $"group {Name} not found in {Wave.Target.Description}{Detail(detail)}"), before),
        TargetWriteStatus.Rejected => StepResult.Failed(ReasonCodes.Format(ReasonCodes.GroupSwitchRefused, $"{Wave.Target.Description} refused the source-of-authority switch of group {Name}{Detail(detail)}; grant Group-OnPremisesSyncBehavior.ReadWrite.All, or record that the loss is accepted (accept-group-loss)"), before),
        _ => StepResult.TransientFailure(ReasonCodes.Format(ReasonCodes.Transient, $"{Wave.Target.Description} did not answer for group {Name} after its retries ({status}){Detail(detail)}; run the wave again"), before),
    };

    private static string Detail(string? detail) => detail is null ? string.Empty : ": " + detail;
}
