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
    /// <c>modifyTimestamp</c>: the re-creation is a change), what slapd computes, <c>memberOf</c>
    /// (memberof overlay), and the ppolicy/lastbind bind history (a re-created entry has none).
    /// </summary>
    public static readonly IReadOnlySet<string> OpenLdap = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
    {
        "entryCSN", "modifiersName", "modifyTimestamp", "structuralObjectClass", "subschemaSubentry",
        "hasSubordinates", "numSubordinates", "entryDN", "memberOf", "contextCSN", "entryTtl",
        "pwdChangedTime", "pwdFailureTime", "pwdHistory", "pwdGraceUseTime", "pwdLastSuccess", "authTimestamp",
    };

    /// <summary>
    /// OpenLDAP's identity and creation stamp: kept when the add runs under the Relax Rules control (the
    /// restored entry keeps its entryUUID, so the plan's id finds it again), left out otherwise.
    /// </summary>
    public static readonly IReadOnlySet<string> OpenLdapIdentity = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
    {
        "entryUUID", "createTimestamp", "creatorsName",
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
            : OpenLdap.Contains(name) || (!keepIdentity && OpenLdapIdentity.Contains(name));
    }
}
