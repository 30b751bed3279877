using AuthSplit.Core.Model;

namespace AuthSplit.Core.Directory;

/// <summary>
/// Collects, from a pass over the whole directory, the links that the in-chain matches of some filters
/// walk (LDAP_MATCHING_RULE_IN_CHAIN, 1.2.840.113556.1.4.1941): for <c>(memberOf:…1941:=G)</c> which
/// entries name which DNs in memberOf. Only the attributes those filters use are kept, as normalised DN
/// strings. The answer needs the whole directory (a group nested in G may come after its members), which
/// is why planning with such a filter reads the source twice: once here, once to plan.
/// </summary>
public sealed class LinkChainBuilder
{
    private readonly (string Attribute, string Target)[] _requests;
    private readonly Dictionary<string, Dictionary<string, List<string>>> _referrers = new(StringComparer.OrdinalIgnoreCase);

    public LinkChainBuilder(IEnumerable<LdapFilter?> filters)
    {
        var requests = new List<InChainFilter>();
        foreach (var filter in filters)
        {
            filter?.CollectChains(requests);
        }

        _requests = [.. requests.Select(r => (r.Attribute, r.Target)).Distinct()];
        foreach (var attribute in _requests.Select(r => r.Attribute))
        {
            _referrers.TryAdd(attribute, new Dictionary<string, List<string>>(StringComparer.Ordinal));
        }
    }

    /// <summary>True when some filter has an in-chain match and so needs the pass.</summary>
    public bool IsNeeded => _requests.Length > 0;

    /// <summary>The link attributes the pass must read (besides the DN).</summary>
    public IReadOnlyCollection<string> Attributes => _referrers.Keys;

    public void Add(DirectoryEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        string? self = null;
        foreach (var (attribute, referrers) in _referrers)
        {
            foreach (var raw in entry.GetValues(attribute))
            {
                if (!LinkValues.TryNormalize(raw, out var target))
                {
                    continue;
                }

                self ??= DistinguishedName.TryParse(entry.Dn, out var dn, out _) ? dn.Normalized : entry.Dn;
                if (!referrers.TryGetValue(target, out var list))
                {
                    referrers[target] = list = [];
                }

                list.Add(self);
            }
        }
    }

    /// <summary>For each in-chain match, every DN whose links lead to its target, directly or through others.</summary>
    public LinkChains Build()
    {
        var closures = new Dictionary<(string, string), HashSet<string>>();
        foreach (var (attribute, target) in _requests)
        {
            var referrers = _referrers[attribute];
            var reached = new HashSet<string>(StringComparer.Ordinal) { target };
            var queue = new Queue<string>();
            queue.Enqueue(target);
            while (queue.TryDequeue(out var current))
            {
                if (!referrers.TryGetValue(current, out var list))
                {
                    continue;
                }

                foreach (var referrer in list)
                {
                    if (reached.Add(referrer))
                    {
                        queue.Enqueue(referrer);
                    }
                }
            }

            closures[(attribute.ToLowerInvariant(), target)] = reached;
        }

        return new LinkChains(closures);
    }
}

/// <summary>The closures a <see cref="LinkChainBuilder"/> resolved; compile filters with them through a <see cref="FilterContext"/>.</summary>
public sealed class LinkChains
{
    private readonly Dictionary<(string, string), HashSet<string>> _closures;

    internal LinkChains(Dictionary<(string, string), HashSet<string>> closures) => _closures = closures;

    /// <summary>The target and every DN that links to it through <paramref name="attribute"/>, transitively; null if not resolved.</summary>
    internal HashSet<string>? Closure(string attribute, string target) =>
        _closures.TryGetValue((attribute.ToLowerInvariant(), target), out var set) ? set : null;
}

internal static class LinkValues
{
    public static bool TryNormalize(byte[] raw, out string normalized)
    {
        if (ValueMatcher.TryLowerSimpleDn(raw, out normalized))
        {
            return true;
        }

        if (DistinguishedName.TryParse(System.Text.Encoding.UTF8.GetString(raw), out var dn, out _))
        {
            normalized = dn.Normalized;
            return true;
        }

        normalized = string.Empty;
        return false;
    }
}
