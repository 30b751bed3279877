using System.Security.Cryptography;
using AuthSplit.Cli.Configuration;
using AuthSplit.Cli.Logging;
using AuthSplit.Cli.Output;
using AuthSplit.Core.Errors;
using AuthSplit.Core.Planning;
using AuthSplit.Core.Planning.Decisions;
using AuthSplit.Core.Planning.DryRun;
using AuthSplit.Core.Planning.Format;
using Serilog;

namespace AuthSplit.Cli.Planning;

/// <summary>
/// Runs <c>authsplit plan</c>: checks the outputs, loads the config and decisions, composes the adapters,
/// runs the dry run (<see cref="DryRunPlanning"/>), and writes the plan atomically or prints why it was
/// refused. Nothing is written when anything fails or the planner refuses.
/// </summary>
public sealed class PlanRunner(CliConsole console, ILogger log)
{
    public async Task<int> RunAsync(PlanRequest request, CancellationToken cancellationToken)
    {
        var output = PlanOutputs.Check(request);
        if (request.ReplayDirectory is not null && request.SaveSnapshotDirectory is not null)
        {
            throw new InputException("replay-conflict", "--replay plans from a saved snapshot and --save-snapshot saves a live read: give one of them");
        }

        if (request.ExpectPlanOf is not null && request.ReplayDirectory is null)
        {
            throw new InputException("replay-missing", "--expect-plan-of compares a replayed plan's id: give --replay with the saved snapshot");
        }

        var expected = request.ExpectPlanOf is null ? null : await ReplayComparison.ReadAsync(request.ExpectPlanOf, cancellationToken);
        var replay = request.ReplayDirectory is null ? null : await SnapshotReplay.OpenAsync(request.ReplayDirectory, request.SourceLdif, request.TargetSnapshot, cancellationToken);
        if (replay is not null)
        {
            request = request with { SourceLdif = replay.SourceLdif, TargetSnapshot = replay.TargetSnapshot };
            output = PlanOutputs.Check(request);
        }

        var live = request.SourceLdif is null;
        var options = ConfigLoader.Load(request.ConfigPath, requireLiveSource: live, log);
        if (request.RatesPath is not null)
        {
            options.Forecast.MeasuredRatesFile = Path.GetFullPath(request.RatesPath);
        }

        // Read and checked before the directory is: an unusable rates file is refused before any work.
        var measuredRates = PlanForecast.MeasuredFrom(options);
        var settings = PlanningSettings.From(options);
        var decisions = await ReadDecisionsAsync(request.DecisionsPath, cancellationToken);
        var previous = request.PreviousPlanPath is null ? null : await PlanFiles.ReadAsync(request.PreviousPlanPath, cancellationToken);

        using var adapters = new AdapterFactory(log);
        await using var snapshot = request.SaveSnapshotDirectory is null ? null : new SnapshotDirectory(request.SaveSnapshotDirectory, log);
        var target = OpenTarget(adapters, request, options.Target, settings, snapshot);
        DryRunOutcome outcome;
        using (var progress = new ReadProgress(console, log))
        {
            outcome = await DryRunPlanning.RunAsync(
                new DryRunRequest
                {
                    Settings = settings,
                    Legacy = adapters.OpenLegacy(options.Source, request.SourceLdif, progress, snapshot),
                    Target = target,
                    Decisions = decisions.List,
                    DecisionsInput = decisions.Description,
                    PreviousPlan = previous,
                    AcceptScopeDrop = request.AcceptScopeDrop,
                    Snapshot = snapshot,
                    Progress = progress,
                    Observer = new LoggingObserver(log),
                },
                cancellationToken);
        }

        // A replay records the live plan's inputs, once the files are shown to be what it read.
        var inputs = replay?.Reconcile(outcome.Inputs);
        if (outcome.Refused)
        {
            foreach (var refusal in outcome.Refusals)
            {
                log.FileOnly().Error("Refused: {Code}: {Message}", refusal.Code, refusal.Message);
                await console.Error.WriteLineAsync($"refused: {refusal.Code}: {refusal.Message}");
            }

            await console.Error.WriteLineAsync($"No plan was written to {request.OutputPath}.");
            return ExitCodes.Refused;
        }

        var made = inputs is null ? outcome.Plan : outcome.Plan with { Inputs = inputs };
        var plan = made;
        await OutputFile.WriteAsync(output, async (stream, ct) =>
        {
            await using var scratch = OutputFile.CreateScratch(output);
            plan = await PlanSerializer.WriteWithPlanIdAsync(made, stream, scratch, ct);
        }, cancellationToken);
        log.Information("Plan {PlanId} written to {Path}: {Entities} entities", plan.PlanId, request.OutputPath, plan.Entities.Count);
        log.Debug(
            "Runtime: GC paused {GcPauseSeconds:0.00} s in {Gen0} gen0, {Gen1} gen1, {Gen2} gen2 collections; peak working set {PeakMiB} MiB",
            GC.GetTotalPauseDuration().TotalSeconds,
            GC.CollectionCount(0),
            GC.CollectionCount(1),
            GC.CollectionCount(2),
            Environment.WorkingSet / 1048576);
        // With --out - the plan itself is on stdout; the summary goes beside the diagnostics.
        var results = output.Mode == OutputMode.StandardOutput ? console.Error : console.Output;
        var forecast = PlanForecast.Configured(plan, options, TimeProvider.System.GetUtcNow(), measuredRates);
        LogForecast(forecast);
        PlanTables.WriteWaveSummary(results, plan, forecast);
        if (replay is not null)
        {
            // What an auditor compares, besides the id, when the ids differ: which input was not the same.
            await results.WriteLineAsync($"Replayed from {request.ReplayDirectory}: {string.Join("; ", replay.Describe())}; settings {plan.Inputs.ConfigSha256}; decisions {(plan.Inputs.Decisions is { } d ? $"{d.Location} ({d.Sha256})" : "none")}.");
        }

        await results.WriteLineAsync($"Plan {plan.PlanId} written to {request.OutputPath}.");
        if (expected is not null)
        {
            var differences = expected.Compare(plan);
            if (differences.Count > 0)
            {
                log.FileOnly().Error("Replayed plan {PlanId} is not the plan {Expected} that {File} records: {Differences}", plan.PlanId, expected.PlanId, expected.Location, differences);
                await console.Error.WriteLineAsync($"invalid: plan-id-differs: the replayed plan {plan.PlanId} is not the plan {expected.PlanId} that {expected.Location} records:");
                foreach (var difference in differences)
                {
                    await console.Error.WriteLineAsync($"  {difference}");
                }

                return ExitCodes.EvidenceInvalid;
            }

            await results.WriteLineAsync($"Re-derived: {plan.PlanId} is the plan id {expected.Location} records.");
        }
        foreach (var record in plan.Decisions.Where(d => d.Status != DecisionStatus.Applied))
        {
            log.FileOnly().Warning("Decision for {EntityId} ({Decision}) {Status}: {Note}", record.EntityId, record.Decision, record.Status, record.Note);
            await console.Error.WriteLineAsync($"warning: decision for {record.EntityId} ({record.Decision}) {record.Status.ToString().ToLowerInvariant()}: {record.Note}");
        }

        return ExitCodes.Success;
    }

    // The log (JSON) carries the forecast too, a wave that cannot make its deadline as a warning.
    private void LogForecast(PlanForecast forecast)
    {
        foreach (var wave in forecast.Waves)
        {
            var level = wave.Flag is null ? Serilog.Events.LogEventLevel.Information : Serilog.Events.LogEventLevel.Warning;
            log.FileOnly().Write(
                level,
                "Deadline forecast for wave {Wave}: {GraphWrites} Graph writes, {GraphReads} Graph reads, {LdapOperations} LDAP operations need {ExecutionSeconds} s of execution and {HoldDays} hold days; deadline {Deadline}, {Flag}; at {Rates}",
                wave.Wave,
                wave.GraphWrites,
                wave.GraphReads,
                wave.LdapOperations,
                wave.Execution.TotalSeconds,
                wave.Hold.TotalDays,
                wave.Deadline,
                wave.Flag ?? "fits",
                forecast.Rates);
        }
    }

    private static async Task<(IReadOnlyList<Decision> List, InputDescription? Description)> ReadDecisionsAsync(string? path, CancellationToken cancellationToken)
    {
        if (path is null)
        {
            return ([], null);
        }

        byte[] bytes;
        try
        {
            bytes = await File.ReadAllBytesAsync(path, cancellationToken);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new InputException("decisions-missing", $"cannot read the decisions file: {ex.Message}", path);
        }

        var list = DecisionFileParser.Parse(System.Text.Encoding.UTF8.GetString(bytes), path);
        return (list, new InputDescription { Kind = "decisions", Location = Path.GetFileName(path), Sha256 = Sha256(bytes), Count = list.Count });
    }

    private static ITargetDirectorySource OpenTarget(AdapterFactory adapters, PlanRequest request, Core.Configuration.TargetOptions? targetOptions, PlanningSettings settings, SnapshotDirectory? snapshot)
    {
        if (request.TargetSnapshot is not null)
        {
            return AdapterFactory.OpenTargetSnapshot(request.TargetSnapshot);
        }

        return targetOptions is null
            ? throw new InputException("target-missing", "no target: configure Target (the live Graph connector) or pass --target-snapshot with a saved Graph JSON snapshot")
            : adapters.OpenLiveTarget(targetOptions, settings.Matching.Select(rule => rule.Target), snapshot);
    }

    private static string Sha256(byte[] bytes) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(bytes));

    private sealed class LoggingObserver(ILogger log) : IDryRunObserver
    {
        public void TargetRead(ITargetDirectorySource target, InputDescription read) =>
            log.Information("Read {Count} target users from {Source}", read.Count, target.Description);

        public void LinkPassStarting(IReadOnlyCollection<string> attributes) =>
            log.Information("A filter matches in chain (1.2.840.113556.1.4.1941): reading the source's {Attributes} links first (a second pass plans)", string.Join(", ", attributes));

        public void TargetInventoryRead(ITargetDirectorySource target, InputDescription read) =>
            log.Information("Read {Count} target groups, applications and service principals from {Source}", read.Count, target.Description);

        public void TargetInventoryUnavailable(ITargetDirectorySource target, string reason) =>
            log.Warning("Synchronised groups were not checked: {Source} has no groups, applications or service principals ({Reason}); people in cloud groups still synchronised from the legacy directory would drop out of them at their delete. Save the target snapshot again (plan --save-snapshot) to check them", target.Description, reason);

        public void SourceRead(ILegacyDirectorySource source, InputDescription read) =>
            log.Information("Read {Count} legacy entries from {Source}", read.Count, source.Description);
    }
}
