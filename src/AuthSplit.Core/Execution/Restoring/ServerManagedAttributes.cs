using AuthSplit.Core.Configuration;

namespace AuthSplit.Core.Execution.Restoring;

/// <summary>
/// Attributes a backup holds that an add must leave out, per dialect: the server computes or stamps them
/// itself and refuses them in an add (constraintViolation / unwillingToPerform), or an overlay maintains
/// them from the other side of a link (<c>memberOf</c>, restored by re-adding the memberships).
/// </summary>
public static class ServerManagedAttributes
{
    /// <summary>
    /// OpenLDAP attributes never sent: the change bookkeeping (<c>entryCSN</c>, <c>modifiersName</c>,
    /// <c>modifyTimestamp</c>: the re-creation is a change, and says so), what slapd computes, and
    /// <c>memberOf</c> (memberof overlay: it comes back with the memberships).
    /// </summary>
    public static readonly IReadOnlySet<string> OpenLdap = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
    {
        "entryCSN", "modifiersName", "modifyTimestamp", "structuralObjectClass", "subschemaSubentry",
        "hasSubordinates", "numSubordinates", "entryDN", "memberOf", "contextCSN", "entryTtl",
    };

    /// <summary>
    /// OpenLDAP's identity, creation stamp and password/bind history: kept when the add runs under the
    /// Relax Rules control (slapd 2.5 lets a manager set them; checked against a real slapd with ppolicy
    /// and lastbind), left out otherwise. Keeping them matters: the plan's id (entryUUID) finds the entry
    /// again, and a restore must not make an old password look freshly changed (pwdChangedTime) or
    /// forget its history.
    /// </summary>
    public static readonly IReadOnlySet<string> OpenLdapKeptUnderRelax = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
    {
        "entryUUID", "createTimestamp", "creatorsName",
        "pwdChangedTime", "pwdHistory", "pwdFailureTime", "pwdGraceUseTime", "pwdLastSuccess", "authTimestamp",
    };

    /// <summary>
    /// Active Directory attributes never sent: identity and security identifiers (a re-created object
    /// always gets new ones), the naming and replication bookkeeping, logon and password history, what AD
    /// computes or back-links (<c>memberOf</c>), and secrets that cannot be read at all.
    /// </summary>
    public static readonly IReadOnlySet<string> ActiveDirectory = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
    {
        "objectGUID", "objectSid", "sIDHistory", "distinguishedName", "name", "instanceType", "objectCategory",
        "whenCreated", "whenChanged", "uSNCreated", "uSNChanged", "dSCorePropagationData", "replPropertyMetaData",
        "memberOf", "isCriticalSystemObject", "adminCount", "sAMAccountType", "primaryGroupID",
        "msDS-User-Account-Control-Computed", "nTSecurityDescriptor", "tokenGroups", "msDS-KeyVersionNumber",
        "pwdLastSet", "badPwdCount", "badPasswordTime", "lastLogon", "lastLogoff", "lastLogonTimestamp", "logonCount", "lockoutTime",
        "isDeleted", "isRecycled", "lastKnownParent", "msDS-LastKnownRDN",
        "unicodePwd", "dBCSPwd", "ntPwdHistory", "lmPwdHistory", "supplementalCredentials",
    };

    /// <summary>Whether an add must leave <paramref name="attribute"/> out (options such as <c>;binary</c> are ignored).</summary>
    public static bool IsLeftOut(string attribute, DirectoryDialect dialect, bool keepIdentity)
    {
        var name = attribute.Split(';', 2)[0];
        return dialect == DirectoryDialect.ActiveDirectory
            ? ActiveDirectory.Contains(name)
            : OpenLdap.Contains(name) || (!keepIdentity && OpenLdapKeptUnderRelax.Contains(name));
    }
}
