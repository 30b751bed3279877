using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using AuthSplit.Cli.Configuration;
using AuthSplit.Cli.Output;
using AuthSplit.Core.Configuration;
using AuthSplit.Core.Execution;
using AuthSplit.Core.Execution.Cluster;
using AuthSplit.Core.Execution.Forecast;
using AuthSplit.Core.Planning.Format;
using AuthSplit.Scheduling.Cluster;
using AuthSplit.Scheduling.Hosting;
using AuthSplit.Scheduling.Jobs;
using AuthSplit.Scheduling.Store;
using Microsoft.Extensions.DependencyInjection;
using Spectre.Console;

namespace AuthSplit.Cli.Execution;

/// <summary><c>authsplit status --config F [--wave W] [--format table|json]</c>: per wave, then per entity, from the journal.</summary>
public static class StatusCommand
{
    public static Command Create(CliConsole console)
    {
        var config = ExecutionOptionsOnCommandLine.Config();
        var wave = new Option<string?>("--wave", "-w") { Description = "One wave, entity by entity." };
        var format = new Option<string>("--format", "-f") { Description = "table or json.", DefaultValueFactory = _ => "table" };
        format.AcceptOnlyFromAmong("table", "json");
        var command = new Command("status", "Where each wave stands (from the journal): per wave, or per entity with --wave.") { config, wave, format };
        command.SetAction((parse, cancellationToken) => CommandExecution.RunAsync(console, null, false, async (log, ct) =>
        {
            var configPath = parse.GetRequiredValue(config);
            var options = ConfigLoader.Load(configPath, requireLiveSource: false, log);
            var waveName = parse.GetValue(wave);
            if (waveName is not null && options.Waves.All(w => w.Name != waveName))
            {
                throw UnknownWave.Error(waveName, options.Waves.Select(w => w.Name), "config", configPath);
            }

            await using var execution = await ExecutionHost.CreateAsync(options, configPath, log, null, withAdapters: false, SchedulerNodeRole.Serve, ct);
            var scheduled = await ScheduledAsync(execution, waveName, ct);
            var (nodes, nodeLines) = await NodesAsync(execution, ct);
            var waves = new List<WaveStatusView>();
            // Waves of one plan share it: read and parse each plan once (a 100k-entity plan takes seconds).
            var plans = new Dictionary<string, PlanDocument?>(StringComparer.Ordinal);
            foreach (var name in options.Waves.OrderBy(w => w.Order).Select(w => w.Name!).Where(n => waveName is null || n == waveName))
            {
                waves.Add(await ReadWaveAsync(execution.Store, options, plans, name, withEntities: waveName is not null, ct));
            }

            var leases = await LeasesAsync(execution.Store, waveName, ct);
            if (parse.GetValue(format) == "json")
            {
                await console.Output.WriteLineAsync(JsonSerializer.Serialize(new { store = execution.Store.Description, waves, scheduled, nodes, leases }, PlanSerializer.Options));
            }
            else
            {
                WriteTables(console.Output, execution.Store.Description, waves, scheduled);
                foreach (var line in nodeLines)
                {
                    await console.Output.WriteLineAsync(PrintableText.Escape(line));
                }

                WriteLeases(console.Output, leases);
            }

            return ExitCodes.Success;
        }, cancellationToken));
        return command;
    }

    // Which process holds which wave now, and the leases whose holder vanished without giving them back
    // (a process killed, or cut off from the store): released leases are history, not shown.
    private static async Task<IReadOnlyList<LeaseView>> LeasesAsync(IExecutionStore store, string? waveName, CancellationToken cancellationToken) =>
        [.. (await store.GetLeasesAsync(cancellationToken))
            .Where(l => l.ReleasedAt is null && (waveName is null || l.Key.Wave == waveName))
            .Select(l => new LeaseView(l.Key.Wave, l.Key.Part, l.Key.PlanId, l.Holder, l.Held ? "held" : "lapsed", l.AcquiredAt, l.RenewedAt, l.ExpiresAt, l.ReadAt))];

    private static void WriteLeases(TextWriter output, IReadOnlyList<LeaseView> leases)
    {
        foreach (var lease in leases)
        {
            var part = lease.Part == LeaseKey.WholeWave ? "" : $" (part {lease.Part})";
            var plan = lease.PlanId[..Math.Min(lease.PlanId.Length, 19)];
            output.WriteLine(lease.State == "held"
                ? string.Create(CultureInfo.InvariantCulture, $"{lease.Wave}{part}: being run by {PrintableText.Escape(lease.Holder)} (plan {plan}), its lease renewed {(lease.ReadAt - lease.RenewedAt).TotalSeconds:0} s ago, runs until {lease.ExpiresAt.UtcDateTime:yyyy-MM-dd HH:mm:ss}Z")
                : string.Create(CultureInfo.InvariantCulture, $"{lease.Wave}{part}: the lease of {PrintableText.Escape(lease.Holder)} (plan {plan}) lapsed at {lease.ExpiresAt.UtcDateTime:yyyy-MM-dd HH:mm:ss}Z without being given back: that process died or lost the state store; the wave resumes from the journal when run again (a serve node takes it over)"));
        }
    }

    // What the scheduler will still fire (schedule's times and hold expiries), from Quartz's tables in the same store.
    private static async Task<IReadOnlyList<ScheduledView>> ScheduledAsync(ExecutionHost execution, string? waveName, CancellationToken cancellationToken) =>
        [.. (await execution.UseSchedulerAsync(scheduler => scheduler.ListAsync(cancellationToken)))
            .Where(s => waveName is null || s.Wave == waveName)
            .Select(s => new ScheduledView(s.Wave, s.PlanId, WireName.Of(s.Kind), s.At, s.Operator))];

    // The cluster's nodes from Quartz's scheduler state table: which are checking in, which are overdue (presumed dead).
    // A single node on SQLite keeps no check-ins and prints nothing.
    private static async Task<(IReadOnlyList<SchedulerNodeView> Nodes, IReadOnlyList<string> Lines)> NodesAsync(ExecutionHost execution, CancellationToken cancellationToken)
    {
        var store = execution.Host.Services.GetRequiredService<SchedulerStoreOptions>();
        var now = TimeProvider.System.GetUtcNow();
        var nodes = SchedulerNodeReport.Views(await execution.Host.Services.GetRequiredService<ISchedulerNodes>().ListAsync(cancellationToken), now, store.CheckinMisfireThreshold);
        var clustered = store.Provider == SchedulerStoreProvider.Postgres && store.Clustered;
        return (nodes, clustered || nodes.Count > 0 ? SchedulerNodeReport.Lines(nodes, now, store.CheckinMisfireThreshold, clustered) : []);
    }

    private static async Task<WaveStatusView> ReadWaveAsync(IExecutionStore store, AuthSplitOptions options, Dictionary<string, PlanDocument?> plans, string wave, bool withEntities, CancellationToken cancellationToken)
    {
        var runs = await store.GetWaveRunsAsync(wave, cancellationToken);
        var pause = await store.GetPauseAsync(wave, cancellationToken);
        var latest = runs.Count > 0 ? runs[0] : null;
        var counts = Enum.GetValues<EntityState>().ToDictionary(s => s, _ => 0);
        var entities = new List<EntityStatusView>();
        var journal = new List<EntityProgress>();
        string? forecast = null;
        if (latest is not null)
        {
            await foreach (var entity in store.ReadEntitiesAsync(latest.PlanId, wave, cancellationToken))
            {
                journal.Add(entity);
                counts[entity.State]++;
                if (withEntities)
                {
                    entities.Add(new EntityStatusView(entity.EntityId, entity.Dn, WireName.Of(entity.Kind), entity.State, entity.LastStep is { } step ? WireName.Of(step) : null, entity.Attempts, entity.Reason, entity.HoldUntil, entity.UpdatedAt));
                }
            }
        }

        PlanDocument? plan = null;
        if (latest is not null && !plans.TryGetValue(latest.PlanId, out plan))
        {
            plan = await store.GetPlanAsync(latest.PlanId, cancellationToken) is { } planJson
                ? PlanSerializer.Deserialize(planJson, "the state store's copy of plan " + latest.PlanId)
                : null;
            plans[latest.PlanId] = plan;
        }

        if (plan is not null)
        {
            // The work still ahead of this plan's wave, at the configured Graph limit and LDAP rate, against its deadline.
            if (plan.Settings.Waves.Any(w => w.Name == wave))
            {
                forecast = DeadlineForecast.Compute(plan, wave, journal, ForecastRates.From(options, null), TimeProvider.System.GetUtcNow()).Describe();
            }
        }

        return new WaveStatusView(
            wave,
            latest?.PlanId,
            latest?.Status ?? WaveStatus.NotStarted,
            pause?.Paused == true ? new PauseView(pause.By, pause.At) : null,
            latest?.StartedBy.Operator,
            latest?.SelfApproved == true,
            latest?.StartedAt,
            latest?.CompletedAt,
            latest?.Reason,
            counts.Where(c => c.Value > 0 || c.Key is EntityState.Done or EntityState.Failed).ToDictionary(c => c.Key, c => c.Value),
            withEntities ? entities : null,
            forecast);
    }

    private static void WriteTables(TextWriter output, string store, IReadOnlyList<WaveStatusView> waves, IReadOnlyList<ScheduledView> scheduled)
    {
        var console = PlanTables.ConsoleFor(output);
        var table = new Table().Border(TableBorder.Rounded).Title($"AuthSplit execution status ({Markup.Escape(store)})");
        foreach (var column in new[] { "wave", "status", "plan", "pending", "held", "done", "stale", "refused", "failed", "started", "completed" })
        {
            table.AddColumn(column);
        }

        foreach (var wave in waves)
        {
            int Count(EntityState s) => wave.Entities.TryGetValue(s, out var n) ? n : 0;
            table.AddRow(
                Markup.Escape(wave.Wave),
                Markup.Escape(WireName.Of(wave.Status) + (wave.Paused is null ? "" : " (paused)")),
                Markup.Escape(wave.PlanId is null ? "-" : wave.PlanId[..Math.Min(wave.PlanId.Length, 19)]),
                N(Count(EntityState.Pending) + Count(EntityState.InProgress)),
                N(Count(EntityState.Held)),
                N(Count(EntityState.Done)),
                N(Count(EntityState.Stale)),
                N(Count(EntityState.Refused)),
                N(Count(EntityState.Failed)),
                Time(wave.StartedAt),
                Time(wave.CompletedAt));
        }

        console.Write(table);
        foreach (var next in scheduled)
        {
            var what = next.Kind == WireName.Of(ScheduledWaveKind.HoldExpiry) ? "fires when its hold expires"
                : next.Kind == WireName.Of(ScheduledWaveKind.Scheduled) ? "scheduled"
                : $"will fire ({next.Kind})";
            console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{next.Wave}: {what} at {next.At.UtcDateTime:yyyy-MM-dd HH:mm:ss}Z, plan {next.PlanId[..Math.Min(next.PlanId.Length, 19)]}, as {PrintableText.Escape(next.Operator)}; authsplit serve must be running then"));
        }

        foreach (var wave in waves.Where(w => w.Forecast is not null))
        {
            console.WriteLine($"{wave.Wave}: {wave.Forecast}");
        }

        foreach (var wave in waves.Where(w => w.SelfApproved))
        {
            // Four eyes waived (Execution:AllowSelfApproval): the reviewer of the evidence must see it here too.
            console.WriteLine($"{wave.Wave}: self-approved: {PrintableText.Escape(wave.StartedBy ?? "-")} approved the plan and executed it (Execution:AllowSelfApproval)");
        }

        foreach (var wave in waves.Where(w => w.Reason is not null && w.Status != WaveStatus.Completed))
        {
            console.WriteLine($"{wave.Wave}: {PrintableText.Escape(wave.Reason)}");
        }

        foreach (var wave in waves.Where(w => w.EntityList is not null))
        {
            var entities = new Table().Border(TableBorder.Simple).Title($"wave {Markup.Escape(wave.Wave)}");
            foreach (var column in new[] { "entity", "dn", "kind", "state", "last step", "attempts", "reason" })
            {
                entities.AddColumn(column);
            }

            foreach (var entity in wave.EntityList!)
            {
                entities.AddRow(
                    Markup.Escape(entity.Id),
                    Markup.Escape(PrintableText.Escape(entity.Dn)),
                    Markup.Escape(entity.Kind),
                    Markup.Escape(WireName.Of(entity.State) + (entity.HoldUntil is { } until ? $" until {until:yyyy-MM-dd HH:mm}Z" : "")),
                    Markup.Escape(entity.LastStep ?? "-"),
                    N(entity.Attempts),
                    Markup.Escape(PrintableText.Escape(entity.Reason ?? "")));
            }

            console.Write(entities);
        }
    }

    private static string N(int value) => value.ToString("N0", CultureInfo.InvariantCulture);

    private static string Time(DateTimeOffset? at) => at is { } t ? t.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) + "Z" : "-";

    private sealed record PauseView(string By, DateTimeOffset At);

    private sealed record LeaseView(string Wave, string Part, string PlanId, string Holder, string State, DateTimeOffset AcquiredAt, DateTimeOffset RenewedAt, DateTimeOffset ExpiresAt, DateTimeOffset ReadAt);

    private sealed record ScheduledView(string Wave, string PlanId, string Kind, DateTimeOffset At, string Operator);

    private sealed record EntityStatusView(string Id, string Dn, string Kind, EntityState State, string? LastStep, int Attempts, string? Reason, DateTimeOffset? HoldUntil, DateTimeOffset UpdatedAt);

    private sealed record WaveStatusView(
        string Wave,
        string? PlanId,
        WaveStatus Status,
        PauseView? Paused,
        string? StartedBy,
        bool SelfApproved,
        DateTimeOffset? StartedAt,
        DateTimeOffset? CompletedAt,
        string? Reason,
        IReadOnlyDictionary<EntityState, int> Entities,
        IReadOnlyList<EntityStatusView>? EntityList,
        string? Forecast);
}
