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
