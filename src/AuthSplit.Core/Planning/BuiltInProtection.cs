using System.Buffers.Binary;
using AuthSplit.Core.Configuration;
using AuthSplit.Core.Directory;
using AuthSplit.Core.Model;
using AuthSplit.Core.Planning.Format;

namespace AuthSplit.Core.Planning;

/// <summary>
/// Safety rails that hold whatever the configuration says: objects no migration may touch. They are
/// evaluated here at planning time and again by the executor before every step.
/// </summary>
public static class BuiltInProtection
{
    private static readonly string[] AdAttributes = ["admincount", "iscriticalsystemobject", "objectsid", "samaccountname"];

    public static IReadOnlyList<string> AttributeNames(DirectoryDialect dialect) =>
        dialect == DirectoryDialect.ActiveDirectory ? AdAttributes : [];

    public static IReadOnlyList<string> Describe(DirectoryDialect dialect) => dialect == DirectoryDialect.ActiveDirectory
        ?
        [
            "builtin-bind-account: the account AuthSplit binds with",
            "builtin-admin-count: adminCount=1 (protected by AdminSDHolder)",
            "builtin-critical-system-object: isCriticalSystemObject=TRUE",
            "builtin-krbtgt: sAMAccountName krbtgt or krbtgt_*",
            "builtin-well-known-sid: objectSid in the BUILTIN domain or with a RID below 1000",
        ]
        : ["builtin-bind-account: the account AuthSplit binds with"];

    /// <summary>The built-in reason this entry must never be touched, or null.</summary>
    public static ProtectionRecord? Check(DirectoryDialect dialect, DirectoryEntry entry, DistinguishedName dn, DistinguishedName? bindDn)
    {
        if (bindDn is not null && dn.Equals(bindDn))
        {
            return new ProtectionRecord("builtin-bind-account", "the entry is Source:BindDn, the account AuthSplit itself binds with");
        }

        if (dialect != DirectoryDialect.ActiveDirectory)
        {
            return null;
        }

        if (entry.GetStrings("adminCount").Any(v => v.Trim() == "1"))
        {
            return new ProtectionRecord("builtin-admin-count", "adminCount=1: a privileged account or group protected by AdminSDHolder");
        }

        if (entry.GetStrings("isCriticalSystemObject").Any(v => v.Trim().Equals("TRUE", StringComparison.OrdinalIgnoreCase)))
        {
            return new ProtectionRecord("builtin-critical-system-object", "isCriticalSystemObject=TRUE");
        }

        var sam = entry.GetString("sAMAccountName");
        if (sam is not null && (sam.Equals("krbtgt", StringComparison.OrdinalIgnoreCase) || sam.StartsWith("krbtgt_", StringComparison.OrdinalIgnoreCase)))
        {
            return new ProtectionRecord("builtin-krbtgt", $"sAMAccountName={sam}: the Kerberos key distribution account");
        }

        foreach (var sid in entry.GetValues("objectSid"))
        {
            if (WellKnownSid(sid) is { } why)
            {
                return new ProtectionRecord("builtin-well-known-sid", why);
            }
        }

        return null;
    }

    // Binary SID: revision, sub-authority count, 6-byte big-endian authority, then 32-bit little-endian sub-authorities.
    private static string? WellKnownSid(byte[] sid)
    {
        if (sid.Length < 8 || sid.Length != 8 + (4 * sid[1]) || sid[1] == 0)
        {
            return null;
        }

        var count = sid[1];
        var first = BinaryPrimitives.ReadUInt32LittleEndian(sid.AsSpan(8, 4));
        var rid = BinaryPrimitives.ReadUInt32LittleEndian(sid.AsSpan(8 + (4 * (count - 1)), 4));
        if (first == 32)
        {
            return $"objectSid in the BUILTIN domain (S-1-5-32-{rid})";
        }

        // Domain SIDs are S-1-5-21-a-b-c-RID; RIDs below 1000 are the domain's well-known principals.
        return first == 21 && count >= 5 && rid < 1000 ? $"objectSid with well-known RID {rid}" : null;
    }
}
