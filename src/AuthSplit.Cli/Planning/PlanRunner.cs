using System.Security.Cryptography;
using AuthSplit.Cli.Configuration;
using AuthSplit.Cli.Logging;
using AuthSplit.Cli.Output;
using AuthSplit.Core.Hashing;
using AuthSplit.Core.Configuration;
using AuthSplit.Core.Errors;
using AuthSplit.Core.Model;
using AuthSplit.Core.Planning;
using AuthSplit.Core.Planning.Decisions;
using AuthSplit.Core.Planning.Format;
using AuthSplit.Graph.Snapshots;
using Serilog;

namespace AuthSplit.Cli.Planning;

/// <summary>
/// Runs <c>authsplit plan</c>: config, target users, decisions, then the legacy entries streamed
/// through the planner (and, for a live read, into a snapshot), then the plan written atomically.
/// Nothing is written when anything fails or the planner refuses.
/// </summary>
public sealed class PlanRunner(CliConsole console, ILogger log)
{
    public async Task<int> RunAsync(PlanRequest request, CancellationToken cancellationToken)
    {
        var output = PlanOutputs.Check(request);
        var live = request.SourceLdif is null;
        var options = ConfigLoader.Load(request.ConfigPath, requireLiveSource: live, log);
        var settings = PlanningSettings.From(options);
        var decisions = await ReadDecisionsAsync(request.DecisionsPath, cancellationToken);
        var previous = request.PreviousPlanPath is null ? null : await PlanFiles.ReadAsync(request.PreviousPlanPath, cancellationToken);

        using var adapters = new AdapterFactory(log);
        var target = await ReadTargetAsync(adapters, request, options.Target, settings, cancellationToken);
        using var savedTarget = target.Snapshot;
        var semantics = await SourceSemantics.PrepareAsync(adapters, options, settings, request.SourceLdif, log, cancellationToken);
        settings = semantics.Settings;
        var planner = new Planner(settings, target.Users, decisions.List);

        InputDescription sourceInput;
        using (var progress = new ReadProgress(console, log))
        {
            sourceInput = live
                ? await ReadLiveSourceAsync(adapters, options.Source, settings, planner, request.SaveSnapshotDirectory, progress, cancellationToken)
                : await ReadLdifSourceAsync(adapters, request.SourceLdif!, planner, progress, cancellationToken);
        }

        sourceInput = semantics.Describe(sourceInput);
        if (live)
        {
            await semantics.SaveAsync(request.SaveSnapshotDirectory, log, cancellationToken);
        }

        // The target's pages replace the saved ones only once the source was read too.
        if (savedTarget is not null)
        {
            savedTarget.Commit();
            log.Information("Saved the target snapshot to {Path}", savedTarget.Destination);
        }

        var inputs = new PlanInputs
        {
            Source = sourceInput,
            Target = target.Description,
            ConfigSha256 = PlanSerializer.HashSettings(settings.Echo),
            Decisions = decisions.Description,
        };
        var outcome = planner.Complete(inputs, previous, request.AcceptScopeDrop, computePlanId: false);
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

        var plan = outcome.Plan;
        await OutputFile.WriteAsync(output, async (stream, ct) =>
        {
            await using var scratch = OutputFile.CreateScratch(output);
            plan = await PlanSerializer.WriteWithPlanIdAsync(outcome.Plan, stream, scratch, ct);
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
        PlanTables.WriteWaveSummary(results, plan);
        await results.WriteLineAsync($"Plan {plan.PlanId} written to {request.OutputPath}.");
        foreach (var record in plan.Decisions.Where(d => d.Status != DecisionStatus.Applied))
        {
            log.FileOnly().Warning("Decision for {EntityId} ({Decision}) {Status}: {Note}", record.EntityId, record.Decision, record.Status, record.Note);
            await console.Error.WriteLineAsync($"warning: decision for {record.EntityId} ({record.Decision}) {record.Status.ToString().ToLowerInvariant()}: {record.Note}");
        }

        return ExitCodes.Success;
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

    private async Task<(List<TargetUser> Users, InputDescription Description, GraphUserSnapshotWriter? Snapshot)> ReadTargetAsync(
        AdapterFactory adapters, PlanRequest request, TargetOptions? targetOptions, PlanningSettings settings, CancellationToken cancellationToken)
    {
        var users = new List<TargetUser>();
        if (request.TargetSnapshot is not null)
        {
            var source = AdapterFactory.OpenTargetSnapshot(request.TargetSnapshot);
            await foreach (var user in source.ReadUsersAsync(cancellationToken))
            {
                users.Add(user);
            }

            var hash = source.Sha256 ?? throw new InvalidOperationException("the target snapshot was not read to its end");
            log.Information("Read {Count} target users from {Source}", users.Count, source.Description);
            return (users, new InputDescription { Kind = "graph-snapshot", Location = Path.GetFileName(Path.TrimEndingDirectorySeparator(request.TargetSnapshot)), Sha256 = hash, Count = users.Count }, null);
        }

        if (targetOptions is null)
        {
            throw new InputException("target-missing", "no target: configure Target (the live Graph connector) or pass --target-snapshot with a saved Graph JSON snapshot");
        }

        // A live read is saved page for page exactly as the snapshot reader takes it, and the plan
        // records the hash of those pages, so re-planning from the saved snapshot gives the same plan.
        var directory = adapters.OpenLiveTarget(targetOptions, settings.Matching.Select(rule => rule.Target));
        var snapshot = request.SaveSnapshotDirectory is null ? null : new GraphUserSnapshotWriter(Path.Combine(request.SaveSnapshotDirectory, "target"));
        try
        {
            log.Information("Reading the target's users from Graph at {Source} ({Properties})", directory.Description, string.Join(", ", directory.Select));
            await foreach (var page in directory.ReadPagesAsync(cancellationToken))
            {
                users.AddRange(page.Users);
                if (snapshot is not null)
                {
                    await snapshot.WriteAsync(page, cancellationToken);
                }
            }
        }
        catch
        {
            snapshot?.Dispose();
            throw;
        }

        var sha256 = directory.Sha256 ?? throw new InvalidOperationException("the Graph read did not reach its last page");
        log.Information("Read {Count} target users from {Source}", users.Count, directory.Description);
        return (users, new InputDescription { Kind = "graph", Location = directory.Description, Sha256 = sha256, Count = users.Count }, snapshot);
    }

    private async Task<InputDescription> ReadLdifSourceAsync(AdapterFactory adapters, string path, Planner planner, ReadProgress progress, CancellationToken cancellationToken)
    {
        var source = adapters.OpenLdif(path);
        var count = await EntryPipeline.RunAsync(source.ReadEntriesAsync(cancellationToken), entry =>
        {
            planner.Add(entry);
            return ValueTask.CompletedTask;
        }, progress, cancellationToken);

        var hash = source.Sha256 ?? throw new InvalidOperationException("the LDIF snapshot was not read to its end");
        log.Information("Read {Count} legacy entries from {Source}", count, source.Description);
        return new InputDescription { Kind = "ldif", Location = Path.GetFileName(path), Sha256 = hash, Count = count };
    }

    // A live read is saved exactly as the LDIF writer renders it, and the plan records the hash of
    // that rendering, so re-planning from the saved snapshot gives the same plan and the same hash.
    // Without a snapshot to save, only the attributes the plan relies on (its fingerprint attributes)
    // are read, and the hash covers the rendering of exactly that read.
    private async Task<InputDescription> ReadLiveSourceAsync(AdapterFactory adapters, SourceOptions source, PlanningSettings settings, Planner planner, string? saveDirectory, ReadProgress progress, CancellationToken cancellationToken)
    {
        var attributes = saveDirectory is null ? settings.FingerprintAttributes : null;
        if (attributes is not null)
        {
            log.Information("Reading only the {Count} attributes the plan relies on ({Attributes}); --save-snapshot reads and keeps whole entries", attributes.Count, string.Join(", ", attributes));
        }

        var directory = adapters.OpenLive(source, progress, attributes);
        string? temporary = null;
        string? finalPath = null;
        if (saveDirectory is not null)
        {
            AtomicFile.CreateDirectory(saveDirectory);
            finalPath = Path.Combine(saveDirectory, "source.ldif");
            temporary = AtomicFile.TemporaryFor(finalPath);
        }

        var count = 0;
        string hash;
        try
        {
            await using (var file = temporary is null ? Stream.Null : AtomicFile.CreateTemporary(temporary))
            await using (var hashing = new HashingWriteStream(file))
            {
                await using (var writer = AdapterFactory.CreateLdifWriter(hashing))
                {
                    count = await EntryPipeline.RunAsync(directory.ReadEntriesAsync(cancellationToken), async entry =>
                    {
                        planner.Add(entry);
                        await writer.WriteAsync(entry, cancellationToken);
                    }, progress, cancellationToken);
                    await writer.CompleteAsync(cancellationToken);
                }

                hash = hashing.Sha256();
                if (file is FileStream fileStream)
                {
                    await fileStream.FlushAsync(cancellationToken);
                    fileStream.Flush(flushToDisk: true);
                }
            }

            if (temporary is not null)
            {
                AtomicFile.Commit(temporary, finalPath!, cancellationToken);
                log.Information("Saved the source snapshot to {Path}", finalPath);
            }
        }
        finally
        {
            if (temporary is not null)
            {
                AtomicFile.Discard(temporary);
            }
        }

        log.Information("Read {Count} legacy entries from {Source}", count, directory.Description);
        return new InputDescription { Kind = "ldap", Location = directory.Description, Sha256 = hash, Count = count };
    }

    private static string Sha256(byte[] bytes) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(bytes));
}
