using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using AuthSplit.Core.Execution;
using AuthSplit.Core.Planning.Format;

namespace AuthSplit.Core.Evidence;

/// <summary>
/// The ledger's hash chain (docs/ledger-format.md): a record's hash is <c>sha256:</c> and the lowercase hex
/// SHA-256 of its canonical form, which holds everything but the hash itself, the previous record's hash
/// included. An auditor recomputes it with <c>jq -cjS 'del(.hash)' | sha256sum</c> over an exported record.
/// </summary>
public static class LedgerChain
{
    public const string HashPrefix = "sha256:";

    /// <summary>The <see cref="LedgerRecord.PreviousHash"/> of the first record.</summary>
    public static readonly string Genesis = HashPrefix + new string('0', 64);

    /// <summary>
    /// The one text form of <see cref="LedgerRecord.At"/>: UTC, microseconds (what PostgreSQL keeps), so a
    /// record read back from either store hashes as it did when it was written.
    /// </summary>
    public static string FormatTime(DateTimeOffset at) =>
        at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);

    /// <summary><paramref name="at"/> cut to the microsecond, so that <see cref="FormatTime"/> loses nothing.</summary>
    public static DateTimeOffset Truncate(DateTimeOffset at)
    {
        var utc = at.ToUniversalTime();
        return new DateTimeOffset(utc.Ticks - (utc.Ticks % 10), TimeSpan.Zero);
    }

    /// <summary>
    /// The record without its <see cref="LedgerRecord.Hash"/> as compact JSON: every property present (absent
    /// ones as <c>null</c>), keys in ordinal order, no whitespace, enums by their wire names, the sequence a
    /// plain integer, strings as UTF-8 with only <c>"</c>, <c>\</c>, control characters and DEL escaped
    /// (<c>\b \f \n \r \t</c>, else <c>\u00xx</c>): byte for byte what <c>jq -cjS</c> prints.
    /// </summary>
    public static string Canonicalize(LedgerRecord record) => Write(record, includeHash: false);

    /// <summary>
    /// The whole record as one line of JSON, in the canonical form's order and escaping with <c>hash</c> in its
    /// place: what an export writes, so that <c>jq -cjS 'del(.hash)'</c> gives back the canonical form.
    /// </summary>
    public static string ToJson(LedgerRecord record) => Write(record, includeHash: true);

    private static string Write(LedgerRecord record, bool includeHash)
    {
        ArgumentNullException.ThrowIfNull(record);
        var json = new StringBuilder(256);
        json.Append('{');
        Property(json, "actor", record.Actor, first: true);
        Property(json, "at", FormatTime(record.At));
        Property(json, "data", record.Data);
        Property(json, "entityId", record.EntityId);
        if (includeHash)
        {
            Property(json, "hash", record.Hash);
        }

        Property(json, "kind", WireName.Of(record.Kind));
        Property(json, "node", record.Node);
        Property(json, "outcome", record.Outcome is { } outcome ? WireName.Of(outcome) : null);
        Property(json, "planId", record.PlanId);
        Property(json, "previousHash", record.PreviousHash);
        json.Append(",\"sequence\":").Append(record.Sequence.ToString(CultureInfo.InvariantCulture));
        Property(json, "step", record.Step is { } step ? WireName.Of(step) : null);
        Property(json, "wave", record.Wave);
        json.Append('}');
        return json.ToString();
    }

    /// <summary><c>sha256:</c> and the hex SHA-256 of the record's canonical form (UTF-8).</summary>
    public static string ComputeHash(LedgerRecord record) =>
        HashPrefix + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Canonicalize(record))));

    /// <summary>The record as it goes into the ledger: its hash computed over the rest.</summary>
    public static LedgerRecord Seal(LedgerRecord record) => record with { Hash = ComputeHash(record) };

    /// <summary>
    /// Checks a whole ledger, in the order given (by sequence, as the store reads it): each record's hash
    /// over its content, its link to the record before, and its sequence. Returns the first fault with what
    /// it most likely is. A hash chain cannot see records cut from its end, nor records appended by someone
    /// who recomputes hashes: the exported evidence signs the last hash for that.
    /// </summary>
    public static LedgerVerification Verify(IEnumerable<LedgerRecord> records) => Verify(records, contentWithheld: null);

    /// <summary>
    /// As <see cref="Verify(IEnumerable{LedgerRecord})"/>, for a ledger some of whose records are present only
    /// by their chain fields (an evidence pack withholds other waves' records): for those,
    /// <paramref name="contentWithheld"/> says so and their hash is taken as given, while their sequence and
    /// links are checked like any other's.
    /// </summary>
    public static LedgerVerification Verify(IEnumerable<LedgerRecord> records, Func<LedgerRecord, bool>? contentWithheld)
    {
        ArgumentNullException.ThrowIfNull(records);
        var list = records as IReadOnlyList<LedgerRecord> ?? [.. records];
        var positionOfHash = new Dictionary<string, int>(list.Count, StringComparer.Ordinal);
        for (var i = 0; i < list.Count; i++)
        {
            positionOfHash.TryAdd(list[i].Hash, i);
        }

        var previous = Genesis;
        for (var i = 0; i < list.Count; i++)
        {
            var record = list[i];
            var expectedSequence = i + 1L;
            var hashOk = contentWithheld?.Invoke(record) == true || string.Equals(ComputeHash(record), record.Hash, StringComparison.Ordinal);
            var linked = string.Equals(record.PreviousHash, previous, StringComparison.Ordinal);
            if (hashOk && linked && record.Sequence == expectedSequence)
            {
                previous = record.Hash;
                continue;
            }

            return new LedgerVerification(i, previous, Classify(list, i, previous, positionOfHash, hashOk, linked));
        }

        return new LedgerVerification(list.Count, previous, null);
    }

    private static void Property(StringBuilder json, string name, string? value, bool first = false)
    {
        if (!first)
        {
            json.Append(',');
        }

        json.Append('"').Append(name).Append("\":");
        if (value is null)
        {
            json.Append("null");
            return;
        }

        json.Append('"');
        foreach (var c in value)
        {
            switch (c)
            {
                case '"': json.Append("\\\""); break;
                case '\\': json.Append("\\\\"); break;
                case '\b': json.Append("\\b"); break;
                case '\f': json.Append("\\f"); break;
                case '\n': json.Append("\\n"); break;
                case '\r': json.Append("\\r"); break;
                case '\t': json.Append("\\t"); break;
                case < ' ' or '\u007f': json.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture)); break;
                default: json.Append(c); break;
            }
        }

        json.Append('"');
    }

    private static LedgerFault Classify(IReadOnlyList<LedgerRecord> list, int i, string previous, Dictionary<string, int> positionOfHash, bool hashOk, bool linked)
    {
        var record = list[i];
        var expected = i + 1L;

        if (!linked && positionOfHash.TryGetValue(record.PreviousHash, out var target))
        {
            if (target > i)
            {
                return new LedgerFault(expected, LedgerFaultKind.Reordered, record,
                    $"record at position {expected} (sequence {record.Sequence}) links to the record at position {target + 1}, which comes after it: records were reordered");
            }

            // It links to an earlier record than the one just before it: the one(s) between were inserted.
            return new LedgerFault(target + 2L, LedgerFaultKind.Inserted, list[target + 1],
                $"record {list[target + 1].Sequence} was inserted: record {record.Sequence} links past it to record {list[target].Sequence}");
        }

        // The next record links to the one before this: this one was slipped in between.
        if (i + 1 < list.Count && string.Equals(list[i + 1].PreviousHash, previous, StringComparison.Ordinal))
        {
            return new LedgerFault(expected, LedgerFaultKind.Inserted, record,
                $"record {expected} was inserted: record {list[i + 1].Sequence} links past it to record {i}");
        }

        if (linked)
        {
            return hashOk
                ? new LedgerFault(expected, LedgerFaultKind.Edited, record, $"record at position {expected} carries sequence {record.Sequence}")
                : new LedgerFault(expected, LedgerFaultKind.Edited, record, $"record {record.Sequence} was edited: its content no longer hashes to {record.Hash}");
        }

        if (record.Sequence > expected)
        {
            var missing = record.Sequence - 1 == expected ? $"record {expected} is" : $"records {expected} to {record.Sequence - 1} are";
            return new LedgerFault(expected, LedgerFaultKind.Removed, null,
                $"{missing} missing: record {record.Sequence} links to a record not in the ledger");
        }

        if (i == 0)
        {
            return new LedgerFault(expected, LedgerFaultKind.Edited, record,
                $"record {record.Sequence} was edited: the first record must link to {Genesis}");
        }

        // It links to a hash no record has, with no gap before it: the record before it was edited and re-hashed.
        return new LedgerFault(i, LedgerFaultKind.Edited, list[i - 1],
            $"record {list[i - 1].Sequence} was edited and its hash recomputed: record {record.Sequence} links to {record.PreviousHash}, not to {previous}");
    }
}

/// <summary>What is wrong with a ledger.</summary>
public enum LedgerFaultKind
{
    /// <summary>A record's content no longer hashes to its hash, or its hash was recomputed after an edit.</summary>
    Edited,

    /// <summary>Records are out of their chain order.</summary>
    Reordered,

    /// <summary>Records are missing from the middle of the chain.</summary>
    Removed,

    /// <summary>A record that the chain does not link through.</summary>
    Inserted,
}

/// <summary>
/// The first fault of a ledger: the sequence (1-based position) where it is, what it is, the record at
/// fault (null when removed) and a sentence for the operator.
/// </summary>
public sealed record LedgerFault(long Sequence, LedgerFaultKind Kind, LedgerRecord? Record, string Message);

/// <summary>The result of <see cref="LedgerChain.Verify(IEnumerable{LedgerRecord})"/>: how many records are intact from the start, the hash of the last intact one, and the first fault.</summary>
public sealed record LedgerVerification(long IntactRecords, string LastHash, LedgerFault? Fault)
{
    public bool IsIntact => Fault is null;
}
