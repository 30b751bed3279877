using AuthSplit.Core.Configuration;
using AuthSplit.Core.Directory;
using AuthSplit.Core.Model;
using AuthSplit.Core.Planning.Decisions;
using AuthSplit.Core.Planning.Format;

namespace AuthSplit.Core.Planning.Systems;

/// <summary>
/// Plans the configured systems, one <see cref="PlannedSystem"/> each in config order: its service
/// principal as the target inventory shows it, its legacy accounts as the legacy read found them, what
/// blocks it, and its steps. A system is cut over (disposition <c>remove</c>) only when nothing blocks
/// it; an <c>except-system</c> decision keeps it out of its wave (disposition <c>kept</c>), so the wave's
/// deletes do not wait for it.
/// </summary>
internal static class SystemPlanner
{
    public static IReadOnlyList<PlannedSystem> Plan(
        PlanningSettings settings,
        LegacyAccountIndex accounts,
        IReadOnlyList<PlannedEntity> entities,
        TargetInventory inventory,
        IReadOnlyDictionary<string, Decision> exceptions)
    {
        var accountDns = settings.Options.Systems.SelectMany(s => s.LegacyAccounts).Select(a => DistinguishedName.Normalize(a.Dn!)).ToHashSet(StringComparer.Ordinal);
        var entitiesAtAccounts = entities.Where(e => accountDns.Contains(e.Precondition.Dn)).ToDictionary(e => e.Precondition.Dn, StringComparer.Ordinal);
        return [.. settings.Options.Systems.Select(system => PlanOne(settings, accounts, entitiesAtAccounts, inventory, system, exceptions.GetValueOrDefault(system.Id!)))];
    }

    /// <summary>
    /// The records of the except-system and accept-group-loss decisions, like those of entity decisions:
    /// applied to what they name, or unused when the plan has no such system or group switch.
    /// </summary>
    public static IEnumerable<DecisionRecord> Record(IEnumerable<Decision> exceptions, IEnumerable<Decision> acceptedLosses, IReadOnlyList<PlannedSystem>? systems, IReadOnlyList<PlannedGroupSwitch>? switches)
    {
        foreach (var decision in exceptions)
        {
            var system = systems?.FirstOrDefault(s => string.Equals(s.Id, decision.EntityId, StringComparison.OrdinalIgnoreCase));
            yield return system is null
                ? new DecisionRecord(decision.EntityId, decision.Name, DecisionStatus.Unused, "no configured system has this id")
                : new DecisionRecord(decision.EntityId, decision.Name, DecisionStatus.Applied, $"system {system.Id} excepted: wave {system.Wave}'s deletes do not wait for its cutover, and its legacy accounts are left as they are");
        }

        foreach (var decision in acceptedLosses)
        {
            var group = switches?.FirstOrDefault(g => string.Equals(g.GroupId, decision.EntityId, StringComparison.OrdinalIgnoreCase));
            yield return group is null
                ? new DecisionRecord(decision.EntityId, decision.Name, DecisionStatus.Unused, "no synchronised group with members among the plan's people has this id")
                : new DecisionRecord(decision.EntityId, decision.Name, DecisionStatus.Applied, $"group {group.DisplayName ?? group.GroupId} is not switched: its {group.MembersInPlan} member(s) in the plan drop out of it when their legacy entries are deleted");
        }
    }

    private static PlannedSystem PlanOne(
        PlanningSettings settings,
        LegacyAccountIndex accounts,
        Dictionary<string, PlannedEntity> entitiesAtAccounts,
        TargetInventory inventory,
        SystemOptions system,
        Decision? exception)
    {
        var blockers = new List<SystemBlocker>();
        if (!settings.Waves.Any(w => w.Name == system.Wave))
        {
            blockers.Add(new SystemBlocker(SystemBlockerCode.WaveUnknown, $"wave \"{system.Wave}\" is not a configured wave ({string.Join(", ", settings.Waves.Select(w => w.Name))})"));
        }

        var target = Target(system.Target, inventory, blockers);
        var legacy = system.LegacyAccounts.Select(a => LegacyAccount(settings, accounts, entitiesAtAccounts, system, a, blockers)).ToArray();
        var disposition = exception is not null ? Disposition.Kept
            : blockers.Count > 0 ? Disposition.Blocked
            : Disposition.Remove;
        return new PlannedSystem
        {
            Id = system.Id!,
            Name = string.IsNullOrWhiteSpace(system.Name) ? system.Id! : system.Name.Trim(),
            Wave = system.Wave!,
            Disposition = disposition,
            Target = target,
            LegacyAccounts = legacy,
            Cutover = Cutover(system.Cutover),
            Probes = [.. system.Probes.Select(Probe)],
            Blockers = blockers,
            Decision = exception is null ? null : new AppliedDecision(exception.Name, exception.Reason, exception.DecidedBy, []),
            Steps = disposition == Disposition.Remove
                ? StepCatalog.ForSystem(
                    hasCutover: system.Cutover is not null,
                    probesTarget: system.Probes.Any(p => p.Expect == ProbeExpectation.Success),
                    hasLegacyAccounts: system.LegacyAccounts.Count > 0,
                    probesLegacyRefused: system.Probes.Any(p => p.Expect == ProbeExpectation.Failure))
                : [],
        };
    }

    // By object id when configured so, else by application (client) id; an application registered
    // without its enterprise application (service principal) cannot sign anyone in, so it is missing too.
    private static SystemTargetPlan Target(SystemTargetOptions configured, TargetInventory inventory, List<SystemBlocker> blockers)
    {
        var byId = !string.IsNullOrWhiteSpace(configured.ServicePrincipalId);
        var principal = byId
            ? inventory.ServicePrincipals.FirstOrDefault(s => string.Equals(s.Id, configured.ServicePrincipalId, StringComparison.OrdinalIgnoreCase))
            : inventory.ServicePrincipals.FirstOrDefault(s => string.Equals(s.AppId, configured.AppId, StringComparison.OrdinalIgnoreCase));
        var named = byId ? $"service principal {configured.ServicePrincipalId}" : $"appId {configured.AppId}";
        if (principal is null)
        {
            var application = byId ? null : inventory.Applications.FirstOrDefault(a => string.Equals(a.AppId, configured.AppId, StringComparison.OrdinalIgnoreCase));
            blockers.Add(new SystemBlocker(SystemBlockerCode.TargetAppMissing, application is null
                ? $"the target read has no {named} ({inventory.ServicePrincipals.Count} service principals read); register the system in the target tenant, or fix Systems:Target"
                : $"application {application.DisplayName ?? application.Id} ({named}) is registered but has no service principal (enterprise application) in the tenant, so nobody can sign in to it; create it (az ad sp create --id {configured.AppId})"));
            return new SystemTargetPlan { ServicePrincipalId = configured.ServicePrincipalId, AppId = configured.AppId, Found = false };
        }

        if (principal.AccountEnabled == false)
        {
            blockers.Add(new SystemBlocker(SystemBlockerCode.TargetAppDisabled, $"{named} ({principal.DisplayName ?? principal.Id}) is disabled (accountEnabled false): nobody could sign in to the system after its cutover; enable it first"));
        }

        return new SystemTargetPlan { ServicePrincipalId = principal.Id, AppId = principal.AppId, Found = true, DisplayName = principal.DisplayName, AccountEnabled = principal.AccountEnabled };
    }

    private static SystemLegacyAccount LegacyAccount(
        PlanningSettings settings,
        LegacyAccountIndex accounts,
        Dictionary<string, PlannedEntity> entitiesAtAccounts,
        SystemOptions system,
        LegacyAccountOptions configured,
        List<SystemBlocker> blockers)
    {
        var dn = DistinguishedName.Parse(configured.Dn!);
        var others = accounts.SystemsOf(dn).Where(s => !string.Equals(s, system.Id, StringComparison.Ordinal)).ToArray();
        if (others.Length > 0)
        {
            blockers.Add(new SystemBlocker(SystemBlockerCode.LegacyAccountShared, $"{dn.Original} is also a legacy account of system {string.Join(", ", others)}: disabling it for one would cut the other off; give each system its own account, or list it under one system only"));
        }

        var credential = Source(configured.CredentialEnvVar, configured.CredentialFile);
        var facts = accounts.Found(dn.Normalized);
        if (facts is null)
        {
            blockers.Add(new SystemBlocker(SystemBlockerCode.LegacyAccountMissing, $"{dn.Original} is not in the legacy read (under {settings.BaseDn.Original}); fix the DN in Systems:LegacyAccounts, or remove it if the account is gone"));
            return new SystemLegacyAccount { Dn = dn.Original, CredentialSource = credential };
        }

        if (!facts.HasIdentity)
        {
            blockers.Add(new SystemBlocker(SystemBlockerCode.LegacyAccountMissingIdentity, $"{dn.Original} has no {settings.IdentityAttribute}, so the executor could not tell it from a look-alike before disabling it; export with operational attributes (ldapsearch '*' '+')"));
        }

        if (facts.Protection is { } protection)
        {
            blockers.Add(new SystemBlocker(SystemBlockerCode.LegacyAccountProtected, $"{dn.Original} is protected ({protection.Reason}: {protection.Detail}); no system disables a protected account: remove it from the system's LegacyAccounts, or from the protection if that is wrong"));
        }

        if (entitiesAtAccounts.TryGetValue(dn.Normalized, out var entity) && entity.Kind == EntityKind.Person && entity.Disposition is Disposition.Remove or Disposition.Blocked)
        {
            blockers.Add(new SystemBlocker(SystemBlockerCode.LegacyAccountIsPerson, $"{dn.Original} is a person of wave {entity.Wave} (entity {entity.Id}), which the plan would remove as a person; record a keep decision for the entity if it is really the system's account, or fix the system's LegacyAccounts"));
        }

        return new SystemLegacyAccount
        {
            Dn = dn.Original,
            Id = facts.HasIdentity ? facts.Id : null,
            CredentialSource = credential,
            LastAuthenticationAttribute = facts.LastAuthenticationAttribute,
            Precondition = facts.Precondition,
        };
    }

    private static CutoverSpec? Cutover(CutoverOptions? cutover) => cutover switch
    {
        null => null,
        { Http: { } http } => new CutoverSpec { Kind = CutoverKind.Http, Http = Http(http), TimeoutSeconds = cutover.TimeoutSeconds },
        _ => new CutoverSpec { Kind = CutoverKind.Command, Command = [.. cutover.Command], TimeoutSeconds = cutover.TimeoutSeconds },
    };

    private static ProbeSpec Probe(ProbeOptions probe) => new()
    {
        Name = probe.Name!,
        Kind = probe.Kind,
        Expect = probe.Expect,
        Url = probe.Kind == ProbeKind.LdapBind ? probe.Url : null,
        BindDn = probe.Kind == ProbeKind.LdapBind ? probe.BindDn : null,
        CredentialSource = probe.Kind == ProbeKind.LdapBind ? Source(probe.CredentialEnvVar, probe.CredentialFile) : null,
        CaFile = probe.Kind == ProbeKind.LdapBind ? probe.CaFile : null,
        Http = probe.Kind == ProbeKind.Http && probe.Http is { } http ? Http(http) : null,
        Command = probe.Kind == ProbeKind.Command ? [.. probe.Command] : null,
        TimeoutSeconds = probe.TimeoutSeconds,
    };

    private static HttpCallSpec Http(HttpCallOptions http) => new()
    {
        Method = http.Method,
        Url = http.Url!,
        Headers = [.. http.Headers.Select(h => new HttpHeaderSpec(h.Name!.Trim(), h.Value, Source(h.ValueEnvVar, h.ValueFile)))],
        Body = http.Body,
        ExpectStatus = http.ExpectStatus,
        BodyContains = http.BodyContains,
    };

    /// <summary>Where a secret comes from, as the plan writes it: <c>env:NAME</c> or <c>file:PATH</c> (never the secret).</summary>
    public static string? Source(string? variable, string? file) => Secrets.SecretReference.Of(variable, file);
}
