using System.Text.Json;
using AuthSplit.Core.Execution;
using AuthSplit.Core.Planning.Format;

namespace AuthSplit.Core.Evidence.Packs;

/// <summary>
/// The counts a pack's manifest states about its wave, derived from the ledger's records alone (never
/// from the journal's counters), so that a verifier recomputes them from <c>ledger.jsonl</c>: records by
/// kind, each entity's final state (the <c>state</c> its last step record carries) and step outcomes.
/// Sorted maps: the same records always give the same JSON.
/// </summary>
public sealed record LedgerCounts
{
    /// <summary>The wave's records in the pack (withheld lines aside).</summary>
    public required int Records { get; init; }

    public required SortedDictionary<string, int> RecordsByKind { get; init; }

    /// <summary>Entities (people, groups, systems) with at least one step record under the pack's plan.</summary>
    public required int Entities { get; init; }

    /// <summary>Entities by the state their last step record left them in (<c>done</c>, <c>stale</c>, <c>refused</c>, <c>failed</c>, <c>held</c>…).</summary>
    public required SortedDictionary<string, int> FinalStates { get; init; }

    /// <summary>Step records by step and outcome (attempts, not entities: a retried step counts each attempt).</summary>
    public required SortedDictionary<string, SortedDictionary<string, int>> StepOutcomes { get; init; }

    /// <summary>
    /// Counts over <paramref name="records"/> (whole records only): those of <paramref name="wave"/>, and the
    /// step records of <paramref name="planId"/> for the entity counts.
    /// </summary>
    public static LedgerCounts Of(IEnumerable<LedgerRecord> records, string wave, string planId)
    {
        ArgumentNullException.ThrowIfNull(records);
        var byKind = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var outcomes = new SortedDictionary<string, SortedDictionary<string, int>>(StringComparer.Ordinal);
        var lastState = new Dictionary<string, string>(StringComparer.Ordinal);
        var count = 0;
        foreach (var record in records)
        {
            if (record.Wave != wave && !(record.Kind == LedgerKind.Approval && record.PlanId == planId))
            {
                continue;
            }

            count++;
            Add(byKind, WireName.Of(record.Kind));
            if (record.Kind != LedgerKind.Step || record.PlanId != planId || record.EntityId is null)
            {
                continue;
            }

            var step = record.Step is { } s ? WireName.Of(s) : "unknown";
            if (!outcomes.TryGetValue(step, out var perOutcome))
            {
                outcomes[step] = perOutcome = new SortedDictionary<string, int>(StringComparer.Ordinal);
            }

            Add(perOutcome, record.Outcome is { } o ? WireName.Of(o) : "unknown");
            lastState[record.EntityId] = StateOf(record.Data) ?? "unknown";
        }

        var states = new SortedDictionary<string, int>(StringComparer.Ordinal);
        foreach (var state in lastState.Values)
        {
            Add(states, state);
        }

        return new LedgerCounts { Records = count, RecordsByKind = byKind, Entities = lastState.Count, FinalStates = states, StepOutcomes = outcomes };
    }

    /// <summary>Each entity's final state by id, as <see cref="Of"/> counts them.</summary>
    public static IReadOnlyDictionary<string, string> FinalStateByEntity(IEnumerable<LedgerRecord> records, string wave, string planId)
    {
        ArgumentNullException.ThrowIfNull(records);
        var lastState = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var record in records.Where(r => r.Kind == LedgerKind.Step && r.Wave == wave && r.PlanId == planId && r.EntityId is not null))
        {
            lastState[record.EntityId!] = StateOf(record.Data) ?? "unknown";
        }

        return lastState;
    }

    /// <summary>The differences from <paramref name="other"/>, one sentence each (<c>finalStates.done: 40 here, 39 there</c>).</summary>
    public IReadOnlyList<string> Differences(LedgerCounts other, string here, string there)
    {
        ArgumentNullException.ThrowIfNull(other);
        var result = new List<string>();
        void Compare(string key, int a, int b)
        {
            if (a != b)
            {
                result.Add($"{key}: {a} {here}, {b} {there}");
            }
        }

        void CompareMap(string key, IDictionary<string, int> a, IDictionary<string, int> b)
        {
            foreach (var name in a.Keys.Union(b.Keys).Order(StringComparer.Ordinal))
            {
                Compare($"{key}.{name}", a.TryGetValue(name, out var x) ? x : 0, b.TryGetValue(name, out var y) ? y : 0);
            }
        }

        Compare("records", Records, other.Records);
        CompareMap("recordsByKind", RecordsByKind, other.RecordsByKind);
        Compare("entities", Entities, other.Entities);
        CompareMap("finalStates", FinalStates, other.FinalStates);
        foreach (var step in StepOutcomes.Keys.Union(other.StepOutcomes.Keys).Order(StringComparer.Ordinal))
        {
            CompareMap($"stepOutcomes.{step}", StepOutcomes.TryGetValue(step, out var a) ? a : [], other.StepOutcomes.TryGetValue(step, out var b) ? b : []);
        }

        return result;
    }

    /// <summary>The entity's state after a step: <c>state</c> in the step record's data.</summary>
    public static string? StateOf(string? data)
    {
        if (data is null)
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(data);
            return document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("state", out var state) && state.ValueKind == JsonValueKind.String
                ? state.GetString()
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static void Add(SortedDictionary<string, int> map, string key) => map[key] = map.TryGetValue(key, out var n) ? n + 1 : 1;
}
