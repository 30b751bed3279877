using System.CommandLine;
using System.Globalization;
using AuthSplit.Cli.Configuration;
using AuthSplit.Cli.Serving;
using AuthSplit.Core.Errors;
using AuthSplit.Core.Execution;
using AuthSplit.Core.Planning.Format;
using AuthSplit.Scheduling.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace AuthSplit.Cli.Execution;

/// <summary>
/// <c>authsplit schedule --config F --plan P --wave W --at ISO-8601 [--as NAME]</c> writes the wave's
/// trigger into the store; <c>authsplit serve --config F</c> hosts the scheduler that fires it.
/// </summary>
public static class ScheduleCommand
{
    public static Command Schedule(CliConsole console)
    {
        var config = ExecutionOptionsOnCommandLine.Config();
        var planPath = new Option<string>("--plan", "-p") { Description = "The approved plan file.", Required = true };
        var wave = ExecutionOptionsOnCommandLine.Wave();
        var at = new Option<string>("--at") { Description = "When to run: ISO-8601 with its offset, e.g. 2026-12-05T01:00:00+09:00.", Required = true };
        var @as = ExecutionOptionsOnCommandLine.As();
        var logDir = ExecutionOptionsOnCommandLine.LogDir();
        var command = new Command("schedule", "Schedule a wave of an approved plan for a maintenance window; authsplit serve runs it then.") { config, planPath, wave, at, @as, logDir };
        command.SetAction((parse, cancellationToken) => CommandExecution.RunAsync(console, parse.GetValue(logDir), false, async (log, ct) =>
        {
            var configPath = parse.GetRequiredValue(config);
            var options = ConfigLoader.Load(configPath, requireLiveSource: false, log);
            var executor = OperatorName.Resolve(parse.GetValue(@as), "--as");
            var when = ParseTime(parse.GetRequiredValue(at));
            if (when <= TimeProvider.System.GetUtcNow())
            {
                throw new InputException("schedule-past", $"--at {when:yyyy-MM-ddTHH:mm:sszzz} is not in the future; use authsplit run to execute now");
            }

            var file = await ApprovedPlanFile.ReadAsync(parse.GetRequiredValue(planPath), ct);
            var plan = file.Plan;
            PlanAgainstConfig.Check(plan, options, parse.GetRequiredValue(planPath));
            var waveName = parse.GetRequiredValue(wave);
            if (plan.Settings.Waves.All(w => w.Name != waveName))
            {
                throw UnknownWave.Error(waveName, plan.Settings.Waves.Select(w => w.Name), "plan", parse.GetRequiredValue(planPath));
            }

            await using var execution = await ExecutionHost.CreateAsync(options, configPath, log, null, withAdapters: false, SchedulerNodeRole.Serve, ct);
            // The same gate the job applies when it fires, checked now so a mistake shows while someone is looking.
            var verdict = await ExecutionGate.CheckAsync(execution.Store, new WaveJobRequest(plan.PlanId!, waveName, executor, Recovering: false), options.Execution.AllowSelfApproval, ct);
            if (verdict.Refusal is { Code: not ExecutionRefusalCode.DependencyIncomplete and not ExecutionRefusalCode.WavePaused } refusal)
            {
                throw new ExecutionRefusedException(refusal);
            }

            var scheduled = await execution.UseSchedulerAsync(scheduler => scheduler.ScheduleAsync(plan.PlanId!, waveName, executor, when, ct));

            log.Information("Wave {Wave} of plan {PlanId} scheduled for {At} as {Operator}", waveName, plan.PlanId, when, executor);
            await console.Output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"Wave {waveName} of plan {plan.PlanId} scheduled for {when:yyyy-MM-dd HH:mm:ss zzz} ({when.UtcDateTime:yyyy-MM-dd HH:mm:ss}Z), to be executed as {executor}{(scheduled.Replaced is { } before ? $"; it was set for {before:yyyy-MM-dd HH:mm:ss zzz}" : "")}."));
            if (verdict.Refusal is { } later)
            {
                await console.Error.WriteLineAsync($"warning: as of now the wave would be refused ({WireName.Of(later.Code)}: {later.Message}); this is checked again when it fires.");
            }

            await console.Output.WriteLineAsync($"authsplit serve --config {configPath} must be running then: a window missed while nothing served is not run late.");
            return ExitCodes.Success;
        }, cancellationToken));
        return command;
    }

    public static Command Serve(CliConsole console)
    {
        var config = ExecutionOptionsOnCommandLine.Config();
        var logDir = ExecutionOptionsOnCommandLine.LogDir();
        var verbose = new Option<bool>("--verbose", "-v") { Description = "Debug logging on stderr." };
        var command = new Command("serve", "Host the scheduler: run scheduled waves and hold expiries until SIGTERM (the step in progress finishes first).") { config, logDir, verbose };
        command.SetAction((parse, cancellationToken) => CommandExecution.RunAsync(console, parse.GetValue(logDir), parse.GetValue(verbose), async (log, ct) =>
        {
            var configPath = parse.GetRequiredValue(config);
            var options = ConfigLoader.Load(configPath, requireLiveSource: true, log);
            await using var execution = await ExecutionHost.CreateAsync(options, configPath, log, null, withAdapters: true, SchedulerNodeRole.Serve, ct);
            // Up before the scheduler starts, so a node that is starting (or cannot) answers "not ready" rather than nothing.
            await using var endpoints = await ServeEndpoints.StartAsync(options.Serve.Http, execution.Host.Services, log, ct);
            if (endpoints is not null)
            {
                var addresses = string.Join(", ", endpoints.Addresses);
                log.Information("Health and metrics on {Addresses}", addresses);
                await console.Output.WriteLineAsync($"Health and metrics on {addresses} ({ServeEndpoints.LivePath}, {ServeEndpoints.ReadyPath}, {ServeEndpoints.MetricsPath}).");
            }

            var scheduler = await execution.SchedulerAsync(ct);
            if (execution.WriteBudgetMismatch is { } mismatch)
            {
                // Up and saying why (readiness 503 with the reason), but running no wave: its writes could take the cluster past Graph's limit.
                log.Error("Not serving waves: {Reason}", mismatch.Message);
                await console.Error.WriteLineAsync($"Not serving waves: {mismatch.Message}.");
                await execution.Host.StartAsync(ct);
                await execution.Host.WaitForShutdownAsync(ct);
            }
            else
            {
                log.Information("Serving scheduled waves from {Store} on {Node}", execution.Store.Description, Environment.MachineName);
                await console.Output.WriteLineAsync($"Serving scheduled waves from {execution.Store.Description}; SIGTERM or Ctrl-C stops after the step in progress.");
                await execution.Host.ServeWavesAsync(ct);
            }

            await execution.LeaveClusterAsync(scheduler, log);

            // Stopped by a signal, the one way serve ends: 143 for SIGTERM (systemd's stop), 130 for Ctrl-C, as docs/exit-codes.md says.
            var signal = console.Interruption?.Signal?.ToString() ?? "cancellation";
            log.Information("Stopped serving scheduled waves ({Signal}); every step that finished is journalled", signal);
            await console.Output.WriteLineAsync("Stopped; every step that finished is journalled, and a wave cut short resumes at the next start.");
            return ct.IsCancellationRequested ? console.Interruption?.ExitCode ?? ExitCodes.Cancelled : ExitCodes.Success;
        }, cancellationToken));
        return command;
    }

    private static DateTimeOffset ParseTime(string text)
    {
        if (!DateTimeOffset.TryParseExact(text, ["yyyy-MM-ddTHH:mm:ssK", "yyyy-MM-ddTHH:mmK", "yyyy-MM-ddTHH:mm:ss.FFFFFFFK"], CultureInfo.InvariantCulture, DateTimeStyles.None, out var when)
            || !(text.EndsWith('Z') || text.Length > 6 && text[^6] is '+' or '-'))
        {
            throw new InputException("schedule-time", $"--at \"{PrintableText.Escape(text)}\" is not an ISO-8601 time with its offset (e.g. 2026-12-05T01:00:00+09:00 or 2026-12-04T16:00:00Z)");
        }

        return when;
    }
}
