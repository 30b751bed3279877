using System.Text.Json;
using AuthSplit.Core.Execution;
using AuthSplit.Core.Planning.Format;

namespace AuthSplit.Core.Evidence.Packs;

/// <summary>One entity of a verified pack that the live check reads again.</summary>
public sealed record LiveSubject(string Id, string Dn, string? TargetId);

/// <summary>What a live re-check of a pack covers, derived from its (verified) ledger and manifest.</summary>
/// <param name="Deleted">Entities whose <c>delete-legacy-entry</c> step the ledger records as done: none may remain, by identity or by DN.</param>
/// <param name="Protected">Entities the plan protected (the manifest lists them): each must still be there.</param>
/// <param name="CloudManaged">Removed people with a target account: each one's source of authority must be the cloud.</param>
/// <param name="GateVerified">The pack records the tenant's password-sync gate as verified off: it must still read off.</param>
public sealed record LiveScope(IReadOnlyList<LiveSubject> Deleted, IReadOnlyList<LiveSubject> Protected, IReadOnlyList<LiveSubject> CloudManaged, bool GateVerified);

/// <summary>One live read: what was checked, the exact query sent, and whether it held (else what was found).</summary>
public sealed record LiveCheck(string Subject, string Check, string Query, bool Holds, string? Found);

/// <summary>
/// The verification record of a live re-check: when, against which directory and tenant, every query with
/// its result, the counts and the residuals (checks that did not hold). Evidence in its own right: it says
/// exactly what was asked of which server and what it answered. <see cref="Systems"/>: the wave's systems, each
/// with its probes asked again (also among <see cref="Checks"/>) or why none was.
/// </summary>
public sealed record LiveVerificationRecord(
    string Format,
    string Wave,
    string PlanId,
    string PackLedgerLastHash,
    string At,
    string Directory,
    string? Tenant,
    int Checked,
    int Residual,
    IReadOnlyList<LiveCheck> Residuals,
    IReadOnlyList<LiveCheck> Checks,
    IReadOnlyList<LiveSystem> Systems)
{
    public const string CurrentFormat = "authsplit-live-verification/1";
}

public static class LiveReconciliation
{
    /// <summary>
    /// The subjects of a live re-check, from a pack that verified offline: the removed entities and people
    /// from its ledger (each DN and target account as the executor recorded them in the steps' data), the
    /// protected ones from its manifest. Nothing is read from the CSV files, which are for people.
    /// </summary>
    public static LiveScope ScopeOf(EvidenceManifest manifest, PackLedgerRead ledger)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentNullException.ThrowIfNull(ledger);
        var removed = new List<LiveSubject>();
        var people = new List<LiveSubject>();
        var byEntity = ledger.Whole
            .Where(r => r.Kind == LedgerKind.Step && r.Wave == manifest.Wave && r.PlanId == manifest.PlanId && r.EntityId is not null)
            .GroupBy(r => r.EntityId!, StringComparer.Ordinal);
        foreach (var records in byEntity)
        {
            var steps = records.ToList();
            var dn = steps.Select(r => DnOf(r.Data)).LastOrDefault(d => d is not null);
            var targetId = steps.Where(r => r.Step == StepAction.VerifyTargetAccount).Select(r => TargetIdOf(r.Data)).LastOrDefault(t => t is not null);
            var subject = new LiveSubject(records.Key, dn ?? "", targetId);
            if (dn is not null && steps.Any(r => r.Step == StepAction.DeleteLegacyEntry && r.Outcome is StepOutcome.Done or StepOutcome.AlreadyDone))
            {
                removed.Add(subject);
            }

            // Only a person with a target account has verify-target-account (StepCatalog); done: every step of it held.
            if (targetId is not null && LedgerCounts.StateOf(steps[^1].Data) == "done")
            {
                people.Add(subject);
            }
        }

        var protectedOnes = (manifest.ProtectedEntities ?? []).Where(p => p.Dn.Length > 0).Select(p => new LiveSubject(p.Id, p.Dn, null)).ToList();
        var gate = manifest.Gate.Any(g => g.Data is { } data && data.Contains("\"event\":\"verified\"", StringComparison.Ordinal));
        return new LiveScope(removed, protectedOnes, people, gate);
    }

    // The executor's step data names the entry it read or wrote: {"before":{"dn":…}} or {"after":{"dn":…}}.
    private static string? DnOf(string? data) => Property(data, "before", "dn") ?? Property(data, "after", "dn");

    // verify-target-account records the target user it found: {"after":{"id":…}} (before: as planned).
    private static string? TargetIdOf(string? data) => Property(data, "after", "id") ?? Property(data, "before", "id");

    private static string? Property(string? data, string side, string name)
    {
        if (data is null)
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(data);
            return document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty(side, out var value) && value.ValueKind == JsonValueKind.Object
                && value.TryGetProperty(name, out var text) && text.ValueKind == JsonValueKind.String
                ? text.GetString()
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
