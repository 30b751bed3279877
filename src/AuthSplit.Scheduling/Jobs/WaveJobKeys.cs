using Quartz;

namespace AuthSplit.Scheduling.Jobs;

/// <summary>
/// The identities and data of wave jobs. One job per (plan id, wave), so a wave scheduled twice is one
/// job whose triggers <see cref="DisallowConcurrentExecutionAttribute"/> serialises; the job data is the
/// plan id, the wave and the operator, nothing else: the plan itself is read from the state store.
/// </summary>
public static class WaveJobKeys
{
    public const string Group = "authsplit-waves";

    internal const string PlanIdKey = "planId";
    internal const string WaveKey = "wave";
    internal const string OperatorKey = "operator";
    internal const string PartIndexKey = "partIndex";
    internal const string PartCountKey = "partCount";

    /// <summary>Trigger data (not job data): set on the trigger the start-up check schedules for a wave the journal says was left running.</summary>
    internal const string ResumeKey = "resume";

    public static JobKey Job(string planId, string wave) => new(Name(planId, wave), Group);

    /// <summary>The one trigger <c>authsplit schedule</c> sets; scheduling the wave again replaces it.</summary>
    public static TriggerKey Scheduled(string planId, string wave) => new(Name(planId, wave) + "/scheduled", Group);

    /// <summary>The one trigger that finishes held entities when their hold expires.</summary>
    public static TriggerKey HoldExpiry(string planId, string wave) => new(Name(planId, wave) + "/hold-expiry", Group);

    /// <summary>A trigger of its own per foreground run, so the run waits for its own firing and not another one's.</summary>
    internal static TriggerKey Run(string planId, string wave) => new(Name(planId, wave) + "/run/" + Guid.NewGuid().ToString("N"), Group);

    /// <summary>The trigger the start-up check sets for a wave left running by a crash that Quartz did not recover.</summary>
    internal static TriggerKey Resume(string planId, string wave) => new(Name(planId, wave) + "/resume", Group);

    /// <summary>One part of a partitioned wave: a job of its own, so the parts run at once on the cluster's nodes.</summary>
    public static JobKey PartJob(string planId, string wave, int index, int count) => new(PartName(planId, wave, index, count), Group);

    /// <summary>The one trigger of a part's job (set at the fan-out, set again when its lease is held elsewhere), in its wave's parts group.</summary>
    internal static TriggerKey Part(string planId, string wave, int index, int count) => new(PartName(planId, wave, index, count) + "/part", PartsTriggerGroup(planId, wave));

    /// <summary>Every wave's part triggers are in a trigger group with this prefix; each node runs at most <c>Execution:PartsPerNode</c> of each such group at once.</summary>
    public const string PartsTriggerGroupPrefix = "authsplit-parts:";

    // Quartz's TRIGGER_GROUP column holds 200 characters.
    private const int MaxTriggerGroupLength = 200;

    /// <summary>
    /// The trigger group of a wave's parts: one per wave, so the per-node limit (Quartz's execution limits,
    /// derived from the trigger group: a part trigger carries no execution group, which is what a serve node
    /// serves) is on the parts of one wave, and a node busy with one wave's part still takes another wave's.
    /// Readable when it fits the column, else a hash of the wave's name.
    /// </summary>
    public static string PartsTriggerGroup(string planId, string wave)
    {
        var readable = PartsTriggerGroupPrefix + Name(planId, wave);
        return readable.Length <= MaxTriggerGroupLength
            ? readable
            : PartsTriggerGroupPrefix + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(Name(planId, wave))));
    }

    /// <summary>
    /// Earlier versions put each wave's parts in an execution group of this prefix (in the trigger group
    /// <see cref="Group"/>); a serve node serves only triggers with no execution group, so a node that finds
    /// such a trigger clears its group.
    /// </summary>
    internal const string LegacyPartsExecutionGroupPrefix = "authsplit-parts:";

    /// <summary>The prefix of a foreground run's own execution group; the rest is its scheduler's instance id.</summary>
    public const string ForegroundRunExecutionGroupPrefix = "authsplit-run:";

    /// <summary>
    /// The execution group of a foreground run's trigger on a cluster: the run's scheduler serves this group
    /// alone, and no other node serves it, so the run executes its own wave and nothing else.
    /// </summary>
    public static string ForegroundRunExecutionGroup(string instanceId) => ForegroundRunExecutionGroupPrefix + instanceId;

    /// <summary>The scheduler instance id a foreground run's execution group names, or null for any other group.</summary>
    internal static string? ForegroundRunInstanceOf(string? executionGroup) =>
        executionGroup is not null && executionGroup.StartsWith(ForegroundRunExecutionGroupPrefix, StringComparison.Ordinal) && executionGroup.Length > ForegroundRunExecutionGroupPrefix.Length
            ? executionGroup[ForegroundRunExecutionGroupPrefix.Length..]
            : null;

    internal static bool IsPart(TriggerKey key) =>
        (key.Group == Group || key.Group.StartsWith(PartsTriggerGroupPrefix, StringComparison.Ordinal)) && key.Name.EndsWith("/part", StringComparison.Ordinal);

    internal static JobDataMap Data(string planId, string wave, string @operator) => new()
    {
        [PlanIdKey] = planId,
        [WaveKey] = wave,
        [OperatorKey] = @operator,
    };

    private static string Name(string planId, string wave) => planId + "/" + wave;

    private static string PartName(string planId, string wave, int index, int count) => Name(planId, wave) + "#" + index + "-of-" + count;
}
