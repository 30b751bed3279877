using System.Globalization;
using AuthSplit.Core.Planning.Format;

namespace AuthSplit.Core.Execution.Forecast;

/// <summary>
/// One wave as a rehearsal ran it: from its start to its completion (the journal's WaveRun), and the work the
/// forecast counts for it (<see cref="DeadlineForecast.Compute"/> over the whole wave): so the rates, given back
/// to the forecast for the same plan, forecast exactly the time the rehearsal took.
/// </summary>
public sealed record MeasuredWave
{
    public required string Wave { get; init; }

    public required DateTimeOffset StartedAt { get; init; }

    public required DateTimeOffset CompletedAt { get; init; }

    public required int Entities { get; init; }

    public required long LdapOperations { get; init; }

    public required long GraphWrites { get; init; }

    public double Seconds => (CompletedAt - StartedAt).TotalSeconds;

    public double LdapOperationsPerSecond => LdapOperations / Seconds;

    public double GraphWritesPerSecond => GraphWrites / Seconds;
}

/// <summary>
/// Rates measured in a rehearsal (<c>authsplit lab rates</c>), for <c>plan</c>'s deadline forecast to use instead
/// of the configured ones (Forecast:MeasuredRatesFile, <c>plan --rates</c>). A wave of the plan that was rehearsed
/// uses its own rates; any other the rehearsal's overall rates (all waves' work over all waves' time). The Graph
/// rate measured against a lab's emulator, which does not throttle as Graph does, never raises the forecast's
/// Graph rate above Target:Limits: it can only lower it.
/// </summary>
public sealed record MeasuredRates
{
    public const string KindName = "authsplit-measured-rates";
    public const int CurrentVersion = 1;

    /// <summary>Rates above this are not a measurement (a million LDAP operations or Graph writes a second).</summary>
    public const double Ceiling = 1_000_000;

    public string Kind { get; init; } = KindName;

    public int Version { get; init; } = CurrentVersion;

    /// <summary>When the rehearsal's last measured wave completed.</summary>
    public required DateTimeOffset MeasuredAt { get; init; }

    /// <summary>Where it was measured: the lab's directory or the state store (no secrets).</summary>
    public required string Source { get; init; }

    /// <summary>The rehearsal plan's directory dialect (OpenLdap, ActiveDirectory): LDAP rates differ between them.</summary>
    public required string Dialect { get; init; }

    public required IReadOnlyList<MeasuredWave> Waves { get; init; }

    public int Entities => Waves.Sum(w => w.Entities);

    public double Seconds => Waves.Sum(w => w.Seconds);

    public double LdapOperationsPerSecond => Waves.Sum(w => w.LdapOperations) / Seconds;

    public double GraphWritesPerSecond => Waves.Sum(w => w.GraphWrites) / Seconds;

    /// <summary>
    /// The completed wave runs given, each with the plan it ran (the journal's wave runs and the state store's
    /// copies of their plans), measured: the forecast's count of the wave's work over the time from its start
    /// to its completion. The newest completed run of each wave counts; runs that did nothing are left out.
    /// Null when no wave is measured.
    /// </summary>
    public static MeasuredRates? Measure(IEnumerable<(PlanDocument Plan, WaveRun Run)> runs, string source)
    {
        ArgumentNullException.ThrowIfNull(runs);
        var counting = new ForecastRates(1, TimeSpan.FromSeconds(1), 1);
        var waves = new List<MeasuredWave>();
        string? dialect = null;
        var completed = runs
            .Where(r => r.Plan.PlanId == r.Run.PlanId && r.Run.Status == WaveStatus.Completed && r.Run.CompletedAt is not null && r.Plan.Settings.Waves.Any(w => w.Name == r.Run.Wave))
            .GroupBy(r => r.Run.Wave, StringComparer.Ordinal)
            .Select(g => g.MaxBy(r => r.Run.CompletedAt))
            .OrderBy(r => r.Run.CompletedAt);
        foreach (var (plan, run) in completed)
        {
            var work = DeadlineForecast.Compute(plan, run.Wave, [], counting, run.StartedAt);
            var measured = new MeasuredWave
            {
                Wave = run.Wave,
                StartedAt = run.StartedAt,
                CompletedAt = run.CompletedAt!.Value,
                Entities = work.Entities,
                LdapOperations = work.LdapOperations,
                GraphWrites = work.GraphWrites,
            };
            if (measured.Entities > 0 && measured.Seconds > 0 && (measured.LdapOperations > 0 || measured.GraphWrites > 0))
            {
                waves.Add(measured);
                dialect ??= plan.Settings.Dialect;
            }
        }

        return waves.Count == 0 ? null : new MeasuredRates
        {
            MeasuredAt = waves.Max(w => w.CompletedAt),
            Source = source,
            Dialect = dialect!,
            Waves = waves,
        };
    }

    /// <summary>What makes these rates unusable (a file edited by hand, cut short, or hostile); empty when none.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (Kind != KindName)
        {
            problems.Add($"kind is \"{Kind}\", not \"{KindName}\" (write it with authsplit lab rates)");
        }

        if (Version != CurrentVersion)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"version {Version} is not {CurrentVersion}"));
        }

        if (string.IsNullOrWhiteSpace(Source) || Source.Length > 4096)
        {
            problems.Add("source is missing or longer than 4096 characters");
        }

        if (Dialect is not ("OpenLdap" or "ActiveDirectory"))
        {
            problems.Add($"dialect \"{Dialect}\" is neither OpenLdap nor ActiveDirectory");
        }

        if (Waves is null || Waves.Count == 0)
        {
            problems.Add("no wave was measured");
            return problems;
        }

        if (Waves.Count > 10_000)
        {
            problems.Add("more than 10,000 waves");
            return problems;
        }

        foreach (var wave in Waves)
        {
            if (wave is null || string.IsNullOrWhiteSpace(wave.Wave) || wave.Wave.Length > 256)
            {
                problems.Add("a wave without a name (or with one longer than 256 characters)");
                continue;
            }

            var name = $"wave \"{wave.Wave}\"";
            if (!(wave.Seconds > 0) || wave.Seconds > TimeSpan.FromDays(366).TotalSeconds)
            {
                problems.Add($"{name}: completedAt is not after startedAt (or more than a year later)");
            }

            if (wave.Entities <= 0 || wave.LdapOperations < 0 || wave.GraphWrites < 0 || (wave.LdapOperations == 0 && wave.GraphWrites == 0))
            {
                problems.Add($"{name}: entities must be positive, ldapOperations and graphWrites not negative and not both zero");
            }
            else if (wave.Seconds > 0 && (wave.LdapOperationsPerSecond > Ceiling || wave.GraphWritesPerSecond > Ceiling))
            {
                problems.Add(string.Create(CultureInfo.InvariantCulture, $"{name}: {wave.LdapOperationsPerSecond:0.##} LDAP operations/s or {wave.GraphWritesPerSecond:0.##} Graph writes/s is above {Ceiling:N0}/s: not a measurement"));
            }
        }

        if (Waves.Where(w => w?.Wave is not null).GroupBy(w => w.Wave, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } twice)
        {
            problems.Add($"wave \"{twice.Key}\" is measured twice");
        }

        return problems;
    }

    /// <summary>The measured wave of that name, or null.</summary>
    public MeasuredWave? For(string wave) => Waves.FirstOrDefault(w => w.Wave == wave);

    /// <summary>
    /// <paramref name="configured"/> with the measured LDAP rate of <paramref name="wave"/> (or the overall one),
    /// and the Graph rate lowered to the measured one when that is lower. A rate measured as zero (no LDAP
    /// operation or no Graph write in the rehearsal) leaves the configured rate.
    /// </summary>
    public ForecastRates Apply(ForecastRates configured, string wave)
    {
        ArgumentNullException.ThrowIfNull(configured);
        var measured = For(wave);
        var ldap = measured?.LdapOperationsPerSecond ?? LdapOperationsPerSecond;
        var graph = measured?.GraphWritesPerSecond ?? GraphWritesPerSecond;
        return configured with
        {
            LdapOperationsPerSecond = ldap > 0 ? ldap : configured.LdapOperationsPerSecond,
            MeasuredGraphWritesPerSecond = graph > 0 ? graph : null,
        };
    }

    /// <summary>"the rehearsal of 2026-12-01 (4 entities in 1 wave, OpenLdap, lab /srv/lab): LDAP 31.5 operations/s, Graph 3.2 writes/s".</summary>
    public string Describe() => string.Create(
        CultureInfo.InvariantCulture,
        $"the rehearsal of {MeasuredAt.UtcDateTime:yyyy-MM-dd} ({Entities:N0} entit{(Entities == 1 ? "y" : "ies")} in {Waves.Count} wave{(Waves.Count == 1 ? "" : "s")}, {Dialect}, {Source}): LDAP {LdapOperationsPerSecond:#,0.##} operations/s, Graph {GraphWritesPerSecond:#,0.##} writes/s overall; a rehearsed wave uses its own rates");
}
