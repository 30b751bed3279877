namespace AuthSplit.Core.Directory;

/// <summary>How values of an attribute are compared.</summary>
public enum AttributeComparison
{
    /// <summary>caseIgnoreMatch with insignificant spaces (RFC 4518): the default for string attributes.</summary>
    CaseIgnoreString,
    /// <summary>caseExactMatch.</summary>
    CaseExactString,
    /// <summary>distinguishedNameMatch: values compared as normalised DNs.</summary>
    DistinguishedName,
    /// <summary>integerMatch / integerOrderingMatch.</summary>
    IntegerValue,
    /// <summary>octetStringMatch: raw bytes (objectGUID, objectSid, certificates).</summary>
    Binary,
}

/// <summary>
/// The matching rules of the attributes this tool's filters and fingerprints meet in OpenLDAP and
/// Active Directory. Unknown attributes compare as case-insensitive strings, which is what both
/// servers do for the directory-string attributes people put in filters.
/// </summary>
public static class AttributeSyntax
{
    private static readonly Dictionary<string, AttributeComparison> Known = Build();

    public static AttributeComparison For(string attribute)
    {
        var name = BaseName(attribute);
        if (attribute.EndsWith(";binary", StringComparison.OrdinalIgnoreCase))
        {
            return AttributeComparison.Binary;
        }

        return Known.TryGetValue(name, out var comparison) ? comparison : AttributeComparison.CaseIgnoreString;
    }

    /// <summary>True for attributes whose values are binary and must be base64 in LDIF and never decoded as text.</summary>
    public static bool IsBinary(string attribute) => For(attribute) == AttributeComparison.Binary;

    /// <summary>The attribute type without options (<c>cn;lang-ja</c> → <c>cn</c>).</summary>
    public static string BaseName(string attribute)
    {
        var semicolon = attribute.IndexOf(';', StringComparison.Ordinal);
        return semicolon < 0 ? attribute : attribute[..semicolon];
    }

    private static Dictionary<string, AttributeComparison> Build()
    {
        var map = new Dictionary<string, AttributeComparison>(StringComparer.OrdinalIgnoreCase);
        foreach (var name in new[]
        {
            "member", "uniqueMember", "memberOf", "manager", "owner", "seeAlso", "secretary", "distinguishedName", "entryDN",
            "creatorsName", "modifiersName", "managedBy", "directReports", "roleOccupant", "namingContexts", "defaultNamingContext",
            "objectCategory", "subschemaSubentry", "aliasedObjectName",
        })
        {
            map[name] = AttributeComparison.DistinguishedName;
        }

        foreach (var name in new[]
        {
            "userAccountControl", "adminCount", "uidNumber", "gidNumber", "primaryGroupID", "groupType", "sAMAccountType",
            "instanceType", "systemFlags", "pwdLastSet", "lastLogonTimestamp", "lastLogon", "accountExpires", "badPwdCount",
            "msDS-User-Account-Control-Computed", "logonCount", "uSNChanged", "uSNCreated", "shadowExpire", "shadowLastChange",
        })
        {
            map[name] = AttributeComparison.IntegerValue;
        }

        foreach (var name in new[]
        {
            "objectGUID", "objectSid", "msExchMailboxGuid", "thumbnailPhoto", "jpegPhoto", "userCertificate", "cACertificate",
            "msDS-GenerationId", "securityIdentifier", "sIDHistory", "tokenGroups", "nTSecurityDescriptor", "logonHours",
            "userPassword", "unicodePwd", "supplementalCredentials", "mS-DS-ConsistencyGuid", "audio", "photo", "userPKCS12",
            "dBCSPwd", "lmPwdHistory", "ntPwdHistory", "msDS-KeyCredentialLink", "objectSID",
        })
        {
            map[name] = AttributeComparison.Binary;
        }

        return map;
    }
}
