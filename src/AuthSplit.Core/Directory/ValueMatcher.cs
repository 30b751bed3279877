using System.Globalization;
using System.Text;

namespace AuthSplit.Core.Directory;

/// <summary>
/// Compares entry values with one assertion value under the attribute's matching rule. The assertion
/// is prepared once; the common case (an ASCII value without spaces against an ASCII assertion) is
/// compared byte by byte without allocating, because the planner evaluates several filters per entry.
/// </summary>
internal sealed class ValueMatcher
{
    /// <summary>Returned by <see cref="Compare"/> when the values have no order (binary, unparsable integers).</summary>
    public const int Incomparable = int.MinValue;

    private readonly AttributeComparison _syntax;
    private readonly byte[] _raw;
    private readonly string _prepared;
    private readonly byte[]? _asciiPrepared;
    private readonly string? _normalizedDn;
    private readonly byte[]? _simpleDn;
    private readonly long? _integer;

    public ValueMatcher(string attribute, byte[] assertion)
    {
        _syntax = AttributeSyntax.For(attribute);
        _raw = assertion;
        var text = Encoding.UTF8.GetString(assertion);
        var ignoreCase = _syntax != AttributeComparison.CaseExactString;
        _prepared = Rfc4518.Prepare(text, ignoreCase);
        _asciiPrepared = ignoreCase && _prepared.All(c => c is > ' ' and < (char)0x7F) ? Encoding.ASCII.GetBytes(_prepared) : null;
        if (_syntax == AttributeComparison.DistinguishedName && DistinguishedName.TryParse(text, out var dn, out _))
        {
            _normalizedDn = dn.Normalized;
            _simpleDn = IsSimpleDn(Encoding.UTF8.GetBytes(_normalizedDn)) ? Encoding.ASCII.GetBytes(_normalizedDn) : null;
        }

        if (_syntax == AttributeComparison.IntegerValue && TryParseInteger(assertion, out var integer))
        {
            _integer = integer;
        }
    }

    public bool EqualsValue(byte[] value)
    {
        switch (_syntax)
        {
            case AttributeComparison.Binary:
                return value.AsSpan().SequenceEqual(_raw);
            case AttributeComparison.IntegerValue:
                return _integer is { } expected && TryParseInteger(value, out var actual) && actual == expected;
            case AttributeComparison.DistinguishedName when _normalizedDn is not null:
                if (IsSimpleDn(value))
                {
                    // A simple DN's normal form is itself in lower case: decided without parsing.
                    return _simpleDn is not null && EqualsAsciiIgnoreCase(value, _simpleDn);
                }

                var text = Encoding.UTF8.GetString(value);
                return DistinguishedName.TryParse(text, out var dn, out _)
                    ? string.Equals(dn.Normalized, _normalizedDn, StringComparison.Ordinal)
                    : string.Equals(Rfc4518.Prepare(text, ignoreCase: true), _prepared, StringComparison.Ordinal);
            case AttributeComparison.CaseExactString:
                return string.Equals(Rfc4518.Prepare(Encoding.UTF8.GetString(value), ignoreCase: false), _prepared, StringComparison.Ordinal);
            default:
                if (_asciiPrepared is not null && IsPlainAscii(value))
                {
                    return EqualsAsciiIgnoreCase(value, _asciiPrepared);
                }

                return string.Equals(Rfc4518.Prepare(Encoding.UTF8.GetString(value), ignoreCase: true), _prepared, StringComparison.Ordinal);
        }
    }

    /// <summary>The order of <paramref name="value"/> relative to the assertion, or <see cref="Incomparable"/>.</summary>
    public int Compare(byte[] value)
    {
        switch (_syntax)
        {
            case AttributeComparison.Binary:
                return Incomparable;
            case AttributeComparison.IntegerValue:
                return _integer is { } expected && TryParseInteger(value, out var actual) ? actual.CompareTo(expected) : Incomparable;
            default:
                var ignoreCase = _syntax != AttributeComparison.CaseExactString;
                return Math.Sign(string.CompareOrdinal(Rfc4518.Prepare(Encoding.UTF8.GetString(value), ignoreCase), _prepared));
        }
    }

    public static bool TryParseInteger(byte[] value, out long result) =>
        long.TryParse(Encoding.UTF8.GetString(value).Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out result);

    /// <summary>The normal form of <paramref name="value"/> without parsing it, when it is a simple DN.</summary>
    internal static bool TryLowerSimpleDn(byte[] value, out string normalized)
    {
        if (!IsSimpleDn(value))
        {
            normalized = string.Empty;
            return false;
        }

        normalized = string.Create(value.Length, value, static (chars, bytes) =>
        {
            for (var i = 0; i < bytes.Length; i++)
            {
                var b = bytes[i];
                chars[i] = (char)(b is >= (byte)'A' and <= (byte)'Z' ? b + 32 : b);
            }
        });
        return true;
    }

    /// <summary>
    /// True for a DN of single-valued RDNs <c>type=value</c> (type: a letter, then letters, digits, '-';
    /// value: letters, digits, '-', '.', '_' and '@', not empty), the way AD and OpenLDAP write almost every
    /// DN. Its <see cref="DistinguishedName.Normalized"/> form is the text in lower case, so such values
    /// compare byte by byte.
    /// </summary>
    internal static bool IsSimpleDn(ReadOnlySpan<byte> value)
    {
        var inType = true;
        var typeLength = 0;
        var valueLength = 0;
        foreach (var b in value)
        {
            if (inType)
            {
                if (b == '=' && typeLength > 0)
                {
                    inType = false;
                    valueLength = 0;
                }
                else if ((b is (>= (byte)'a' and <= (byte)'z') or (>= (byte)'A' and <= (byte)'Z')) || (typeLength > 0 && (b == '-' || b is >= (byte)'0' and <= (byte)'9')))
                {
                    typeLength++;
                }
                else
                {
                    return false;
                }
            }
            else if (b == ',' && valueLength > 0)
            {
                inType = true;
                typeLength = 0;
            }
            else if (b is (>= (byte)'a' and <= (byte)'z') or (>= (byte)'A' and <= (byte)'Z') or (>= (byte)'0' and <= (byte)'9') or (byte)'-' or (byte)'.' or (byte)'_' or (byte)'@')
            {
                valueLength++;
            }
            else
            {
                return false;
            }
        }

        return !inType && valueLength > 0;
    }

    private static bool IsPlainAscii(byte[] value)
    {
        foreach (var b in value)
        {
            if (b is <= (byte)' ' or >= 0x7F)
            {
                return false;
            }
        }

        return value.Length > 0;
    }

    private static bool EqualsAsciiIgnoreCase(byte[] value, byte[] preparedLower)
    {
        if (value.Length != preparedLower.Length)
        {
            return false;
        }

        for (var i = 0; i < value.Length; i++)
        {
            var b = value[i];
            if (b is >= (byte)'A' and <= (byte)'Z')
            {
                b = (byte)(b + 32);
            }

            if (b != preparedLower[i])
            {
                return false;
            }
        }

        return true;
    }
}
