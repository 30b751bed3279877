using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace AuthSplit.Core.Evidence.Packs;

/// <summary>
/// <c>manifest.json</c>: what the pack says about its wave, for a person and for <c>evidence verify</c>.
/// Everything counted here is derived from the ledger records in the pack (<see cref="Counts"/>) or read
/// from the approved plan (<see cref="Plan"/>, named by its id, the hash of its content); the journal's
/// own counters are never used.
/// </summary>
public sealed record EvidenceManifest
{
    public const string CurrentFormat = "authsplit-evidence/1";

    public string Format { get; init; } = CurrentFormat;

    public required string Wave { get; init; }

    public required string PlanId { get; init; }

    public required string ExportedAt { get; init; }

    public required string ExportedBy { get; init; }

    public required string Node { get; init; }

    public required ManifestSigning Signing { get; init; }

    public required ManifestPlan Plan { get; init; }

    public ManifestRun? Run { get; init; }

    public required ManifestDeadline Deadline { get; init; }

    public required IReadOnlyList<ManifestApproval> Approvals { get; init; }

    /// <summary>Derived from <c>ledger.jsonl</c>; <c>evidence verify</c> recomputes them.</summary>
    public required LedgerCounts Counts { get; init; }

    public required IReadOnlyList<ManifestSystem> Systems { get; init; }

    /// <summary>The tenant's password-sync gate when its events belong to this wave (the last), else empty.</summary>
    public required IReadOnlyList<ManifestGateEvent> Gate { get; init; }

    /// <summary>
    /// The wave's protected entities as the plan has them (id and DN): what <c>evidence verify --live</c> checks
    /// are still there. Null in a pack exported before this list existed.
    /// </summary>
    public IReadOnlyList<ManifestSubject>? ProtectedEntities { get; init; }

    /// <summary>Rows of <c>exceptions.csv</c>.</summary>
    public required int Exceptions { get; init; }

    public required ManifestLedger Ledger { get; init; }

    /// <summary>The live re-check against the directory, when one was made at export; null otherwise (<c>evidence verify --live</c> makes its own).</summary>
    public ManifestReconciliation? Reconciliation { get; init; }

    public static JsonSerializerOptions JsonOptions { get; } = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DictionaryKeyPolicy = null,
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        RespectNullableAnnotations = true,
    };

    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this, JsonOptions);

    /// <summary>Reads a manifest; throws <see cref="JsonException"/> when it is not one.</summary>
    public static EvidenceManifest Parse(ReadOnlySpan<byte> json) =>
        JsonSerializer.Deserialize<EvidenceManifest>(json, JsonOptions) ?? throw new JsonException("the manifest is null");
}

/// <param name="IsSigned">False for a pack exported with <c>--unsigned</c>.</param>
/// <param name="KeyFingerprint"><c>sha256:</c> of the public key's SubjectPublicKeyInfo (DER).</param>
public sealed record ManifestSigning(bool IsSigned, string Algorithm, string? KeyFingerprint, string Envelope, string? PublicKey);

/// <summary>The approved plan, by its id and inputs; the plan itself stays in the state store (it names every wave's people).</summary>
public sealed record ManifestPlan(
    string PlanId,
    string ConfigSha256,
    ManifestInput Source,
    ManifestInput Target,
    ManifestInput? Decisions,
    ManifestInput? TargetInventory,
    ManifestWaveScope Scope);

public sealed record ManifestInput(string Kind, string Location, string Sha256, int Count);

/// <summary>The wave's scope as the plan has it, by disposition.</summary>
public sealed record ManifestWaveScope(int InScope, int Remove, int Protected, int Blocked, int Kept, int PlannedDeletes, int MaxDeletes, int Systems, int GroupSwitches);

public sealed record ManifestRun(string Status, string StartedBy, string StartedAt, string? CompletedAt, string? Reason, bool SelfApproved);

/// <param name="Date">The configured deadline (a date).</param>
/// <param name="EndsAt">When that date ends in Japan (JST, +09:00): the instant the completion is compared with.</param>
/// <param name="Met">Whether the wave completed before <paramref name="EndsAt"/>; null while it has not completed.</param>
public sealed record ManifestDeadline(string Date, string EndsAt, string? CompletedAt, bool? Met);

public sealed record ManifestSubject(string Id, string Dn);

public sealed record ManifestApproval(string ApprovedBy, string ApprovedAt, string? Note);

/// <summary>A system of the wave: its planned disposition and, from the ledger, its final state and each step's last outcome (cutover and probes).</summary>
public sealed record ManifestSystem(string Id, string Name, string Disposition, string? FinalState, IReadOnlyList<ManifestStep> Steps);

public sealed record ManifestStep(string Step, string Outcome, int Attempts, string At, string? Reason);

public sealed record ManifestGateEvent(long Sequence, string At, string Actor, string? Data);

/// <param name="Lines">Lines of <c>ledger.jsonl</c>: the chain from its first record to the wave's last.</param>
/// <param name="WaveRecords">Lines holding a whole record (the rest are withheld, other waves').</param>
/// <param name="FirstHash">The hash of the wave's first record in the pack.</param>
/// <param name="LastHash">The hash of the last line: what the signature pins, so a cut or an addition shows.</param>
/// <param name="StoreHeadSequence">The store's last record when exported: the whole chain up to it was checked intact.</param>
public sealed record ManifestLedger(string File, long Lines, long WaveRecords, long Withheld, string? FirstHash, long LastSequence, string LastHash, long StoreHeadSequence, string StoreHeadHash);

/// <param name="Systems">The wave's systems with their probes asked again (kind, what, result, time), or why none was; null in a pack exported before probes were re-run.</param>
public sealed record ManifestReconciliation(string At, string Server, IReadOnlyList<string> Queries, int Checked, int Residual, IReadOnlyList<string> Residuals, IReadOnlyList<LiveSystem>? Systems = null);
