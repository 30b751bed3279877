using System.CommandLine;
using System.Text;
using System.Text.Json;
using AuthSplit.Cli.Configuration;
using AuthSplit.Cli.Output;
using AuthSplit.Core.Errors;
using AuthSplit.Core.Planning.Decisions;
using AuthSplit.Core.Planning.Format;

namespace AuthSplit.Cli.Planning;

/// <summary>
/// <c>authsplit plan show plan.json [--wave W] [--format table|json|csv]</c>, and
/// <c>--format decisions --out decisions.json</c>: a decisions file to fill in for the blocked entities.
/// </summary>
public static class PlanShowCommand
{
    public static Command Create(CliConsole console)
    {
        var file = new Argument<string>("plan") { Description = "The plan file." };
        var wave = new Option<string?>("--wave", "-w") { Description = "Only this wave's entities." };
        var format = new Option<string>("--format", "-f") { Description = "table, json, csv, or decisions (a decisions file to fill in for the blocked entities; needs --out).", DefaultValueFactory = _ => "table" };
        format.AcceptOnlyFromAmong("table", "json", "csv", "decisions");
        var output = new Option<string?>("--out", "-o") { Description = "With --format decisions: the new file to write (owner-only; an existing file is never overwritten)." };
        var config = new Option<string?>("--config", "-c") { Description = "The config whose Target:Limits and Execution:ForecastLdapOperationsPerSecond the table's deadline forecast uses (without it: Graph's documented limit and 200 LDAP operations/s)." };
        var command = new Command("show", "Show a plan's waves with their deadline forecast, and its entities (the plan's id is verified first).") { file, wave, format, output, config };
        command.SetAction((parse, cancellationToken) => CommandExecution.RunAsync(console, null, false, async (log, ct) =>
        {
            var chosen = parse.GetValue(format);
            var outPath = parse.GetValue(output);
            if (chosen == "decisions" && string.IsNullOrWhiteSpace(outPath))
            {
                throw new InputException("show-out", "--format decisions writes a file: name it with --out (it must not exist yet)");
            }

            if (chosen != "decisions" && outPath is not null)
            {
                throw new InputException("show-out", "--out is only for --format decisions; the other formats print to stdout");
            }

            var plan = await PlanFiles.ReadAsync(parse.GetRequiredValue(file), ct);
            var waveName = parse.GetValue(wave);
            if (waveName is not null && plan.Summary.Waves.All(w => w.Name != waveName))
            {
                throw UnknownWave.Error(waveName, plan.Summary.Waves.Select(w => w.Name), "plan", null);
            }

            var entities = plan.Entities.Where(e => waveName is null || e.Wave == waveName).ToArray();
            switch (chosen)
            {
                case "json":
                    await console.Output.WriteLineAsync(JsonSerializer.Serialize(entities, PlanSerializer.Options));
                    break;
                case "csv":
                    await WriteCsvAsync(console.Output, entities);
                    break;
                case "decisions":
                    var blocked = DecisionTemplate.Undecided(entities);
                    var blockedSystems = DecisionTemplate.UndecidedSystems(plan.Systems?.Where(s => waveName is null || s.Wave == waveName));
                    await WriteNewOwnerOnlyAsync(outPath!, DecisionTemplate.Write(plan, blocked, blockedSystems), ct);
                    var systemsNote = blockedSystems.Count > 0 ? $" and {blockedSystems.Count} blocked systems" : "";
                    await console.Output.WriteLineAsync($"Wrote {blocked.Count} blocked entities{systemsNote} to {outPath}: fill in decision, reason and decidedBy (and targetId or wave), delete the entries you do not decide, then run authsplit plan --decisions {outPath}.");
                    break;
                default:
                    var now = TimeProvider.System.GetUtcNow();
                    var forecast = parse.GetValue(config) is { } configPath
                        ? PlanForecast.Configured(plan, ConfigLoader.Load(configPath, requireLiveSource: false, log), now)
                        : PlanForecast.Defaults(plan, now);
                    await console.Output.WriteLineAsync($"Plan {PrintableText.Escape(plan.PlanId)}");
                    PlanTables.WriteWaveSummary(console.Output, plan with { Summary = plan.Summary with { Waves = [.. plan.Summary.Waves.Where(w => waveName is null || w.Name == waveName)] } }, forecast);
                    PlanTables.WriteEntities(console.Output, entities);
                    if (plan.Systems is { } systems)
                    {
                        PlanTables.WriteSystems(console.Output, systems.Where(s => waveName is null || s.Wave == waveName));
                    }

                    if (plan.GroupSwitches is { } switches)
                    {
                        PlanTables.WriteGroupSwitches(console.Output, switches.Where(g => waveName is null || g.Wave == waveName));
                    }

                    break;
            }

            return ExitCodes.Success;
        }, cancellationToken));
        return command;
    }

    private static async Task WriteCsvAsync(TextWriter output, IEnumerable<PlannedEntity> entities)
    {
        await output.WriteLineAsync(CsvWriter.Line(["id", "dn", "kind", "wave", "disposition", "match", "targetId", "targetUserPrincipalName", "blockers", "steps", "precondition", "candidateWaves", "candidateTargetIds"]));
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
                string.Join(";", entity.CandidateWaves ?? []),
                entity.Disposition == Disposition.Blocked ? string.Join(";", DecisionTemplate.CandidateTargets(entity)) : null,
            ]));
        }
    }

    // The template holds DNs and ids (personal data) and, once filled in, the decisions an engineer
    // made: created owner-only, and never over an existing file (it may be a filled-in one).
    private static async Task WriteNewOwnerOnlyAsync(string path, string content, CancellationToken cancellationToken)
    {
        var options = UnixFile.OwnerOnlyOptions(FileMode.CreateNew, FileAccess.Write);
        FileStream stream;
        try
        {
            stream = new FileStream(path, options);
        }
        catch (IOException) when (File.Exists(path) || System.IO.Directory.Exists(path))
        {
            throw new InputException("show-out-exists", "already exists; the decisions template is never written over a file (it may hold decisions). Choose a new path", path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new InputException("show-out", $"cannot create the file: {ex.Message}", path);
        }

        try
        {
            await using (stream)
            {
                await stream.WriteAsync(Encoding.UTF8.GetBytes(content), cancellationToken);
                stream.Flush(flushToDisk: true);
            }
        }
        catch
        {
            // Half a template is worse than none: it would parse as fewer decisions than intended.
            File.Delete(path);
            throw;
        }
    }
}
