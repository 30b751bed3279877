using System.Collections.Concurrent;
using AuthSplit.Core.Configuration;
using AuthSplit.Core.Directory;
using AuthSplit.Core.Execution.Safety;
using AuthSplit.Core.Planning;
using AuthSplit.Core.Planning.Format;

namespace AuthSplit.Core.Execution;

/// <summary>Everything one run of one wave shares between its entities.</summary>
internal sealed class WaveContext
{
    public required PlanDocument Plan { get; init; }

    public required string PlanId { get; init; }

    public required WaveSettings Wave { get; init; }

    public required IExecutionStore Store { get; init; }

    public required ILegacyDirectoryWriter Legacy { get; init; }

    public required ITargetTenant Target { get; init; }

    /// <summary>The wave's lease in the state store: asked before every step and every write (null only in tests of a step alone).</summary>
    public Cluster.WorkLease? Lease { get; init; }

    /// <summary>
    /// Per journal id, the done steps of the latest earlier plan of this wave that ran it (see
    /// <see cref="Steps.StepJournal.CarriedPrefix"/>): a new plan of a wave begun under another does not run them again.
    /// </summary>
    public IReadOnlyDictionary<string, IReadOnlyList<StepRecord>> EarlierPlanSteps { get; init; } = new Dictionary<string, IReadOnlyList<StepRecord>>();

    /// <summary>The plan's <c>Command</c> password-sync strategy for this run; null under the Graph switch.</summary>
    public PasswordSync.PasswordSyncHookRun? PasswordSyncHook { get; init; }

    public required WaveExecutionSettings Settings { get; init; }

    public required TimeProvider Time { get; init; }

    public required ExecutionActor Actor { get; init; }

    public required ProtectionPolicy Protection { get; init; }

    /// <summary>The running configuration's <c>Safety</c> protection, checked beside the plan's: a protection added (or a plan re-hashed without one) after approval still refuses.</summary>
    public ProtectionPolicy? ConfiguredProtection { get; init; }

    public required DeleteBudget Budget { get; init; }

    public required DirectoryDialect Dialect { get; init; }

    public required DistinguishedName SourceBase { get; init; }

    public required DistinguishedName WaveBase { get; init; }

    public DistinguishedName? QuarantineParent { get; init; }

    /// <summary>Normalised DNs of the entities this wave removes: a group among them may keep its last member until its own delete.</summary>
    public required IReadOnlySet<string> RemovedInWave { get; init; }

    /// <summary>
    /// One lock per group whose membership this run edits: the check that a group keeps a member and the
    /// removal of the entity's DN happen under it, so two members leaving at once cannot both pass the
    /// check and leave the group empty.
    /// </summary>
    public ConcurrentDictionary<string, SemaphoreSlim> GroupLocks { get; } = new(StringComparer.Ordinal);

    /// <summary>Why the wave's deletes must wait (systems not yet cut over), or null: set once the systems have run.</summary>
    public string? DeletesHeld { get; set; }

    /// <summary>Synchronised cloud groups of the plan not switched to cloud-managed yet, by id, with why: their members' deletes wait.</summary>
    public IReadOnlyDictionary<string, string> UnswitchedGroups { get; set; } = new Dictionary<string, string>();

    /// <summary>Why this entity's delete must wait now, or null.</summary>
    public string? DeleteHoldOf(PlannedEntity entity)
    {
        if (DeletesHeld is not null)
        {
            return DeletesHeld;
        }

        if (entity.SynchronisedCloudGroup is { } cloudGroup && UnswitchedGroups.TryGetValue(cloudGroup, out var counterpart))
        {
            return $"the legacy group's cloud counterpart is still synchronised from it (deleting the legacy group would delete the cloud group at the next sync): {counterpart}; switch it or record accept-group-loss";
        }

        var waiting = (entity.PasswordSync?.SynchronisedGroups ?? []).Where(UnswitchedGroups.ContainsKey).Select(g => UnswitchedGroups[g]).ToArray();
        return waiting.Length == 0
            ? null
            : $"the person is in synchronised cloud groups not yet switched to cloud-managed (deleting the legacy entry would drop them from these groups): {string.Join("; ", waiting)}; switch them or record accept-group-loss";
    }

    public int HoldDays => Plan.Settings.Removal.HoldDays;

    public IReadOnlyList<string> FingerprintAttributes => Plan.Settings.FingerprintAttributes;
}
