using System.Globalization;
using System.Text.Json;
using AuthSplit.Core.Execution;
using AuthSplit.Core.Planning.Format;

namespace AuthSplit.Core.Evidence.Packs;

/// <summary>What a wave's evidence is made of, read from the state store by the caller.</summary>
/// <param name="Ledger">The store's whole chain, in order, already checked intact (<see cref="LedgerChain.Verify(IEnumerable{LedgerRecord})"/>).</param>
/// <param name="WaveRecords">Sequences of the wave's records and the approvals of its plans (<c>ReadLedgerAsync(wave)</c>).</param>
public sealed record WaveEvidenceInput(
    string Wave,
    string PlanId,
    PlanDocument Plan,
    WaveRun? Run,
    IReadOnlyList<Approval> Approvals,
    IReadOnlyList<LedgerRecord> Ledger,
    IReadOnlySet<long> WaveRecords,
    DateTimeOffset ExportedAt,
    string ExportedBy,
    string Node,
    string? KeyFingerprint);

/// <summary>The pack's content before it is written: the manifest, the ledger's lines and the CSV rows (header first).</summary>
public sealed record WaveEvidenceContent(EvidenceManifest Manifest, IReadOnlyList<string> LedgerLines, IReadOnlyList<IReadOnlyList<string?>> EntityRows, IReadOnlyList<IReadOnlyList<string?>> ExceptionRows);

/// <summary>Builds a wave's evidence from its plan and the ledger: a pure function, so the same store gives the same pack.</summary>
public static class WaveEvidence
{
    public const string ManifestFile = "manifest.json";
    public const string LedgerFile = "ledger.jsonl";
    public const string EntitiesFile = "entities.csv";
    public const string ExceptionsFile = "exceptions.csv";
    public const string PublicKeyFile = "public-key.pem";
    public const string ReportFile = "report.html";
    public const string EnvelopeFile = "envelope.dsse.json";
    public const string SignatureAlgorithm = "ecdsa-p256-sha256";

    /// <summary>The offset the deadline's day is read in: the regulator is Japanese (JST, no daylight saving).</summary>
    public static readonly TimeSpan DeadlineZone = TimeSpan.FromHours(9);

    public static readonly IReadOnlyList<string?> EntityHeader = ["id", "dn", "kind", "disposition", "finalState", "lastStep", "lastOutcome", "attempts", "lastAt", "reason", "targetId"];

    public static readonly IReadOnlyList<string?> ExceptionHeader = ["subject", "id", "dn", "state", "code", "reason", "decidedBy", "at"];

    public static WaveEvidenceContent Build(WaveEvidenceInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var lines = PackLedger.Lines(input.Ledger, input.WaveRecords).ToList();
        var inPack = input.Ledger.Take(lines.Count).ToList();
        var whole = inPack.Where(r => input.WaveRecords.Contains(r.Sequence)).ToList();
        var counts = LedgerCounts.Of(whole, input.Wave, input.PlanId);
        var steps = whole.Where(r => r.Kind == LedgerKind.Step && r.Wave == input.Wave && r.PlanId == input.PlanId && r.EntityId is not null)
            .GroupBy(r => r.EntityId!, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);

        var entityRows = new List<IReadOnlyList<string?>> { EntityHeader };
        var exceptionRows = new List<IReadOnlyList<string?>> { ExceptionHeader };
        var listed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var entity in input.Plan.Entities.Where(e => e.Wave == input.Wave))
        {
            listed.Add(entity.Id);
            AddRows(entity.Id, entity.Dn, WireName.Of(entity.Kind), entity.Disposition, PlanReason(entity), entity.Decision?.DecidedBy, steps, entityRows, exceptionRows, entity.Match.TargetId);
        }

        var systems = new List<ManifestSystem>();
        foreach (var system in (input.Plan.Systems ?? []).Where(s => s.Wave == input.Wave))
        {
            var id = Execution.Systems.SystemRun.JournalId(system.Id);
            listed.Add(id);
            var reason = system.Blockers is { Count: > 0 } blockers ? string.Join("; ", blockers.Select(b => $"{WireName.Of(b.Code)}: {b.Message}")) : system.Decision?.Reason;
            AddRows(id, null, "system", system.Disposition, reason, system.Decision?.DecidedBy, steps, entityRows, exceptionRows);
            systems.Add(new ManifestSystem(system.Id, system.Name, WireName.Of(system.Disposition), steps.TryGetValue(id, out var records) ? LedgerCounts.StateOf(records[^1].Data) : null,
                [.. (records ?? []).GroupBy(r => r.Step).Select(g => new ManifestStep(g.Key is { } s ? WireName.Of(s) : "unknown", Outcome(g.Last()), g.Count(), LedgerChain.FormatTime(g.Last().At), ReasonOf(g.Last().Data)))]));
        }

        // Entities journalled but not listed by the plan's wave (group switches): every step record is accounted for.
        foreach (var (id, records) in steps.Where(s => !listed.Contains(s.Key)).OrderBy(s => s.Key, StringComparer.Ordinal))
        {
            AddRows(id, null, id.Split(':', 2)[0], Disposition.Remove, null, null, steps, entityRows, exceptionRows);
        }

        var gate = new List<ManifestGateEvent>();
        foreach (var record in whole.Where(r => r.Wave == input.Wave))
        {
            switch (record.Kind)
            {
                case LedgerKind.Gate:
                    gate.Add(new ManifestGateEvent(record.Sequence, LedgerChain.FormatTime(record.At), record.Actor, record.Data));
                    if (Field(record.Data, "event") is "overridden" or "refused")
                    {
                        exceptionRows.Add(["gate", record.EntityId, null, Field(record.Data, "event"), Field(record.Data, "event"), Field(record.Data, "reason"), record.Actor, LedgerChain.FormatTime(record.At)]);
                    }

                    break;
                case LedgerKind.WaveRefused:
                    exceptionRows.Add(["run", record.PlanId, null, "refused", Field(record.Data, "code"), Field(record.Data, "reason"), record.Actor, LedgerChain.FormatTime(record.At)]);
                    break;
                case LedgerKind.Restore:
                    exceptionRows.Add(["restore", record.EntityId, null, "restored", "restore", record.Data, record.Actor, LedgerChain.FormatTime(record.At)]);
                    break;
                case LedgerKind.Rollback:
                    // Every action of an authsplit rollback: the entity was taken back, not removed.
                    exceptionRows.Add(["rollback", record.EntityId, null, "rolled-back", record.Data?.Split(':', 2)[0], record.Data, record.Actor, LedgerChain.FormatTime(record.At)]);
                    break;
                default:
                    break;
            }
        }

        var last = inPack.Count == 0 ? null : inPack[^1];
        var head = input.Ledger.Count == 0 ? null : input.Ledger[^1];
        var manifest = new EvidenceManifest
        {
            Wave = input.Wave,
            PlanId = input.PlanId,
            ExportedAt = LedgerChain.FormatTime(input.ExportedAt),
            ExportedBy = input.ExportedBy,
            Node = input.Node,
            Signing = new ManifestSigning(input.KeyFingerprint is not null, SignatureAlgorithm, input.KeyFingerprint, EnvelopeFile, input.KeyFingerprint is null ? null : PublicKeyFile),
            Plan = PlanOf(input),
            Run = input.Run is { } run ? new ManifestRun(WireName.Of(run.Status), run.StartedBy.Operator, LedgerChain.FormatTime(run.StartedAt), run.CompletedAt is { } c ? LedgerChain.FormatTime(c) : null, run.Reason, run.SelfApproved) : null,
            Deadline = DeadlineOf(input),
            Approvals = [.. input.Approvals.OrderBy(a => a.ApprovedAt).Select(a => new ManifestApproval(a.ApprovedBy, LedgerChain.FormatTime(a.ApprovedAt), a.Note))],
            Counts = counts,
            Systems = systems,
            Gate = gate,
            ProtectedEntities = [.. input.Plan.Entities.Where(e => e.Wave == input.Wave && e.Disposition == Disposition.Protected).Select(e => new ManifestSubject(e.Id, e.Dn))],
            Exceptions = exceptionRows.Count - 1,
            Ledger = new ManifestLedger(LedgerFile, lines.Count, whole.Count, lines.Count - whole.Count, whole.Count == 0 ? null : whole[0].Hash, last?.Sequence ?? 0, last?.Hash ?? LedgerChain.Genesis, head?.Sequence ?? 0, head?.Hash ?? LedgerChain.Genesis),
        };
        return new WaveEvidenceContent(manifest, lines, entityRows, exceptionRows);
    }

    /// <summary>The end of the deadline's day in JST, as text with its offset.</summary>
    public static DateTimeOffset DeadlineEnd(string date) =>
        new(DateTime.ParseExact(date, "yyyy-MM-dd", CultureInfo.InvariantCulture).AddDays(1), DeadlineZone);

    private static ManifestDeadline DeadlineOf(WaveEvidenceInput input)
    {
        var date = input.Plan.Settings.Waves.FirstOrDefault(w => w.Name == input.Wave)?.Deadline ?? "";
        var completed = input.Run is { Status: WaveStatus.Completed, CompletedAt: { } at } ? at : (DateTimeOffset?)null;
        if (date.Length == 0)
        {
            return new ManifestDeadline(date, "", completed is { } c0 ? LedgerChain.FormatTime(c0) : null, null);
        }

        var end = DeadlineEnd(date);
        return new ManifestDeadline(date, end.ToString("yyyy-MM-dd'T'HH:mm:sszzz", CultureInfo.InvariantCulture), completed is { } c ? LedgerChain.FormatTime(c) : null, completed is { } d ? d < end : null);
    }

    private static ManifestPlan PlanOf(WaveEvidenceInput input)
    {
        var plan = input.Plan;
        static ManifestInput Input(InputDescription d) => new(d.Kind, d.Location, d.Sha256, d.Count);
        var summary = plan.Summary.Waves.FirstOrDefault(w => w.Name == input.Wave);
        return new ManifestPlan(
            input.PlanId,
            plan.Inputs.ConfigSha256,
            Input(plan.Inputs.Source),
            Input(plan.Inputs.Target),
            plan.Inputs.Decisions is { } decisions ? Input(decisions) : null,
            plan.Inputs.TargetInventory is { } inventory ? Input(inventory) : null,
            summary is null
                ? new ManifestWaveScope(0, 0, 0, 0, 0, 0, 0, 0, 0)
                : new ManifestWaveScope(summary.InScope, summary.Remove, summary.Protected, summary.Blocked, summary.Kept, summary.PlannedDeletes, summary.MaxDeletes, summary.Systems ?? 0, summary.GroupSwitches ?? 0));
    }

    private static void AddRows(string id, string? dn, string kind, Disposition disposition, string? planReason, string? decidedBy, Dictionary<string, List<LedgerRecord>> steps, List<IReadOnlyList<string?>> entityRows, List<IReadOnlyList<string?>> exceptionRows, string? targetId = null)
    {
        var dispositionName = WireName.Of(disposition);
        if (!steps.TryGetValue(id, out var records))
        {
            var state = disposition == Disposition.Remove ? "pending" : "excluded";
            var reason = disposition == Disposition.Remove ? "no step recorded" : planReason;
            entityRows.Add([id, dn, kind, dispositionName, state, null, null, "0", null, reason, targetId]);
            exceptionRows.Add([kind == "system" ? "system" : "entity", id, dn, state, dispositionName, reason, disposition == Disposition.Remove ? null : decidedBy ?? "plan", null]);
            return;
        }

        var last = records[^1];
        var finalState = LedgerCounts.StateOf(last.Data) ?? "unknown";
        var lastReason = ReasonOf(last.Data);
        var at = LedgerChain.FormatTime(last.At);
        entityRows.Add([id, dn, kind, dispositionName, finalState, last.Step is { } s ? WireName.Of(s) : null, Outcome(last), records.Count.ToString(CultureInfo.InvariantCulture), at, lastReason, targetId]);
        if (finalState != "done")
        {
            // Stale, refused, failed, held or unfinished: the reason the executor recorded, decided by whoever ran it.
            exceptionRows.Add([kind == "system" ? "system" : "entity", id, dn, finalState, Code(lastReason) ?? finalState, lastReason, last.Actor, at]);
        }
    }

    private static string? PlanReason(PlannedEntity entity) =>
        entity.Decision is { } decision ? $"{decision.Decision}: {decision.Reason}"
        : entity.Protection is { } protection ? $"{protection.Reason}: {protection.Detail}"
        : entity.Blockers.Count > 0 ? string.Join("; ", entity.Blockers.Select(b => $"{WireName.Of(b.Code)}: {b.Message}"))
        : null;

    private static string Outcome(LedgerRecord record) => record.Outcome is { } o ? WireName.Of(o) : "unknown";

    private static string? ReasonOf(string? data) => Field(data, "reason");

    // A reason starts with its stable code (stale-moved: ...).
    private static string? Code(string? reason) =>
        reason is null ? null : reason.IndexOf(':', StringComparison.Ordinal) is var colon and > 0 && !reason[..colon].Contains(' ', StringComparison.Ordinal) ? reason[..colon] : null;

    private static string? Field(string? data, string name)
    {
        if (data is null)
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(data);
            return document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty(name, out var value)
                ? value.ValueKind == JsonValueKind.String ? value.GetString() : value.ValueKind == JsonValueKind.Null ? null : value.GetRawText()
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
