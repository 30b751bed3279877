using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace AuthSplit.Lab.Data;

/// <summary>
/// The synthetic group company <c>authsplit demo</c> separates: a headquarters (<c>ou=hq</c>), domestic and
/// overseas subsidiaries (<c>ou=domestic</c>, <c>ou=overseas</c>) whose people share one directory with the
/// former partner, the partner's own staff both in its <c>ou=partner</c> and seconded into the company's
/// units (<c>employeeType=partner</c>), each unit's administrators, a break-glass account, service accounts
/// under <c>ou=system</c> (one legacy bind account per system, plus infrastructure accounts), groups whose
/// members carry <c>memberOf</c>, a dozen systems with their target applications, and the company's Entra ID
/// tenant as Graph JSON pages. Some people are the cases a real plan blocks on: leavers with no cloud
/// account, and people whose employee number two cloud accounts carry. Same size and seed, same bytes.
/// </summary>
public sealed class DemoCompany
{
    public const string Suffix = "dc=example,dc=jp";
    public const string Domain = "example.jp";
    public const string SystemOu = "ou=system," + Suffix;
    /// <summary>The systems' legacy bind accounts: not protected (each is disabled after its system's cutover), in no wave.</summary>
    public const string ServicesOu = "ou=services," + Suffix;
    public static readonly string[] Waves = ["hq", "domestic", "overseas"];

    private static readonly string[] FamilyNames = ["sato", "suzuki", "takahashi", "tanaka", "watanabe", "ito", "yamamoto", "nakamura", "kobayashi", "kato", "yoshida", "yamada", "sasaki", "yamaguchi", "matsumoto", "inoue", "kimura", "hayashi", "shimizu", "saito"];
    private static readonly string[] GivenNames = ["haruto", "yuto", "sota", "yui", "hina", "aoi", "ren", "mio", "riko", "daiki", "akira", "mari", "kenji", "naoko", "takumi", "sakura", "kaito", "emi", "sho", "yuna"];
    private static readonly string[] OverseasFamilyNames = ["kim", "lee", "park", "choi", "smith", "johnson", "nguyen", "tran", "chen", "wong", "somchai", "garcia"];
    private static readonly string[] OverseasGivenNames = ["minjun", "seoyeon", "james", "olivia", "anh", "linh", "wei", "mei", "niran", "ploy", "lucas", "sofia"];
    private static readonly string[] Countries = ["Korea", "United States", "Thailand", "Vietnam", "Taiwan"];
    private static readonly string[] InfrastructureAccounts = ["backup-agent", "monitoring", "ldap-replicator"];
    private static readonly string[] Departments = ["sales", "engineering", "finance", "hr", "support", "legal"];

    private DemoCompany(int size, int seed, IReadOnlyList<DemoPerson> people, IReadOnlyList<DemoServiceAccount> serviceAccounts, IReadOnlyList<DemoSystem> systems, IReadOnlyList<DemoGroup> groups)
    {
        Size = size;
        Seed = seed;
        People = people;
        ServiceAccounts = serviceAccounts;
        Systems = systems;
        Groups = groups;
    }

    public int Size { get; }

    public int Seed { get; }

    /// <summary>Everyone with a person's entry: employees, partner staff, administrators and the break-glass account.</summary>
    public IReadOnlyList<DemoPerson> People { get; }

    /// <summary>Every account under <c>ou=system</c>: the systems' bind accounts and the infrastructure's own.</summary>
    public IReadOnlyList<DemoServiceAccount> ServiceAccounts { get; }

    public IReadOnlyList<DemoSystem> Systems { get; }

    public IReadOnlyList<DemoGroup> Groups { get; }

    /// <summary>Employees with no account in the tenant: they left; HR confirms it (a <c>remove</c> decision).</summary>
    public IEnumerable<DemoPerson> Leavers => People.Where(p => p.Role == DemoRole.Leaver);

    /// <summary>Employees whose employee number two cloud accounts carry: the enabled one is theirs (<c>use-target</c>).</summary>
    public IEnumerable<DemoPerson> Duplicated => People.Where(p => p.Role == DemoRole.Duplicated);

    /// <summary>
    /// A company of about <paramref name="size"/> people (at least 60): roughly a quarter at headquarters, a
    /// third in domestic subsidiaries, a fifth overseas, the rest the partner's staff, plus each unit's
    /// administrators and one break-glass account.
    /// </summary>
    public static DemoCompany Create(int size, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 60);
        var random = new Random(seed);
        var people = new List<DemoPerson>(size + 8);
        var taken = new HashSet<string>(StringComparer.Ordinal);
        var partnerStaff = size / 5;
        var seconded = partnerStaff / 3;
        var employees = size - partnerStaff - 7;
        int[] perUnit = [employees * 30 / 100, employees * 42 / 100, 0];
        perUnit[2] = employees - perUnit[0] - perUnit[1];

        string Uid(bool overseas)
        {
            while (true)
            {
                var family = overseas ? OverseasFamilyNames[random.Next(OverseasFamilyNames.Length)] : FamilyNames[random.Next(FamilyNames.Length)];
                var given = overseas ? OverseasGivenNames[random.Next(OverseasGivenNames.Length)] : GivenNames[random.Next(GivenNames.Length)];
                var uid = $"{given}.{family}";
                for (var n = 2; !taken.Add(uid); n++)
                {
                    uid = $"{given}.{family}{n}";
                }

                return uid;
            }
        }

        var number = 10000;
        for (var u = 0; u < Waves.Length; u++)
        {
            var unit = Waves[u];
            var overseas = unit == "overseas";
            for (var i = 0; i < perUnit[u]; i++)
            {
                var uid = Uid(overseas);
                var department = Departments[random.Next(Departments.Length)];
                var country = overseas ? Countries[random.Next(Countries.Length)] : "Japan";
                people.Add(new DemoPerson(uid, unit, department, country, $"E{number++:D6}", DemoRole.Employee, Uuid(seed, "person", uid)));
            }

            people.Add(new DemoPerson($"admin.{unit}", unit, "it", overseas ? "Korea" : "Japan", $"A{u + 1:D6}", DemoRole.Administrator, Uuid(seed, "admin", unit)));
        }

        people.Add(new DemoPerson("breakglass", "hq", "it", "Japan", "B000001", DemoRole.BreakGlass, Uuid(seed, "breakglass", "hq")));
        people.Add(new DemoPerson("admin.partner", "partner", "it", "Japan", "PA000001", DemoRole.Administrator, Uuid(seed, "admin", "partner")));

        // The partner's own staff: most in its own unit, a third seconded into the company's units.
        for (var i = 0; i < partnerStaff; i++)
        {
            var unit = i < seconded ? Waves[i % Waves.Length] : "partner";
            var uid = Uid(false);
            people.Add(new DemoPerson(uid, unit, Departments[random.Next(Departments.Length)], "Japan", $"P{i:D6}", DemoRole.PartnerStaff, Uuid(seed, "partner", uid)));
        }

        // The cases a plan blocks on, picked among the employees: two leavers and two duplicated per wave.
        for (var u = 0; u < Waves.Length; u++)
        {
            var candidates = people.Select((p, index) => (p, index)).Where(x => x.p.Unit == Waves[u] && x.p.Role == DemoRole.Employee).Select(x => x.index).ToList();
            for (var k = 0; k < 4 && candidates.Count > 0; k++)
            {
                var pick = candidates[random.Next(candidates.Count)];
                candidates.Remove(pick);
                people[pick] = people[pick] with { Role = k < 2 ? DemoRole.Leaver : DemoRole.Duplicated };
            }
        }

        var systems = CreateSystems(seed);
        var accounts = systems.Select(s => new DemoServiceAccount($"{s.Id}-bind", s.Id, Uuid(seed, "bind", s.Id)))
            .Concat(InfrastructureAccounts.Select(name => new DemoServiceAccount(name, null, Uuid(seed, "service", name))))
            .ToList();
        var groups = CreateGroups(people, seed);
        return new DemoCompany(size, seed, people, accounts, systems, groups);
    }

    private static List<DemoSystem> CreateSystems(int seed)
    {
        (string Id, string Name, string Wave)[] systems =
        [
            ("intranet", "Intranet portal", "hq"), ("expenses", "Expense claims", "hq"), ("crm", "CRM", "hq"), ("wiki", "Wiki", "hq"),
            ("payroll", "Payroll", "domestic"), ("attendance", "Time and attendance", "domestic"), ("helpdesk", "Helpdesk", "domestic"), ("vpn", "VPN gateway", "domestic"),
            ("mail-relay", "Mail relay", "overseas"), ("erp", "ERP", "overseas"), ("file-share", "File share", "overseas"), ("legacy-bi", "Legacy BI reports", "overseas"),
        ];

        // legacy-bi's application in the tenant is still disabled: the plan blocks it until someone decides.
        return [.. systems.Select(s => new DemoSystem(s.Id, s.Name, s.Wave, Uuid(seed, "app", s.Id), Uuid(seed, "sp", s.Id), AppEnabled: s.Id != "legacy-bi"))];
    }

    private static List<DemoGroup> CreateGroups(List<DemoPerson> people, int seed)
    {
        var groups = new List<DemoGroup>();
        foreach (var unit in Waves)
        {
            var admin = people.Single(p => p.Unit == unit && p.Role == DemoRole.Administrator);
            foreach (var department in Departments)
            {
                // The unit's administrator is in every group of the unit (protected, never removed), so no
                // wave leaves a groupOfNames without a member; seconded partner staff belong where they work.
                var members = people.Where(p => p.Unit == unit && (p.Department == department || p == admin) && p.Role != DemoRole.BreakGlass).ToList();
                groups.Add(new DemoGroup($"{unit}-{department}", unit, [.. members.Select(m => m.Dn)], Uuid(seed, "group", $"{unit}-{department}")));
            }
        }

        var administrators = people.Where(p => p.Role is DemoRole.Administrator or DemoRole.BreakGlass).ToList();
        groups.Add(new DemoGroup("directory-admins", "system", [.. administrators.Select(a => a.Dn)], Uuid(seed, "group", "directory-admins")));
        return groups;
    }

    /// <summary>Writes the legacy directory as <c>ldapsearch</c> would export it (operational <c>entryUUID</c> included).</summary>
    public async Task WriteLdifAsync(string path, CancellationToken cancellationToken)
    {
        var memberOf = Groups.SelectMany(g => g.Members.Select(m => (Member: m, Group: g.Dn))).ToLookup(x => x.Member, x => x.Group, StringComparer.Ordinal);
        await using var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20, FileOptions.Asynchronous);
        await using var writer = new StreamWriter(stream, new UTF8Encoding(false), 1 << 20) { NewLine = "\n" };
        var builder = new StringBuilder(1 << 16);
        builder.Append("version: 1\n\n");
        builder.Append(CultureInfo.InvariantCulture, $"dn: {Suffix}\nobjectClass: top\nobjectClass: dcObject\nobjectClass: organization\ndc: example\no: Example Group Holdings\nentryUUID: {Uuid(Seed, "suffix", "")}\n\n");
        foreach (var unit in Waves.Concat(["partner", "system"]))
        {
            builder.Append(CultureInfo.InvariantCulture, $"dn: ou={unit},{Suffix}\nobjectClass: top\nobjectClass: organizationalUnit\nou: {unit}\nentryUUID: {Uuid(Seed, "unit", unit)}\n\n");
        }

        builder.Append(CultureInfo.InvariantCulture, $"dn: {ServicesOu}\nobjectClass: top\nobjectClass: organizationalUnit\nou: services\nentryUUID: {Uuid(Seed, "unit", "services")}\n\n");
        foreach (var account in ServiceAccounts)
        {
            builder.Append(CultureInfo.InvariantCulture, $"dn: {account.Dn}\nobjectClass: top\nobjectClass: account\nobjectClass: simpleSecurityObject\nuid: {account.Uid}\n");
            builder.Append(CultureInfo.InvariantCulture, $"description: {(account.SystemId is null ? "infrastructure service account" : "legacy bind account of system " + account.SystemId)}\n");
            builder.Append(CultureInfo.InvariantCulture, $"userPassword: {account.Password(Seed)}\nentryUUID: {account.EntryUuid}\n\n");
        }

        await writer.WriteAsync(builder, cancellationToken);
        foreach (var person in People)
        {
            cancellationToken.ThrowIfCancellationRequested();
            builder.Clear();
            builder.Append(CultureInfo.InvariantCulture, $"dn: {person.Dn}\nobjectClass: top\nobjectClass: person\nobjectClass: organizationalPerson\nobjectClass: inetOrgPerson\n");
            var (given, family) = person.Names;
            builder.Append(CultureInfo.InvariantCulture, $"cn: {Capital(given)} {Capital(family)}\nsn: {Capital(family)}\ngivenName: {Capital(given)}\nuid: {person.Uid}\nmail: {person.Mail}\n");
            builder.Append(CultureInfo.InvariantCulture, $"employeeNumber: {person.EmployeeNumber}\nemployeeType: {person.EmployeeType}\nou: {person.Department}\nl: {person.Country}\n");
            foreach (var group in memberOf[person.Dn])
            {
                builder.Append(CultureInfo.InvariantCulture, $"memberOf: {group}\n");
            }

            builder.Append(CultureInfo.InvariantCulture, $"entryUUID: {person.EntryUuid}\n\n");
            await writer.WriteAsync(builder, cancellationToken);
        }

        foreach (var group in Groups)
        {
            builder.Clear();
            builder.Append(CultureInfo.InvariantCulture, $"dn: {group.Dn}\nobjectClass: top\nobjectClass: groupOfNames\ncn: {group.Name}\n");
            foreach (var member in group.Members)
            {
                builder.Append(CultureInfo.InvariantCulture, $"member: {member}\n");
            }

            builder.Append(CultureInfo.InvariantCulture, $"entryUUID: {group.EntryUuid}\n\n");
            await writer.WriteAsync(builder, cancellationToken);
        }
    }

    /// <summary>
    /// Writes the company's tenant: <c>users-NNNN.json</c> pages (every employee, administrator and the
    /// break-glass account synchronised from the legacy directory, none of the partner's staff nor the leavers,
    /// a second account for each duplicated employee, a few cloud-only accounts) and
    /// <c>inventory/applications.json</c> and <c>inventory/servicePrincipals.json</c> for the systems.
    /// </summary>
    public async Task WriteTargetAsync(string directory, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(directory);
        var users = new List<JsonObject>();
        foreach (var person in People.Where(p => p.Role is not (DemoRole.PartnerStaff or DemoRole.Leaver) && p.Unit != "partner"))
        {
            users.Add(User(Uuid(Seed, "target", person.Uid), person.Mail, person.Mail, person.EmployeeNumber, synchronised: true, enabled: true));
            if (person.Role == DemoRole.Duplicated)
            {
                // An old account created by hand years ago, disabled since, with the same employee number.
                users.Add(User(DuplicateTargetId(person), $"{person.Uid}.old@{Domain}", null, person.EmployeeNumber, synchronised: false, enabled: false));
            }
        }

        for (var i = 0; i < 5; i++)
        {
            users.Add(User(Uuid(Seed, "cloud", i.ToString(CultureInfo.InvariantCulture)), $"cloud{i}@{Domain}", $"cloud{i}@{Domain}", null, synchronised: false, enabled: true));
        }

        const int PageSize = 999;
        var pages = Math.Max(1, (users.Count + PageSize - 1) / PageSize);
        for (var page = 0; page < pages; page++)
        {
            var body = new JsonObject
            {
                ["@odata.context"] = "https://graph.microsoft.com/v1.0/$metadata#users",
                ["value"] = new JsonArray([.. users.Skip(page * PageSize).Take(PageSize).Select(u => (JsonNode)u.DeepClone())]),
            };
            if (page + 1 < pages)
            {
                body["@odata.nextLink"] = $"https://graph.microsoft.com/v1.0/users?$top={PageSize}&$skiptoken=page{page + 2}";
            }

            await File.WriteAllTextAsync(Path.Combine(directory, $"users-{page + 1:D4}.json"), body.ToJsonString(), cancellationToken);
        }

        var inventory = Directory.CreateDirectory(Path.Combine(directory, "inventory")).FullName;
        var applications = new JsonArray([.. Systems.Select(s => (JsonNode)new JsonObject { ["id"] = Uuid(Seed, "application", s.Id), ["appId"] = s.AppId, ["displayName"] = s.Name })]);
        var principals = new JsonArray([.. Systems.Select(s => (JsonNode)new JsonObject
        {
            ["id"] = s.ServicePrincipalId, ["appId"] = s.AppId, ["displayName"] = s.Name, ["accountEnabled"] = s.AppEnabled, ["servicePrincipalType"] = "Application",
        })]);
        await File.WriteAllTextAsync(Path.Combine(inventory, "applications.json"), new JsonObject { ["value"] = applications }.ToJsonString(), cancellationToken);
        await File.WriteAllTextAsync(Path.Combine(inventory, "servicePrincipals.json"), new JsonObject { ["value"] = principals }.ToJsonString(), cancellationToken);
    }

    /// <summary>The enabled, synchronised account that is the duplicated person's own.</summary>
    public string TargetId(DemoPerson person) => Uuid(Seed, "target", person.Uid);

    public string DuplicateTargetId(DemoPerson person) => Uuid(Seed, "duplicate", person.Uid);

    private static JsonObject User(string id, string upn, string? mail, string? employeeId, bool synchronised, bool enabled) => new()
    {
        ["id"] = id,
        ["userPrincipalName"] = upn,
        ["mail"] = mail,
        ["employeeId"] = employeeId,
        ["onPremisesImmutableId"] = null,
        ["accountEnabled"] = enabled,
        ["onPremisesSyncEnabled"] = synchronised ? true : null,
    };

    private static string Capital(string name) => name.Length == 0 ? name : char.ToUpperInvariant(name[0]) + name[1..].TrimEnd('0', '1', '2', '3', '4', '5', '6', '7', '8', '9');

    internal static string Uuid(int seed, string kind, string key)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"demo:{seed}:{kind}:{key}")));
        hash[6] = (byte)((hash[6] & 0x0F) | 0x50);
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80);
        return new Guid(hash.AsSpan(0, 16), bigEndian: true).ToString("D");
    }
}

public enum DemoRole
{
    Employee,
    Leaver,
    Duplicated,
    Administrator,
    BreakGlass,
    PartnerStaff,
}

/// <summary>A person's entry in the legacy directory.</summary>
public sealed record DemoPerson(string Uid, string Unit, string Department, string Country, string EmployeeNumber, DemoRole Role, string EntryUuid)
{
    public string Dn => $"uid={Uid},ou={Unit},{DemoCompany.Suffix}";

    public string Mail => $"{Uid}@{(Role == DemoRole.PartnerStaff ? "partner." : "")}{DemoCompany.Domain}";

    /// <summary>What the directory says the person is: the protection filter of the demo's config reads it.</summary>
    public string EmployeeType => Role switch
    {
        DemoRole.PartnerStaff => "partner",
        DemoRole.Administrator => "administrator",
        DemoRole.BreakGlass => "break-glass",
        _ => "employee",
    };

    public (string Given, string Family) Names => Uid.Split('.') is [var given, var family] ? (given, family) : (Uid, Uid);
}

/// <summary>A system's legacy bind account (under <c>ou=services</c>), or the infrastructure's own (under the protected <c>ou=system</c>).</summary>
public sealed record DemoServiceAccount(string Uid, string? SystemId, string EntryUuid)
{
    public string Dn => $"uid={Uid},{(SystemId is null ? DemoCompany.SystemOu : DemoCompany.ServicesOu)}";

    /// <summary>A lab password derived from the seed (a rehearsal's, never a real one): the systems' bind probes use it.</summary>
    public string Password(int seed) => "Lab-" + DemoCompany.Uuid(seed, "password", Uid)[..18];
}

/// <summary>A system (relying party) still binding to the legacy directory, and its application in the tenant.</summary>
public sealed record DemoSystem(string Id, string Name, string Wave, string AppId, string ServicePrincipalId, bool AppEnabled)
{
    public string BindDn => $"uid={Id}-bind,{DemoCompany.ServicesOu}";
}

/// <summary>A <c>groupOfNames</c> of a unit (or of the administrators, under <c>ou=system</c>).</summary>
public sealed record DemoGroup(string Name, string Unit, IReadOnlyList<string> Members, string EntryUuid)
{
    public string Dn => $"cn={Name},ou={Unit},{DemoCompany.Suffix}";
}
