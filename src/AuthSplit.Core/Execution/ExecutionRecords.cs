using AuthSplit.Core.Model;
using AuthSplit.Core.Planning.Format;

namespace AuthSplit.Core.Execution;

/// <summary>Where an entity of a wave stands. <see cref="Done"/>, <see cref="Stale"/>, <see cref="Refused"/> and <see cref="Failed"/> are final for a run; a failed entity is tried again when the wave is run again.</summary>
public enum EntityState
{
    Pending,
    InProgress,

    /// <summary>Disabled and waiting for its hold period (<c>Removal:HoldDays</c>) to expire before the delete.</summary>
    Held,

    Done,

    /// <summary>The live entry no longer matches the plan's precondition (moved, changed, vanished, another target account): never improvised around.</summary>
    Stale,

    /// <summary>A safety rail refused it at run time (protected, outside the wave, delete budget reached).</summary>
    Refused,

    /// <summary>A permanent failure (the server or Graph refused); the reason is journalled.</summary>
    Failed,

    /// <summary>
    /// In the wave but not planned for removal (protected, blocked or kept in the plan): registered with
    /// this final state and the plan's reason, so evidence counts every entity of the wave, and kept apart
    /// from <see cref="Refused"/>, which a run-time rail decided.
    /// </summary>
    Excluded,
}

/// <summary>What one attempt at one step came to.</summary>
public enum StepOutcome
{
    /// <summary>The step acted and read back the wanted state.</summary>
    Done,

    /// <summary>The wanted state was already there: nothing was written (the "ensure" found it done).</summary>
    AlreadyDone,

    /// <summary>The step cannot finish yet (a hold period); the entity waits.</summary>
    Waiting,

    Stale,
    Refused,
    Failed,

    /// <summary>
    /// Written just before an irreversible write (the legacy delete): if the process dies after the write
    /// and before its outcome is journalled, the next run knows that an absent entry is its own doing,
    /// not a vanished one.
    /// </summary>
    Started,
}

/// <summary>Who runs and where: the journal and the ledger record both with every step.</summary>
public sealed record ExecutionActor(string Operator, string Node);

/// <summary>
/// One journal row: one attempt at one step of one entity. <see cref="Before"/> and <see cref="After"/>
/// are compact JSON of what the step read before acting and after its read-back (DNs and attribute
/// values the step relied on; never a credential, never a whole backup).
/// </summary>
public sealed record StepRecord
{
    public required string PlanId { get; init; }

    public required string Wave { get; init; }

    public required string EntityId { get; init; }

    public required StepAction Step { get; init; }

    public required StepOutcome Outcome { get; init; }

    /// <summary>1 for the first attempt at this step of this entity, across runs.</summary>
    public required int Attempt { get; init; }

    public string? Before { get; init; }

    public string? After { get; init; }

    /// <summary>Why, for anything but <see cref="StepOutcome.Done"/>; a stable code first (<c>stale-moved: …</c>). An <see cref="StepOutcome.AlreadyDone"/> record may say why nothing was written (<c>already-cloud-managed: …</c>).</summary>
    public string? Reason { get; init; }

    public required ExecutionActor Actor { get; init; }

    public required DateTimeOffset At { get; init; }
}

/// <summary>Where an entity stands in a wave, as the journal has it.</summary>
public sealed record EntityProgress
{
    public required string PlanId { get; init; }

    public required string Wave { get; init; }

    public required string EntityId { get; init; }

    public required string Dn { get; init; }

    public required EntityKind Kind { get; init; }

    public required EntityState State { get; init; }

    /// <summary>The last step recorded, null before the first.</summary>
    public StepAction? LastStep { get; init; }

    /// <summary>Attempts at steps of this entity, across runs.</summary>
    public required int Attempts { get; init; }

    public string? Reason { get; init; }

    /// <summary>For <see cref="EntityState.Held"/>: when the hold expires.</summary>
    public DateTimeOffset? HoldUntil { get; init; }

    public required DateTimeOffset UpdatedAt { get; init; }
}

public enum WaveStatus
{
    NotStarted,
    Running,

    /// <summary>Some entities wait for their hold to expire; the hold-expiry trigger finishes them.</summary>
    Holding,

    /// <summary>Stopped between steps (Ctrl-C, SIGTERM, pause, an unreachable system); running it again resumes.</summary>
    Interrupted,

    /// <summary>Every entity reached a final state.</summary>
    Completed,
}

/// <summary>A wave of a plan as the journal has it.</summary>
public sealed record WaveRun
{
    public required string PlanId { get; init; }

    public required string Wave { get; init; }

    public required WaveStatus Status { get; init; }

    public required ExecutionActor StartedBy { get; init; }

    public required DateTimeOffset StartedAt { get; init; }

    public DateTimeOffset? CompletedAt { get; init; }

    /// <summary>Why the last run stopped, when it did not complete.</summary>
    public string? Reason { get; init; }

    /// <summary>The operator is also an approver, allowed by <c>Execution:AllowSelfApproval</c>: the journal and the ledger record it.</summary>
    public bool SelfApproved { get; init; }
}

/// <summary>An approval of a plan (by its id, which is the hash of its content).</summary>
public sealed record Approval(string PlanId, string ApprovedBy, DateTimeOffset ApprovedAt, string? Note);

/// <summary>A pause of a wave by name, whatever plan runs it.</summary>
public sealed record WavePause(string Wave, bool Paused, string By, DateTimeOffset At);

/// <summary>
/// Everything needed to re-create a legacy entry: the whole entry as read before the first legacy write
/// (every user and operational attribute) and every group that listed it. Personal data: the store
/// keeps it encrypted and it never leaves the store (evidence carries ids and DNs only).
/// </summary>
public sealed record EntryBackup
{
    public required string PlanId { get; init; }

    public required string Wave { get; init; }

    public required string EntityId { get; init; }

    public required DirectoryEntry Entry { get; init; }

    public required IReadOnlyList<GroupListing> Groups { get; init; }

    public required DateTimeOffset TakenAt { get; init; }

    /// <summary><c>sha256:</c> of the backup's canonical plaintext, recorded in the journal and the ledger so evidence can name it without holding it.</summary>
    public string? Sha256 { get; init; }
}

/// <summary>A restore of a deleted legacy entry from its backup. <see cref="Data"/> is compact JSON of what came back (DN, groups, notes; no attribute values).</summary>
public sealed record RestoreRecord(string PlanId, string Wave, string EntityId, ExecutionActor Actor, DateTimeOffset At, string Data);

/// <summary>
/// One action of a rollback (<c>authsplit rollback</c>): what was done to undo the wave's work on an entity or
/// a system, by whom, and what was read before and after. <see cref="Data"/> is compact JSON (DNs,
/// attribute names and states, what Graph read; never a password, not even a hash).
/// </summary>
/// <param name="Action">The action's stable name: <c>begun</c>, <c>re-enable-legacy-account</c>, <c>move-back-from-quarantine</c>, <c>flag-waiting</c>, <c>switch-back</c>, <c>sync-waiting</c>, <c>completed</c>, <c>refused</c>.</param>
public sealed record RollbackRecord(string PlanId, string Wave, string EntityId, string Action, ExecutionActor Actor, DateTimeOffset At, string Data);

/// <summary>What a ledger record is about.</summary>
public enum LedgerKind
{
    Approval,
    WaveStarted,
    Step,
    WaveStopped,
    WaveCompleted,
    Pause,
    Restore,

    /// <summary>A wave the gate refused to start (not approved, plan edited, self-approval, dependency, paused): who tried, why.</summary>
    WaveRefused,

    /// <summary>An event of a manual gate (the tenant's password-sync switch-off): refused, overridden, waiting, verified.</summary>
    Gate,

    /// <summary>An action of a rollback of an entity or a system (<see cref="RollbackRecord"/>).</summary>
    Rollback,
}

/// <summary>The manual gates: steps only a person with rights the tool must not hold can take, which the tool checks and records.</summary>
public static class GateNames
{
    /// <summary>The tenant's password hash sync switched off, after the last wave.</summary>
    public const string PasswordSync = "password-sync";
}

public enum GateEventKind
{
    /// <summary>The gate would not open: waves are unfinished (listed in the reason).</summary>
    Refused,

    /// <summary>Opened although waves are unfinished, by a recorded decision: who, why.</summary>
    Overridden,

    /// <summary>The operator was told what the administrator must do; the tool waits for the read to show it done.</summary>
    Waiting,

    /// <summary>The read showed it done (what was read is in the record).</summary>
    Verified,
}

/// <summary>
/// One event of a manual gate, as a ledger record (entity id <c>gate:NAME</c>, in the last wave's
/// evidence): who, when, what the tool read from the tenant, and why.
/// </summary>
public sealed record GateEvent
{
    public required string Gate { get; init; }

    public required GateEventKind Kind { get; init; }

    /// <summary>The wave whose evidence the event belongs to (the last wave by order).</summary>
    public required string Wave { get; init; }

    public required ExecutionActor Actor { get; init; }

    public required DateTimeOffset At { get; init; }

    /// <summary>What was read: the tenant's synchronisation object id.</summary>
    public string? TenantId { get; init; }

    /// <summary>What was read: <c>features.passwordSyncEnabled</c>.</summary>
    public bool? PasswordSyncEnabled { get; init; }

    public string? Reason { get; init; }
}

/// <summary>A run the gate refused: on record in the ledger, so evidence shows attempts as well as runs.</summary>
public sealed record WaveRefusal(string PlanId, string Wave, ExecutionRefusalCode Code, string Reason, ExecutionActor Actor, DateTimeOffset At);

/// <summary>
/// One record of the append-only, hash-chained ledger per-wave evidence is exported from. Each record
/// carries the hash of the one before (<see cref="PreviousHash"/>) and its own (<see cref="Hash"/>,
/// computed by <c>Evidence.LedgerChain</c> over its canonical form), so a removed, edited or reordered
/// record breaks the chain.
/// </summary>
public sealed record LedgerRecord
{
    /// <summary>1-based position in the ledger.</summary>
    public required long Sequence { get; init; }

    public required DateTimeOffset At { get; init; }

    public required LedgerKind Kind { get; init; }

    public required string PlanId { get; init; }

    /// <summary>Null for records about the whole plan (an approval).</summary>
    public string? Wave { get; init; }

    public string? EntityId { get; init; }

    public StepAction? Step { get; init; }

    public StepOutcome? Outcome { get; init; }

    public required string Actor { get; init; }

    public required string Node { get; init; }

    /// <summary>Compact JSON with the rest (before/after, reason, backup hash, approval note...).</summary>
    public string? Data { get; init; }

    public required string PreviousHash { get; init; }

    public required string Hash { get; init; }
}
