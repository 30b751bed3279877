using System.Globalization;
using AuthSplit.Core.Configuration;
using AuthSplit.Core.Planning.Format;

namespace AuthSplit.Core.Execution.Forecast;

/// <summary>The rates a forecast assumes.</summary>
/// <param name="GraphWritesPerWindow">Target:Limits:WritesPerWindow.</param>
/// <param name="GraphWriteWindow">Target:Limits:WriteWindowSeconds.</param>
/// <param name="LdapOperationsPerSecond">Measured in a run (<see cref="WaveProgress.LdapOperationsPerSecond"/>), else Execution:ForecastLdapOperationsPerSecond.</param>
public sealed record ForecastRates(int GraphWritesPerWindow, TimeSpan GraphWriteWindow, double LdapOperationsPerSecond)
{
    /// <summary>The configured rates; <paramref name="measuredLdapOperationsPerSecond"/> (a run's <see cref="WaveProgress.LdapOperationsPerSecond"/>) wins over the configured LDAP rate when known.</summary>
    public static ForecastRates From(AuthSplitOptions options, double? measuredLdapOperationsPerSecond = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var limits = options.Target?.Limits ?? new GraphLimitsOptions();
        return new ForecastRates(
            limits.WritesPerWindow,
            TimeSpan.FromSeconds(limits.WriteWindowSeconds),
            measuredLdapOperationsPerSecond is > 0 ? measuredLdapOperationsPerSecond.Value : options.Execution.ForecastLdapOperationsPerSecond);
    }

    public double GraphWritesPerSecond => GraphWriteWindow > TimeSpan.Zero ? GraphWritesPerWindow / GraphWriteWindow.TotalSeconds : double.PositiveInfinity;

    /// <summary>
    /// "Graph 3,000 writes per 150 s (Target:Limits), LDAP 200 operations/s (measured)": what the forecast
    /// assumed, each rate with where it came from when given, for the reader to judge the forecast.
    /// </summary>
    public string Describe(string? graphOrigin = null, string? ldapOrigin = null) => string.Create(
        CultureInfo.InvariantCulture,
        $"Graph {GraphWritesPerWindow:N0} write{(GraphWritesPerWindow == 1 ? "" : "s")} per {GraphWriteWindow.TotalSeconds:#,0.##} s{Origin(graphOrigin)}, LDAP {LdapOperationsPerSecond:#,0.####} operations/s{Origin(ldapOrigin)}");

    private static string Origin(string? origin) => origin is null ? "" : $" ({origin})";
}

/// <summary>The work ahead in one wave and whether it fits before the wave's deadline.</summary>
public sealed record WaveForecast
{
    public required string Wave { get; init; }

    /// <summary>Entities with steps still ahead.</summary>
    public required int Entities { get; init; }

    public required long GraphWrites { get; init; }

    public required long GraphReads { get; init; }

    public required long LdapOperations { get; init; }

    /// <summary>Execution time at the given rates: the slower of the Graph write pacing and the LDAP rate (entities run concurrently, so the two overlap).</summary>
    public required TimeSpan Execution { get; init; }

    /// <summary>Hold days still ahead before the last delete can run (zero without a hold).</summary>
    public required TimeSpan Hold { get; init; }

    /// <summary>The end of the deadline day (UTC); null when the plan's deadline is not a date.</summary>
    public DateTimeOffset? Deadline { get; init; }

    /// <summary>From now to the deadline (negative once past).</summary>
    public TimeSpan? TimeLeft { get; init; }

    /// <summary>False when execution plus the hold ends after the deadline.</summary>
    public required bool FitsDeadline { get; init; }

    /// <summary>The deadline is already behind us.</summary>
    public bool DeadlinePassed => TimeLeft < TimeSpan.Zero;

    /// <summary>What must catch the eye, in plain words that survive redirected output without colour; null when the wave fits.</summary>
    public string? Flag => DeadlinePassed ? "DEADLINE PASSED" : FitsDeadline ? null : "CANNOT FINISH BEFORE THE DEADLINE";

    /// <summary>"12 Graph writes, 48 Graph reads, 144 LDAP operations for 12 entities".</summary>
    public string DescribeWork() =>
        $"{Count(GraphWrites, "Graph write")}, {Count(GraphReads, "Graph read")}, {Count(LdapOperations, "LDAP operation")} for {(Entities == 1 ? "1 entity" : string.Create(CultureInfo.InvariantCulture, $"{Entities:N0} entities"))}";

    private static string Count(long count, string noun) => string.Create(CultureInfo.InvariantCulture, $"{count:N0} {noun}{(count == 1 ? "" : "s")}");

    /// <summary>"needs ~2 h 10 min of execution; deadline in 41 days", plus the hold and a warning when it cannot fit.</summary>
    public string Describe()
    {
        var text = $"needs ~{DeadlineForecast.Format(Execution)} of execution";
        if (Hold > TimeSpan.Zero)
        {
            text += $" and a hold of {Hold.TotalDays:0} day(s)";
        }

        if (TimeLeft is { } left)
        {
            text += left >= TimeSpan.Zero ? $"; deadline in {DeadlineForecast.Format(left)}" : $"; deadline passed {DeadlineForecast.Format(-left)} ago";
        }

        return Flag is { } flag ? text + "; " + flag : text;
    }
}

/// <summary>
/// The deadline forecast: a pure function of the plan, what the journal shows done, the rates and now.
/// Each step's cost is counted as the executor spends it (see <see cref="Cost"/>); a step the journal
/// shows done costs nothing, an entity in a final state costs nothing.
/// </summary>
public static class DeadlineForecast
{
    /// <summary>Graph writes, Graph reads and LDAP operations of one step, as the executor performs it.</summary>
    public static (int GraphWrites, int GraphReads, int Ldap) Cost(StepAction step, bool quarantine) => step switch
    {
        StepAction.VerifyTargetAccount => (0, 1, 1),               // the user; the opening read of the entry
        StepAction.StopPasswordSync => (1, 2, 0),                  // read, write, the connector's read-back
        StepAction.VerifyCloudManaged => (0, 1, 0),
        StepAction.BackupLegacyEntry => (0, 0, 2),                 // the entry, the groups listing it
        StepAction.DisableLegacyAccount => (0, 0, 3),              // read, modify, read back
        StepAction.QuarantineLegacyEntry => (0, 0, 3),             // read, move, read back
        StepAction.Hold => (0, 0, 0),
        StepAction.DeleteLegacyEntry => (0, 0, quarantine ? 6 : 4), // read(s), groups, delete, read back (group edits come on top)
        StepAction.VerifyLegacyAbsent => (0, 0, quarantine ? 3 : 2),
        _ => (0, 0, 0),
    };

    /// <param name="journal">The journal's entities of this plan's wave (empty before the first run).</param>
    public static WaveForecast Compute(PlanDocument plan, string wave, IEnumerable<EntityProgress> journal, ForecastRates rates, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(rates);
        var settings = plan.Settings.Waves.First(w => w.Name == wave);
        var progress = journal.ToDictionary(p => p.EntityId, StringComparer.Ordinal);
        var quarantine = plan.Settings.Removal.QuarantineDn is not null;
        long writes = 0, reads = 0, ldap = 0;
        var entities = 0;
        var holdAhead = TimeSpan.Zero;
        foreach (var entity in plan.Entities.Where(e => e.Wave == wave && e.Disposition == Disposition.Remove))
        {
            progress.TryGetValue(entity.Id, out var state);
            var ahead = StepsAhead(entity, state);
            if (ahead.Count == 0)
            {
                continue;
            }

            entities++;
            foreach (var step in ahead)
            {
                var (w, r, l) = Cost(step, quarantine);
                writes += w;
                reads += r;
                ldap += l;
            }

            if (ahead.Contains(StepAction.Hold))
            {
                var hold = state?.HoldUntil is { } until ? until - now : TimeSpan.FromDays(plan.Settings.Removal.HoldDays);
                holdAhead = hold > holdAhead ? hold : holdAhead;
            }
        }

        var graphSeconds = rates.GraphWritesPerWindow > 0 ? writes * rates.GraphWriteWindow.TotalSeconds / rates.GraphWritesPerWindow : double.PositiveInfinity;
        var ldapSeconds = rates.LdapOperationsPerSecond > 0 ? ldap / rates.LdapOperationsPerSecond : double.PositiveInfinity;
        var execution = TimeSpan.FromSeconds(Math.Ceiling(Math.Min(Math.Max(graphSeconds, ldapSeconds), TimeSpan.MaxValue.TotalSeconds / 2)));
        var deadline = DeadlineOf(settings.Deadline);
        var left = deadline - now;
        return new WaveForecast
        {
            Wave = wave,
            Entities = entities,
            GraphWrites = writes,
            GraphReads = reads,
            LdapOperations = ldap,
            Execution = execution,
            Hold = holdAhead,
            Deadline = deadline,
            TimeLeft = left,
            FitsDeadline = left is not { } remaining || execution + holdAhead <= remaining,
        };
    }

    /// <summary>
    /// Every wave of a plan before it runs: the whole wave is ahead (its entities to remove; blocked
    /// ones are not counted until a decision makes them removals). Wave order as in the plan's summary.
    /// </summary>
    public static IReadOnlyList<WaveForecast> ForPlan(PlanDocument plan, ForecastRates rates, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(plan);
        return [.. plan.Summary.Waves.Select(w => Compute(plan, w.Name, [], rates, now))];
    }

    /// <summary>"2 h 10 min", "41 days", "45 s": the two largest units that matter.</summary>
    public static string Format(TimeSpan span)
    {
        if (span.TotalDays >= 2)
        {
            return string.Create(CultureInfo.InvariantCulture, $"{Math.Floor(span.TotalDays):#,0} days");
        }

        if (span.TotalHours >= 1)
        {
            var minutes = span.Minutes;
            return minutes == 0
                ? string.Create(CultureInfo.InvariantCulture, $"{Math.Floor(span.TotalHours):0} h")
                : string.Create(CultureInfo.InvariantCulture, $"{Math.Floor(span.TotalHours):0} h {minutes} min");
        }

        if (span.TotalMinutes >= 1)
        {
            return string.Create(CultureInfo.InvariantCulture, $"{Math.Ceiling(span.TotalMinutes):0} min");
        }

        return string.Create(CultureInfo.InvariantCulture, $"{Math.Ceiling(span.TotalSeconds):0} s");
    }

    // A deadline is a date: the wave must be finished by the end of that day, UTC.
    private static DateTimeOffset? DeadlineOf(string deadline) =>
        DateOnly.TryParseExact(deadline, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date)
            ? new DateTimeOffset(date.AddDays(1).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero)
            : DateTimeOffset.TryParse(deadline, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var moment) ? moment : null;

    private static List<StepAction> StepsAhead(PlannedEntity entity, EntityProgress? progress)
    {
        var steps = entity.Steps.Select(s => s.Action).ToList();
        if (progress is null || progress.State == EntityState.Pending || progress.LastStep is null)
        {
            return steps;
        }

        if (progress.State is EntityState.Done or EntityState.Stale or EntityState.Refused or EntityState.Excluded)
        {
            return [];
        }

        var last = steps.IndexOf(progress.LastStep.Value);

        // A failed (or unfinished) step is done again; a held entity has its hold and what follows ahead.
        var from = progress.State is EntityState.Failed or EntityState.Held || progress.Reason is not null ? last : last + 1;
        return steps.Skip(Math.Max(0, from)).ToList();
    }
}
