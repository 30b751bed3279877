namespace AuthSplit.Core.Execution;

/// <summary>
/// Runs one wave of an approved plan to the end or to a clean stop. The scheduler's wave job calls it
/// and nothing else executes a wave: the job carries only the plan id and the wave; the plan comes from
/// the state store (<see cref="IApprovalStore.GetPlanAsync"/>), and every check (approval, four eyes,
/// dependencies, pause, the plan's hash) is made again inside.
/// </summary>
public interface IWaveExecution
{
    Task<WaveResult> ExecuteAsync(WaveJobRequest request, CancellationToken cancellationToken);
}

/// <param name="PlanId">The approved plan's id.</param>
/// <param name="Wave">The wave's name.</param>
/// <param name="Operator">Who executes (the <c>--as</c> name, else the OS user); checked against the approvers.</param>
/// <param name="Recovering">True when the scheduler fires the job again after a crash (Quartz's <c>context.Recovering</c>); the journal decides what is left either way.</param>
public sealed record WaveJobRequest(string PlanId, string Wave, string Operator, bool Recovering)
{
    /// <summary>Set on the job of one part of a partitioned wave: only that part's entities run.</summary>
    public Cluster.WavePartition? Partition { get; init; }

    /// <summary>
    /// True when the caller can run parts as jobs of their own (a <c>serve</c> node of a cluster): with
    /// <c>Execution:Partitions</c> above 1 the run then cuts the wave's systems over and switches its groups,
    /// and hands the entities to <see cref="WaveResult.Partitions"/> part jobs (<see cref="WaveResultKind.Partitioned"/>).
    /// </summary>
    public bool MayPartition { get; init; }
}

/// <summary>How a run of a wave ended.</summary>
public enum WaveResultKind
{
    /// <summary>Every entity reached a final state and none failed.</summary>
    Completed,

    /// <summary>Every entity reached a final state, some failed: running the wave again retries them.</summary>
    CompletedWithFailures,

    /// <summary>Some entities wait for their hold period; the hold-expiry trigger (or a later run) finishes them.</summary>
    Holding,

    /// <summary>Stopped between steps (cancellation, pause, an unreachable system); running it again resumes.</summary>
    Interrupted,

    /// <summary>Nothing ran: the plan or the situation does not allow it (<see cref="WaveResult.Refusal"/> says why).</summary>
    Refused,

    /// <summary>The wave's systems and groups are done and its entities are handed to <see cref="WaveResult.Partitions"/> part jobs; the last part to end concludes the wave.</summary>
    Partitioned,

    /// <summary>One part of a partitioned wave ended; the wave's own status is concluded by the last part.</summary>
    PartEnded,
}

/// <summary>A refusal to run a wave: a stable code (the CLI maps each to its exit code) and what to do.</summary>
public sealed record ExecutionRefusal(ExecutionRefusalCode Code, string Message);

public enum ExecutionRefusalCode
{
    PlanNotApproved,
    PlanTampered,
    SelfApproval,
    DependencyIncomplete,
    WavePaused,
    WaveUnknown,
    PlanNotFound,

    /// <summary>Another process holds the wave's lease (it is running the wave, or died less than a lease ago).</summary>
    WaveHeldElsewhere,
}

/// <summary>The outcome of one run of a wave, counted from the journal.</summary>
public sealed record WaveResult
{
    public required WaveResultKind Kind { get; init; }

    public required string PlanId { get; init; }

    public required string Wave { get; init; }

    /// <summary>Entities per state at the end of the run (from the journal, not from counters kept elsewhere).</summary>
    public required IReadOnlyDictionary<EntityState, int> Entities { get; init; }

    /// <summary>Set when <see cref="Kind"/> is <see cref="WaveResultKind.Refused"/>.</summary>
    public ExecutionRefusal? Refusal { get; init; }

    /// <summary>Why the run stopped early, when it did.</summary>
    public string? Reason { get; init; }

    /// <summary>True when the run found the wave already complete and changed nothing.</summary>
    public bool NothingToDo { get; init; }

    /// <summary>With <see cref="WaveResultKind.Partitioned"/>: how many part jobs to start.</summary>
    public int Partitions { get; init; }

    /// <summary>With <see cref="ExecutionRefusalCode.WaveHeldElsewhere"/>: until when the other holder's lease runs (a scheduler tries again then).</summary>
    public DateTimeOffset? LeaseHeldUntil { get; init; }
}
