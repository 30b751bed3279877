using AuthSplit.Core.Configuration;
using AuthSplit.Core.Model;
using AuthSplit.Core.Planning.Decisions;
using AuthSplit.Core.Planning.Format;

namespace AuthSplit.Core.Planning.Systems;

/// <summary>
/// The cloud groups still synchronised from the legacy directory that the plan's people to be removed
/// belong to (by their target ids). Entra's source-of-authority guide: deleting a converted user's legacy
/// entry drops the user from every cloud group still synchronised, so each such group is switched to
/// cloud-managed in the earliest wave any of its members is removed in, unless an
/// <c>accept-group-loss</c> decision accepts the loss. Also each such person's password-sync record.
/// </summary>
internal static class GroupSwitchPlanner
{
    public const string SyncEnabledProperty = "onPremisesSyncEnabled";

    public static GroupSwitchResult Plan(
        IReadOnlyList<PlannedEntity> entities,
        IReadOnlyList<CompiledWave> waves,
        TargetInventory? inventory,
        IReadOnlyDictionary<string, Decision> acceptedLosses,
        PasswordSyncStrategy strategy,
        Func<string, TargetUser?> findTargetUser,
        IReadOnlyDictionary<string, string>? legacyGroupSids = null)
    {
        var orders = waves.ToDictionary(w => w.Name, w => w.Order, StringComparer.Ordinal);
        int order(string wave) => orders[wave];

        // The legacy groups the plan deletes whose cloud counterpart is still synchronised (linked by SID):
        // deleting one deletes its cloud group at the next sync, so that group is switched first as well.
        var synchronisedBySid = (inventory?.Groups ?? [])
            .Where(g => g.Group.OnPremisesSyncEnabled == true && g.Group.OnPremisesSecurityIdentifier is not null)
            .GroupBy(g => g.Group.OnPremisesSecurityIdentifier!, StringComparer.OrdinalIgnoreCase)
            .ToDictionary(g => g.Key, g => g.First().Group.Id, StringComparer.OrdinalIgnoreCase);
        var links = new Dictionary<string, string>(StringComparer.Ordinal);
        var deletedWith = new Dictionary<string, PlannedEntity>(StringComparer.OrdinalIgnoreCase);
        foreach (var group in entities.Where(e => e.Kind == EntityKind.Group && e.Disposition == Disposition.Remove))
        {
            if (legacyGroupSids?.GetValueOrDefault(group.Id) is { } sid && synchronisedBySid.TryGetValue(sid, out var cloudId))
            {
                links[group.Id] = cloudId;
                if (!deletedWith.TryGetValue(cloudId, out var earlier) || order(group.Wave) < order(earlier.Wave))
                {
                    deletedWith[cloudId] = group;
                }
            }
        }

        var people = new Dictionary<string, PlannedEntity>(StringComparer.OrdinalIgnoreCase);
        foreach (var entity in entities.Where(StopsPasswordSync))
        {
            people.TryAdd(entity.Match.TargetId!, entity);
        }

        var switches = new List<(int Order, PlannedGroupSwitch Switch)>();
        var groupsOfPerson = new Dictionary<string, List<string>>(StringComparer.OrdinalIgnoreCase);
        foreach (var (group, memberIds) in inventory?.Groups ?? [])
        {
            if (group.OnPremisesSyncEnabled != true)
            {
                continue;
            }

            var members = memberIds.Distinct(StringComparer.OrdinalIgnoreCase).Where(people.ContainsKey).Select(id => people[id]).ToArray();
            var legacyGroup = deletedWith.GetValueOrDefault(group.Id);
            if (members.Length == 0 && legacyGroup is null)
            {
                continue;
            }

            foreach (var member in members)
            {
                if (!groupsOfPerson.TryGetValue(member.Match.TargetId!, out var groups))
                {
                    groupsOfPerson[member.Match.TargetId!] = groups = [];
                }

                groups.Add(group.Id);
            }

            // The earliest wave that removes a member, or deletes the legacy group itself.
            var firstWave = members.Select(m => m.Wave).Concat(legacyGroup is null ? [] : [legacyGroup.Wave]).MinBy(order)!;
            var accepted = acceptedLosses.GetValueOrDefault(group.Id);
            switches.Add((order(firstWave), new PlannedGroupSwitch
            {
                GroupId = group.Id,
                DisplayName = group.DisplayName,
                OnPremisesSecurityIdentifier = group.OnPremisesSecurityIdentifier,
                Wave = firstWave,
                MembersInPlan = members.Length,
                Disposition = accepted is null ? Disposition.Remove : Disposition.Kept,
                Decision = accepted is null ? null : new AppliedDecision(accepted.Name, accepted.Reason, accepted.DecidedBy, []),
                Steps = accepted is null ? StepCatalog.ForGroupSwitch() : [],
            }));
        }

        var syncPlans = new Dictionary<string, PersonSyncPlan>(StringComparer.Ordinal);
        foreach (var person in people.Values)
        {
            var groups = groupsOfPerson.TryGetValue(person.Match.TargetId!, out var list) ? list.Order(StringComparer.Ordinal).ToArray() : [];
            syncPlans[person.Id] = new PersonSyncPlan { Strategy = strategy, Status = StatusOf(findTargetUser(person.Match.TargetId!)), SynchronisedGroups = groups };
        }

        // Written only when one of them says more than the default a plan without it implies (the Graph
        // switch, status unknown, no groups): a plan from a read that knows nothing new reads as before.
        var informative = syncPlans.Values.Any(p => p.Strategy != PasswordSyncStrategy.SourceOfAuthority || p.Status != TargetSyncStatus.Unknown || p.SynchronisedGroups.Count > 0);
        return new GroupSwitchResult(
            switches.Count == 0 ? null : [.. switches.OrderBy(s => s.Order).ThenBy(s => s.Switch.GroupId, StringComparer.Ordinal).Select(s => s.Switch)],
            informative ? syncPlans : new Dictionary<string, PersonSyncPlan>(),
            links);
    }

    /// <summary>Whether the target read's <c>onPremisesSyncEnabled</c> says the user is still written by the legacy platform.</summary>
    public static TargetSyncStatus StatusOf(TargetUser? user)
    {
        if (user is null || !user.Properties.TryGetValue(SyncEnabledProperty, out var value))
        {
            return TargetSyncStatus.Unknown;
        }

        // Graph gives null (never synchronised) or false (synchronisation stopped) for a cloud-only user.
        return string.Equals(value, "true", StringComparison.OrdinalIgnoreCase) ? TargetSyncStatus.Synchronised : TargetSyncStatus.CloudOnly;
    }

    /// <summary>A person the plan removes whose target account's password sync is stopped first.</summary>
    public static bool StopsPasswordSync(PlannedEntity entity) =>
        entity.Kind == EntityKind.Person && entity.Disposition == Disposition.Remove && entity.Match.TargetId is not null
        && entity.Steps.Any(s => s.Action == StepAction.StopPasswordSync);
}

/// <param name="Switches">Null when no synchronised group has a member among the plan's people.</param>
/// <param name="SyncPlans">By entity id; empty when none would say more than the default.</param>
/// <param name="LegacyGroupLinks">Legacy group entity id → the id of its still-synchronised cloud counterpart, whose switch its delete waits for.</param>
internal sealed record GroupSwitchResult(IReadOnlyList<PlannedGroupSwitch>? Switches, IReadOnlyDictionary<string, PersonSyncPlan> SyncPlans, IReadOnlyDictionary<string, string> LegacyGroupLinks);
