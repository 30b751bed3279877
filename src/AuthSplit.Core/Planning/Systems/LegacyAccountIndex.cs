using AuthSplit.Core.Configuration;
using AuthSplit.Core.Directory;
using AuthSplit.Core.Model;
using AuthSplit.Core.Planning.Format;
using AuthSplit.Core.Planning.Preconditions;

namespace AuthSplit.Core.Planning.Systems;

/// <summary>
/// The configured systems' legacy accounts by normalised DN, and what the legacy read found of each. The
/// planner shows it every entry it reads, in scope or not (a service account seldom lies in a wave's
/// scope), so only the few configured DNs are kept.
/// </summary>
internal sealed class LegacyAccountIndex
{
    private readonly Dictionary<string, List<int>> _systemsByDn = new(StringComparer.Ordinal);
    private readonly Dictionary<string, LegacyAccountFacts> _found = new(StringComparer.Ordinal);
    private readonly IList<SystemOptions> _systems;

    public LegacyAccountIndex(IList<SystemOptions> systems)
    {
        _systems = systems;
        for (var i = 0; i < systems.Count; i++)
        {
            foreach (var account in systems[i].LegacyAccounts)
            {
                // Validation parsed every DN; Normalize throws on one it did not.
                var dn = DistinguishedName.Normalize(account.Dn!);
                if (!_systemsByDn.TryGetValue(dn, out var claimants))
                {
                    _systemsByDn[dn] = claimants = [];
                }

                if (!claimants.Contains(i))
                {
                    claimants.Add(i);
                }
            }
        }
    }

    public bool IsEmpty => _systemsByDn.Count == 0;

    /// <summary>The ids of the systems (in config order) that list <paramref name="dn"/> as a legacy account; empty for any other entry.</summary>
    public IReadOnlyList<string> SystemsOf(DistinguishedName dn) =>
        _systemsByDn.TryGetValue(dn.Normalized, out var claimants) ? [.. claimants.Select(i => _systems[i].Id!)] : [];

    /// <summary>
    /// Keeps what the planner needs of <paramref name="entry"/> when it is a configured legacy account, in
    /// a wave's scope or not. Returns the ids of the systems that list it (empty for any other entry).
    /// </summary>
    public IReadOnlyList<string> Record(DirectoryEntry entry, DistinguishedName dn, PlanningSettings settings, EntityPrecondition precondition, ProtectionPolicy protection)
    {
        var systems = SystemsOf(dn);
        if (systems.Count > 0)
        {
            var id = EntityIdentity.Of(entry, dn, settings.Dialect, out var hasIdentity);
            var lastAuthentication = LastAuthentication.AttributeFor(settings.Dialect, settings.Options.Removal.OpenLdapDisable, entry);
            _found[dn.Normalized] = new LegacyAccountFacts(id, hasIdentity, protection.Check(entry, dn), precondition.Of(entry, dn), lastAuthentication);
        }

        return systems;
    }

    /// <summary>
    /// What becomes of a legacy account that is also in a wave's scope. It is disabled by its system after
    /// the cutover, never deleted as an entity: a service account (any non-person) is kept out of the
    /// removals (the returned system id is its <c>legacyAccountOf</c>); a person is blocked, since which of
    /// the two it is needs a person to say (a keep decision makes it the system's).
    /// </summary>
    public static string? InScope(EntityKind kind, IReadOnlyList<string> systems, List<Blocker> blockers)
    {
        if (systems.Count == 0)
        {
            return null;
        }

        if (kind != EntityKind.Person)
        {
            return systems[0];
        }

        blockers.Add(new Blocker(BlockerCode.LegacyAccountOfSystem, $"the entry is a legacy account of system {string.Join(", ", systems)} (Systems:LegacyAccounts), which disables it after its cutover; record a keep decision if it is the system's account, or fix the system's config if it is a person"));
        return null;
    }

    /// <summary>What the read found at <paramref name="normalizedDn"/>; null when it was not in the read.</summary>
    public LegacyAccountFacts? Found(string normalizedDn) => _found.GetValueOrDefault(normalizedDn);
}

/// <summary>A legacy account as the read found it: the facts the plan records and the executor re-checks.</summary>
internal sealed record LegacyAccountFacts(string Id, bool HasIdentity, ProtectionRecord? Protection, Precondition Precondition, string? LastAuthenticationAttribute);

/// <summary>Where the legacy server records an account's last authentication (<c>verify-legacy-quiet</c>).</summary>
public static class LastAuthentication
{
    /// <summary>
    /// The attribute the server records an account's last authentication in, as the executor's
    /// <c>verify-legacy-quiet</c> will read it: AD's replicated <c>lastLogonTimestamp</c>; on OpenLDAP the one
    /// the entry carries, slapd's <c>pwdLastSuccess</c> (2.5+ with <c>lastbind</c> on) or else the lastbind
    /// overlay's <c>authTimestamp</c>; for an entry with neither yet, <c>pwdLastSuccess</c> when the disable
    /// relies on ppolicy anyway; null when the server keeps none (the step then says it cannot be checked here).
    /// An entry that carries <c>authTimestamp</c> is read by it even under a ppolicy lock: ppolicy alone does
    /// not stamp <c>pwdLastSuccess</c>, and reading that one would report "none recorded" for an account in use.
    /// </summary>
    public static string? AttributeFor(DirectoryDialect dialect, OpenLdapDisableMethod disable, DirectoryEntry entry) => dialect switch
    {
        DirectoryDialect.ActiveDirectory => "lastLogonTimestamp",
        _ when entry.Has("pwdLastSuccess") => "pwdLastSuccess",
        _ when entry.Has("authTimestamp") => "authTimestamp",
        _ when disable == OpenLdapDisableMethod.PasswordPolicyLock => "pwdLastSuccess",
        _ => null,
    };

    /// <summary>The operational attributes a live read must ask for (they are not returned unless named) so <see cref="AttributeFor"/> can see them.</summary>
    public static IReadOnlyList<string> ReadAttributes(DirectoryDialect dialect) =>
        dialect == DirectoryDialect.ActiveDirectory ? ["lastlogontimestamp"] : ["authtimestamp", "pwdlastsuccess"];
}
