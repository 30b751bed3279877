using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using AuthSplit.Core.Planning.Format;

namespace AuthSplit.Core.Planning.Decisions;

/// <summary>
/// A decisions file for an engineer to fill in (<see cref="DecisionFileParser"/>'s format): one entry per
/// blocked entity with its <c>entityId</c>, and above it, as <c>//</c> comments, its DN, its blockers and
/// the decisions (and candidate target ids or waves) that resolve them. <c>decision</c>, <c>reason</c> and
/// <c>decidedBy</c> are left empty on purpose: the parser refuses the file until every entry left in it
/// is filled in, so an untouched template can never decide anything.
/// </summary>
public static class DecisionTemplate
{
    private static readonly JsonSerializerOptions StringOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The entities a decision can unblock: those blocked (protected ones cannot be decided).</summary>
    public static IReadOnlyList<PlannedEntity> Undecided(IEnumerable<PlannedEntity> entities) =>
        [.. entities.Where(e => e.Disposition == Disposition.Blocked)];

    /// <summary>The systems an except-system decision can let their wave go without: those blocked.</summary>
    public static IReadOnlyList<PlannedSystem> UndecidedSystems(IEnumerable<PlannedSystem>? systems) =>
        [.. (systems ?? []).Where(s => s.Disposition == Disposition.Blocked)];

    /// <param name="plan">The plan the template is for.</param>
    /// <param name="blocked">The blocked entities, one entry each.</param>
    /// <param name="blockedSystems">The blocked systems, one entry each after the entities (an except-system decision, or none).</param>
    public static string Write(PlanDocument plan, IReadOnlyList<PlannedEntity> blocked, IReadOnlyList<PlannedSystem>? blockedSystems = null)
    {
        blockedSystems ??= [];
        var text = new StringBuilder();
        text.Append("// Decisions for plan ").Append(plan.PlanId).Append('\n');
        text.Append("// One entry per blocked entity. For each entry you decide, fill in \"decision\" (").Append(string.Join(", ", WireName.All<DecisionKind>())).Append("),\n");
        text.Append("// \"targetId\" for use-target or \"wave\" for assign-wave (drop the field the decision does not use),\n");
        text.Append("// \"reason\" and \"decidedBy\"; delete the entries you do not decide. One decision per entity: keep\n");
        text.Append("// resolves every blocker, each other decision only its own. Pass the file to authsplit plan --decisions.\n");
        text.Append("{\n  \"formatVersion\": 1,\n  \"decisions\": [");
        for (var i = 0; i < blocked.Count; i++)
        {
            var entity = blocked[i];
            text.Append(i == 0 ? "\n" : ",\n");
            Comment(text, $"{entity.Dn} ({WireName.Of(entity.Kind)}, wave {entity.Wave})");
            foreach (var blocker in entity.Blockers)
            {
                Comment(text, $"  {WireName.Of(blocker.Code)}: {blocker.Message}");
            }

            Comment(text, "  resolve with: " + string.Join("; or ", Choices(entity)));
            text.Append("    {\n      \"entityId\": ").Append(Json(entity.Id)).Append(",\n      \"decision\": \"\",\n");
            if (entity.Blockers.Any(b => NeedsTarget(b.Code)))
            {
                text.Append("      \"targetId\": \"\",\n");
            }

            if (entity.Blockers.Any(b => b.Code == BlockerCode.MultipleWaves))
            {
                text.Append("      \"wave\": \"\",\n");
            }

            text.Append("      \"reason\": \"\",\n      \"decidedBy\": \"\"\n    }");
        }

        for (var i = 0; i < blockedSystems.Count; i++)
        {
            var system = blockedSystems[i];
            text.Append(blocked.Count + i == 0 ? "\n" : ",\n");
            Comment(text, $"system {system.Id} ({system.Name}, wave {system.Wave}): its wave's deletes wait for it");
            foreach (var blocker in system.Blockers)
            {
                Comment(text, $"  {WireName.Of(blocker.Code)}: {blocker.Message}");
            }

            Comment(text, "  resolve with: except-system (the wave's deletes stop waiting for it; its legacy accounts are left as they are); or fix what blocks it and plan again");
            text.Append("    {\n      \"entityId\": ").Append(Json(system.Id)).Append(",\n      \"decision\": \"\",\n      \"reason\": \"\",\n      \"decidedBy\": \"\"\n    }");
        }

        text.Append(blocked.Count + blockedSystems.Count > 0 ? "\n  ]\n}\n" : "]\n}\n");
        return text.ToString();
    }

    /// <summary>The target user ids a use-target decision may name for a blocked entity (may be empty).</summary>
    public static IReadOnlyList<string> CandidateTargets(PlannedEntity entity) =>
        entity.Match.Status == MatchStatus.Ambiguous && entity.Match.Considered is [.., var last]
            ? last.Candidates
            : entity.Match.TargetId is { } id ? [id] : [];

    private static IEnumerable<string> Choices(PlannedEntity entity)
    {
        var codes = entity.Blockers.Select(b => b.Code).ToHashSet();
        if (codes.Contains(BlockerCode.AmbiguousTargetMatch))
        {
            yield return $"use-target with targetId one of {string.Join(", ", CandidateTargets(entity))}";
        }
        else if (codes.Contains(BlockerCode.TargetShared))
        {
            yield return $"use-target with another targetId than {string.Join(", ", CandidateTargets(entity))} (or keep this entity or the other one)";
        }
        else if (codes.Contains(BlockerCode.NoTargetAccount))
        {
            yield return "use-target with the id of the person's target user";
        }

        if (codes.Contains(BlockerCode.MultipleWaves))
        {
            yield return $"assign-wave with wave one of {string.Join(", ", entity.CandidateWaves ?? [entity.Wave])}";
        }

        if (codes.Contains(BlockerCode.NoTargetAccount) || codes.Contains(BlockerCode.UnsupportedKind))
        {
            yield return "remove (a leaver, or an entity nobody needs)";
        }

        yield return "keep (stays in the legacy directory)";
    }

    private static bool NeedsTarget(BlockerCode code) => code is BlockerCode.AmbiguousTargetMatch or BlockerCode.NoTargetAccount or BlockerCode.TargetShared;

    // A comment line holds printable text only: a line break in a DN or message would end the comment
    // and let directory data write JSON into the decisions file.
    private static void Comment(StringBuilder text, string line) => text.Append("    // ").Append(PrintableText.Escape(line)).Append('\n');

    private static string Json(string value) => JsonSerializer.Serialize(value, StringOptions);
}
