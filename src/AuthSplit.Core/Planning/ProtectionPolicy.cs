using AuthSplit.Core.Configuration;
using AuthSplit.Core.Directory;
using AuthSplit.Core.Model;
using AuthSplit.Core.Planning.Format;

namespace AuthSplit.Core.Planning;

/// <summary>
/// Whether an entry is protected: the built-in rails (<see cref="BuiltInProtection"/>), then
/// <c>Safety:ProtectedDns</c>, then <c>Safety:ProtectedFilter</c>. The planner evaluates it on every entry
/// in scope; the executor builds it again from the approved plan's settings and evaluates it on the
/// live entry before it acts, so both apply exactly the same rule.
/// </summary>
public sealed class ProtectionPolicy
{
    private readonly DirectoryDialect _dialect;
    private readonly DistinguishedName? _bindDn;
    private readonly IReadOnlyList<DistinguishedName> _protectedDns;
    private readonly LdapFilter? _protectedFilter;

    public ProtectionPolicy(DirectoryDialect dialect, DistinguishedName? bindDn, IReadOnlyList<DistinguishedName> protectedDns, LdapFilter? protectedFilter)
    {
        _dialect = dialect;
        _bindDn = bindDn;
        _protectedDns = protectedDns;
        _protectedFilter = protectedFilter;
    }

    /// <summary>
    /// The policy a plan was made with: its dialect, protected DNs and filter as the plan's settings echo
    /// them. The bind account is not in the plan, so it comes from the running configuration.
    /// </summary>
    /// <param name="context">What to compile the filter against; null means AD's default schema under the plan's base DN (AD), none (OpenLDAP).</param>
    public static ProtectionPolicy FromPlan(PlanSettings settings, DistinguishedName? bindDn, FilterContext? context = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var dialect = Enum.Parse<DirectoryDialect>(settings.Dialect, ignoreCase: true);
        if (context is null && dialect == DirectoryDialect.ActiveDirectory)
        {
            context = new FilterContext(ObjectCategoryMap.ActiveDirectoryDefault(DistinguishedName.Parse(settings.BaseDn)));
        }

        var filter = string.IsNullOrWhiteSpace(settings.Safety.ProtectedFilter) ? null : LdapFilter.Parse(settings.Safety.ProtectedFilter, context);
        return new ProtectionPolicy(dialect, bindDn, [.. settings.Safety.ProtectedDns.Select(DistinguishedName.Parse)], filter);
    }

    /// <summary>Why the entry must not be touched, or null when it may be.</summary>
    public ProtectionRecord? Check(DirectoryEntry entry, DistinguishedName dn)
    {
        if (BuiltInProtection.Check(_dialect, entry, dn, _bindDn) is { } builtIn)
        {
            return builtIn;
        }

        var protectedDn = _protectedDns.FirstOrDefault(dn.IsWithin);
        if (protectedDn is not null)
        {
            return new ProtectionRecord("protected-dn", $"at or below Safety:ProtectedDns entry {protectedDn.Original}");
        }

        return _protectedFilter?.Matches(entry) == true
            ? new ProtectionRecord("protected-filter", "matches Safety:ProtectedFilter")
            : null;
    }
}
