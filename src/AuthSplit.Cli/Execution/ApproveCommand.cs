using System.CommandLine;
using System.Globalization;
using AuthSplit.Cli.Configuration;
using AuthSplit.Core.Errors;
using AuthSplit.Core.Execution;
using AuthSplit.Core.Planning.Format;

namespace AuthSplit.Cli.Execution;

/// <summary><c>authsplit approve --config F --plan P --by NAME [--note TEXT]</c>: the plan's id approved in the state store, with the plan's exact bytes.</summary>
public static class ApproveCommand
{
    public static Command Create(CliConsole console)
    {
        var config = ExecutionOptionsOnCommandLine.Config();
        var planPath = new Option<string>("--plan", "-p") { Description = "The plan file to approve (its planId is checked against its content).", Required = true };
        var by = new Option<string>("--by") { Description = "Who approves: a person's name or account, as it should appear in the journal and the evidence.", Required = true };
        var note = new Option<string?>("--note") { Description = "Why, or what was reviewed (kept with the approval)." };
        var logDir = ExecutionOptionsOnCommandLine.LogDir();
        var command = new Command("approve", "Approve a reviewed plan so its waves may run (four eyes: the approver does not execute).") { config, planPath, by, note, logDir };
        command.SetAction((parse, cancellationToken) => CommandExecution.RunAsync(console, parse.GetValue(logDir), false, async (log, ct) =>
        {
            var configPath = parse.GetRequiredValue(config);
            var options = ConfigLoader.Load(configPath, requireLiveSource: false, log);
            var approver = OperatorName.Resolve(parse.GetRequiredValue(by), "--by");
            var text = parse.GetValue(note);
            if (text is not null && (text.Length > 2000 || PrintableText.Escape(text) != text))
            {
                throw new InputException("approval-note", "--note must be at most 2000 printable characters");
            }

            var file = await ApprovedPlanFile.ReadAsync(parse.GetRequiredValue(planPath), ct);
            var plan = file.Plan;
            PlanAgainstConfig.Check(plan, options, parse.GetRequiredValue(planPath));
            await using var state = await StateComposition.OpenAsync(options, configPath, ct);
            await state.Store.SavePlanAsync(plan.PlanId!, file.Bytes, ct);
            var approval = await state.Store.ApproveAsync(new Approval(plan.PlanId!, approver, TimeProvider.System.GetUtcNow(), text), ct);
            log.Information("Plan {PlanId} approved by {Approver} in {Store}", plan.PlanId, approval.ApprovedBy, state.Store.Description);
            await console.Output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"Plan {plan.PlanId} approved by {approval.ApprovedBy} at {approval.ApprovedAt:yyyy-MM-dd HH:mm:ss}Z ({state.Store.Description})."));
            foreach (var wave in plan.Summary.Waves)
            {
                // Counted from the entities, which are what runs: the summary is the plan's own account of
                // them, and a plan edited and re-hashed after planning may not have kept it true.
                var remove = plan.Entities.Count(e => e.Wave == wave.Name && e.Disposition == Disposition.Remove);
                var blocked = plan.Entities.Count(e => e.Wave == wave.Name && e.Disposition == Disposition.Blocked);
                await console.Output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"  wave {wave.Name}: {remove} to remove, {blocked} blocked (not executed), deadline {wave.Deadline}{(wave.DeleteBudgetExceeded ? $"; {wave.PlannedDeletes} deletes exceed the budget of {wave.MaxDeletes}: the wave will stop there" : "")}"));
                if (remove != wave.Remove || blocked != wave.Blocked)
                {
                    await console.Error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                        $"warning: wave {wave.Name}: the plan's summary says {wave.Remove} to remove and {wave.Blocked} blocked, its entities {remove} and {blocked}: the plan was edited after planning; check what it removes (authsplit plan show) before it runs"));
                }
            }

            await console.Output.WriteLineAsync($"Next: another operator runs a wave with authsplit run --config {configPath} --plan <plan> --wave <wave>.");
            return ExitCodes.Success;
        }, cancellationToken));
        return command;
    }
}
