using System.Globalization;
using System.Text;
using AuthSplit.Core.Configuration;
using AuthSplit.Core.Model;

namespace AuthSplit.Core.Execution.Restoring;

/// <summary>Turns an <see cref="EntryBackup"/> into the writes that re-create the entry (pure: no I/O).</summary>
public static class RestoreRecipes
{
    private const long AccountDisable = 0x2;
    private const long Lockout = 0x10;
    private const long PasswordExpired = 0x800000;

    /// <param name="backup">The entry and its groups as read before the first legacy write.</param>
    /// <param name="dialect">The legacy directory's dialect.</param>
    /// <param name="keepIdentity">
    /// OpenLDAP: keep <see cref="ServerManagedAttributes.OpenLdapKeptUnderRelax"/> (entryUUID above all; the
    /// writer then adds under the Relax Rules control, which needs manage access); false when the server or
    /// the bind account refused that, and the entry is to get a new entryUUID. Ignored on Active Directory.
    /// </param>
    public static RestoreRecipe For(EntryBackup backup, DirectoryDialect dialect, bool keepIdentity = true)
    {
        ArgumentNullException.ThrowIfNull(backup);
        var source = backup.Entry;
        keepIdentity &= dialect == DirectoryDialect.OpenLdap;
        var attributes = new Dictionary<string, IReadOnlyList<byte[]>>(StringComparer.OrdinalIgnoreCase);
        var leftOut = new List<string>();
        foreach (var (name, values) in source.Attributes)
        {
            if (ServerManagedAttributes.IsLeftOut(name, dialect, keepIdentity))
            {
                leftOut.Add(name);
            }
            else if (values.Count > 0)
            {
                attributes[name] = values;
            }
        }

        var notes = new List<string>();
        var createdDisabled = false;
        if (dialect == DirectoryDialect.ActiveDirectory)
        {
            notes.Add("Active Directory gives the re-created object a new objectGUID and objectSid: it is a new object to Windows, to Entra Connect and to every ACL that named the old SID. The AD Recycle Bin restores the original object, identity included");
            if (source.GetString("userAccountControl") is { } text && long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var control))
            {
                var disabled = (control | AccountDisable) & ~(Lockout | PasswordExpired);
                attributes["userAccountControl"] = [Encoding.UTF8.GetBytes(disabled.ToString(CultureInfo.InvariantCulture))];
                createdDisabled = true;
                notes.Add("its password cannot be read from Active Directory, so the account is created disabled (userAccountControl | ACCOUNTDISABLE) without a password: set one and enable it if it is to be used");
            }
        }
        else if (!keepIdentity && source.Has("entryUUID"))
        {
            notes.Add("the restored entry gets a new entryUUID and a fresh password history (the add could not carry the old ones): the plan's id no longer finds it");
        }

        if (dialect == DirectoryDialect.OpenLdap && !source.Has("userPassword") && IsAccount(source))
        {
            notes.Add("the backup holds no userPassword (the bind account could not read it): the restored account has no password");
        }

        var dnValue = Encoding.UTF8.GetBytes(source.Dn);
        var groups = backup.Groups
            .Select(g => new GroupReAdd(g.GroupDn, g.GroupId, new AttributeChange(AttributeChangeKind.Add, g.Attribute, [dnValue])))
            .ToList();
        leftOut.Sort(StringComparer.OrdinalIgnoreCase);
        return new RestoreRecipe
        {
            Entry = new DirectoryEntry(source.Dn, attributes),
            Groups = groups,
            LeftOut = leftOut,
            KeepsIdentity = keepIdentity && source.Has("entryUUID"),
            CreatedDisabled = createdDisabled,
            Notes = notes,
        };
    }

    private static bool IsAccount(DirectoryEntry entry) =>
        entry.GetStrings("objectClass").Any(c => c.Equals("person", StringComparison.OrdinalIgnoreCase)
            || c.Equals("inetOrgPerson", StringComparison.OrdinalIgnoreCase)
            || c.Equals("posixAccount", StringComparison.OrdinalIgnoreCase)
            || c.Equals("simpleSecurityObject", StringComparison.OrdinalIgnoreCase));
}
