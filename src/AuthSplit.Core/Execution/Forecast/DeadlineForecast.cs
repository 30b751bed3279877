using System.Globalization;
using AuthSplit.Core.Configuration;
using AuthSplit.Core.Execution.Groups;
using AuthSplit.Core.Execution.Systems;
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

    /// <summary>Graph writes per second measured in a rehearsal (<see cref="MeasuredRates"/>): the forecast's Graph rate is the lower of it and the configured limit.</summary>
    public double? MeasuredGraphWritesPerSecond { get; init; }

    public double GraphWritesPerSecond => Math.Min(
        GraphWriteWindow > TimeSpan.Zero ? GraphWritesPerWindow / GraphWriteWindow.TotalSeconds : double.PositiveInfinity,
        MeasuredGraphWritesPerSecond is > 0 ? MeasuredGraphWritesPerSecond.Value : double.PositiveInfinity);

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

    /// <summary>The wave's systems with steps still ahead (cut over before its entities).</summary>
    public int Systems { get; init; }

    /// <summary>The wave's synchronised groups with their switch still ahead.</summary>
    public int GroupSwitches { get; init; }

    public required long GraphWrites { get; init; }

    public required long GraphReads { get; init; }

    public required long LdapOperations { get; init; }

    /// <summary>The systems' cutover hooks and probes, at their timeouts: an allowance (their run time is unknown before they run), included in <see cref="Execution"/>.</summary>
    public TimeSpan HookAllowance { get; init; }

    /// <summary>Execution time at the given rates: the slower of the Graph write pacing and the LDAP rate (entities run concurrently, so the two overlap), plus <see cref="HookAllowance"/>.</summary>
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

    /// <summary>"12 Graph writes, 48 Graph reads, 120 LDAP operations for 12 entities", with the systems and group switches when the wave has any ahead.</summary>
    public string DescribeWork()
    {
        var what = new List<string> { Entities == 1 ? "1 entity" : string.Create(CultureInfo.InvariantCulture, $"{Entities:N0} entities") };
        if (Systems > 0)
        {
            what.Add(Count(Systems, "system"));
        }

        if (GroupSwitches > 0)
        {
            what.Add(Count(GroupSwitches, "group switch", "es"));
        }

        var of = what.Count == 1 ? what[0] : string.Join(", ", what.Take(what.Count - 1)) + " and " + what[^1];
        return $"{Count(GraphWrites, "Graph write")}, {Count(GraphReads, "Graph read")}, {Count(LdapOperations, "LDAP operation")} for {of}";
    }

    private static string Count(long count, string noun, string plural = "s") => string.Create(CultureInfo.InvariantCulture, $"{count:N0} {noun}{(count == 1 ? "" : plural)}");

    /// <summary>"needs ~2 h 10 min of execution; deadline in 41 days", plus the hooks' allowance, the hold and a warning when it cannot fit.</summary>
    public string Describe()
    {
        var text = $"needs ~{DeadlineForecast.Format(Execution)} of execution";
        if (HookAllowance > TimeSpan.Zero)
        {
            text += $" (including an allowance of {DeadlineForecast.Format(HookAllowance)} for the systems' cutover hooks and probes, at their timeouts)";
        }
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
/// Each run of an entity is counted as the executor spends it (see <see cref="EntityCost"/>), the wave's
/// systems (<see cref="SystemCost"/>) and synchronised group switches (<see cref="GroupSwitchCost"/>) on top;
/// a step the journal shows done costs nothing, an entity in a final state costs nothing.
/// </summary>
public static class DeadlineForecast
{
    /// <summary>
    /// Graph writes, Graph reads and LDAP operations (searches and writes, as the server counts them) of an
    /// entity's steps ahead, as the executor runs them: the opening check reads the entry at the start of
    /// every run, and within one run a legacy step uses the entry as the previous legacy step left it (its
    /// read or its read-back) instead of reading it again; the target steps make the next legacy step read
    /// afresh. The delete uses the backup's group listing when the backup was made in the same run at the
    /// same DN (not after a quarantine move). A person without quarantine or a waiting hold: 10 (8 searches,
    /// 2 writes). Edits of the groups listing the entry come on top (the plan does not know them).
    /// </summary>
    /// <param name="ahead">The steps still ahead, in order.</param>
    /// <param name="quarantine">Removal:QuarantineDn is set.</param>
    /// <param name="dialect">How many searches a group listing is (OpenLDAP: member and uniqueMember; AD: member), and whether the delete lists groups at all (AD removes link values itself).</param>
    /// <param name="holdWaits">A hold ahead still has to be waited out: the entity's next run starts afresh after it.</param>
    public static (int GraphWrites, int GraphReads, int Ldap) EntityCost(IReadOnlyList<StepAction> ahead, bool quarantine, DirectoryDialect dialect, bool holdWaits)
    {
        ArgumentNullException.ThrowIfNull(ahead);
        var listing = GroupListingSearches(dialect);
        int writes = 0, reads = 0, ldap = 0;
        var kept = false;        // the entry as the previous step of this run read it
        var groupsKnown = false; // the backup of this run listed the groups at the entry's DN
        for (var i = 0; i < ahead.Count; i++)
        {
            var step = ahead[i];
            if (i == 0 || (step == StepAction.Hold && holdWaits))
            {
                ldap++; // a run's opening check reads the entry
                kept = true;
                groupsKnown = false;
            }

            if (step is StepAction.VerifyTargetAccount or StepAction.StopPasswordSync or StepAction.VerifyCloudManaged)
            {
                kept = false;
            }

            var read = kept ? 0 : 1;
            switch (step)
            {
                case StepAction.VerifyTargetAccount: // the user
                    reads += 1;
                    break;
                case StepAction.StopPasswordSync: // read, write, the connector's read-back
                    writes += 1;
                    reads += 2;
                    break;
                case StepAction.VerifyCloudManaged:
                    reads += 1;
                    break;
                case StepAction.BackupLegacyEntry: // the entry, the groups listing it
                    ldap += read + listing;
                    kept = true;
                    groupsKnown = true;
                    break;
                case StepAction.DisableLegacyAccount: // modify, read back
                case StepAction.QuarantineLegacyEntry: // move, read back (the move forgets the groups found at the old DN)
                    ldap += read + 2;
                    kept = true;
                    groupsKnown &= step == StepAction.DisableLegacyAccount;
                    break;
                case StepAction.DeleteLegacyEntry: // the groups at the entry's DN (and at the planned DN after a move), delete, read back
                    var listings = dialect == DirectoryDialect.OpenLdap ? (quarantine ? 2 : groupsKnown ? 0 : 1) * listing : 0;
                    ldap += read + listings + 2;
                    kept = false;
                    break;
                case StepAction.VerifyLegacyAbsent: // by identity, at the planned DN (and at the quarantine DN)
                    ldap += quarantine ? 3 : 2;
                    break;
            }
        }

        return (writes, reads, ldap);
    }

    /// <summary>
    /// Graph reads and LDAP operations of a system's steps ahead, and the allowance for its hooks: the
    /// cutover's and each probe's timeout (a hook's run time is unknown before it runs; the timeout bounds
    /// it). Per legacy account: the quiet check's read, the backup's read and group listing, the disable's
    /// read, modify and read-back, and the refusal probe's bind (or read).
    /// </summary>
    public static (int GraphReads, int Ldap, TimeSpan Hooks) SystemCost(PlannedSystem system, IReadOnlyList<StepAction> ahead, DirectoryDialect dialect)
    {
        ArgumentNullException.ThrowIfNull(system);
        ArgumentNullException.ThrowIfNull(ahead);
        var accounts = system.LegacyAccounts.Count;
        int reads = 0, ldap = 0, hookSeconds = 0;
        int Probes(ProbeExpectation expect) => system.Probes.Where(p => p.Expect == expect).Sum(p => p.TimeoutSeconds);
        foreach (var step in ahead)
        {
            switch (step)
            {
                case StepAction.VerifyTargetApp:
                    reads += 1;
                    break;
                case StepAction.Cutover:
                    hookSeconds += system.Cutover?.TimeoutSeconds ?? 0;
                    break;
                case StepAction.ProbeTarget:
                    hookSeconds += Probes(ProbeExpectation.Success);
                    break;
                case StepAction.VerifyLegacyQuiet:
                    ldap += accounts;
                    break;
                case StepAction.BackupLegacyEntry:
                    ldap += accounts * (1 + GroupListingSearches(dialect));
                    break;
                case StepAction.DisableLegacyAccount:
                    ldap += accounts * 3;
                    break;
                case StepAction.ProbeLegacyRefused:
                    ldap += accounts;
                    hookSeconds += Probes(ProbeExpectation.Failure);
                    break;
            }
        }

        return (reads, ldap, TimeSpan.FromSeconds(hookSeconds));
    }

    /// <summary>Graph writes and reads of a group switch's steps ahead: the switch reads, writes and reads back; the verify reads.</summary>
    public static (int GraphWrites, int GraphReads) GroupSwitchCost(IReadOnlyList<StepAction> ahead)
    {
        ArgumentNullException.ThrowIfNull(ahead);
        return (ahead.Count(s => s == StepAction.SwitchGroupSourceOfAuthority), (2 * ahead.Count(s => s == StepAction.SwitchGroupSourceOfAuthority)) + ahead.Count(s => s == StepAction.VerifyGroupCloudManaged));
    }

    // On OpenLDAP a group listing is two searches (member, uniqueMember), on AD one (member).
    private static int GroupListingSearches(DirectoryDialect dialect) => dialect == DirectoryDialect.ActiveDirectory ? 1 : 2;

    /// <param name="journal">The journal's entities of this plan's wave (empty before the first run), its systems and group switches included.</param>
    public static WaveForecast Compute(PlanDocument plan, string wave, IEnumerable<EntityProgress> journal, ForecastRates rates, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(rates);
        var settings = plan.Settings.Waves.First(w => w.Name == wave);
        var progress = journal.ToDictionary(p => p.EntityId, StringComparer.Ordinal);
        var quarantine = plan.Settings.Removal.QuarantineDn is not null;
        var dialect = Enum.TryParse<DirectoryDialect>(plan.Settings.Dialect, ignoreCase: true, out var parsed) ? parsed : DirectoryDialect.OpenLdap;
        long writes = 0, reads = 0, ldap = 0;
        var entities = 0;
        var holdAhead = TimeSpan.Zero;
        foreach (var entity in plan.Entities.Where(e => e.Wave == wave && e.Disposition == Disposition.Remove))
        {
            progress.TryGetValue(entity.Id, out var state);
            var ahead = StepsAhead(entity.Steps, state);
            if (ahead.Count == 0)
            {
                continue;
            }

            entities++;
            var hold = ahead.Contains(StepAction.Hold)
                ? state?.HoldUntil is { } until ? until - now : TimeSpan.FromDays(plan.Settings.Removal.HoldDays)
                : TimeSpan.Zero;
            var (w, r, l) = EntityCost(ahead, quarantine, dialect, holdWaits: hold > TimeSpan.Zero);
            writes += w;
            reads += r;
            ldap += l;
            holdAhead = hold > holdAhead ? hold : holdAhead;
        }

        var systems = 0;
        var hooks = TimeSpan.Zero;
        foreach (var system in (plan.Systems ?? []).Where(s => s.Wave == wave && s.Disposition == Disposition.Remove))
        {
            progress.TryGetValue(SystemRun.JournalId(system.Id), out var state);
            var ahead = StepsAhead(system.Steps, state);
            if (ahead.Count == 0)
            {
                continue;
            }

            systems++;
            var (r, l, h) = SystemCost(system, ahead, dialect);
            reads += r;
            ldap += l;
            hooks += h;
        }

        var groupSwitches = 0;
        foreach (var group in (plan.GroupSwitches ?? []).Where(g => g.Wave == wave && g.Disposition == Disposition.Remove))
        {
            progress.TryGetValue(GroupSwitchRun.JournalId(group.GroupId), out var state);
            var ahead = StepsAhead(group.Steps, state);
            if (ahead.Count == 0)
            {
                continue;
            }

            groupSwitches++;
            var (w, r) = GroupSwitchCost(ahead);
            writes += w;
            reads += r;
        }

        // The systems are cut over one at a time before the wave's entities (their hooks are not meant to
        // run at once): their allowance comes on top of the entities' time, not beside it.
        var graphSeconds = writes == 0 ? 0 : rates.GraphWritesPerSecond > 0 ? writes / rates.GraphWritesPerSecond : double.PositiveInfinity;
        var ldapSeconds = rates.LdapOperationsPerSecond > 0 ? ldap / rates.LdapOperationsPerSecond : double.PositiveInfinity;
        var execution = TimeSpan.FromSeconds(Math.Ceiling(Math.Min(Math.Max(graphSeconds, ldapSeconds) + hooks.TotalSeconds, TimeSpan.MaxValue.TotalSeconds / 2)));
        var deadline = DeadlineOf(settings.Deadline);
        var left = deadline - now;
        return new WaveForecast
        {
            Wave = wave,
            Entities = entities,
            Systems = systems,
            GroupSwitches = groupSwitches,
            GraphWrites = writes,
            GraphReads = reads,
            LdapOperations = ldap,
            HookAllowance = hooks,
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
    public static IReadOnlyList<WaveForecast> ForPlan(PlanDocument plan, ForecastRates rates, DateTimeOffset now) =>
        ForPlan(plan, _ => rates, now);

    /// <summary>As <see cref="ForPlan(PlanDocument, ForecastRates, DateTimeOffset)"/>, each wave at its own rates (a rehearsal's, <see cref="MeasuredRates.Apply"/>).</summary>
    public static IReadOnlyList<WaveForecast> ForPlan(PlanDocument plan, Func<string, ForecastRates> ratesOfWave, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(ratesOfWave);
        return [.. plan.Summary.Waves.Select(w => Compute(plan, w.Name, [], ratesOfWave(w.Name), now))];
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

    private static List<StepAction> StepsAhead(IReadOnlyList<PlannedStep> planned, EntityProgress? progress)
    {
        var steps = planned.Select(s => s.Action).ToList();
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
