using System.Globalization;
using System.Text;
using System.Text.Json;
using AuthSplit.Core.Execution;
using AuthSplit.Core.Planning.Format;

namespace AuthSplit.Core.Evidence.Packs;

/// <summary>
/// <c>ledger.jsonl</c>: the store's one chain from its first record to the wave's last, one record a line.
/// The wave's records (and the approvals of its plans) are whole (<see cref="LedgerChain.ToJson"/>); every
/// other record is withheld — other waves' people are not this pack's business — and stands as a line with
/// only its chain fields, <c>{"hash","omitted","previousHash","sequence"}</c>, so that the chain still runs
/// unbroken from <see cref="LedgerChain.Genesis"/> and line <c>n</c> is record <c>n</c>. A withheld line's
/// hash is taken as given; it equals that record's hash in its own wave's pack.
/// </summary>
public static class PackLedger
{
    /// <summary>The value of <c>omitted</c> on a withheld line.</summary>
    public const string OtherWave = "other-wave";

    /// <summary>The lines of the pack's ledger: <paramref name="all"/> (the whole chain, in order) up to the last record in <paramref name="waveRecords"/>.</summary>
    public static IEnumerable<string> Lines(IReadOnlyList<LedgerRecord> all, IReadOnlySet<long> waveRecords)
    {
        ArgumentNullException.ThrowIfNull(all);
        ArgumentNullException.ThrowIfNull(waveRecords);
        var last = waveRecords.Count == 0 ? 0 : waveRecords.Max();
        foreach (var record in all)
        {
            if (record.Sequence > last)
            {
                yield break;
            }

            yield return waveRecords.Contains(record.Sequence) ? LedgerChain.ToJson(record) : Withheld(record);
        }
    }

    /// <summary>A withheld record's line: its chain fields only, keys in order (what <c>jq -cS</c> prints).</summary>
    public static string Withheld(LedgerRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        return string.Create(CultureInfo.InvariantCulture, $"{{\"hash\":\"{record.Hash}\",\"omitted\":\"{OtherWave}\",\"previousHash\":\"{record.PreviousHash}\",\"sequence\":{record.Sequence}}}");
    }

    /// <summary>
    /// Reads <c>ledger.jsonl</c> back. A line that is not a record in exactly the form the export writes (a
    /// key added, a value of the wrong type, another spacing) is a fault of that line, not a parse error.
    /// </summary>
    public static PackLedgerRead Parse(ReadOnlySpan<byte> content)
    {
        var text = Encoding.UTF8.GetString(content);
        var records = new List<LedgerRecord>();
        var withheld = new HashSet<LedgerRecord>(ReferenceEqualityComparer.Instance);
        string? malformed = null;
        var lines = text.Split('\n');
        var count = lines.Length;
        if (count > 0 && lines[^1].Length == 0)
        {
            count--;
        }

        for (var i = 0; i < count; i++)
        {
            var line = lines[i];
            var (record, isWithheld, problem) = ParseLine(line);
            if (record is null)
            {
                malformed ??= $"line {i + 1} of ledger.jsonl is not a ledger record: {problem}";
                break;
            }

            records.Add(record);
            if (isWithheld)
            {
                withheld.Add(record);
            }
            else if (!string.Equals(LedgerChain.ToJson(record), line, StringComparison.Ordinal))
            {
                malformed ??= $"record {record.Sequence} (line {i + 1}) was edited: it is not in the exported form (a key added, a value retyped or respaced)";
            }
        }

        return new PackLedgerRead(records, withheld, malformed);
    }

    private static (LedgerRecord? Record, bool Withheld, string? Problem) ParseLine(string line)
    {
        try
        {
            using var document = JsonDocument.Parse(line);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return (null, false, "not a JSON object");
            }

            var sequence = root.GetProperty("sequence").GetInt64();
            var hash = root.GetProperty("hash").GetString() ?? "";
            var previous = root.GetProperty("previousHash").GetString() ?? "";
            if (root.TryGetProperty("omitted", out _))
            {
                var stub = new LedgerRecord { Sequence = sequence, At = default, Kind = default, PlanId = "", Actor = "", Node = "", PreviousHash = previous, Hash = hash };
                return string.Equals(Withheld(stub), line, StringComparison.Ordinal)
                    ? (stub, true, null)
                    : (null, false, "a withheld record's line holds more than its chain fields");
            }

            var record = new LedgerRecord
            {
                Sequence = sequence,
                At = DateTimeOffset.ParseExact(root.GetProperty("at").GetString() ?? "", "yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal),
                Kind = Wire<LedgerKind>(root, "kind") ?? throw new FormatException("kind is missing"),
                PlanId = root.GetProperty("planId").GetString() ?? throw new FormatException("planId is null"),
                Wave = Text(root, "wave"),
                EntityId = Text(root, "entityId"),
                Step = Wire<StepAction>(root, "step"),
                Outcome = Wire<StepOutcome>(root, "outcome"),
                Actor = root.GetProperty("actor").GetString() ?? throw new FormatException("actor is null"),
                Node = root.GetProperty("node").GetString() ?? throw new FormatException("node is null"),
                Data = Text(root, "data"),
                PreviousHash = previous,
                Hash = hash,
            };
            return (record, false, null);
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            return (null, false, ex.Message);
        }
    }

    private static string? Text(JsonElement root, string name) =>
        root.GetProperty(name) is { ValueKind: JsonValueKind.Null } ? null : root.GetProperty(name).GetString();

    private static TEnum? Wire<TEnum>(JsonElement root, string name)
        where TEnum : struct, Enum
    {
        var text = Text(root, name);
        if (text is null)
        {
            return null;
        }

        return WireName.TryParse<TEnum>(text, out var value) ? value : throw new FormatException($"{name} \"{text}\" is not one of {string.Join(", ", WireName.All<TEnum>())}");
    }
}

/// <summary>The records of a pack's ledger; <see cref="Withheld"/> those present by their chain fields only; <see cref="Malformed"/> the first line that is not a record in its exported form.</summary>
public sealed record PackLedgerRead(IReadOnlyList<LedgerRecord> Records, IReadOnlySet<LedgerRecord> Withheld, string? Malformed)
{
    public IEnumerable<LedgerRecord> Whole => Records.Where(r => !Withheld.Contains(r));
}
