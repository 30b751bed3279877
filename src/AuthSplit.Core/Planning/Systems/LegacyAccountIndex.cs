using AuthSplit.Core.Configuration;
using AuthSplit.Core.Directory;
using AuthSplit.Core.Model;
using AuthSplit.Core.Planning.Format;

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

    public bool Contains(DistinguishedName dn) => _systemsByDn.ContainsKey(dn.Normalized);

    public void Record(DistinguishedName dn, LegacyAccountFacts facts) => _found[dn.Normalized] = facts;

    /// <summary>What the read found at <paramref name="normalizedDn"/>; null when it was not in the read.</summary>
    public LegacyAccountFacts? Found(string normalizedDn) => _found.GetValueOrDefault(normalizedDn);
}

/// <summary>A legacy account as the read found it: the facts the plan records and the executor re-checks.</summary>
internal sealed record LegacyAccountFacts(string Id, bool HasIdentity, EntityKind Kind, ProtectionRecord? Protection, Precondition Precondition, string? LastAuthenticationAttribute);

/// <summary>Where the legacy server records an account's last authentication (<c>verify-legacy-quiet</c>).</summary>
public static class LastAuthentication
{
    /// <summary>
    /// The attribute the server records an account's last authentication in, as the executor's
    /// <c>verify-legacy-quiet</c> will read it: AD's replicated <c>lastLogonTimestamp</c>; on OpenLDAP the
    /// ppolicy overlay's <c>pwdLastSuccess</c> when the entry carries it or the disable relies on ppolicy
    /// anyway, else the lastbind overlay's <c>authTimestamp</c> when the entry carries it; null when the
    /// server keeps none (the step then says it cannot be checked here).
    /// </summary>
    public static string? AttributeFor(DirectoryDialect dialect, OpenLdapDisableMethod disable, DirectoryEntry entry) => dialect switch
    {
        DirectoryDialect.ActiveDirectory => "lastLogonTimestamp",
        _ when entry.Has("pwdLastSuccess") || disable == OpenLdapDisableMethod.PasswordPolicyLock => "pwdLastSuccess",
        _ when entry.Has("authTimestamp") => "authTimestamp",
        _ => null,
    };

    /// <summary>The operational attributes a live read must ask for (they are not returned unless named) so <see cref="AttributeFor"/> can see them.</summary>
    public static IReadOnlyList<string> ReadAttributes(DirectoryDialect dialect) =>
        dialect == DirectoryDialect.ActiveDirectory ? ["lastlogontimestamp"] : ["authtimestamp", "pwdlastsuccess"];
}
