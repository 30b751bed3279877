using System.CommandLine;
using System.Globalization;
using AuthSplit.Cli.Configuration;
using AuthSplit.Core.Errors;
using AuthSplit.Core.Execution;
using AuthSplit.Core.Execution.Forecast;
using AuthSplit.Core.Planning.Format;
using AuthSplit.Scheduling.Hosting;
using Serilog;

namespace AuthSplit.Cli.Execution;

/// <summary>
/// <c>authsplit run --config F --plan P --wave W [--as NAME]</c>: the wave's Quartz job scheduled for now
/// and hosted in the foreground until it ends. Ctrl-C stops between steps; the same command resumes.
/// </summary>
public static class RunCommand
{
    public static Command Create(CliConsole console)
    {
        var config = ExecutionOptionsOnCommandLine.Config();
        var planPath = new Option<string>("--plan", "-p") { Description = "The approved plan file (its bytes must still hash to its planId).", Required = true };
        var wave = ExecutionOptionsOnCommandLine.Wave();
        var @as = ExecutionOptionsOnCommandLine.As();
        var logDir = ExecutionOptionsOnCommandLine.LogDir();
        var verbose = new Option<bool>("--verbose", "-v") { Description = "Debug logging on stderr." };
        var command = new Command("run", "Execute a wave of an approved plan now, in the foreground (resumes where an earlier run stopped).") { config, planPath, wave, @as, logDir, verbose };
        command.SetAction((parse, cancellationToken) => CommandExecution.RunAsync(console, parse.GetValue(logDir), parse.GetValue(verbose), (log, ct) =>
            RunAsync(console, log, parse.GetRequiredValue(config), parse.GetRequiredValue(planPath), parse.GetRequiredValue(wave), parse.GetValue(@as), ct),
            cancellationToken,
            () => "every step that finished is journalled; run the same command again to resume"));
        return command;
    }

    private static async Task<int> RunAsync(CliConsole console, ILogger log, string configPath, string planPath, string waveName, string? givenOperator, CancellationToken cancellationToken)
    {
        var options = ConfigLoader.Load(configPath, requireLiveSource: true, log);
        var executor = OperatorName.Resolve(givenOperator, "--as");
        var file = await ApprovedPlanFile.ReadAsync(planPath, cancellationToken);
        var plan = file.Plan;
        PlanAgainstConfig.Check(plan, options, planPath);
        var wave = plan.Settings.Waves.FirstOrDefault(w => w.Name == waveName)
            ?? throw UnknownWave.Error(waveName, plan.Settings.Waves.Select(w => w.Name), "plan", planPath);
        if (options.Target is null && plan.Entities.Any(e => e.Wave == wave.Name && e.Disposition == Disposition.Remove && e.Steps.Any(s => s.Action == StepAction.StopPasswordSync)))
        {
            throw new InputException("target-missing", "this wave switches people's source of authority in the target, and the config has no Target section: configure Target (the Graph connector)", configPath);
        }

        var interactive = ReferenceEquals(console.Output, Console.Out) && !Console.IsOutputRedirected;
        var display = new WaveProgressDisplay(console.Output, interactive, TimeProvider.System);
        await using var execution = await ExecutionHost.CreateAsync(options, configPath, log, display, withAdapters: true, SchedulerNodeRole.ForegroundRun, cancellationToken);
        if (execution.WriteBudgetMismatch is { } mismatch)
        {
            throw new InputException("write-budget-limit", mismatch.Message, configPath);
        }

        // The gate, checked before the scheduler starts: starting it fires the recovery of any wave a killed
        // process left running (as that process's operator), so a refused operator (the approver, a paused
        // wave, an unapproved plan) would otherwise get a wave executed by running a command that is refused.
        var verdict = await ExecutionGate.CheckAsync(execution.Store, new WaveJobRequest(plan.PlanId!, wave.Name, executor, Recovering: false), options.Execution.AllowSelfApproval, cancellationToken);
        if (verdict.Refusal is not null)
        {
            throw new ExecutionRefusedException(verdict.Refusal);
        }

        var entities = new List<EntityProgress>();
        await foreach (var entity in execution.Store.ReadEntitiesAsync(plan.PlanId!, wave.Name, cancellationToken))
        {
            entities.Add(entity);
        }

        var forecast = DeadlineForecast.Compute(plan, wave.Name, entities, ForecastRates.From(options, null), TimeProvider.System.GetUtcNow());
        await console.Output.WriteLineAsync($"Wave {wave.Name} of plan {plan.PlanId}, executed by {executor} on {Environment.MachineName}: {forecast.Describe()}.");
        log.Information("Running wave {Wave} of plan {PlanId} as {Operator}", wave.Name, plan.PlanId, executor);

        var startedAt = TimeProvider.System.GetUtcNow();
        var scheduler = await execution.SchedulerAsync(cancellationToken);
        WaveResult result;
        try
        {
            result = await execution.Host.RunWaveAsync(new WaveRunRequest(plan.PlanId!, wave.Name, executor), cancellationToken);
        }
        catch (WaveJobFailedException failed) when (failed.InnerException is ExternalSystemException or InputException)
        {
            // The job gave up on a system that failed (the state store's database gone, a directory down):
            // the operator gets that system's message and exit code, not an internal error.
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failed.InnerException);
            throw;
        }
        finally
        {
            display.Complete();
            await execution.LeaveClusterAsync(scheduler, log);
        }

        if (result.NothingToDo && await execution.Store.GetWaveAsync(plan.PlanId!, wave.Name, CancellationToken.None) is { CompletedAt: { } completedAt } && completedAt >= startedAt)
        {
            // A wave left running by a killed process is fired again at start-up (Quartz's recovery or the
            // journal's resume) before this run's own firing, which then finds it complete: the work was
            // done by this process all the same, and "nothing was changed" would be false.
            result = result with { NothingToDo = false, Reason = null };
        }

        return await ReportAsync(console, log, result, configPath, planPath, console.Interruption, cancellationToken);
    }

    private static async Task<int> ReportAsync(CliConsole console, ILogger log, WaveResult result, string configPath, string planPath, Interruption? interruption, CancellationToken cancellationToken)
    {
        int Count(EntityState state) => result.Entities.TryGetValue(state, out var n) ? n : 0;
        var counts = string.Create(CultureInfo.InvariantCulture,
            $"{Count(EntityState.Done):N0} done, {Count(EntityState.Stale):N0} stale, {Count(EntityState.Refused):N0} refused, {Count(EntityState.Failed):N0} failed, {Count(EntityState.Held):N0} held, {Count(EntityState.Pending) + Count(EntityState.InProgress):N0} not finished, {Count(EntityState.Excluded):N0} not planned for removal");
        log.Information("Wave {Wave} ended {Kind}: {Counts} {Reason}", result.Wave, result.Kind, counts, result.Reason);
        var again = $"authsplit run --config {configPath} --plan {planPath} --wave {result.Wave}";
        switch (result.Kind)
        {
            case WaveResultKind.Refused:
                throw new ExecutionRefusedException(result.Refusal!);
            case WaveResultKind.Completed when result.NothingToDo:
                await console.Output.WriteLineAsync($"Wave {result.Wave} was already complete: nothing was changed ({counts}).");
                return ExitCodes.Success;
            case WaveResultKind.Completed:
                // A completed wave carries a reason only when a rail stopped it short (the delete budget): say so here, not only in status.
                var note = result.Reason is { Length: > 0 } reason ? $" {char.ToUpperInvariant(reason[0])}{reason[1..]}." : "";
                await console.Output.WriteLineAsync($"Wave {result.Wave} complete: {counts}.{note} authsplit status --config {configPath} --wave {result.Wave} lists every entity.");
                return ExitCodes.Success;
            case WaveResultKind.CompletedWithFailures:
                await console.Error.WriteLineAsync($"Wave {result.Wave} ended with failures: {counts}. authsplit status --config {configPath} --wave {result.Wave} gives each reason; after fixing the cause, {again} retries the failed ones.");
                return ExitCodes.WaveFailures;
            case WaveResultKind.Holding:
                await console.Output.WriteLineAsync($"Wave {result.Wave} is holding: {counts}. The held entities are disabled and are deleted when their hold expires (authsplit serve fires the hold-expiry trigger, or run {again} after it).");
                return ExitCodes.WaveUnfinished;
            default:
                if (cancellationToken.IsCancellationRequested && interruption is not null)
                {
                    await console.Error.WriteLineAsync($"interrupted ({interruption.Signal}): stopped between steps; every step that finished is journalled ({counts}). {again} resumes.");
                    return interruption.ExitCode;
                }

                await console.Error.WriteLineAsync($"Wave {result.Wave} stopped before the end: {PrintableText.Escape(result.Reason ?? "stopped")}. {counts}. {again} resumes once the cause is fixed.");
                return ExitCodes.WaveUnfinished;
        }
    }
}
