using System.Text;
using AuthSplit.Core.Execution;
using AuthSplit.Core.Planning.Format;

namespace AuthSplit.Core.Evidence.Packs;

/// <summary>One entity of a verified pack that the live check reads again.</summary>
public sealed record LiveSubject(string Id, string Dn, string Kind, string? TargetId);

/// <summary>What a live re-check of a pack covers, derived from its (verified) ledger and entities.csv.</summary>
/// <param name="Deleted">Entities whose <c>delete-legacy-entry</c> step the ledger records as done: none may remain, by identity or by DN.</param>
/// <param name="Protected">Entities the plan protected: each must still be there.</param>
/// <param name="CloudManaged">Removed people with a target account: each one's source of authority must be the cloud.</param>
/// <param name="GateVerified">The pack records the tenant's password-sync gate as verified off: it must still read off.</param>
public sealed record LiveScope(IReadOnlyList<LiveSubject> Deleted, IReadOnlyList<LiveSubject> Protected, IReadOnlyList<LiveSubject> CloudManaged, bool GateVerified);

/// <summary>One live read: what was checked, the exact query sent, and whether it held (else what was found).</summary>
public sealed record LiveCheck(string Subject, string Check, string Query, bool Holds, string? Found);

/// <summary>
/// The verification record of a live re-check: when, against which directory and tenant, every query with
/// its result, the counts and the residuals (checks that did not hold). Evidence in its own right: it says
/// exactly what was asked of which server and what it answered.
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
    IReadOnlyList<LiveCheck> Checks)
{
    public const string CurrentFormat = "authsplit-live-verification/1";
}

public static class LiveReconciliation
{
    /// <summary>The subjects of a live re-check, from a pack that verified offline.</summary>
    public static LiveScope ScopeOf(EvidenceManifest manifest, PackLedgerRead ledger, ReadOnlySpan<byte> entitiesCsv)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentNullException.ThrowIfNull(ledger);
        var deleted = ledger.Whole
            .Where(r => r.Kind == LedgerKind.Step && r.Wave == manifest.Wave && r.PlanId == manifest.PlanId && r.EntityId is not null
                && r.Step == StepAction.DeleteLegacyEntry && r.Outcome is StepOutcome.Done or StepOutcome.AlreadyDone)
            .Select(r => r.EntityId!)
            .ToHashSet(StringComparer.Ordinal);
        var rows = Csv.Read(Encoding.UTF8.GetString(entitiesCsv));
        var header = rows.Count > 0 ? rows[0] : [];
        int Column(string name) => header.IndexOf(name) is var i and >= 0 ? i : throw new FormatException($"entities.csv has no column {name}");
        int id = Column("id"), dn = Column("dn"), kind = Column("kind"), disposition = Column("disposition"), state = Column("finalState"), target = Column("targetId");
        var subjects = rows.Skip(1).Where(r => r.Count == header.Count).ToList();
        LiveSubject Subject(List<string> r) => new(r[id], r[dn], r[kind], r[target].Length == 0 ? null : r[target]);
        var removed = subjects.Where(r => deleted.Contains(r[id]) && r[dn].Length > 0).Select(Subject).ToList();
        var protectedOnes = subjects.Where(r => r[disposition] == WireName.Of(Disposition.Protected) && r[dn].Length > 0).Select(Subject).ToList();
        var people = subjects.Where(r => r[kind] == WireName.Of(Model.EntityKind.Person) && r[state] == "done" && r[target].Length > 0).Select(Subject).ToList();
        var gate = manifest.Gate.Any(g => g.Data is { } data && data.Contains("\"event\":\"verified\"", StringComparison.Ordinal));
        return new LiveScope(removed, protectedOnes, people, gate);
    }

    /// <summary>Minimal RFC 4180 reading, for the CSV files this tool writes.</summary>
    private static class Csv
    {
        public static List<List<string>> Read(string text)
        {
            var rows = new List<List<string>>();
            var row = new List<string>();
            var cell = new StringBuilder();
            var quoted = false;
            for (var i = 0; i < text.Length; i++)
            {
                var c = text[i];
                if (quoted)
                {
                    if (c == '"' && i + 1 < text.Length && text[i + 1] == '"')
                    {
                        cell.Append('"');
                        i++;
                    }
                    else if (c == '"')
                    {
                        quoted = false;
                    }
                    else
                    {
                        cell.Append(c);
                    }
                }
                else if (c == '"')
                {
                    quoted = true;
                }
                else if (c == ',')
                {
                    row.Add(cell.ToString());
                    cell.Clear();
                }
                else if (c == '\n')
                {
                    row.Add(cell.ToString());
                    cell.Clear();
                    rows.Add(row);
                    row = [];
                }
                else if (c != '\r')
                {
                    cell.Append(c);
                }
            }

            if (cell.Length > 0 || row.Count > 0)
            {
                row.Add(cell.ToString());
                rows.Add(row);
            }

            return rows;
        }
    }
}
