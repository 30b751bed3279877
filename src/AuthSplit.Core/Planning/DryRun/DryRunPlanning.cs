using AuthSplit.Core.Errors;
using AuthSplit.Core.Model;
using AuthSplit.Core.Planning.Format;
using AuthSplit.Core.Planning.Systems;

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
        var (inventory, inventoryRead, inventoryBearsOnPlan) = await ReadInventoryAsync(request, observer, cancellationToken);
        var inventoryInput = inventoryBearsOnPlan ? inventoryRead : null;

        var semantics = await SourceSemantics.PrepareAsync(request.Legacy, request.Settings, observer, cancellationToken);
        var settings = semantics.Settings;
        var planner = new Planner(settings, users, request.Decisions, inventory);

        // A snapshot holds whole entries; without one, only what the plan relies on is read (and hashed),
        // and for systems the operational attributes their accounts' last authentication is kept in.
        var attributes = settings.Options.Systems.Count == 0 ? settings.FingerprintAttributes : [.. settings.FingerprintAttributes.Union(LastAuthentication.ReadAttributes(settings.Dialect), StringComparer.Ordinal)];
        var source = request.Legacy.OpenPlanningRead(request.Snapshot is null ? attributes : null);
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
            await request.Snapshot.CommitAsync(new SavedReads(sourceInput, targetInput, inventoryRead, semantics.ObjectCategories), cancellationToken);
        }

        var inputs = new PlanInputs
        {
            Source = sourceInput,
            Target = targetInput,
            ConfigSha256 = PlanSerializer.HashSettings(settings.Echo),
            Decisions = request.DecisionsInput,
            TargetInventory = inventoryInput,
        };
        var outcome = planner.Complete(inputs, request.PreviousPlan, request.AcceptScopeDrop, computePlanId: false);
        return new DryRunOutcome(inputs, outcome.Plan, outcome.Refusals);
    }

    /// <summary>
    /// Reads the target's groups, applications and service principals whenever the target can give them:
    /// whether any of the plan's people is in a synchronised group is only known once the legacy side is
    /// planned, and a saved snapshot should hold them for any later plan. A target that cannot (a snapshot
    /// saved before inventories existed) is an error when systems are configured (their service principals
    /// must be checked), otherwise a warning: the plan is made without checking synchronised groups. The
    /// read is recorded in the plan's inputs only when it bears on the plan (systems configured, or
    /// synchronised groups found), so a plan it changes nothing in reads as before.
    /// </summary>
    private static async Task<(TargetInventory? Inventory, InputDescription? Read, bool BearsOnPlan)> ReadInventoryAsync(DryRunRequest request, IDryRunObserver observer, CancellationToken cancellationToken)
    {
        var systems = request.Settings.Options.Systems.Count;
        TargetInventory inventory;
        try
        {
            inventory = await request.Target.ReadInventoryAsync(cancellationToken);
        }
        catch (InputException ex) when (systems == 0)
        {
            observer.TargetInventoryUnavailable(request.Target, ex.Message);
            return (null, null, false);
        }
        catch (NotSupportedException ex)
        {
            // A target source that has no inventory read at all.
            if (systems > 0)
            {
                throw new InputException("target-inventory-missing", $"{systems} system(s) are configured, so the plan must check their service principals, but {request.Target.Description} cannot read the target's inventory: {ex.Message}");
            }

            observer.TargetInventoryUnavailable(request.Target, ex.Message);
            return (null, null, false);
        }

        var read = request.Target.DescribeInventoryRead();
        observer.TargetInventoryRead(request.Target, read);
        var bearsOnPlan = systems > 0 || inventory.Groups.Any(g => g.Group.OnPremisesSyncEnabled == true);
        return (inventory, read, bearsOnPlan);
    }

    private sealed class SilentObserver : IDryRunObserver, IProgress<int>
    {
        public void Report(int value)
        {
        }
    }
}
