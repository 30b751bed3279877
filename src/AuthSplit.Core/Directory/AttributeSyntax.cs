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
    public static AttributeComparison For(string attribute) => throw new NotImplementedException("TODO(helper: core-directory)");

    /// <summary>True for attributes whose values are binary and must be base64 in LDIF and never decoded as text.</summary>
    public static bool IsBinary(string attribute) => For(attribute) == AttributeComparison.Binary;
}
