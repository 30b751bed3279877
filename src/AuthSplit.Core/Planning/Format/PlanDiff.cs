namespace AuthSplit.Core.Planning.Format;

/// <summary>One entity that differs between two plans, with the reasons in words.</summary>
public sealed record EntityChange(string Id, string Dn, string Change, IReadOnlyList<string> Reasons);

public sealed record PlanComparison(string OldPlanId, string NewPlanId, IReadOnlyList<string> InputChanges, IReadOnlyList<EntityChange> Changes)
{
    public bool HasChanges => InputChanges.Count > 0 || Changes.Count > 0;
}

/// <summary>
/// Compares two plans entity by entity (by id, so a renamed entry is a change, not a removal and an
/// addition): disposition, wave, steps, match, blockers, decisions and precondition.
/// </summary>
public static class PlanDiff
{
    public static PlanComparison Compare(PlanDocument older, PlanDocument newer)
    {
        var inputs = new List<string>();
        Note(inputs, "source", older.Inputs.Source.Sha256, newer.Inputs.Source.Sha256);
        Note(inputs, "target", older.Inputs.Target.Sha256, newer.Inputs.Target.Sha256);
        Note(inputs, "config", older.Inputs.ConfigSha256, newer.Inputs.ConfigSha256);
        Note(inputs, "decisions", older.Inputs.Decisions?.Sha256 ?? "none", newer.Inputs.Decisions?.Sha256 ?? "none");

        var before = older.Entities.ToDictionary(e => e.Id, StringComparer.Ordinal);
        var after = newer.Entities.ToDictionary(e => e.Id, StringComparer.Ordinal);
        var changes = new List<EntityChange>();
        foreach (var entity in newer.Entities)
        {
            if (!before.TryGetValue(entity.Id, out var old))
            {
                changes.Add(new EntityChange(entity.Id, entity.Dn, "added", [$"now in scope of wave {entity.Wave} as {WireName.Of(entity.Disposition)}"]));
                continue;
            }

            var reasons = Reasons(old, entity);
            if (reasons.Count > 0)
            {
                changes.Add(new EntityChange(entity.Id, entity.Dn, "changed", reasons));
            }
        }

        foreach (var entity in older.Entities.Where(e => !after.ContainsKey(e.Id)))
        {
            changes.Add(new EntityChange(entity.Id, entity.Dn, "removed", [$"no longer in any wave's scope (was {WireName.Of(entity.Disposition)} in wave {entity.Wave}): deleted, moved out of scope, or no longer matching the filter"]));
        }

        return new PlanComparison(older.PlanId ?? "", newer.PlanId ?? "", inputs, changes);
    }

    private static List<string> Reasons(PlannedEntity old, PlannedEntity now)
    {
        var reasons = new List<string>();
        if (old.Disposition != now.Disposition)
        {
            var why = now.Disposition switch
            {
                Disposition.Blocked => $": {string.Join("; ", now.Blockers.Select(b => $"{WireName.Of(b.Code)}: {b.Message}"))}",
                Disposition.Protected => $": {now.Protection?.Reason} ({now.Protection?.Detail})",
                Disposition.Kept => $": decision by {now.Decision?.DecidedBy}: {now.Decision?.Reason}",
                _ when now.Decision is not null => $": decision {now.Decision.Decision} by {now.Decision.DecidedBy} resolved {string.Join(", ", now.Decision.Resolved.Select(WireName.Of))}",
                _ => old.Blockers.Count > 0 ? $": blockers gone ({string.Join(", ", old.Blockers.Select(b => WireName.Of(b.Code)))})" : "",
            };
            reasons.Add($"disposition {WireName.Of(old.Disposition)} -> {WireName.Of(now.Disposition)}{why}");
        }

        if (old.Wave != now.Wave)
        {
            reasons.Add($"wave {old.Wave} -> {now.Wave}");
        }

        if (!string.Equals(old.Dn, now.Dn, StringComparison.Ordinal))
        {
            reasons.Add($"dn {old.Dn} -> {now.Dn}");
        }

        if (old.Kind != now.Kind)
        {
            reasons.Add($"kind {WireName.Of(old.Kind)} -> {WireName.Of(now.Kind)}");
        }

        if (!string.Equals(old.Match.TargetId, now.Match.TargetId, StringComparison.OrdinalIgnoreCase) || old.Match.Status != now.Match.Status)
        {
            reasons.Add($"match {WireName.Of(old.Match.Status)} {old.Match.TargetId ?? "-"} -> {WireName.Of(now.Match.Status)} {now.Match.TargetId ?? "-"}");
        }

        var oldSteps = string.Join(" > ", old.Steps.Select(s => WireName.Of(s.Action)));
        var newSteps = string.Join(" > ", now.Steps.Select(s => WireName.Of(s.Action)));
        if (oldSteps != newSteps)
        {
            reasons.Add($"steps [{oldSteps}] -> [{newSteps}]");
        }

        var oldBlockers = old.Blockers.Select(b => WireName.Of(b.Code)).ToHashSet(StringComparer.Ordinal);
        var newBlockers = now.Blockers.Select(b => WireName.Of(b.Code)).ToHashSet(StringComparer.Ordinal);
        foreach (var added in newBlockers.Except(oldBlockers).Order(StringComparer.Ordinal))
        {
            reasons.Add($"new blocker {added}");
        }

        foreach (var gone in oldBlockers.Except(newBlockers).Order(StringComparer.Ordinal))
        {
            reasons.Add($"blocker {gone} resolved");
        }

        if (old.Precondition.Sha256 != now.Precondition.Sha256 && old.Dn == now.Dn)
        {
            reasons.Add("attributes the plan relies on changed (precondition fingerprint differs)");
        }

        return reasons;
    }

    private static void Note(List<string> notes, string input, string before, string after)
    {
        if (!string.Equals(before, after, StringComparison.Ordinal))
        {
            notes.Add($"{input} input changed: {before} -> {after}");
        }
    }
}
