using System.Text;
using AuthSplit.Core.Directory;

namespace AuthSplit.Core.Model;

/// <summary>
/// One entry of the legacy directory exactly as it was read: its DN and every attribute with its raw
/// values. Values are kept as bytes because that is what both a live read and an LDIF file carry
/// (binary attributes such as <c>objectGUID</c> have no text form), so a plan made from either is the same.
/// </summary>
public sealed class DirectoryEntry
{
    private static readonly IReadOnlyList<byte[]> NoValues = [];

    public DirectoryEntry(string dn, IReadOnlyDictionary<string, IReadOnlyList<byte[]>> attributes)
    {
        ArgumentNullException.ThrowIfNull(dn);
        ArgumentNullException.ThrowIfNull(attributes);
        Dn = dn;
        Attributes = attributes is Dictionary<string, IReadOnlyList<byte[]>> { Comparer: var comparer } dictionary
            && ReferenceEquals(comparer, StringComparer.OrdinalIgnoreCase)
            ? dictionary
            : new Dictionary<string, IReadOnlyList<byte[]>>(attributes, StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>An entry whose DN its reader has already parsed (the LDIF reader checks DNs for duplicates), so it is not parsed twice.</summary>
    public DirectoryEntry(DistinguishedName dn, IReadOnlyDictionary<string, IReadOnlyList<byte[]>> attributes)
        : this(dn?.Original!, attributes)
    {
        ParsedDn = dn;
    }

    /// <summary>The DN as the directory returned it (not normalised).</summary>
    public string Dn { get; }

    /// <summary><see cref="Dn"/> parsed, when the reader parsed it already; null otherwise.</summary>
    public DistinguishedName? ParsedDn { get; }

    /// <summary>Attribute name (case-insensitive) to values, in the order the directory returned them.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<byte[]>> Attributes { get; }

    public IReadOnlyList<byte[]> GetValues(string attribute) =>
        Attributes.TryGetValue(attribute, out var values) ? values : NoValues;

    public bool Has(string attribute) => GetValues(attribute).Count > 0;

    /// <summary>The values as UTF-8 text (LDAP strings are UTF-8 on the wire and in LDIF).</summary>
    public IEnumerable<string> GetStrings(string attribute) =>
        GetValues(attribute).Select(v => Encoding.UTF8.GetString(v));

    public string? GetString(string attribute)
    {
        var values = GetValues(attribute);
        return values.Count == 0 ? null : Encoding.UTF8.GetString(values[0]);
    }

    public static DirectoryEntry FromStrings(string dn, IEnumerable<KeyValuePair<string, string[]>> attributes)
    {
        var map = new Dictionary<string, IReadOnlyList<byte[]>>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, values) in attributes)
        {
            map[name] = values.Select(v => Encoding.UTF8.GetBytes(v)).ToArray();
        }

        return new DirectoryEntry(dn, map);
    }
}
