using System.Text;
using AuthSplit.Core.Directory;
using AuthSplit.Core.Errors;
using AuthSplit.Core.Model;
using AuthSplit.Ldap.Ldif;

namespace AuthSplit.Cli.Rehearsal;

/// <summary>A top-level organisational unit of the export and how many people it holds (a wave candidate).</summary>
public sealed record LabUnit(string Name, string Dn, int People);

/// <summary>What the lab learnt from the export: its suffix, its top-level units, its size.</summary>
public sealed record LabSeed(string Suffix, IReadOnlyList<LabUnit> Units, int Entries);

/// <summary>An export read and checked, its entries parents first: what a lab's directory is seeded from.</summary>
public sealed record LabExport(string Path, IReadOnlyList<(DirectoryEntry Entry, DistinguishedName Dn)> Entries, LabSeed Seed);

/// <summary>
/// Turns an LDIF export into what slapadd loads. The export is read by the planner's own
/// <see cref="LdifReader"/>, so a file the planner would refuse (cut short, ldapsearch's trailer
/// disagreeing, a bad line) is refused here with the same message, file and line; a byte order mark,
/// ldapsearch's comments and <c>search:</c>/<c>result:</c> blocks are understood. The copy written for
/// slapadd has parents before children, no attributes slapd computes itself (hasSubordinates, entryDN,
/// subschemaSubentry), and the <c>memberOf</c> values ldapsearch leaves out by default (slapadd runs no
/// overlay, and the planner reads group membership from them).
/// </summary>
public static class LabSeedWriter
{
    private static readonly string[] Computed = ["hasSubordinates", "entryDN", "subschemaSubentry", "numSubordinates"];

    /// <summary>Reads and checks the export, then writes slapadd's copy of it to <paramref name="seedPath"/>.</summary>
    public static async Task<LabSeed> WriteAsync(string ldifPath, string seedPath, CancellationToken cancellationToken) =>
        await WriteAsync(await ReadAsync(ldifPath, cancellationToken), seedPath, cancellationToken);

    /// <summary>
    /// Reads the whole export and checks it (one subtree, at least one entry) without writing anything:
    /// <c>lab start</c> refuses a bad export before it creates a single folder.
    /// </summary>
    public static async Task<LabExport> ReadAsync(string ldifPath, CancellationToken cancellationToken)
    {
        var entries = new List<(DirectoryEntry Entry, DistinguishedName Dn)>();
        try
        {
            await using var stream = new FileStream(ldifPath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous);
            await foreach (var entry in LdifReader.ReadAsync(stream, ldifPath, cancellationToken))
            {
                entries.Add((entry, entry.ParsedDn ?? DistinguishedName.Parse(entry.Dn)));
            }
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException)
        {
            throw new InputException("lab-ldif", $"cannot read the LDIF export: {ex.Message}", ldifPath);
        }

        if (entries.Count == 0)
        {
            throw new InputException("lab-ldif", "the LDIF export holds no entries", ldifPath);
        }

        var suffix = entries.MinBy(e => e.Dn.Rdns.Count).Dn;
        if (entries.FirstOrDefault(e => !e.Dn.IsWithin(suffix)) is { Entry: not null } outside)
        {
            throw new InputException("lab-ldif", $"entry \"{outside.Entry.Dn}\" is not under \"{suffix}\", the export's top entry: the lab loads one subtree", ldifPath);
        }

        var ordered = entries.OrderBy(e => e.Dn.Rdns.Count).ToList();
        var units = ordered
            .Where(e => e.Dn.Parent is { } parent && parent.Equals(suffix) && HasClass(e.Entry, "organizationalUnit"))
            .Select(u => new LabUnit(
                u.Dn.Rdns[0].Parts[0].Value,
                u.Entry.Dn,
                entries.Count(e => e.Dn.IsWithin(u.Dn) && IsPerson(e.Entry))))
            .ToList();
        return new LabExport(ldifPath, ordered, new LabSeed(suffix.Original, units, entries.Count));
    }

    /// <summary>Writes slapadd's copy of a read export: parents first, no computed attributes, memberOf filled in.</summary>
    public static async Task<LabSeed> WriteAsync(LabExport export, string seedPath, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(export);
        var memberOf = MemberOfByPerson(export.Entries);
        await using (var output = new FileStream(seedPath, Output.UnixFile.OwnerOnlyOptions(FileMode.CreateNew, FileAccess.Write, options: FileOptions.Asynchronous)))
        await using (var writer = new LdifWriter(output, wrapColumn: 0))
        {
            foreach (var (entry, dn) in export.Entries)
            {
                await writer.WriteAsync(ForSlapadd(entry, memberOf.GetValueOrDefault(dn.Normalized)), cancellationToken);
            }

            await writer.CompleteAsync(cancellationToken);
        }

        return export.Seed;
    }

    /// <summary>A person of either shape: inetOrgPerson (OpenLDAP) or AD's user that is not a computer.</summary>
    internal static bool IsPerson(DirectoryEntry entry) =>
        HasClass(entry, "inetOrgPerson") || (HasClass(entry, "user") && !HasClass(entry, "computer"));

    private static Dictionary<string, List<byte[]>> MemberOfByPerson(IReadOnlyList<(DirectoryEntry Entry, DistinguishedName Dn)> entries)
    {
        var result = new Dictionary<string, List<byte[]>>(StringComparer.Ordinal);
        foreach (var (group, _) in entries.Where(e => HasClass(e.Entry, "groupOfNames")))
        {
            foreach (var member in group.Attributes.GetValueOrDefault("member") ?? [])
            {
                if (DistinguishedName.TryParse(Encoding.UTF8.GetString(member), out var memberDn, out _))
                {
                    if (!result.TryGetValue(memberDn.Normalized, out var groups))
                    {
                        result[memberDn.Normalized] = groups = [];
                    }

                    groups.Add(Encoding.UTF8.GetBytes(group.Dn));
                }
            }
        }

        return result;
    }

    private static DirectoryEntry ForSlapadd(DirectoryEntry entry, List<byte[]>? groups)
    {
        var attributes = new Dictionary<string, IReadOnlyList<byte[]>>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, values) in entry.Attributes)
        {
            if (!Computed.Contains(name, StringComparer.OrdinalIgnoreCase))
            {
                attributes[name] = values;
            }
        }

        if (groups is not null)
        {
            var present = (attributes.GetValueOrDefault("memberOf") ?? []).Select(v => DistinguishedName.TryParse(Encoding.UTF8.GetString(v), out var d, out _) ? d.Normalized : null).ToHashSet(StringComparer.Ordinal);
            var added = groups.Where(g => !present.Contains(DistinguishedName.Parse(Encoding.UTF8.GetString(g)).Normalized)).ToList();
            if (added.Count > 0)
            {
                attributes["memberOf"] = [.. attributes.GetValueOrDefault("memberOf") ?? [], .. added];
            }
        }

        return new DirectoryEntry(entry.Dn, attributes);
    }

    internal static bool HasClass(DirectoryEntry entry, string objectClass) =>
        (entry.Attributes.GetValueOrDefault("objectClass") ?? []).Any(v => string.Equals(Encoding.UTF8.GetString(v), objectClass, StringComparison.OrdinalIgnoreCase));
}
