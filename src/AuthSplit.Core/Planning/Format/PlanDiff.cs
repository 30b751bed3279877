namespace AuthSplit.Core.Planning.Format;

/// <summary>One entity that differs between two plans, with the reasons in words.</summary>
public sealed record EntityChange(string Id, string Dn, string Change, IReadOnlyList<string> Reasons);

/// <summary>One system (by id) or synchronised group (by object id) that differs between two plans.</summary>
public sealed record SystemChange(string Id, string Change, IReadOnlyList<string> Reasons);

public sealed record PlanComparison(string OldPlanId, string NewPlanId, IReadOnlyList<string> InputChanges, IReadOnlyList<EntityChange> Changes)
{
    /// <summary>Systems added, removed or changed (disposition, wave, target, legacy accounts, cutover, probes, blockers, steps).</summary>
    public IReadOnlyList<SystemChange> SystemChanges { get; init; } = [];

    /// <summary>Synchronised groups to switch added, removed or changed (wave, members, disposition).</summary>
    public IReadOnlyList<SystemChange> GroupSwitchChanges { get; init; } = [];

    public bool HasChanges => InputChanges.Count > 0 || Changes.Count > 0 || SystemChanges.Count > 0 || GroupSwitchChanges.Count > 0;
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
        Note(inputs, "target inventory", older.Inputs.TargetInventory?.Sha256 ?? "none", newer.Inputs.TargetInventory?.Sha256 ?? "none");

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

        return new PlanComparison(older.PlanId ?? "", newer.PlanId ?? "", inputs, changes)
        {
            SystemChanges = CompareById(older.Systems ?? [], newer.Systems ?? [], s => s.Id, s => $"system {s.Name} in wave {s.Wave} as {WireName.Of(s.Disposition)}", SystemReasons),
            GroupSwitchChanges = CompareById(older.GroupSwitches ?? [], newer.GroupSwitches ?? [], g => g.GroupId, g => $"group {g.DisplayName ?? g.GroupId} switched in wave {g.Wave} as {WireName.Of(g.Disposition)}", GroupReasons),
        };
    }

    private static List<SystemChange> CompareById<T>(IReadOnlyList<T> older, IReadOnlyList<T> newer, Func<T, string> id, Func<T, string> describe, Func<T, T, List<string>> reasons)
    {
        var before = older.ToDictionary(id, StringComparer.OrdinalIgnoreCase);
        var after = newer.ToDictionary(id, StringComparer.OrdinalIgnoreCase);
        var changes = new List<SystemChange>();
        foreach (var item in newer)
        {
            if (!before.TryGetValue(id(item), out var old))
            {
                changes.Add(new SystemChange(id(item), "added", [$"now planned: {describe(item)}"]));
            }
            else if (reasons(old, item) is { Count: > 0 } why)
            {
                changes.Add(new SystemChange(id(item), "changed", why));
            }
        }

        changes.AddRange(older.Where(o => !after.ContainsKey(id(o))).Select(o => new SystemChange(id(o), "removed", [$"no longer planned (was {describe(o)})"])));
        return changes;
    }

    private static List<string> SystemReasons(PlannedSystem old, PlannedSystem now)
    {
        var reasons = new List<string>();
        if (old.Disposition != now.Disposition)
        {
            var why = now.Disposition switch
            {
                Disposition.Blocked => $": {string.Join("; ", now.Blockers.Select(b => $"{WireName.Of(b.Code)}: {b.Message}"))}",
                Disposition.Kept => $": excepted by {now.Decision?.DecidedBy}: {now.Decision?.Reason}",
                _ => old.Blockers.Count > 0 ? $": blockers gone ({string.Join(", ", old.Blockers.Select(b => WireName.Of(b.Code)))})" : "",
            };
            reasons.Add($"disposition {WireName.Of(old.Disposition)} -> {WireName.Of(now.Disposition)}{why}");
        }

        if (old.Wave != now.Wave)
        {
            reasons.Add($"wave {old.Wave} -> {now.Wave}");
        }

        if (old.Target.Found != now.Target.Found || old.Target.AccountEnabled != now.Target.AccountEnabled || !string.Equals(old.Target.ServicePrincipalId, now.Target.ServicePrincipalId, StringComparison.OrdinalIgnoreCase))
        {
            reasons.Add($"target app {DescribeTarget(old.Target)} -> {DescribeTarget(now.Target)}");
        }

        var oldAccounts = string.Join("; ", old.LegacyAccounts.Select(a => a.Dn));
        var newAccounts = string.Join("; ", now.LegacyAccounts.Select(a => a.Dn));
        if (oldAccounts != newAccounts)
        {
            reasons.Add($"legacy accounts [{oldAccounts}] -> [{newAccounts}]");
        }
        else if (!old.LegacyAccounts.Select(a => a.Precondition?.Sha256).SequenceEqual(now.LegacyAccounts.Select(a => a.Precondition?.Sha256)))
        {
            reasons.Add("a legacy account's attributes the plan relies on changed (precondition fingerprint differs)");
        }

        if (!SameJson(old.Cutover, now.Cutover))
        {
            reasons.Add($"cutover {CutoverName(old.Cutover)} -> {CutoverName(now.Cutover)}");
        }

        if (!SameJson(old.Probes, now.Probes))
        {
            reasons.Add($"probes [{string.Join(", ", old.Probes.Select(p => p.Name))}] -> [{string.Join(", ", now.Probes.Select(p => p.Name))}] (or their settings)");
        }

        AddStepsAndBlockers(reasons, old.Steps, now.Steps, old.Blockers.Select(b => WireName.Of(b.Code)), now.Blockers.Select(b => WireName.Of(b.Code)));
        return reasons;
    }

    private static List<string> GroupReasons(PlannedGroupSwitch old, PlannedGroupSwitch now)
    {
        var reasons = new List<string>();
        if (old.Disposition != now.Disposition)
        {
            reasons.Add($"disposition {WireName.Of(old.Disposition)} -> {WireName.Of(now.Disposition)}{(now.Decision is { } d ? $": loss accepted by {d.DecidedBy}: {d.Reason}" : "")}");
        }

        if (old.Wave != now.Wave)
        {
            reasons.Add($"wave {old.Wave} -> {now.Wave}");
        }

        if (old.MembersInPlan != now.MembersInPlan)
        {
            reasons.Add($"members in the plan {old.MembersInPlan} -> {now.MembersInPlan}");
        }

        return reasons;
    }

    private static string CutoverName(CutoverSpec? cutover) => cutover switch
    {
        null => "none",
        { Kind: CutoverKind.Http, Http: { } http } => $"{http.Method} {http.Url}",
        _ => string.Join(' ', cutover.Command ?? []),
    };

    private static string DescribeTarget(SystemTargetPlan target) =>
        !target.Found ? "missing" : $"{target.ServicePrincipalId}{(target.AccountEnabled == false ? " (disabled)" : "")}";

    private static bool SameJson<T>(T a, T b) =>
        System.Text.Json.JsonSerializer.Serialize(a, PlanSerializer.Options) == System.Text.Json.JsonSerializer.Serialize(b, PlanSerializer.Options);

    private static void AddStepsAndBlockers(List<string> reasons, IReadOnlyList<PlannedStep> oldSteps, IReadOnlyList<PlannedStep> newSteps, IEnumerable<string> oldCodes, IEnumerable<string> newCodes)
    {
        var before = string.Join(" > ", oldSteps.Select(s => WireName.Of(s.Action)));
        var after = string.Join(" > ", newSteps.Select(s => WireName.Of(s.Action)));
        if (before != after)
        {
            reasons.Add($"steps [{before}] -> [{after}]");
        }

        var oldSet = oldCodes.ToHashSet(StringComparer.Ordinal);
        var newSet = newCodes.ToHashSet(StringComparer.Ordinal);
        reasons.AddRange(newSet.Except(oldSet).Order(StringComparer.Ordinal).Select(c => $"new blocker {c}"));
        reasons.AddRange(oldSet.Except(newSet).Order(StringComparer.Ordinal).Select(c => $"blocker {c} resolved"));
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
                Disposition.Kept when now.LegacyAccountOf is { } system => $": legacy account of system {system}, disabled by its system",
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

        if (!string.Equals(old.LegacyAccountOf, now.LegacyAccountOf, StringComparison.Ordinal))
        {
            reasons.Add($"legacy account of system {old.LegacyAccountOf ?? "-"} -> {now.LegacyAccountOf ?? "-"}");
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
