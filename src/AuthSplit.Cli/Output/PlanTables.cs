using System.Globalization;
using AuthSplit.Cli.Planning;
using AuthSplit.Core.Execution.Forecast;
using AuthSplit.Core.Planning.Decisions;
using AuthSplit.Core.Planning.Format;
using Spectre.Console;

namespace AuthSplit.Cli.Output;

/// <summary>Tables for people: the per-wave summary and the entity list.</summary>
public static class PlanTables
{
    /// <summary>
    /// One row per wave, then the deadline forecast: a second table (the work of the whole wave, the
    /// execution time it needs, the time left) and a line per wave in words. A wave that cannot finish
    /// before its deadline, or whose deadline has passed, says so in words as well as in red, so that
    /// redirected output and logs without colour show it too.
    /// </summary>
    public static void WriteWaveSummary(TextWriter output, PlanDocument plan, PlanForecast forecast)
    {
        ArgumentNullException.ThrowIfNull(forecast);
        var console = ConsoleFor(output);
        var table = new Table().Border(TableBorder.Rounded).Title("AuthSplit dry-run plan");
        // The systems and group-switch columns only for plans that have them: a plan without reads as before.
        var systems = plan.Systems is not null;
        var groups = plan.GroupSwitches is not null;
        string[] columns = ["wave", "order", "deadline", "in scope", "remove", "protected", "blocked", "kept", "deletes / budget", .. systems ? ["systems"] : Array.Empty<string>(), .. groups ? ["group switches"] : Array.Empty<string>()];
        foreach (var column in columns)
        {
            table.AddColumn(new TableColumn(column).RightAligned());
        }

        table.Columns[0].LeftAligned();
        foreach (var wave in plan.Summary.Waves)
        {
            var budget = $"{wave.PlannedDeletes} / {wave.MaxDeletes}";
            var cells = new List<string>
            {
                Cell(wave.Name),
                Number(wave.Order),
                Cell(wave.Deadline),
                Number(wave.InScope),
                Number(wave.Remove),
                Number(wave.Protected),
                wave.Blocked > 0 ? $"[yellow]{Number(wave.Blocked)}[/]" : "0",
                Number(wave.Kept),
                wave.DeleteBudgetExceeded ? $"[red]{budget} OVER BUDGET[/]" : budget,
            };
            if (systems)
            {
                cells.Add(wave.SystemsBlocked > 0 ? $"[yellow]{Number(wave.Systems ?? 0)} ({Number(wave.SystemsBlocked.Value)} blocked)[/]" : Number(wave.Systems ?? 0));
            }

            if (groups)
            {
                cells.Add(Number(wave.GroupSwitches ?? 0));
            }

            table.AddRow([.. cells]);
        }

        console.Write(table);
        console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{plan.Summary.EntriesRead:N0} legacy entries read, {plan.Summary.OutOfScope:N0} in no wave (not listed), {plan.Summary.TargetUsersRead:N0} target users read."));
        foreach (var wave in plan.Summary.Waves.Where(w => w.DeleteBudgetExceeded))
        {
            console.MarkupLine($"[red]Wave {Cell(wave.Name)} plans {wave.PlannedDeletes} deletions, more than Safety:MaxDeletesPerWave {wave.MaxDeletes}: execution will stop at the budget.[/]");
        }

        WriteSystemNotes(console, plan);
        WriteForecast(console, plan, forecast);
    }

    // Few systems, each worth its sentence: a blocked one holds its wave's deletes, so every blocker is
    // spelt out with what fixes it; an excepted one says who excepted it and why.
    private static void WriteSystemNotes(IAnsiConsole console, PlanDocument plan)
    {
        foreach (var system in (plan.Systems ?? []).Where(s => s.Disposition != Disposition.Remove))
        {
            if (system.Disposition == Disposition.Kept)
            {
                console.WriteLine(PrintableText.Escape($"System {system.Id} ({system.Name}, wave {system.Wave}) excepted by {system.Decision?.DecidedBy}: {system.Decision?.Reason}; the wave's deletes do not wait for it."));
                continue;
            }

            console.MarkupLine($"[yellow]{Cell($"System {system.Id} ({system.Name}, wave {system.Wave}) is blocked; wave {system.Wave}'s deletes wait for it until it is fixed or excepted (except-system):")}[/]");
            foreach (var blocker in system.Blockers)
            {
                console.WriteLine(PrintableText.Escape($"  {WireName.Of(blocker.Code)}: {blocker.Message}"));
            }
        }

        if (plan.GroupSwitches is { } switches)
        {
            var accepted = switches.Count(g => g.Disposition == Disposition.Kept);
            var people = plan.Entities.Count(e => e.PasswordSync?.SynchronisedGroups.Count > 0);
            console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{switches.Count - accepted:N0} synchronised cloud group(s) switched to cloud-managed before their wave's deletes ({people:N0} people are members){(accepted > 0 ? $"; {accepted:N0} loss(es) accepted by decision" : "")}."));
        }
    }

    /// <summary>One row per system: its wave, disposition, target app, legacy accounts and steps (or why not).</summary>
    public static void WriteSystems(TextWriter output, IEnumerable<PlannedSystem> systems)
    {
        var console = ConsoleFor(output);
        var table = new Table().Border(TableBorder.Simple).Title("Systems");
        foreach (var column in new[] { "wave", "system", "disposition", "target app", "legacy accounts", "why" })
        {
            table.AddColumn(column);
        }

        foreach (var system in systems)
        {
            var target = system.Target.Found
                ? $"{system.Target.DisplayName ?? system.Target.ServicePrincipalId}{(system.Target.AccountEnabled == false ? " (disabled)" : "")}"
                : $"missing ({system.Target.ServicePrincipalId ?? system.Target.AppId})";
            table.AddRow(
                Cell(system.Wave),
                Cell($"{system.Id} ({system.Name})"),
                Cell(WireName.Of(system.Disposition)),
                Cell(target),
                Cell(string.Join("; ", system.LegacyAccounts.Select(a => a.Dn))),
                Cell(system.Disposition switch
                {
                    Disposition.Blocked => string.Join("; ", system.Blockers.Select(b => WireName.Of(b.Code))),
                    Disposition.Kept => $"excepted by {system.Decision?.DecidedBy}: {system.Decision?.Reason}",
                    _ => string.Join(" > ", system.Steps.Select(s => WireName.Of(s.Action))),
                }));
        }

        console.Write(table);
    }

    /// <summary>One row per synchronised group the plan's people belong to.</summary>
    public static void WriteGroupSwitches(TextWriter output, IEnumerable<PlannedGroupSwitch> switches)
    {
        var console = ConsoleFor(output);
        var table = new Table().Border(TableBorder.Simple).Title("Synchronised groups");
        foreach (var column in new[] { "wave", "group", "id", "members in plan", "disposition", "why" })
        {
            table.AddColumn(column);
        }

        foreach (var group in switches)
        {
            table.AddRow(
                Cell(group.Wave),
                Cell(group.DisplayName ?? "-"),
                Cell(group.GroupId),
                Number(group.MembersInPlan),
                Cell(WireName.Of(group.Disposition)),
                Cell(group.Disposition == Disposition.Kept ? $"loss accepted by {group.Decision?.DecidedBy}: {group.Decision?.Reason}" : "switched before the wave's deletes"));
        }

        console.Write(table);
    }

    // A table of its own: beside the nine columns above, the five of the forecast would not fit a terminal.
    private static void WriteForecast(IAnsiConsole console, PlanDocument plan, PlanForecast forecast)
    {
        var waves = plan.Summary.Waves.Select(w => (Summary: w, Forecast: forecast.For(w.Name))).Where(w => w.Forecast is not null).ToList();
        if (waves.Count == 0)
        {
            return;
        }

        var table = new Table().Border(TableBorder.Rounded).Title("Deadline forecast (the whole wave ahead)");
        foreach (var column in new[] { "wave", "Graph writes / reads", "LDAP ops", "needs", "deadline in", "" })
        {
            table.AddColumn(new TableColumn(column).RightAligned());
        }

        table.Columns[0].LeftAligned();
        table.Columns[^1].LeftAligned();
        foreach (var (summary, ahead) in waves)
        {
            table.AddRow(
                Cell(summary.Name),
                $"{Number(ahead!.GraphWrites)} / {Number(ahead.GraphReads)}",
                Number(ahead.LdapOperations),
                Needs(ahead),
                TimeLeft(ahead),
                ahead.Flag is { } flag ? $"[red]{flag}[/]" : "");
        }

        console.Write(table);
        console.WriteLine($"Forecast at {forecast.Rates}.");
        foreach (var (summary, ahead) in waves)
        {
            var blocked = summary.Blocked > 0 ? $"; {Number(summary.Blocked)} blocked not counted until decided" : "";
            var line = Markup.Escape($"{PrintableText.Escape(summary.Name)}: {ahead!.Describe()} ({ahead.DescribeWork()}{blocked})");
            console.MarkupLine(ahead.Flag is null ? line : $"[red]{line}[/]");
        }
    }

    // "~2 h 10 min", with the hold when the plan holds before deleting.
    private static string Needs(WaveForecast forecast) =>
        "~" + DeadlineForecast.Format(forecast.Execution) + (forecast.Hold > TimeSpan.Zero ? string.Create(CultureInfo.InvariantCulture, $" + {forecast.Hold.TotalDays:0} d hold") : "");

    // "41 days", "passed 3 days ago".
    private static string TimeLeft(WaveForecast forecast) => forecast.TimeLeft switch
    {
        null => "-",
        { } left when left < TimeSpan.Zero => "passed " + DeadlineForecast.Format(-left) + " ago",
        { } left => DeadlineForecast.Format(left),
    };

    /// <summary>
    /// One row per entity. A blocked entity shows what a decision needs: its id, its blocker codes
    /// (with the candidate waves of multiple-waves) and the candidate target user ids.
    /// </summary>
    public static void WriteEntities(TextWriter output, IEnumerable<PlannedEntity> entities)
    {
        var console = ConsoleFor(output);
        var table = new Table().Border(TableBorder.Simple);
        foreach (var column in new[] { "wave", "kind", "disposition", "id", "dn", "target", "why" })
        {
            table.AddColumn(column);
        }

        foreach (var entity in entities)
        {
            table.AddRow(
                Cell(entity.Wave),
                Cell(WireName.Of(entity.Kind)),
                Cell(WireName.Of(entity.Disposition)),
                Cell(entity.Id),
                Cell(entity.Dn),
                Cell(Target(entity)),
                Cell(Why(entity)));
        }

        console.Write(table);
    }

    public static string Why(PlannedEntity entity) => entity.Disposition switch
    {
        Disposition.Protected => $"{entity.Protection?.Reason}: {entity.Protection?.Detail}",
        Disposition.Blocked => string.Join("; ", entity.Blockers.Select(b => b.Code == BlockerCode.MultipleWaves && entity.CandidateWaves is { } waves
            ? $"{WireName.Of(b.Code)} ({string.Join(", ", waves)})"
            : WireName.Of(b.Code))),
        Disposition.Kept when entity.LegacyAccountOf is { } system => $"legacy account of system {system}: disabled by its system, not deleted",
        Disposition.Kept => $"decision by {entity.Decision?.DecidedBy}: {entity.Decision?.Reason}",
        _ => entity.Decision is { } decision ? $"decision {decision.Decision} by {decision.DecidedBy}" : $"{entity.Steps.Count} steps",
    };

    // A blocked entity lists the target user ids a use-target decision may name; the others show
    // the matched user's UPN.
    private static string Target(PlannedEntity entity) => entity.Disposition == Disposition.Blocked
        ? DecisionTemplate.CandidateTargets(entity) is { Count: > 0 } candidates ? string.Join(", ", candidates) : "-"
        : entity.Match.TargetUserPrincipalName ?? entity.Match.TargetId ?? "-";

    // Directory text is printed escaped: neither Spectre markup nor terminal control sequences.
    private static string Cell(string? text) => Markup.Escape(PrintableText.Escape(text));

    private static string Number(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    /// <summary>A Spectre console over <paramref name="output"/>: colour on a terminal, plain and unwrapped when redirected.</summary>
    public static IAnsiConsole ConsoleFor(TextWriter output)
    {
        var interactive = ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected;
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(output),
            Ansi = interactive ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = interactive ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
        });
        if (!interactive)
        {
            // Redirected output (files, CI logs, tests) would otherwise wrap at 80 columns; a file
            // has no width, and a DN or id broken over two lines cannot be copied into a decision.
            console.Profile.Width = 400;
        }

        return console;
    }
}
