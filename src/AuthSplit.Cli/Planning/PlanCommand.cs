using System.CommandLine;

namespace AuthSplit.Cli.Planning;

/// <summary><c>authsplit plan</c>, <c>plan show</c> and <c>plan diff</c>.</summary>
public static class PlanCommand
{
    public static Command Create(CliConsole console)
    {
        var config = new Option<string>("--config", "-c") { Description = "The AuthSplit config file (appsettings-shaped JSON).", Required = true };
        var sourceLdif = new Option<string?>("--source-ldif") { Description = "Plan from this LDIF snapshot instead of reading the directory live." };
        var targetSnapshot = new Option<string?>("--target-snapshot") { Description = "Plan from this Graph JSON snapshot (a file or a directory of page files) instead of reading Graph live." };
        var decisions = new Option<string?>("--decisions") { Description = "Decisions file resolving blockers (keep, remove, assign-wave, use-target)." };
        var saveSnapshot = new Option<string?>("--save-snapshot") { Description = "Save what a live read saw (source.ldif, target/) into this directory, to re-plan offline." };
        var replay = new Option<string?>("--replay") { Description = "Plan again from a directory --save-snapshot wrote, checked against what the live plan read and recorded as it recorded it: with the same config and decisions, the live plan's id." };
        var expectPlanOf = new Option<string?>("--expect-plan-of") { Description = "With --replay: an evidence pack's manifest.json (or a plan) whose planId the replayed plan must have; exit 15 naming what differs when it has not." };
        var previous = new Option<string?>("--previous") { Description = "The previous plan: planning refuses when a wave's scope shrank sharply against it." };
        var acceptDrop = new Option<bool>("--accept-scope-drop") { Description = "Plan even when a wave's scope shrank more than Safety:MaxScopeDropPercent." };
        var output = new Option<string>("--out", "-o") { Description = "Where to write the plan (owner-only, replaced atomically; - for standard output). It must not be one of the inputs.", Required = true };
        var logDir = new Option<string?>("--log-dir") { Description = "Directory for the structured log files (default: $AUTHSPLIT_LOG_DIR or ~/.local/state/authsplit/logs)." };
        var verbose = new Option<bool>("--verbose", "-v") { Description = "Debug logging on stderr." };
        var rates = new Option<string?>("--rates") { Description = "Rates a rehearsal measured (authsplit lab rates --out): the deadline forecast uses them instead of the configured ones (overrides Forecast:MeasuredRatesFile)." };

        var plan = new Command("plan", "Make the dry-run migration plan (read-only), print it per wave with each wave's deadline forecast, and write it as JSON.")
        {
            config, sourceLdif, targetSnapshot, decisions, saveSnapshot, replay, expectPlanOf, previous, acceptDrop, output, logDir, verbose, rates,
            PlanShowCommand.Create(console),
            PlanDiffCommand.Create(console),
        };
        plan.SetAction((parse, cancellationToken) =>
        {
            var request = new PlanRequest(
                parse.GetRequiredValue(config),
                parse.GetValue(sourceLdif),
                parse.GetValue(targetSnapshot),
                parse.GetValue(decisions),
                parse.GetValue(saveSnapshot),
                parse.GetRequiredValue(output),
                parse.GetValue(previous),
                parse.GetValue(acceptDrop),
                parse.GetValue(replay),
                parse.GetValue(expectPlanOf))
            {
                RatesPath = parse.GetValue(rates),
            };
            var outputExisted = File.Exists(request.OutputPath);
            return CommandExecution.RunAsync(
                console,
                parse.GetValue(logDir),
                parse.GetValue(verbose),
                (log, ct) => new PlanRunner(console, log).RunAsync(request, ct),
                cancellationToken,
                () => PlanOutputs.DescribeKept(request, outputExisted));
        });
        return plan;
    }
}

public sealed record PlanRequest(
    string ConfigPath,
    string? SourceLdif,
    string? TargetSnapshot,
    string? DecisionsPath,
    string? SaveSnapshotDirectory,
    string OutputPath,
    string? PreviousPlanPath,
    bool AcceptScopeDrop,
    string? ReplayDirectory = null,
    string? ExpectPlanOf = null)
{
    /// <summary><c>--rates</c>: a rehearsal's measured rates for the deadline forecast.</summary>
    public string? RatesPath { get; init; }
}
