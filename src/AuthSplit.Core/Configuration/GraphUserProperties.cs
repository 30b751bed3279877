namespace AuthSplit.Core.Configuration;

/// <summary>
/// The Microsoft Graph (v1.0) user properties a matching rule may name: single-valued properties that
/// <c>GET /users?$select=</c> returns for every user of a listing and that compare as text. The one list;
/// config validation refuses any other name (a misspelt property comes back empty from Graph, and every
/// person would be blocked as unmatched).
/// </summary>
public static class GraphUserProperties
{
    public static readonly IReadOnlyList<string> Matchable =
    [
        "id", "userPrincipalName", "mail", "mailNickname", "employeeId", "employeeType",
        "onPremisesImmutableId", "onPremisesSamAccountName", "onPremisesUserPrincipalName", "onPremisesDistinguishedName",
        "onPremisesDomainName", "onPremisesSecurityIdentifier", "securityIdentifier",
        "displayName", "givenName", "surname", "jobTitle", "department", "companyName", "officeLocation",
        "city", "state", "country", "postalCode", "streetAddress", "usageLocation", "preferredLanguage",
        "mobilePhone", "faxNumber", "userType", "externalUserState", "creationType", "ageGroup",
    ];

    /// <summary>The property's name as Graph spells it, or null when Graph users have no such property (names are case-insensitive).</summary>
    public static string? Find(string name) => Matchable.FirstOrDefault(p => string.Equals(p, name.Trim(), StringComparison.OrdinalIgnoreCase));
}
