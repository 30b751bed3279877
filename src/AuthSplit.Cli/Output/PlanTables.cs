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
    /// One row per wave with its deadline forecast (the work of the whole wave, the execution time it
    /// needs, the time left), then a line per wave in words. A wave that cannot finish before its
    /// deadline, or whose deadline has passed, says so in words as well as in red, so that redirected
    /// output and logs without colour show it too.
    /// </summary>
    public static void WriteWaveSummary(TextWriter output, PlanDocument plan, PlanForecast forecast)
    {
        ArgumentNullException.ThrowIfNull(forecast);
        var console = ConsoleFor(output);
        var table = new Table().Border(TableBorder.Rounded).Title("AuthSplit dry-run plan");
        foreach (var column in new[] { "wave", "order", "deadline", "in scope", "remove", "protected", "blocked", "kept", "deletes / budget", "Graph writes / reads", "LDAP ops", "needs", "deadline in" })
        {
            table.AddColumn(new TableColumn(column).RightAligned());
        }

        table.Columns[0].LeftAligned();
        foreach (var wave in plan.Summary.Waves)
        {
            var budget = $"{wave.PlannedDeletes} / {wave.MaxDeletes}";
            var ahead = forecast.For(wave.Name);
            table.AddRow(
                Cell(wave.Name),
                Number(wave.Order),
                Cell(wave.Deadline),
                Number(wave.InScope),
                Number(wave.Remove),
                Number(wave.Protected),
                wave.Blocked > 0 ? $"[yellow]{Number(wave.Blocked)}[/]" : "0",
                Number(wave.Kept),
                wave.DeleteBudgetExceeded ? $"[red]{budget} OVER BUDGET[/]" : budget,
                ahead is null ? "-" : $"{Number(ahead.GraphWrites)} / {Number(ahead.GraphReads)}",
                ahead is null ? "-" : Number(ahead.LdapOperations),
                ahead is null ? "-" : Needs(ahead),
                ahead is null ? "-" : TimeLeft(ahead));
        }

        console.Write(table);
        console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{plan.Summary.EntriesRead:N0} legacy entries read, {plan.Summary.OutOfScope:N0} in no wave (not listed), {plan.Summary.TargetUsersRead:N0} target users read."));
        foreach (var wave in plan.Summary.Waves.Where(w => w.DeleteBudgetExceeded))
        {
            console.MarkupLine($"[red]Wave {Cell(wave.Name)} plans {wave.PlannedDeletes} deletions, more than Safety:MaxDeletesPerWave {wave.MaxDeletes}: execution will stop at the budget.[/]");
        }

        console.WriteLine($"Deadline forecast, the whole of each wave ahead, at {forecast.Rates}.");
        foreach (var wave in plan.Summary.Waves)
        {
            if (forecast.For(wave.Name) is not { } ahead)
            {
                continue;
            }

            var blocked = wave.Blocked > 0 ? $"; {Number(wave.Blocked)} blocked not counted until decided" : "";
            var line = Markup.Escape($"{PrintableText.Escape(wave.Name)}: {ahead.Describe()} ({ahead.DescribeWork()}{blocked})");
            console.MarkupLine(ahead.Flag is null ? line : $"[red]{line}[/]");
        }
    }

    // "~2 h 10 min", with the hold when the plan holds before deleting.
    private static string Needs(WaveForecast forecast) =>
        "~" + DeadlineForecast.Format(forecast.Execution) + (forecast.Hold > TimeSpan.Zero ? string.Create(CultureInfo.InvariantCulture, $" + {forecast.Hold.TotalDays:0} d hold") : "");

    // "41 days", "passed 3 days ago DEADLINE PASSED", "20 days CANNOT FINISH BEFORE THE DEADLINE".
    private static string TimeLeft(WaveForecast forecast)
    {
        var text = forecast.TimeLeft switch
        {
            null => "-",
            { } left when left < TimeSpan.Zero => "passed " + DeadlineForecast.Format(-left) + " ago",
            { } left => DeadlineForecast.Format(left),
        };
        return forecast.Flag is { } flag ? $"[red]{Markup.Escape(text)} {flag}[/]" : Markup.Escape(text);
    }

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
