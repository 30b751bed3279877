using System.Security.Cryptography;
using System.Text;
using AuthSplit.Core.Configuration;
using AuthSplit.Core.Directory;
using AuthSplit.Core.Model;

namespace AuthSplit.Core.Planning.Preconditions;

/// <summary>
/// An entity's id: the directory's own immutable identity (OpenLDAP <c>entryUUID</c>, lower-case; AD
/// <c>objectGUID</c> as a GUID string), or <c>dn-sha256:</c> of the normalised DN when the entry has none
/// (such an entity is blocked: the executor could not tell it from a look-alike).
/// </summary>
public static class EntityIdentity
{
    /// <summary>The identity attribute of <paramref name="dialect"/>, lower-case.</summary>
    public static string AttributeFor(DirectoryDialect dialect) => dialect == DirectoryDialect.ActiveDirectory ? "objectguid" : "entryuuid";

    public static string Of(DirectoryEntry entry, DistinguishedName dn, DirectoryDialect dialect, out bool hasIdentity)
    {
        var values = entry.GetValues(AttributeFor(dialect));
        hasIdentity = values.Count == 1;
        if (hasIdentity)
        {
            if (dialect == DirectoryDialect.ActiveDirectory)
            {
                if (values[0].Length == 16)
                {
                    return new Guid(values[0]).ToString("D");
                }
            }
            else
            {
                var text = Encoding.UTF8.GetString(values[0]).Trim();
                if (text.Length > 0)
                {
                    return text.ToLowerInvariant();
                }
            }

            hasIdentity = false;
        }

        return "dn-sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(dn.Normalized)))[..32];
    }
}
