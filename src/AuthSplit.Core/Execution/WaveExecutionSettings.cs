using AuthSplit.Core.Configuration;
using AuthSplit.Core.Directory;

namespace AuthSplit.Core.Execution;

/// <summary>
/// What the executor takes from the running configuration. Everything that decides <em>what</em> is done
/// (waves, protection, quarantine, hold, delete budget) comes from the approved plan instead; these
/// settings only say how (concurrency, pacing of read-backs, the OpenLDAP disable method) and who.
/// </summary>
public sealed record WaveExecutionSettings
{
    /// <summary>Entities worked on at once (<c>Execution:Concurrency</c>); each entity's steps stay in order.</summary>
    public int Concurrency { get; init; } = ExecutionDefaults.Concurrency;

    /// <summary><c>Execution:AllowSelfApproval</c>.</summary>
    public bool AllowSelfApproval { get; init; }

    /// <summary><c>Removal:OpenLdapDisable</c>: how an OpenLDAP account is disabled.</summary>
    public OpenLdapDisableMethod OpenLdapDisable { get; init; } = OpenLdapDisableMethod.PasswordPolicyLock;

    /// <summary>The account the tool binds with (<c>Source:BindDn</c>): a built-in rail, not part of the plan.</summary>
    public DistinguishedName? BindDn { get; init; }

    /// <summary>Reads of <c>onPremisesSyncBehavior</c> by verify-cloud-managed before it gives up for this run (<c>Target:Limits:ReadBackAttempts</c>).</summary>
    public int CloudManagedReadAttempts { get; init; } = 4;

    /// <summary>Wait before the second read; doubled before each further one (<c>Target:Limits:ReadBackDelaySeconds</c>).</summary>
    public TimeSpan CloudManagedReadDelay { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Users gathered into one target call from entities in flight at once (Graph takes 20 per <c>$batch</c>); 1 sends each entity's call alone.</summary>
    public int TargetBatchSize { get; init; } = 20;

    /// <summary>How long the first of a gathering waits for others before its call goes anyway.</summary>
    public TimeSpan TargetBatchLinger { get; init; } = TimeSpan.FromMilliseconds(5);

    /// <summary>The running configuration's protection (<c>Safety:ProtectedFilter</c>, <c>ProtectedDns</c>), refused at run time beside the approved plan's own.</summary>
    public ConfiguredSafety? ConfiguredSafety { get; init; }

    /// <summary>
    /// <c>Execution:RetryRounds</c>: further rounds within the run for the entities that ended a round
    /// unfinished after a transient failure, or met an unreachable directory or tenant.
    /// </summary>
    public int RetryRounds { get; init; } = ExecutionDefaults.RetryRounds;

    /// <summary><c>Execution:RetryRoundDelaySeconds</c>: the wait before the first further round, doubled before each next one.</summary>
    public TimeSpan RetryRoundDelay { get; init; } = TimeSpan.FromSeconds(ExecutionDefaults.RetryRoundDelaySeconds);

    /// <summary>How often a running wave looks at its pause flag.</summary>
    public TimeSpan PauseCheckInterval { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary><c>Execution:LeaseSeconds</c>: the wave's lease in the state store (see <see cref="Cluster.LeaseTiming"/>).</summary>
    public Cluster.LeaseTiming Lease { get; init; } = Cluster.LeaseTiming.Default;

    /// <summary><c>Execution:Partitions</c>: parts a served wave's entities are cut into, each a job any node of the cluster may run (1: the whole wave in one job).</summary>
    public int Partitions { get; init; } = 1;

    /// <summary>This machine, as the journal records it.</summary>
    public string Node { get; init; } = "local";

    /// <summary>This process as leases name their holder (unique among the processes sharing a state store), and which other holders are known to be gone.</summary>
    public Cluster.ILeaseHolders LeaseHolders { get; init; } = new Cluster.NamedLeaseHolder("local");

    public string LeaseHolder => LeaseHolders.Me;

    public static WaveExecutionSettings From(AuthSplitOptions options, string node, Cluster.ILeaseHolders? leaseHolders = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var limits = options.Target?.Limits ?? new GraphLimitsOptions();
        return new WaveExecutionSettings
        {
            Concurrency = Math.Clamp(options.Execution.Concurrency, 1, ExecutionDefaults.MaxConcurrency),
            AllowSelfApproval = options.Execution.AllowSelfApproval,
            OpenLdapDisable = options.Removal.OpenLdapDisable,
            BindDn = string.IsNullOrWhiteSpace(options.Source.BindDn) ? null : DistinguishedName.Parse(options.Source.BindDn),
            CloudManagedReadAttempts = Math.Max(1, limits.ReadBackAttempts),
            CloudManagedReadDelay = TimeSpan.FromSeconds(Math.Max(0, limits.ReadBackDelaySeconds)),
            Node = node,
            LeaseHolders = leaseHolders ?? new Cluster.NamedLeaseHolder(node),
            RetryRounds = Math.Max(0, options.Execution.RetryRounds),
            RetryRoundDelay = TimeSpan.FromSeconds(Math.Max(0, options.Execution.RetryRoundDelaySeconds)),
            Partitions = Math.Clamp(options.Execution.Partitions, 1, Cluster.WavePartition.MaxCount),
            Lease = new Cluster.LeaseTiming(TimeSpan.FromSeconds(Math.Clamp(options.Execution.LeaseSeconds, 3, 600))),
            ConfiguredSafety = new ConfiguredSafety(string.IsNullOrWhiteSpace(options.Safety.ProtectedFilter) ? null : options.Safety.ProtectedFilter, [.. options.Safety.ProtectedDns]),
        };
    }
}

/// <summary>The protection a configuration declares, as the executor re-checks it on each live entry.</summary>
public sealed record ConfiguredSafety(string? ProtectedFilter, IReadOnlyList<string> ProtectedDns);
