using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace AuthSplit.Core.Directory;

/// <summary>
/// A distinguished name parsed per RFC 4514 (with RFC 2253's tolerance for spaces around separators,
/// <c>;</c> between RDNs and quoted values, which Active Directory tools still write). Two DNs are
/// equal when their <see cref="Normalized"/> forms are: attribute types lower-cased, values unescaped,
/// prepared per RFC 4518 (case-insensitive, insignificant spaces removed), multi-valued RDNs sorted,
/// then re-escaped. That is how OpenLDAP (caseIgnoreMatch on cn/ou/dc/uid) and AD compare names.
/// </summary>
public sealed class DistinguishedName : IEquatable<DistinguishedName>
{
    // What EscapeValue escapes wherever it stands in a value.
    private static readonly SearchValues<char> Escaped = SearchValues.Create("\"+,;<>\\\0");

    private readonly string[] _normalizedRdns;

    private DistinguishedName(string original, IReadOnlyList<RelativeDistinguishedName> rdns)
    {
        Original = original;
        Rdns = rdns;
        _normalizedRdns = [.. rdns.Select(NormalizeRdn)];
        Normalized = string.Join(',', _normalizedRdns);
    }

    /// <summary>The text as given.</summary>
    public string Original { get; }

    /// <summary>RDNs from the leaf (index 0) to the root.</summary>
    public IReadOnlyList<RelativeDistinguishedName> Rdns { get; }

    /// <summary>Canonical text used for equality, ordering and hashing.</summary>
    public string Normalized { get; }

    public static DistinguishedName Root { get; } = new(string.Empty, []);

    /// <summary>Parses <paramref name="dn"/>; throws <see cref="FormatException"/> naming the offset of the fault.</summary>
    public static DistinguishedName Parse(string dn) =>
        TryParse(dn, out var result, out var error) ? result : throw new FormatException(error);

    public static bool TryParse(string dn, [NotNullWhen(true)] out DistinguishedName? result, [NotNullWhen(false)] out string? error)
    {
        ArgumentNullException.ThrowIfNull(dn);
        var parser = new DnParser(dn);
        if (parser.TryParse(out var rdns, out error))
        {
            result = rdns.Count == 0 ? Root : new DistinguishedName(dn, rdns);
            return true;
        }

        result = null;
        return false;
    }

    /// <summary>The normalised form of a DN string (throws <see cref="FormatException"/> if it is not one).</summary>
    public static string Normalize(string dn) => Parse(dn).Normalized;

    /// <summary>
    /// The normal form of a DN given as UTF-8 without parsing it, when it is a simple DN (single-valued
    /// RDNs of letters, digits, '-', '.', '_', '@': how AD and OpenLDAP write almost every DN), whose
    /// normal form is its text in lower case; false for any other DN, which must be parsed.
    /// </summary>
    public static bool TryNormalizeSimple(byte[] value, out string normalized)
    {
        ArgumentNullException.ThrowIfNull(value);
        return ValueMatcher.TryLowerSimpleDn(value, out normalized);
    }

    /// <summary>True when this DN equals <paramref name="baseDn"/> or is below it.</summary>
    public bool IsWithin(DistinguishedName baseDn)
    {
        ArgumentNullException.ThrowIfNull(baseDn);
        var offset = _normalizedRdns.Length - baseDn._normalizedRdns.Length;
        if (offset < 0)
        {
            return false;
        }

        for (var i = 0; i < baseDn._normalizedRdns.Length; i++)
        {
            if (!string.Equals(_normalizedRdns[offset + i], baseDn._normalizedRdns[i], StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The DN one level up, or null at the root.</summary>
    public DistinguishedName? Parent => Rdns.Count == 0 ? null
        : Rdns.Count == 1 ? Root
        : new DistinguishedName(string.Join(',', Rdns.Skip(1).Select(Render)), [.. Rdns.Skip(1)]);

    /// <summary>Escapes an attribute value for use inside a DN (RFC 4514 section 2.4).</summary>
    public static string EscapeValue(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (!value.AsSpan().ContainsAny(Escaped) && (value.Length == 0 || (value[0] is not ('#' or ' ') && value[^1] != ' ')))
        {
            // Nothing to escape (as in nearly every value): the value as it is.
            return value;
        }

        var builder = new StringBuilder(value.Length + 8);
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            switch (c)
            {
                case '"' or '+' or ',' or ';' or '<' or '>' or '\\':
                    builder.Append('\\').Append(c);
                    break;
                case '\0':
                    builder.Append("\\00");
                    break;
                case '#' when i == 0:
                    builder.Append("\\#");
                    break;
                case ' ' when i == 0 || i == value.Length - 1:
                    builder.Append("\\ ");
                    break;
                default:
                    builder.Append(c);
                    break;
            }
        }

        return builder.ToString();
    }

    /// <summary>Renders an RDN with canonical escaping (types and values as parsed).</summary>
    public static string Render(RelativeDistinguishedName rdn) =>
        string.Join('+', rdn.Parts.Select(p => p.Type + "=" + EscapeValue(p.Value)));

    public bool Equals(DistinguishedName? other) => other is not null && string.Equals(Normalized, other.Normalized, StringComparison.Ordinal);

    public override bool Equals(object? obj) => Equals(obj as DistinguishedName);

    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(Normalized);

    public override string ToString() => Original;

    private static string NormalizeRdn(RelativeDistinguishedName rdn)
    {
        if (rdn.Parts.Count == 1)
        {
            // One type=value, as nearly every RDN: nothing to order.
            var part = rdn.Parts[0];
            return string.Concat(part.Type.ToLowerInvariant(), "=", EscapeValue(Rfc4518.Prepare(part.Value, ignoreCase: true)));
        }

        return NormalizeMultiValuedRdn(rdn);
    }

    private static string NormalizeMultiValuedRdn(RelativeDistinguishedName rdn) => string.Join('+', rdn.Parts
        .Select(p => (Type: p.Type.ToLowerInvariant(), Value: EscapeValue(Rfc4518.Prepare(p.Value, ignoreCase: true))))
        .OrderBy(p => p.Type, StringComparer.Ordinal)
        .ThenBy(p => p.Value, StringComparer.Ordinal)
        .Select(p => p.Type + "=" + p.Value));
}

/// <summary>One RDN: one or more type=value pairs joined by '+'.</summary>
public sealed record RelativeDistinguishedName(IReadOnlyList<AttributeTypeAndValue> Parts);

/// <summary>A type and its unescaped value as text.</summary>
public readonly record struct AttributeTypeAndValue(string Type, string Value);
