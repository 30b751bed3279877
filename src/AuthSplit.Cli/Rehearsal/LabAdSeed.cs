using System.Globalization;
using System.Text;
using AuthSplit.Core.Directory;
using AuthSplit.Core.Errors;
using AuthSplit.Core.Model;

namespace AuthSplit.Cli.Rehearsal;

/// <summary>What <c>lab start --ad</c> loads into its DC: the entries (parents first), then the group memberships.</summary>
/// <param name="Entries">LDIF content records for ldapadd, groups without their members.</param>
/// <param name="Memberships">LDIF change records adding each group's members, once every entry exists.</param>
/// <param name="Skipped">Entries not loaded, by why (the DC's own objects, classes the lab does not map).</param>
/// <param name="Mapped">Entries of OpenLDAP's shape that were turned into AD objects (their DNs may have changed: AD names people by CN).</param>
public sealed record LabAdSeed(string Realm, string NetbiosDomain, string BaseDn, string Entries, string Memberships, int Loaded, int Mapped, IReadOnlyDictionary<string, int> Skipped, bool HasEmployeeId);

/// <summary>
/// Turns an export into what a Samba AD DC loads. Two shapes are accepted, entry by entry:
/// <list type="bullet">
/// <item>An AD export (ldapsearch against AD, or ldifde): <c>user</c>, <c>group</c>, <c>contact</c>,
/// <c>computer</c>, <c>organizationalUnit</c> and <c>container</c> objects are loaded as they are, less what
/// only the DC may write (objectGUID, objectSid, whenCreated, uSN*, memberOf, logon counters, …): the DC
/// gives every object a GUID and SID of its own, as any restore into a new domain does. The DC's own objects
/// (isCriticalSystemObject: CN=Users, Administrator, Domain Admins, …) are already there and are skipped.</item>
/// <item>An OpenLDAP export (the samples, slapd's): <c>organizationalUnit</c> as is; <c>inetOrgPerson</c> and
/// bind accounts (<c>account</c>, <c>simpleSecurityObject</c>, <c>applicationProcess</c>) become <c>user</c>s,
/// <c>uid</c> their sAMAccountName, a locked one (pwdAccountLockedTime) disabled (userAccountControl 514);
/// <c>groupOfNames</c>/<c>groupOfUniqueNames</c> become <c>group</c>s. AD names users and groups by CN, so
/// <c>uid=akira.sato,ou=people,…</c> becomes <c>CN=akira.sato,ou=people,…</c> (member and manager values follow).</item>
/// </list>
/// Membership comes from the groups' <c>member</c> values (AD computes memberOf itself); members that are not in
/// the export are left out. The domain is the export's suffix, which must be made of DC= parts (DC=example,DC=jp
/// gives the realm EXAMPLE.JP). Passwords are never carried.
/// </summary>
public static class LabAdSeedBuilder
{
    private static readonly string[] AdClasses = ["user", "group", "contact", "computer", "organizationalUnit", "container"];

    // What provisioning creates directly under the domain: these are already there. What operators keep in
    // Users, Computers and Managed Service Accounts is loaded into them; the rest is the DC's own.
    private static readonly string[] WellKnownContainers =
    [
        "CN=Users", "CN=Computers", "OU=Domain Controllers", "CN=ForeignSecurityPrincipals", "CN=Program Data", "CN=Managed Service Accounts",
        "CN=Infrastructure", "CN=LostAndFound", "CN=NTDS Quotas", "CN=TPM Devices", "CN=Keys", "CN=Builtin", "CN=System", "CN=Configuration",
    ];

    private static readonly string[] OperatorContainers = ["CN=Users", "CN=Computers", "CN=Managed Service Accounts"];

    private static readonly HashSet<string> DcOnly = new(StringComparer.OrdinalIgnoreCase)
    {
        "objectGUID", "objectSid", "sIDHistory", "distinguishedName", "name", "whenCreated", "whenChanged", "uSNCreated", "uSNChanged",
        "instanceType", "objectCategory", "sAMAccountType", "memberOf", "primaryGroupID", "pwdLastSet", "badPwdCount", "badPasswordTime",
        "lastLogon", "lastLogoff", "lastLogonTimestamp", "logonCount", "lockoutTime", "codePage", "countryCode", "dSCorePropagationData",
        "isCriticalSystemObject", "nTSecurityDescriptor", "replPropertyMetaData", "showInAdvancedViewOnly", "systemFlags", "objectVersion",
        "unicodePwd", "userPassword", "dBCSPwd", "ntPwdHistory", "lmPwdHistory", "supplementalCredentials", "msDS-KeyVersionNumber",
        "isDeleted", "isRecycled", "lastKnownParent", "wellKnownObjects", "otherWellKnownObjects", "msDS-User-Account-Control-Computed",
        "msDS-UserPasswordExpiryTimeComputed", "msDS-PrincipalName", "tokenGroups", "allowedAttributes", "allowedAttributesEffective",
        "allowedChildClasses", "allowedChildClassesEffective", "canonicalName", "createTimeStamp", "modifyTimeStamp", "structuralObjectClass",
        "subSchemaSubEntry", "entryUUID", "entryDN", "entryCSN", "creatorsName", "modifiersName", "hasSubordinates", "numSubordinates",
        "msDS-ReplAttributeMetaData", "msDS-ReplValueMetaData", "msDS-RevealedUsers", "member", "serverReferenceBL", "managedObjects",
        "directReports", "masteredBy", "msDS-parentdistname", "objectClass", "ou", "cn",
    };

    // What an OpenLDAP person or bind account keeps: attributes AD's schema has for a user, same meaning.
    private static readonly string[] PersonAttributes =
    [
        "sn", "givenName", "initials", "displayName", "mail", "title", "department", "company", "o", "employeeNumber", "employeeType", "employeeID",
        "telephoneNumber", "mobile", "description", "l", "st", "street", "postalCode", "physicalDeliveryOfficeName", "departmentNumber",
    ];

    public static LabAdSeed Build(LabExport export)
    {
        ArgumentNullException.ThrowIfNull(export);
        var suffix = DistinguishedName.Parse(export.Seed.Suffix);
        var labels = suffix.Rdns.Select(r => r.Parts.Count == 1 && string.Equals(r.Parts[0].Type, "dc", StringComparison.OrdinalIgnoreCase) ? r.Parts[0].Value : null).ToList();
        if (labels.Any(l => l is null || !l.All(c => char.IsAsciiLetterOrDigit(c) || c == '-')))
        {
            throw new InputException("lab-ad-suffix", $"the export's top entry \"{export.Seed.Suffix}\" is not a domain name of DC= parts (as DC=example,DC=jp): an AD domain is named by one; export the domain's naming context", export.Path);
        }

        var realm = string.Join('.', labels).ToUpperInvariant();
        var netbios = new string(labels[0]!.ToUpperInvariant().Where(char.IsAsciiLetterOrDigit).Take(15).ToArray());
        var skipped = new SortedDictionary<string, int>(StringComparer.Ordinal);
        void Skip(string why) => skipped[why] = skipped.GetValueOrDefault(why) + 1;

        // First pass: which entries are loaded and under which DN (AD names users and groups by CN).
        var renamed = new Dictionary<string, DistinguishedName>(StringComparer.Ordinal);
        var kinds = new Dictionary<string, Kind>(StringComparer.Ordinal);
        foreach (var (entry, dn) in export.Entries)
        {
            if (dn.Equals(suffix))
            {
                continue;
            }

            if (dn.Parent is { } top && top.Equals(suffix) && WellKnownContainers.Any(c => DistinguishedName.Parse($"{c},{suffix.Original}").Equals(dn)))
            {
                Skip("the DC's own objects (its well-known containers, isCriticalSystemObject), already in the new domain");
                if (OperatorContainers.Any(c => DistinguishedName.Parse($"{c},{suffix.Original}").Equals(dn)))
                {
                    renamed[dn.Normalized] = dn;
                }

                continue;
            }

            var kind = KindOf(entry);
            if (kind == Kind.DcOwn)
            {
                Skip("the DC's own objects (its well-known containers, isCriticalSystemObject), already in the new domain");
                continue;
            }

            if (kind == Kind.Unmapped)
            {
                Skip($"entries of class {string.Join('/', Classes(entry).Where(c => !string.Equals(c, "top", StringComparison.OrdinalIgnoreCase)))}, which the lab does not map to AD");
                continue;
            }

            if (dn.Parent is not { } parent || (!parent.Equals(suffix) && !renamed.ContainsKey(parent.Normalized)))
            {
                Skip("entries whose parent is not loaded (under the DC's own containers, or a parent not mapped)");
                continue;
            }

            var newParent = parent.Equals(suffix) ? suffix : renamed[parent.Normalized];
            var rdn = dn.Rdns[0].Parts[0];
            var name = kind is Kind.MappedPerson or Kind.MappedGroup
                ? $"CN={Escape(rdn.Value)}"
                : $"{rdn.Type}={Escape(rdn.Value)}";
            renamed[dn.Normalized] = DistinguishedName.Parse($"{name},{newParent.Original}");
            kinds[dn.Normalized] = kind;
        }

        var accounts = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var entries = new StringBuilder();
        var memberships = new StringBuilder();
        int loaded = 0, mapped = 0;
        var hasEmployeeId = false;
        foreach (var (entry, dn) in export.Entries)
        {
            if (!kinds.TryGetValue(dn.Normalized, out var kind))
            {
                continue;
            }

            var newDn = renamed[dn.Normalized].Original;
            var attributes = new List<(string Name, byte[] Value)>();
            void Add(string name, string value) => attributes.Add((name, Encoding.UTF8.GetBytes(value)));
            switch (kind)
            {
                case Kind.Ad:
                    foreach (var (name, values) in entry.Attributes.Where(a => !DcOnly.Contains(a.Key) && !a.Key.StartsWith("msDS-", StringComparison.OrdinalIgnoreCase) || a.Key.StartsWith("msDS-cloudExtensionAttribute", StringComparison.OrdinalIgnoreCase)))
                    {
                        attributes.AddRange(values.Select(v => IsDnValued(name) ? (name, Encoding.UTF8.GetBytes(MapDnValue(name, Encoding.UTF8.GetString(v), renamed))) : (name, v)));
                    }

                    attributes.InsertRange(0, Classes(entry).Select(c => ("objectClass", Encoding.UTF8.GetBytes(c))));
                    hasEmployeeId |= entry.Attributes.ContainsKey("employeeID");
                    break;
                case Kind.Unit:
                    Add("objectClass", "organizationalUnit");
                    foreach (var description in Values(entry, "description"))
                    {
                        Add("description", description);
                    }

                    break;
                case Kind.MappedPerson:
                    mapped++;
                    Add("objectClass", "user");
                    Add("sAMAccountName", UniqueAccount(Values(entry, "uid").FirstOrDefault() ?? renamed[dn.Normalized].Rdns[0].Parts[0].Value, accounts));
                    Add("userAccountControl", entry.Attributes.ContainsKey("pwdAccountLockedTime") ? "514" : "512");
                    foreach (var name in PersonAttributes)
                    {
                        attributes.AddRange((entry.Attributes.GetValueOrDefault(name) ?? []).Select(v => (name, v)));
                    }

                    foreach (var manager in Values(entry, "manager"))
                    {
                        Add("manager", MapDnValue("manager", manager, renamed));
                    }
                    break;
                case Kind.MappedGroup:
                    mapped++;
                    Add("objectClass", "group");
                    Add("sAMAccountName", UniqueAccount(Values(entry, "cn").FirstOrDefault() ?? renamed[dn.Normalized].Rdns[0].Parts[0].Value, accounts));
                    foreach (var description in Values(entry, "description"))
                    {
                        Add("description", description);
                    }

                    break;
            }

            if (kind is Kind.Ad && entry.Attributes.ContainsKey("sAMAccountName"))
            {
                accounts.Add(Values(entry, "sAMAccountName").First());
            }

            entries.Append("dn:: ").Append(Base64(newDn)).Append('\n');
            foreach (var (name, value) in attributes.Where(a => a.Value.Length > 0))
            {
                entries.Append(name).Append(":: ").Append(Convert.ToBase64String(value)).Append('\n');
            }

            entries.Append('\n');
            loaded++;

            var members = (entry.Attributes.GetValueOrDefault("member") ?? []).Concat(kind == Kind.MappedGroup ? entry.Attributes.GetValueOrDefault("uniqueMember") ?? [] : [])
                .Select(v => DistinguishedName.TryParse(Encoding.UTF8.GetString(v).Split('#')[0], out var m, out _) && renamed.TryGetValue(m.Normalized, out var target) ? target.Original : null)
                .OfType<string>()
                .Distinct(StringComparer.OrdinalIgnoreCase)
                .ToList();
            if (members.Count > 0)
            {
                memberships.Append("dn:: ").Append(Base64(newDn)).Append("\nchangetype: modify\nadd: member\n");
                foreach (var member in members)
                {
                    memberships.Append("member:: ").Append(Base64(member)).Append('\n');
                }

                memberships.Append("-\n\n");
            }
        }

        return new LabAdSeed(realm, netbios.Length > 0 ? netbios : "LAB", suffix.Original, entries.ToString(), memberships.ToString(), loaded, mapped, skipped, hasEmployeeId);
    }

    private enum Kind
    {
        Ad,
        Unit,
        MappedPerson,
        MappedGroup,
        DcOwn,
        Unmapped,
    }

    private static Kind KindOf(DirectoryEntry entry)
    {
        if (Values(entry, "isCriticalSystemObject").Any(v => string.Equals(v, "TRUE", StringComparison.OrdinalIgnoreCase)))
        {
            return Kind.DcOwn;
        }

        if (AdClasses.Any(c => c != "organizationalUnit" && LabSeedWriter.HasClass(entry, c)))
        {
            return Kind.Ad;
        }

        if (LabSeedWriter.HasClass(entry, "organizationalUnit"))
        {
            return entry.Attributes.ContainsKey("objectGUID") ? Kind.Ad : Kind.Unit;
        }

        if (LabSeedWriter.HasClass(entry, "inetOrgPerson") || LabSeedWriter.HasClass(entry, "account") || LabSeedWriter.HasClass(entry, "simpleSecurityObject") || LabSeedWriter.HasClass(entry, "applicationProcess"))
        {
            return Kind.MappedPerson;
        }

        return LabSeedWriter.HasClass(entry, "groupOfNames") || LabSeedWriter.HasClass(entry, "groupOfUniqueNames") ? Kind.MappedGroup : Kind.Unmapped;
    }

    private static bool IsDnValued(string attribute) =>
        string.Equals(attribute, "manager", StringComparison.OrdinalIgnoreCase) || string.Equals(attribute, "secretary", StringComparison.OrdinalIgnoreCase);

    private static string MapDnValue(string attribute, string value, Dictionary<string, DistinguishedName> renamed)
    {
        if (!string.Equals(attribute, "manager", StringComparison.OrdinalIgnoreCase) && !string.Equals(attribute, "secretary", StringComparison.OrdinalIgnoreCase))
        {
            return value;
        }

        // A manager that is not loaded is left out: the DC refuses a link to an object it does not hold.
        return DistinguishedName.TryParse(value, out var dn, out _) && renamed.TryGetValue(dn.Normalized, out var target) ? target.Original : string.Empty;
    }

    private static string UniqueAccount(string wanted, HashSet<string> taken)
    {
        // sAMAccountName: at most 20 characters, none of "/\[]:;|=,+*?<>@ (the logon name AD accepts).
        var clean = new string(wanted.Where(c => !"\"/\\[]:;|=,+*?<>@".Contains(c, StringComparison.Ordinal) && !char.IsControl(c)).ToArray()).Trim().TrimEnd('.');
        clean = clean.Length == 0 ? "account" : clean;
        var name = clean.Length > 20 ? clean[..20] : clean;
        for (var i = 2; !taken.Add(name); i++)
        {
            var tail = i.ToString(CultureInfo.InvariantCulture);
            name = (clean.Length > 20 - tail.Length ? clean[..(20 - tail.Length)] : clean) + tail;
        }

        return name;
    }

    // Samba's DN parser wants '=' inside a value escaped too (RFC 4514 allows it bare).
    private static string Escape(string value) => DistinguishedName.EscapeValue(value).Replace("=", "\\=", StringComparison.Ordinal);

    private static IEnumerable<string> Classes(DirectoryEntry entry) => Values(entry, "objectClass");

    private static IEnumerable<string> Values(DirectoryEntry entry, string name) =>
        (entry.Attributes.GetValueOrDefault(name) ?? []).Select(v => Encoding.UTF8.GetString(v));

    private static string Base64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));
}
