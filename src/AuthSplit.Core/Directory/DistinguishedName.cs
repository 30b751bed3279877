using System.Diagnostics.CodeAnalysis;

namespace AuthSplit.Core.Directory;

/// <summary>
/// A distinguished name parsed per RFC 4514. Two DNs are equal when their <see cref="Normalized"/> forms
/// are: attribute types lower-cased, values unescaped, compared as case-insensitive strings with
/// insignificant spaces removed (RFC 4518), multi-valued RDNs sorted. That is how both OpenLDAP
/// (caseIgnoreMatch on cn/ou/dc/uid) and Active Directory compare the names we deal with.
/// </summary>
public sealed class DistinguishedName : IEquatable<DistinguishedName>
{
    private DistinguishedName(string original, IReadOnlyList<RelativeDistinguishedName> rdns, string normalized)
    {
        Original = original;
        Rdns = rdns;
        Normalized = normalized;
    }

    /// <summary>The text as given.</summary>
    public string Original { get; }

    /// <summary>RDNs from the leaf (index 0) to the root.</summary>
    public IReadOnlyList<RelativeDistinguishedName> Rdns { get; }

    /// <summary>Canonical text used for equality, ordering and hashing.</summary>
    public string Normalized { get; }

    public static DistinguishedName Root { get; } = new(string.Empty, [], string.Empty);

    /// <summary>Parses <paramref name="dn"/>; throws <see cref="FormatException"/> naming the offset of the fault.</summary>
    public static DistinguishedName Parse(string dn) =>
        TryParse(dn, out var result, out var error) ? result : throw new FormatException(error);

    public static bool TryParse(string dn, [NotNullWhen(true)] out DistinguishedName? result, [NotNullWhen(false)] out string? error) =>
        throw new NotImplementedException("TODO(helper: core-directory)");

    /// <summary>True when this DN equals <paramref name="baseDn"/> or is below it.</summary>
    public bool IsWithin(DistinguishedName baseDn) => throw new NotImplementedException("TODO(helper: core-directory)");

    /// <summary>The DN one level up, or null at the root.</summary>
    public DistinguishedName? Parent => throw new NotImplementedException("TODO(helper: core-directory)");

    /// <summary>Escapes an attribute value for use inside a DN (RFC 4514 section 2.4).</summary>
    public static string EscapeValue(string value) => throw new NotImplementedException("TODO(helper: core-directory)");

    public bool Equals(DistinguishedName? other) => other is not null && string.Equals(Normalized, other.Normalized, StringComparison.Ordinal);

    public override bool Equals(object? obj) => Equals(obj as DistinguishedName);

    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(Normalized);

    public override string ToString() => Original;
}

/// <summary>One RDN: one or more type=value pairs joined by '+'.</summary>
public sealed record RelativeDistinguishedName(IReadOnlyList<AttributeTypeAndValue> Parts);

/// <summary>A type and its unescaped value as text.</summary>
public readonly record struct AttributeTypeAndValue(string Type, string Value);
