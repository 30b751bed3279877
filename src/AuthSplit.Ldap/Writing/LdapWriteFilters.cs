using AuthSplit.Core.Configuration;
using AuthSplit.Core.Directory;

namespace AuthSplit.Ldap.Writing;

/// <summary>
/// The search filters the writer sends, with every value escaped (RFC 4515): a DN or an id from a plan
/// can only ever be matched as the one value it is, never widen a search.
/// </summary>
public static class LdapWriteFilters
{
    /// <summary>
    /// <c>(entryUUID=…)</c> on OpenLDAP; on AD <c>(objectGUID=\xx…)</c> with the GUID's bytes in the order
    /// AD stores them (the plan's id is <c>new Guid(bytes).ToString("D")</c>, and <see cref="Guid.ToByteArray()"/>
    /// gives those bytes back). Null when <paramref name="entityId"/> is not a GUID: no entry has it.
    /// </summary>
    public static string? ByIdentity(string entityId, DirectoryDialect dialect)
    {
        ArgumentNullException.ThrowIfNull(entityId);
        if (!Guid.TryParseExact(entityId.Trim(), "D", out var id))
        {
            return null;
        }

        return dialect == DirectoryDialect.ActiveDirectory
            ? $"(objectGUID={LdapFilter.EscapeValue(id.ToByteArray())})"
            : $"(entryUUID={LdapFilter.EscapeValue(id.ToString("D"))})";
    }

    /// <summary><c>(attribute=dn)</c> with the DN escaped as a filter value (its own <c>\,</c> escapes become <c>\5c,</c>).</summary>
    public static string Listing(string attribute, string memberDn)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(attribute);
        ArgumentNullException.ThrowIfNull(memberDn);
        return $"({attribute}={LdapFilter.EscapeValue(memberDn)})";
    }

    /// <summary>The membership attributes a group may list a member in: AD has only <c>member</c>.</summary>
    public static IReadOnlyList<string> MembershipAttributes(DirectoryDialect dialect) =>
        dialect == DirectoryDialect.ActiveDirectory ? ["member"] : ["member", "uniqueMember"];
}
