using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace AuthSplit.Lab.Data;

/// <summary>
/// Writes a deterministic organisation of any size, for tests, benchmarks and rehearsals: people spread
/// over <c>ou=hq</c>, <c>ou=domestic</c>, <c>ou=overseas</c> and the partner's <c>ou=partner</c>, groups
/// whose members carry <c>memberOf</c> (slapadd runs no overlay), a few hostile DNs, and the matching
/// Entra ID users as Graph JSON pages. Same arguments, same bytes. Streams: 100k people in well under
/// a second.
/// </summary>
public static class GeneratedOrganization
{
    public const string Suffix = "dc=example,dc=jp";
    public static readonly string[] Units = ["hq", "domestic", "overseas", "partner"];

    /// <summary>The people's DNs and ids, for assertions.</summary>
    public sealed record Person(string Dn, string EntryUuid, string Uid, string Unit, string EmployeeNumber);

    public static IReadOnlyList<Person> People(int count)
    {
        var people = new List<Person>(count + HostileNames.Length);
        for (var i = 0; i < count; i++)
        {
            var unit = Units[i % Units.Length];
            var uid = $"user{i:D6}";
            people.Add(new Person($"uid={uid},ou={unit},{Suffix}", Uuid("person", i), uid, unit, $"E{i:D6}"));
        }

        for (var i = 0; i < HostileNames.Length; i++)
        {
            people.Add(new Person($"cn={EscapeDnValue(HostileNames[i])},ou=hq,{Suffix}", Uuid("hostile", i), $"hostile{i}", "hq", $"H{i:D3}"));
        }

        return people;
    }

    // RFC 4514 escaping written here rather than taken from the core: the lab's data must not be produced
    // by the code it is used to test (a wrong escape in the core would then confirm itself).
    private static string EscapeDnValue(string value)
    {
        var builder = new StringBuilder(value.Length + 8);
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            _ = c switch
            {
                '"' or '+' or ',' or ';' or '<' or '>' or '\\' => builder.Append('\\').Append(c),
                '\0' => builder.Append("\\00"),
                '#' when i == 0 => builder.Append("\\#"),
                ' ' when i == 0 || i == value.Length - 1 => builder.Append("\\ "),
                _ => builder.Append(c),
            };
        }

        return builder.ToString();
    }

    /// <summary>Values that break naive DN and filter handling.</summary>
    public static readonly string[] HostileNames =
    [
        "Smith, John", "a+b", "quote\"d", "back\\slash", "<angle>", "semi;colon", "#leading hash", " leading space", "trailing space ",
        "山田 太郎", "*)(uid=*", "equals=sign",
    ];

    /// <summary>Writes the legacy directory as LDIF (suffix entry, units, people, groups).</summary>
    public static async Task WriteLdifAsync(string path, int people, int groupSize, CancellationToken cancellationToken)
    {
        var list = People(people);
        await using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20, FileOptions.Asynchronous);
        await using var writer = new StreamWriter(stream, new UTF8Encoding(false), 1 << 20) { NewLine = "\n" };
        await writer.WriteAsync($"version: 1\n\ndn: {Suffix}\nobjectClass: dcObject\nobjectClass: organization\ndc: example\no: Example Group\nentryUUID: {Uuid("suffix", 0)}\n\n");
        foreach (var unit in Units)
        {
            await writer.WriteAsync($"dn: ou={unit},{Suffix}\nobjectClass: organizationalUnit\nou: {unit}\nentryUUID: {Uuid("unit", Array.IndexOf(Units, unit))}\n\n");
        }

        var groups = groupSize > 0 ? (people + groupSize - 1) / groupSize : 0;
        var builder = new StringBuilder(1024);
        for (var i = 0; i < list.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var person = list[i];
            builder.Clear();
            Line(builder, "dn", person.Dn);
            builder.Append("objectClass: top\nobjectClass: person\nobjectClass: organizationalPerson\nobjectClass: inetOrgPerson\n");
            var cn = i < people ? $"User {i:D6}" : HostileNames[i - people];
            Line(builder, "cn", cn);
            Line(builder, "sn", i < people ? $"Surname{i % 997}" : "Hostile");
            Line(builder, "uid", person.Uid);
            Line(builder, "mail", $"{person.Uid}@example.jp");
            Line(builder, "employeeNumber", person.EmployeeNumber);
            Line(builder, "employeeType", person.Unit == "partner" ? "partner" : "employee");
            if (person.Unit == "overseas")
            {
                Line(builder, "l", (i % 3) switch { 0 => "United States", 1 => "Korea", _ => "Thailand" });
            }

            if (groupSize > 0 && i < people)
            {
                Line(builder, "memberOf", GroupDn(person.Unit, i / groupSize));
            }

            Line(builder, "entryUUID", person.EntryUuid);
            builder.Append('\n');
            await writer.WriteAsync(builder, cancellationToken);
        }

        for (var g = 0; g < groups; g++)
        {
            builder.Clear();
            var members = Enumerable.Range(g * groupSize, Math.Min(groupSize, people - (g * groupSize))).ToArray();
            foreach (var unit in members.Select(m => list[m].Unit).Distinct())
            {
                builder.Clear();
                Line(builder, "dn", GroupDn(unit, g));
                builder.Append("objectClass: top\nobjectClass: groupOfNames\n");
                Line(builder, "cn", $"group-{unit}-{g:D5}");
                foreach (var member in members.Where(m => list[m].Unit == unit))
                {
                    Line(builder, "member", list[member].Dn);
                }

                Line(builder, "entryUUID", Uuid("group-" + unit, g));
                builder.Append('\n');
                await writer.WriteAsync(builder, cancellationToken);
            }
        }
    }

    /// <summary>
    /// Writes the target tenant's users as Graph pages of <paramref name="pageSize"/>: every employee
    /// (not the partner's people) with employeeId = employeeNumber, synchronised from the legacy directory
    /// (<c>onPremisesSyncEnabled</c> true, as Graph shows a user a sync engine provisioned), plus
    /// <paramref name="cloudOnly"/> users that exist only in the cloud (<c>onPremisesSyncEnabled</c> null, as
    /// Graph shows a user created in the tenant).
    /// </summary>
    public static async Task WriteTargetSnapshotAsync(string directory, int people, int pageSize, int cloudOnly, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(directory);
        var users = People(people)
            .Select((p, index) => (Person: p, Index: index))
            .Where(p => p.Person.Unit != "partner")
            .Select(p => new TargetRecord(Uuid("target", p.Index), p.Person.Uid + "@example.jp", p.Person.Uid + "@example.jp", p.Person.EmployeeNumber, Synchronised: true))
            .Concat(Enumerable.Range(0, cloudOnly).Select(i => new TargetRecord(Uuid("cloud", i), $"cloud{i}@example.jp", $"cloud{i}@example.jp", null, Synchronised: false)))
            .ToArray();
        var pages = (users.Length + pageSize - 1) / pageSize;
        for (var page = 0; page < pages; page++)
        {
            var path = Path.Combine(directory, $"users-{page + 1:D4}.json");
            await using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20, FileOptions.Asynchronous);
            await using var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = false });
            json.WriteStartObject();
            json.WriteString("@odata.context", "https://graph.microsoft.com/v1.0/$metadata#users(id,userPrincipalName,mail,employeeId,onPremisesImmutableId,accountEnabled,onPremisesSyncEnabled)");
            json.WriteStartArray("value");
            foreach (var user in users.Skip(page * pageSize).Take(pageSize))
            {
                json.WriteStartObject();
                json.WriteString("id", user.Id);
                json.WriteString("userPrincipalName", user.UserPrincipalName);
                json.WriteString("mail", user.Mail);
                if (user.EmployeeId is null)
                {
                    json.WriteNull("employeeId");
                }
                else
                {
                    json.WriteString("employeeId", user.EmployeeId);
                }

                json.WriteNull("onPremisesImmutableId");
                json.WriteBoolean("accountEnabled", true);
                if (user.Synchronised)
                {
                    json.WriteBoolean("onPremisesSyncEnabled", true);
                }
                else
                {
                    json.WriteNull("onPremisesSyncEnabled");
                }
                json.WriteEndObject();
            }

            json.WriteEndArray();
            if (page + 1 < pages)
            {
                json.WriteString("@odata.nextLink", $"https://graph.microsoft.com/v1.0/users?$top={pageSize}&$skiptoken=page{page + 2}");
            }

            json.WriteEndObject();
            await json.FlushAsync(cancellationToken);
        }
    }

    private sealed record TargetRecord(string Id, string UserPrincipalName, string Mail, string? EmployeeId, bool Synchronised);

    private static string GroupDn(string unit, int group) => $"cn=group-{unit}-{group:D5},ou={unit},{Suffix}";

    private static string Uuid(string kind, int index)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{kind}:{index}")));
        hash[6] = (byte)((hash[6] & 0x0F) | 0x50);
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80);
        return new Guid(hash.AsSpan(0, 16), bigEndian: true).ToString("D");
    }

    private static void Line(StringBuilder builder, string name, string value)
    {
        var safe = value.Length == 0 || (value[0] is not (' ' or ':' or '<') && value[^1] != ' ' && value.All(c => c is > '\0' and < (char)0x80 and not '\n' and not '\r'));
        if (safe)
        {
            builder.Append(name).Append(": ").Append(value).Append('\n');
        }
        else
        {
            builder.Append(name).Append(":: ").Append(Convert.ToBase64String(Encoding.UTF8.GetBytes(value))).Append('\n');
        }
    }
}
