namespace AuthSplit.Core.Execution;

/// <summary>
/// The durable state of execution: approvals, the journal, pauses, backups and the ledger, in one store
/// (SQLite by default; PostgreSQL for a cluster). Every write that the executor reports is durable when
/// the call returns; a step's journal row, its entity's new state and its ledger record are written in
/// one transaction, so a crash never leaves one without the others.
/// </summary>
public interface IExecutionStore : IApprovalStore, IWaveJournal, IBackupStore, ILedgerReader, Cluster.IWorkLeases
{
    /// <summary>Where the store is, for messages (a path or host/database; never a connection string with a password).</summary>
    string Description { get; }
}

public interface IApprovalStore
{
    /// <summary>Records an approval and its ledger record. Approving the same plan again by the same person records nothing new and returns the first approval.</summary>
    Task<Approval> ApproveAsync(Approval approval, CancellationToken cancellationToken);

    Task<IReadOnlyList<Approval>> GetApprovalsAsync(string planId, CancellationToken cancellationToken);

    /// <summary>
    /// Keeps the approved plan's exact bytes: a scheduled job carries only the plan id and the wave, and
    /// the executor reads the plan from here and checks again that its bytes hash to its id. Saving the
    /// same id again is a no-op.
    /// </summary>
    Task SavePlanAsync(string planId, ReadOnlyMemory<byte> planJson, CancellationToken cancellationToken);

    /// <summary>The plan's bytes as approved, or null when no plan with that id was saved.</summary>
    Task<byte[]?> GetPlanAsync(string planId, CancellationToken cancellationToken);
}

public interface IWaveJournal
{
    Task<WaveRun?> GetWaveAsync(string planId, string wave, CancellationToken cancellationToken);

    /// <summary>Every run of a wave by name (any plan), newest first: what <c>DependsOn</c> and <c>status</c> read.</summary>
    Task<IReadOnlyList<WaveRun>> GetWaveRunsAsync(string wave, CancellationToken cancellationToken);

    /// <summary>Every wave run whose status is <see cref="WaveStatus.Running"/>: started and never recorded as stopped or complete (a process killed mid-wave).</summary>
    Task<IReadOnlyList<WaveRun>> GetRunningWavesAsync(CancellationToken cancellationToken);

    /// <summary>Records the wave's new status (and its ledger record: started, stopped or completed).</summary>
    Task SaveWaveAsync(WaveRun run, CancellationToken cancellationToken);

    /// <summary>
    /// Registers the wave's entities in the state and with the reason given (<see cref="EntityState.Pending"/>
    /// for a removal, <see cref="EntityState.Excluded"/> with the plan's reason for the others); entities
    /// already registered keep their state (resume).
    /// </summary>
    Task RegisterEntitiesAsync(IReadOnlyList<EntityProgress> entities, CancellationToken cancellationToken);

    IAsyncEnumerable<EntityProgress> ReadEntitiesAsync(string planId, string wave, CancellationToken cancellationToken);

    Task<EntityProgress?> GetEntityAsync(string planId, string entityId, CancellationToken cancellationToken);

    /// <summary>The journal rows of one entity, oldest first.</summary>
    Task<IReadOnlyList<StepRecord>> GetStepsAsync(string planId, string entityId, CancellationToken cancellationToken);

    /// <summary>
    /// The done and already-done journal rows of <paramref name="wave"/> under every plan but <paramref name="exceptPlanId"/>,
    /// oldest first: what earlier approved plans of the wave did, which a new plan of it carries over.
    /// </summary>
    Task<IReadOnlyList<StepRecord>> GetDoneStepsOfOtherPlansAsync(string wave, string exceptPlanId, CancellationToken cancellationToken);

    /// <summary>
    /// Records one step: the journal row, the entity's new progress and the ledger record, in one
    /// transaction. Returns only when all three are durable.
    /// </summary>
    Task RecordStepAsync(StepRecord step, EntityProgress entity, CancellationToken cancellationToken);

    /// <summary>How many <c>delete-legacy-entry</c> steps of this plan's wave are done: what <c>MaxDeletesPerWave</c> is checked against.</summary>
    Task<int> CountDeletesAsync(string planId, string wave, CancellationToken cancellationToken);

    /// <summary>Records a refused run of a wave as a ledger record (<see cref="LedgerKind.WaveRefused"/>); durable when the call returns.</summary>
    Task RecordRefusalAsync(WaveRefusal refusal, CancellationToken cancellationToken);

    /// <summary>Records an event of a manual gate as a ledger record; durable when the call returns.</summary>
    Task RecordGateEventAsync(GateEvent gateEvent, CancellationToken cancellationToken);

    /// <summary>Every recorded event of the gate, oldest first (a gate command resumes from them).</summary>
    Task<IReadOnlyList<GateEvent>> GetGateEventsAsync(string gate, CancellationToken cancellationToken);

    Task<WavePause?> GetPauseAsync(string wave, CancellationToken cancellationToken);

    Task SetPauseAsync(WavePause pause, CancellationToken cancellationToken);
}

public interface IBackupStore
{
    /// <summary>
    /// Stores the backup, encrypted, before any legacy write. A backup already stored for the same plan
    /// and entity is kept (it holds the entry as it was before the first write) and returned instead.
    /// </summary>
    Task<EntryBackup> StoreBackupAsync(EntryBackup backup, CancellationToken cancellationToken);

    /// <summary>The newest backup of the entity, decrypted; null when there is none.</summary>
    Task<EntryBackup?> GetBackupAsync(string entityId, CancellationToken cancellationToken);

    /// <summary>Records a restore from a backup (who, when, what came back) as a ledger record of its wave; durable when the call returns.</summary>
    Task<LedgerRecord> RecordRestoreAsync(RestoreRecord restore, CancellationToken cancellationToken);

    /// <summary>
    /// Records one action of a rollback as a ledger record of its wave and, with <paramref name="entity"/>,
    /// the entity's new progress (the journal's state says it was rolled back), in one transaction; durable
    /// when the call returns.
    /// </summary>
    Task<LedgerRecord> RecordRollbackAsync(RollbackRecord rollback, EntityProgress? entity, CancellationToken cancellationToken);
}

public interface ILedgerReader
{
    /// <summary>The ledger in order; with <paramref name="wave"/>, only that wave's records and the approvals of its plans.</summary>
    IAsyncEnumerable<LedgerRecord> ReadLedgerAsync(string? wave, CancellationToken cancellationToken);
}
