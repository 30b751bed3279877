using System.Globalization;
using AuthSplit.Core.Planning.Format;
using Spectre.Console;

namespace AuthSplit.Cli.Output;

/// <summary>Tables for people: the per-wave summary and the entity list.</summary>
public static class PlanTables
{
    public static void WriteWaveSummary(TextWriter output, PlanDocument plan)
    {
        var console = ConsoleFor(output);
        var table = new Table().Border(TableBorder.Rounded).Title("AuthSplit dry-run plan");
        foreach (var column in new[] { "wave", "order", "deadline", "in scope", "remove", "protected", "blocked", "kept", "deletes / budget" })
        {
            table.AddColumn(new TableColumn(column).RightAligned());
        }

        table.Columns[0].LeftAligned();
        foreach (var wave in plan.Summary.Waves)
        {
            var budget = $"{wave.PlannedDeletes} / {wave.MaxDeletes}";
            table.AddRow(
                Markup.Escape(wave.Name),
                Number(wave.Order),
                wave.Deadline,
                Number(wave.InScope),
                Number(wave.Remove),
                Number(wave.Protected),
                wave.Blocked > 0 ? $"[yellow]{Number(wave.Blocked)}[/]" : "0",
                Number(wave.Kept),
                wave.DeleteBudgetExceeded ? $"[red]{budget} OVER BUDGET[/]" : budget);
        }

        console.Write(table);
        console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{plan.Summary.EntriesRead:N0} legacy entries read, {plan.Summary.OutOfScope:N0} in no wave (not listed), {plan.Summary.TargetUsersRead:N0} target users read."));
        foreach (var wave in plan.Summary.Waves.Where(w => w.DeleteBudgetExceeded))
        {
            console.MarkupLine($"[red]Wave {Markup.Escape(wave.Name)} plans {wave.PlannedDeletes} deletions, more than Safety:MaxDeletesPerWave {wave.MaxDeletes}: execution will stop at the budget.[/]");
        }
    }

    public static void WriteEntities(TextWriter output, IEnumerable<PlannedEntity> entities)
    {
        var console = ConsoleFor(output);
        var table = new Table().Border(TableBorder.Simple);
        foreach (var column in new[] { "wave", "kind", "disposition", "dn", "target", "why" })
        {
            table.AddColumn(column);
        }

        foreach (var entity in entities)
        {
            table.AddRow(
                Markup.Escape(entity.Wave),
                Markup.Escape(WireName.Of(entity.Kind)),
                Markup.Escape(WireName.Of(entity.Disposition)),
                Markup.Escape(entity.Dn),
                Markup.Escape(entity.Match.TargetUserPrincipalName ?? entity.Match.TargetId ?? "-"),
                Markup.Escape(Why(entity)));
        }

        console.Write(table);
    }

    public static string Why(PlannedEntity entity) => entity.Disposition switch
    {
        Disposition.Protected => $"{entity.Protection?.Reason}: {entity.Protection?.Detail}",
        Disposition.Blocked => string.Join("; ", entity.Blockers.Select(b => WireName.Of(b.Code))),
        Disposition.Kept => $"decision by {entity.Decision?.DecidedBy}: {entity.Decision?.Reason}",
        _ => entity.Decision is { } decision ? $"decision {decision.Decision} by {decision.DecidedBy}" : $"{entity.Steps.Count} steps",
    };

    private static string Number(int value) => value.ToString("N0", CultureInfo.InvariantCulture);

    private static IAnsiConsole ConsoleFor(TextWriter output)
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
            // Redirected output (files, CI logs, tests) would otherwise wrap at 80 columns.
            console.Profile.Width = 200;
        }

        return console;
    }
}
