using System.CommandLine;
using System.Text.Json;
using AuthSplit.Cli.Output;
using AuthSplit.Core.Errors;
using AuthSplit.Core.Planning.Format;

namespace AuthSplit.Cli.Planning;

/// <summary><c>authsplit plan show plan.json [--wave W] [--format table|json|csv]</c>.</summary>
public static class PlanShowCommand
{
    public static Command Create(CliConsole console)
    {
        var file = new Argument<string>("plan") { Description = "The plan file." };
        var wave = new Option<string?>("--wave", "-w") { Description = "Only this wave's entities." };
        var format = new Option<string>("--format", "-f") { Description = "table, json or csv.", DefaultValueFactory = _ => "table" };
        format.AcceptOnlyFromAmong("table", "json", "csv");
        var command = new Command("show", "Show a plan's entities (the plan's id is verified first).") { file, wave, format };
        command.SetAction((parse, cancellationToken) => CommandExecution.RunAsync(console, null, false, async (_, ct) =>
        {
            var plan = await PlanFiles.ReadAsync(parse.GetRequiredValue(file), ct);
            var waveName = parse.GetValue(wave);
            if (waveName is not null && plan.Summary.Waves.All(w => w.Name != waveName))
            {
                throw new InputException("wave-unknown", $"the plan has no wave \"{waveName}\" (it has {string.Join(", ", plan.Summary.Waves.Select(w => w.Name))})");
            }

            var entities = plan.Entities.Where(e => waveName is null || e.Wave == waveName).ToArray();
            switch (parse.GetValue(format))
            {
                case "json":
                    await console.Output.WriteLineAsync(JsonSerializer.Serialize(entities, PlanSerializer.Options));
                    break;
                case "csv":
                    await WriteCsvAsync(console.Output, entities);
                    break;
                default:
                    await console.Output.WriteLineAsync($"Plan {plan.PlanId}");
                    PlanTables.WriteWaveSummary(console.Output, plan with { Summary = plan.Summary with { Waves = [.. plan.Summary.Waves.Where(w => waveName is null || w.Name == waveName)] } });
                    PlanTables.WriteEntities(console.Output, entities);
                    break;
            }

            return ExitCodes.Success;
        }, cancellationToken));
        return command;
    }

    private static async Task WriteCsvAsync(TextWriter output, IEnumerable<PlannedEntity> entities)
    {
        await output.WriteLineAsync(CsvWriter.Line(["id", "dn", "kind", "wave", "disposition", "match", "targetId", "targetUserPrincipalName", "blockers", "steps", "precondition"]));
        foreach (var entity in entities)
        {
            await output.WriteLineAsync(CsvWriter.Line(
            [
                entity.Id,
                entity.Dn,
                WireName.Of(entity.Kind),
                entity.Wave,
                WireName.Of(entity.Disposition),
                WireName.Of(entity.Match.Status),
                entity.Match.TargetId,
                entity.Match.TargetUserPrincipalName,
                string.Join(";", entity.Blockers.Select(b => WireName.Of(b.Code))),
                string.Join(">", entity.Steps.Select(s => WireName.Of(s.Action))),
                entity.Precondition.Sha256,
            ]));
        }
    }
}
