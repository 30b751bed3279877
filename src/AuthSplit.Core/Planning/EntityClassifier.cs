using AuthSplit.Core.Configuration;
using AuthSplit.Core.Directory;
using AuthSplit.Core.Model;

namespace AuthSplit.Core.Planning;

/// <summary>Decides an entry's <see cref="EntityKind"/>: service account, then group, then person, else other.</summary>
public sealed class EntityClassifier
{
    // Active Directory: computers are objectClass=user too, and managed service accounts derive from computer.
    private const string AdServiceAccounts = "(|(objectClass=msDS-ManagedServiceAccount)(objectClass=msDS-GroupManagedServiceAccount))";
    private const string AdGroups = "(objectClass=group)";
    private const string AdPersons = "(&(objectClass=user)(!(objectClass=computer)))";

    // OpenLDAP: application/service identities are usually account/applicationProcess/simpleSecurityObject without person.
    private const string OpenLdapServiceAccounts = "(&(|(objectClass=applicationProcess)(objectClass=account)(objectClass=simpleSecurityObject))(!(objectClass=person)))";
    private const string OpenLdapGroups = "(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames)(objectClass=posixGroup)(objectClass=groupOfURLs))";
    private const string OpenLdapPersons = "(|(objectClass=person)(objectClass=inetOrgPerson)(objectClass=organizationalPerson))";

    private readonly LdapFilter _serviceAccounts;
    private readonly LdapFilter _groups;
    private readonly LdapFilter _persons;

    private EntityClassifier(string serviceAccounts, string groups, string persons, FilterContext? context)
    {
        ServiceAccountFilterText = serviceAccounts;
        GroupFilterText = groups;
        PersonFilterText = persons;
        _serviceAccounts = LdapFilter.Parse(serviceAccounts, context);
        _groups = LdapFilter.Parse(groups, context);
        _persons = LdapFilter.Parse(persons, context);
        AttributeNames = new SortedSet<string>(
            _serviceAccounts.AttributeNames.Concat(_groups.AttributeNames).Concat(_persons.AttributeNames),
            StringComparer.Ordinal);
    }

    public string ServiceAccountFilterText { get; }

    public string GroupFilterText { get; }

    public string PersonFilterText { get; }

    public IReadOnlySet<string> AttributeNames { get; }

    public IEnumerable<LdapFilter> Filters => [_serviceAccounts, _groups, _persons];

    public static EntityClassifier For(DirectoryDialect dialect, ClassificationOptions options, FilterContext? context = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var ad = dialect == DirectoryDialect.ActiveDirectory;
        return new EntityClassifier(
            Pick(options.ServiceAccountFilter, ad ? AdServiceAccounts : OpenLdapServiceAccounts),
            Pick(options.GroupFilter, ad ? AdGroups : OpenLdapGroups),
            Pick(options.PersonFilter, ad ? AdPersons : OpenLdapPersons),
            context);
    }

    public EntityKind Classify(DirectoryEntry entry) =>
        _serviceAccounts.Matches(entry) ? EntityKind.ServiceAccount
        : _groups.Matches(entry) ? EntityKind.Group
        : _persons.Matches(entry) ? EntityKind.Person
        : EntityKind.Other;

    private static string Pick(string? configured, string fallback) =>
        string.IsNullOrWhiteSpace(configured) ? fallback : configured.Trim();
}
