using System.CommandLine;
using AuthSplit.Core.Planning.Format;
using Spectre.Console;

namespace AuthSplit.Cli.Planning;

/// <summary><c>authsplit plan diff old.json new.json</c>: which entities changed and why (directory text printed escaped).</summary>
public static class PlanDiffCommand
{
    public static Command Create(CliConsole console)
    {
        var older = new Argument<string>("old") { Description = "The earlier plan." };
        var newer = new Argument<string>("new") { Description = "The later plan." };
        var command = new Command("diff", "Compare two plans entity by entity (disposition, wave, steps, match, blockers, and why), and their systems and synchronised groups.") { older, newer };
        command.SetAction((parse, cancellationToken) => CommandExecution.RunAsync(console, null, false, async (_, ct) =>
        {
            var before = await PlanFiles.ReadAsync(parse.GetRequiredValue(older), ct);
            var after = await PlanFiles.ReadAsync(parse.GetRequiredValue(newer), ct);
            var comparison = PlanDiff.Compare(before, after);
            await console.Output.WriteLineAsync(PrintableText.Escape($"{comparison.OldPlanId} -> {comparison.NewPlanId}"));
            foreach (var change in comparison.InputChanges)
            {
                await console.Output.WriteLineAsync(PrintableText.Escape(change));
            }

            foreach (var (what, changes) in new[] { ("system", comparison.SystemChanges), ("synchronised group", comparison.GroupSwitchChanges) })
            {
                foreach (var change in changes)
                {
                    await console.Output.WriteLineAsync(PrintableText.Escape($"{what} {change.Id} {change.Change}: {string.Join("; ", change.Reasons)}"));
                }
            }

            if (comparison.Changes.Count == 0)
            {
                await console.Output.WriteLineAsync("No entity changed.");
                return ExitCodes.Success;
            }

            var table = new Table().Border(TableBorder.Simple).AddColumn("change").AddColumn("dn").AddColumn("why");
            foreach (var change in comparison.Changes)
            {
                table.AddRow(Cell(change.Change), Cell(change.Dn), Cell(string.Join("; ", change.Reasons)));
            }

            var ansi = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(console.Output), Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors });
            ansi.Profile.Width = 200;
            ansi.Write(table);
            await console.Output.WriteLineAsync($"{comparison.Changes.Count(c => c.Change == "added")} added, {comparison.Changes.Count(c => c.Change == "changed")} changed, {comparison.Changes.Count(c => c.Change == "removed")} removed.");
            return ExitCodes.Success;
        }, cancellationToken));
        return command;
    }

    // DNs and reasons carry directory text: printed escaped, neither markup nor terminal control.
    private static string Cell(string text) => Markup.Escape(PrintableText.Escape(text));
}
