using AuthSplit.Core.Model;
using AuthSplit.Core.Planning.Format;

namespace AuthSplit.Core.Planning.DryRun;

/// <summary>
/// The planning use case, as <c>authsplit plan</c>, the executor's re-check and <c>evidence verify --live</c>
/// need it: read the target's users, compile the filters against the legacy directory's semantics, stream
/// the legacy entries through the <see cref="Planner"/>, keep the snapshot of what the live reads saw, and
/// complete the plan with the hash of everything read. Nothing here names a technology: the sources are
/// ports, and each hashes what it read (<see cref="ILegacyDirectorySource.DescribeRead"/>,
/// <see cref="ITargetDirectorySource.DescribeRead"/>), so a plan's inputs are exactly what was planned.
/// </summary>
public static class DryRunPlanning
{
    private static readonly SilentObserver Silent = new();

    public static async Task<DryRunOutcome> RunAsync(DryRunRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var observer = request.Observer ?? Silent;

        var users = new List<TargetUser>();
        await foreach (var user in request.Target.ReadUsersAsync(cancellationToken))
        {
            users.Add(user);
        }

        var targetInput = request.Target.DescribeRead();
        observer.TargetRead(request.Target, targetInput);

        var semantics = await SourceSemantics.PrepareAsync(request.Legacy, request.Settings, observer, cancellationToken);
        var settings = semantics.Settings;
        var planner = new Planner(settings, users, request.Decisions);

        // A snapshot holds whole entries; without one, only what the plan relies on is read (and hashed).
        var source = request.Legacy.OpenPlanningRead(request.Snapshot is null ? settings.FingerprintAttributes : null);
        await EntryPipeline.RunAsync(source.ReadEntriesAsync(cancellationToken), entry =>
        {
            planner.Add(entry);
            return ValueTask.CompletedTask;
        }, request.Progress ?? Silent, cancellationToken);
        var sourceRead = source.DescribeRead();
        observer.SourceRead(source, sourceRead);
        var sourceInput = semantics.Describe(sourceRead);

        // The snapshot replaces the saved one only once both sides were read.
        if (request.Snapshot is not null)
        {
            await request.Snapshot.CommitAsync(semantics.ObjectCategories, cancellationToken);
        }

        var inputs = new PlanInputs
        {
            Source = sourceInput,
            Target = targetInput,
            ConfigSha256 = PlanSerializer.HashSettings(settings.Echo),
            Decisions = request.DecisionsInput,
        };
        var outcome = planner.Complete(inputs, request.PreviousPlan, request.AcceptScopeDrop, computePlanId: false);
        return new DryRunOutcome(inputs, outcome.Plan, outcome.Refusals);
    }

    private sealed class SilentObserver : IDryRunObserver, IProgress<int>
    {
        public void Report(int value)
        {
        }
    }
}
