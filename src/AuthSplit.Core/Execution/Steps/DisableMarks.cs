using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using AuthSplit.Core.Configuration;
using AuthSplit.Core.Model;

namespace AuthSplit.Core.Execution.Steps;

/// <summary>
/// The attribute values disable-legacy-account writes, per dialect and method, and how to recognise them
/// on a live entry: the ensure reads them to tell "already disabled" from "to do", and the precondition
/// check reads them to tell the executor's own change from someone else's.
/// </summary>
internal static class DisableMarks
{
    public const string UserAccountControl = "userAccountControl";
    public const int AccountDisable = 0x2;
    public const string PasswordLockedTime = "pwdAccountLockedTime";

    /// <summary>ppolicy's "locked until an administrator unlocks" value.</summary>
    public const string PermanentLock = "000001010000Z";
    public const string UserPassword = "userPassword";

    /// <summary>No password hashes to this: <c>{CRYPT}</c> with a salt no crypt(3) scheme produces.</summary>
    public const string UnusablePasswordPrefix = "{CRYPT}!authsplit-disabled-";

    public static long? UserAccountControlOf(DirectoryEntry entry) =>
        long.TryParse(entry.GetString(UserAccountControl), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value : null;

    public static bool IsLocked(DirectoryEntry entry) => entry.GetStrings(PasswordLockedTime).Any(v => v == PermanentLock);

    public static bool HasUnusablePassword(DirectoryEntry entry)
    {
        var values = entry.GetValues(UserPassword);
        return values.Count == 1 && Encoding.UTF8.GetString(values[0]).StartsWith(UnusablePasswordPrefix, StringComparison.Ordinal);
    }

    public static bool IsDisabled(DirectoryEntry entry, DirectoryDialect dialect, OpenLdapDisableMethod method) => dialect == DirectoryDialect.ActiveDirectory
        ? (UserAccountControlOf(entry) & AccountDisable) == AccountDisable
        : method == OpenLdapDisableMethod.PasswordPolicyLock ? IsLocked(entry) : HasUnusablePassword(entry);

    /// <summary>
    /// The one change that disables <paramref name="live"/>: AD <c>userAccountControl |= ACCOUNTDISABLE</c> from
    /// the value read; OpenLDAP the ppolicy lock or a password nothing can match. Null when an AD entry has
    /// no readable <c>userAccountControl</c> (nothing safe to write).
    /// </summary>
    public static AttributeChange? ChangeFor(DirectoryEntry live, DirectoryDialect dialect, OpenLdapDisableMethod method)
    {
        if (dialect == DirectoryDialect.ActiveDirectory)
        {
            return UserAccountControlOf(live) is { } uac
                ? Replace(UserAccountControl, (uac | AccountDisable).ToString(CultureInfo.InvariantCulture))
                : null;
        }

        return method == OpenLdapDisableMethod.PasswordPolicyLock
            ? Replace(PasswordLockedTime, PermanentLock)
            : Replace(UserPassword, UnusablePasswordPrefix + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)));
    }

    /// <summary>What the journal records of an entry's disabled state: never a password value, not even a hash.</summary>
    public static JsonObject StateOf(DirectoryEntry entry, DirectoryDialect dialect, OpenLdapDisableMethod method)
    {
        var state = new JsonObject { ["dn"] = entry.Dn };
        if (dialect == DirectoryDialect.ActiveDirectory)
        {
            state[UserAccountControl] = entry.GetString(UserAccountControl);
        }
        else if (method == OpenLdapDisableMethod.PasswordPolicyLock)
        {
            state[PasswordLockedTime] = entry.GetString(PasswordLockedTime);
        }
        else
        {
            state[UserPassword] = HasUnusablePassword(entry) ? "unusable" : $"{entry.GetValues(UserPassword).Count} value(s), kept in the backup";
        }

        return state;
    }

    /// <summary>
    /// What a backup must hold of an entry an earlier plan's run already disabled (a wave re-planned after a
    /// held delete): the entry with that disable taken back from the earlier plan's backup, so a restore does
    /// not bring the account back locked. Null <c>RevertedFor</c>: the entry is kept as read.
    /// </summary>
    public static (DirectoryEntry Entry, string? RevertedFor) WithoutEarlierPlansDisable(DirectoryEntry live, EntryBackup? earlier, string planId, DirectoryDialect dialect, OpenLdapDisableMethod method) =>
        IsDisabled(live, dialect, method) && earlier is not null && earlier.PlanId != planId && !IsDisabled(earlier.Entry, dialect, method)
            ? (RevertOwn(live, earlier.Entry, live.Dn), earlier.PlanId)
            : (live, null);

    private static AttributeChange Replace(string attribute, string value) =>
        new(AttributeChangeKind.Replace, attribute, [Encoding.UTF8.GetBytes(value)]);

    /// <summary>
    /// The live entry with the executor's own disable reverted to the backup's values, where the live value
    /// is exactly what the executor writes: what the plan's fingerprint is compared with once the entry
    /// has been disabled. Someone else's change to the same attribute is left as it is (and shows as stale).
    /// </summary>
    public static DirectoryEntry RevertOwn(DirectoryEntry live, DirectoryEntry backup, string dnAsPlanned)
    {
        var attributes = new Dictionary<string, IReadOnlyList<byte[]>>(live.Attributes, StringComparer.OrdinalIgnoreCase);
        var liveUac = UserAccountControlOf(live);
        var backupUac = UserAccountControlOf(backup);
        if (liveUac is not null && backupUac is not null && liveUac == (backupUac | AccountDisable))
        {
            attributes[UserAccountControl] = backup.GetValues(UserAccountControl);
        }

        if (IsLocked(live) && live.GetValues(PasswordLockedTime).Count == 1)
        {
            Restore(attributes, backup, PasswordLockedTime);
        }

        if (HasUnusablePassword(live))
        {
            Restore(attributes, backup, UserPassword);
        }

        return new DirectoryEntry(dnAsPlanned, attributes);
    }

    private static void Restore(Dictionary<string, IReadOnlyList<byte[]>> attributes, DirectoryEntry backup, string name)
    {
        var values = backup.GetValues(name);
        if (values.Count == 0)
        {
            attributes.Remove(name);
        }
        else
        {
            attributes[name] = values;
        }
    }
}
