using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using AuthSplit.Core.Configuration;
using AuthSplit.Core.Execution.Steps;
using AuthSplit.Core.Model;

namespace AuthSplit.Core.Execution.Rollback;

/// <summary>
/// The undo of disable-legacy-account, from the entry's backup (pure: no I/O). Only the executor's own
/// marks are taken back, and only when the backup shows the account was not already disabled that way
/// before the wave: AD's ACCOUNTDISABLE bit, OpenLDAP's permanent ppolicy lock, OpenLDAP's unusable
/// password. Both OpenLDAP methods are looked for, whatever Removal:OpenLdapDisable says now (it may
/// have changed since the wave ran).
/// </summary>
public static class LegacyReEnable
{
    /// <summary>The changes that re-enable <paramref name="live"/> as <paramref name="backup"/> was; empty when it already is.</summary>
    /// <param name="problem">Why it cannot be re-enabled from this backup (null when it can).</param>
    public static IReadOnlyList<AttributeChange> ChangesFor(DirectoryEntry live, DirectoryEntry backup, DirectoryDialect dialect, out string? problem)
    {
        ArgumentNullException.ThrowIfNull(live);
        ArgumentNullException.ThrowIfNull(backup);
        problem = null;
        var changes = new List<AttributeChange>();
        if (dialect == DirectoryDialect.ActiveDirectory)
        {
            var liveUac = DisableMarks.UserAccountControlOf(live);
            var backupUac = DisableMarks.UserAccountControlOf(backup);
            if (liveUac is null || backupUac is null)
            {
                problem = $"{live.Dn}: userAccountControl cannot be read {(liveUac is null ? "from the directory" : "from the backup")}";
                return [];
            }

            if ((liveUac & DisableMarks.AccountDisable) != 0 && (backupUac & DisableMarks.AccountDisable) == 0)
            {
                // Only the bit the executor set goes back; any other change made since stays as it is.
                changes.Add(Replace(DisableMarks.UserAccountControl, [Encoding.UTF8.GetBytes((liveUac.Value & ~(long)DisableMarks.AccountDisable).ToString(CultureInfo.InvariantCulture))]));
            }

            return changes;
        }

        if (DisableMarks.IsLocked(live) && !DisableMarks.IsLocked(backup))
        {
            var before = backup.GetValues(DisableMarks.PasswordLockedTime);
            changes.Add(before.Count == 0
                ? new AttributeChange(AttributeChangeKind.Delete, DisableMarks.PasswordLockedTime, [])
                : Replace(DisableMarks.PasswordLockedTime, before));
        }

        if (DisableMarks.HasUnusablePassword(live) && !DisableMarks.HasUnusablePassword(backup))
        {
            var password = backup.GetValues(DisableMarks.UserPassword);
            if (password.Count == 0)
            {
                problem = $"{live.Dn}: the backup holds no userPassword (the bind account could not read it when the backup was taken), so the password the disable replaced cannot be put back; set a new one by hand";
                return [];
            }

            changes.Add(Replace(DisableMarks.UserPassword, password));
        }

        return changes;
    }

    /// <summary>Whether <paramref name="live"/> carries none of the executor's disable marks the backup did not already have.</summary>
    public static bool IsReEnabled(DirectoryEntry live, DirectoryEntry backup, DirectoryDialect dialect) => dialect == DirectoryDialect.ActiveDirectory
        ? (DisableMarks.UserAccountControlOf(live) & DisableMarks.AccountDisable) == 0 || (DisableMarks.UserAccountControlOf(backup) & DisableMarks.AccountDisable) != 0
        : (!DisableMarks.IsLocked(live) || DisableMarks.IsLocked(backup)) && (!DisableMarks.HasUnusablePassword(live) || DisableMarks.HasUnusablePassword(backup));

    /// <summary>What the ledger records of an account's enabled state: never a password value, not even a hash.</summary>
    public static JsonObject StateOf(DirectoryEntry entry, DirectoryDialect dialect)
    {
        var state = new JsonObject { ["dn"] = entry.Dn };
        if (dialect == DirectoryDialect.ActiveDirectory)
        {
            state[DisableMarks.UserAccountControl] = entry.GetString(DisableMarks.UserAccountControl);
            return state;
        }

        state[DisableMarks.PasswordLockedTime] = entry.GetString(DisableMarks.PasswordLockedTime);
        state[DisableMarks.UserPassword] = DisableMarks.HasUnusablePassword(entry) ? "unusable" : $"{entry.GetValues(DisableMarks.UserPassword).Count} value(s)";
        return state;
    }

    private static AttributeChange Replace(string attribute, IReadOnlyList<byte[]> values) => new(AttributeChangeKind.Replace, attribute, values);
}
