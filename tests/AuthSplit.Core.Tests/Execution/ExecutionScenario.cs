using AuthSplit.Core.Execution;
using AuthSplit.Core.Model;
using AuthSplit.Core.Planning.Format;
using AuthSplit.Core.Tests.Planning;
using AuthSplit.Testing.Execution;

namespace AuthSplit.Core.Tests.Execution;

/// <summary>
/// A wave to execute in a few lines: entries go both to the planner and to the fake directory, matched
/// target users both to the planner and to the fake tenant; the plan is approved by alice and run by bob.
/// </summary>
internal sealed class ExecutionScenario
{
    public const string Base = PlanningScenario.Base;
    public const string Hq = "ou=hq," + Base;
    public const string Quarantine = "ou=quarantine," + Base;
    public const string Approver = "alice";
    public const string Operator = "bob";

    private PlanDocument? _plan;

    public PlanningScenario Planning { get; } = new();

    public InMemoryLegacyDirectory Directory { get; } = new();

    public FakeTargetTenant Tenant { get; } = new();

    public InMemoryExecutionStore Store { get; } = new();

    public ManualClock Clock { get; } = new(new DateTimeOffset(2026, 12, 1, 2, 0, 0, TimeSpan.Zero));

    public WaveExecutionSettings Settings { get; set; } = new()
    {
        Concurrency = 1,
        CloudManagedReadAttempts = 4,
        CloudManagedReadDelay = TimeSpan.Zero,
        PauseCheckInterval = TimeSpan.Zero,
        RetryRoundDelay = TimeSpan.Zero,
        BindDn = Core.Directory.DistinguishedName.Parse("cn=reader,ou=system," + Base),
        Node = "test-node",
    };

    public PlanDocument Plan => _plan ??= Planning.PlanAccepted();

    public static string IdFor(string name) => PlanningScenario.IdFor(name);

    public static string DnOf(string uid, string parent = Hq) => $"uid={uid},{parent}";

    public ExecutionScenario Person(string uid, string parent = Hq, bool target = true, string? employeeType = null, string? country = null)
    {
        var attributes = new Dictionary<string, string[]>
        {
            ["objectClass"] = ["top", "person", "organizationalPerson", "inetOrgPerson"],
            ["uid"] = [uid],
            ["cn"] = [uid],
            ["sn"] = [uid],
            ["entryUUID"] = [IdFor(uid)],
            ["employeeNumber"] = ["E-" + uid],
            ["userPassword"] = ["{SSHA}secret-" + uid],
        };
        if (employeeType is not null)
        {
            attributes["employeeType"] = [employeeType];
        }

        if (country is not null)
        {
            attributes["c"] = [country];
        }

        Add(DirectoryEntry.FromStrings(DnOf(uid, parent), attributes));
        if (target)
        {
            Planning.Target(TargetIdOf(uid), employeeId: "E-" + uid, upn: uid + "@example.com");
            Tenant.AddUser(TargetIdOf(uid), uid + "@example.com");
        }

        return this;
    }

    public ExecutionScenario Group(string cn, params string[] memberUids) =>
        GroupUnder(Hq, cn, memberUids);

    public ExecutionScenario GroupUnder(string parent, string cn, params string[] memberUids)
    {
        Add(DirectoryEntry.FromStrings($"cn={cn},{parent}", new Dictionary<string, string[]>
        {
            ["objectClass"] = ["top", "groupOfNames"],
            ["cn"] = [cn],
            ["entryUUID"] = [IdFor(cn)],
            ["member"] = [.. memberUids.Select(u => u.Contains('=', StringComparison.Ordinal) ? u : DnOf(u))],
        }));
        return this;
    }

    public ExecutionScenario ServiceAccount(string uid)
    {
        Add(DirectoryEntry.FromStrings(DnOf(uid), new Dictionary<string, string[]>
        {
            ["objectClass"] = ["top", "account", "simpleSecurityObject"],
            ["uid"] = [uid],
            ["entryUUID"] = [IdFor(uid)],
            ["userPassword"] = ["{SSHA}service-" + uid],
        }));
        return this;
    }

    /// <summary>An entry only the directory has (not seen by the planner).</summary>
    public ExecutionScenario DirectoryOnly(DirectoryEntry entry)
    {
        Directory.Add(entry);
        return this;
    }

    public ExecutionScenario WithQuarantine()
    {
        Planning.Options.Removal.QuarantineDn = Quarantine;
        Directory.AddContainer(Quarantine);
        return this;
    }

    public static string TargetIdOf(string uid) => "t-" + uid;

    /// <summary>Replaces the plan by an edited one, re-hashed (a hand-edited plan that was approved again).</summary>
    public ExecutionScenario EditPlan(Func<PlanDocument, PlanDocument> edit)
    {
        _plan = PlanSerializer.WithPlanId(edit(Plan));
        return this;
    }

    public async Task<string> ApproveAsync(string by = Approver)
    {
        var planId = Plan.PlanId!;
        await Store.SavePlanAsync(planId, PlanSerializer.Serialize(Plan), CancellationToken.None);
        await Store.ApproveAsync(new Approval(planId, by, Clock.GetUtcNow(), "looks right"), CancellationToken.None);
        return planId;
    }

    /// <summary>The systems' hooks and bind probe: a bind is refused once the account reads back locked or disabled.</summary>
    public FakeSystemPorts Systems => _systems ??= new FakeSystemPorts(dn => Directory.Get(dn) is { } entry
        && (entry.GetString("pwdAccountLockedTime") is not null || (long.TryParse(entry.GetString("userAccountControl"), out var uac) && (uac & 2) == 2)));

    private FakeSystemPorts? _systems;

    public WaveExecution Executor(IProgress<WaveProgress>? progress = null) =>
        new(Store, Directory, Tenant, Settings, Clock, progress, Systems.Ports);

    public Task<WaveResult> RunAsync(string wave = "hq", string by = Operator, IProgress<WaveProgress>? progress = null, CancellationToken cancellationToken = default) =>
        Executor(progress).ExecuteAsync(new WaveJobRequest(Plan.PlanId!, wave, by, Recovering: false), cancellationToken);

    public async Task<WaveResult> ApproveAndRunAsync(string wave = "hq")
    {
        await ApproveAsync();
        return await RunAsync(wave);
    }

    public EntityProgress Entity(string name) => EntityById(IdFor(name));

    public EntityProgress EntityById(string id) =>
        Store.GetEntityAsync(Plan.PlanId!, id, CancellationToken.None).GetAwaiter().GetResult()!;

    public IReadOnlyList<StepRecord> Journal(string name) =>
        [.. Store.Steps.Where(s => s.EntityId == IdFor(name))];

    private void Add(DirectoryEntry entry)
    {
        Planning.Entry(entry);
        Directory.Add(entry);
    }
}
