using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;

namespace AuthSplit.Core.Directory;

/// <summary>The RFC 4514 parser behind <see cref="DistinguishedName"/>; errors name the offset.</summary>
internal sealed class DnParser(string text)
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
    private int _position;

    public bool TryParse([NotNullWhen(true)] out List<RelativeDistinguishedName>? rdns, [NotNullWhen(false)] out string? error)
    {
        rdns = [];
        error = null;
        SkipSpaces();
        if (_position == text.Length)
        {
            return true;
        }

        var parts = new List<AttributeTypeAndValue>();
        while (true)
        {
            if (!TryParseAttributeTypeAndValue(out var part, out error))
            {
                rdns = null;
                return false;
            }

            parts.Add(part);
            SkipSpaces();
            if (_position == text.Length)
            {
                rdns.Add(new RelativeDistinguishedName(parts));
                return true;
            }

            var separator = text[_position++];
            if (separator == '+')
            {
                SkipSpaces();
                continue;
            }

            if (separator is ',' or ';')
            {
                rdns.Add(new RelativeDistinguishedName(parts));
                parts = [];
                SkipSpaces();
                if (_position == text.Length)
                {
                    error = $"empty RDN after '{separator}' at offset {_position - 1}";
                    rdns = null;
                    return false;
                }

                continue;
            }

            error = $"unexpected '{separator}' at offset {_position - 1} (expected ',' or '+')";
            rdns = null;
            return false;
        }
    }

    private bool TryParseAttributeTypeAndValue(out AttributeTypeAndValue part, [NotNullWhen(false)] out string? error)
    {
        part = default;
        var start = _position;
        while (_position < text.Length && (char.IsAsciiLetterOrDigit(text[_position]) || text[_position] is '-' or '.'))
        {
            _position++;
        }

        var type = text[start.._position];
        if (type.Length == 0 || !(char.IsAsciiLetter(type[0]) || (char.IsAsciiDigit(type[0]) && IsNumericOid(type))))
        {
            error = _position < text.Length
                ? $"expected an attribute type at offset {start}, found '{text[start]}'"
                : $"expected an attribute type at offset {start}, found the end";
            return false;
        }

        SkipSpaces();
        if (_position >= text.Length || text[_position] != '=')
        {
            error = $"expected '=' after attribute type '{type}' at offset {_position}";
            return false;
        }

        _position++;
        SkipSpaces();
        string? value;
        if (_position < text.Length && text[_position] == '#')
        {
            if (!TryParseHexString(out value, out error))
            {
                return false;
            }
        }
        else if (_position < text.Length && text[_position] == '"')
        {
            if (!TryParseQuoted(out value, out error))
            {
                return false;
            }
        }
        else if (!TryParseString(out value, out error))
        {
            return false;
        }

        part = new AttributeTypeAndValue(type, value);
        return true;
    }

    private bool TryParseString([NotNullWhen(true)] out string? value, [NotNullWhen(false)] out string? error)
    {
        // Most values hold no escapes: take them as they stand (trailing unescaped spaces dropped).
        var end = text.AsSpan(_position).IndexOfAny(",+;\\");
        var stop = end < 0 ? text.Length : _position + end;
        if (stop == text.Length || text[stop] != '\\')
        {
            value = text[_position..stop].TrimEnd(' ');
            _position = stop;
            error = null;
            return true;
        }

        var bytes = new List<byte>();
        var significantLength = 0;
        Span<byte> utf8 = stackalloc byte[4];
        while (_position < text.Length)
        {
            var c = text[_position];
            if (c is ',' or '+' or ';')
            {
                break;
            }

            if (c == '\\')
            {
                if (!TryParseEscape(bytes, out error))
                {
                    value = null;
                    return false;
                }

                significantLength = bytes.Count;
                continue;
            }

            var length = char.IsHighSurrogate(c) && _position + 1 < text.Length
                ? Encoding.UTF8.GetBytes(text.AsSpan(_position, 2), utf8)
                : Encoding.UTF8.GetBytes(text.AsSpan(_position, 1), utf8);
            _position += char.IsHighSurrogate(c) && _position + 1 < text.Length ? 2 : 1;
            for (var i = 0; i < length; i++)
            {
                bytes.Add(utf8[i]);
            }

            if (c != ' ')
            {
                significantLength = bytes.Count;
            }
        }

        // Unescaped trailing spaces are not part of the value (RFC 4514 section 3).
        bytes.RemoveRange(significantLength, bytes.Count - significantLength);
        return TryDecode(bytes, out value, out error);
    }

    private bool TryParseEscape(List<byte> bytes, [NotNullWhen(false)] out string? error)
    {
        var at = _position;
        _position++;
        if (_position >= text.Length)
        {
            error = $"unexpected end after '\\' at offset {at}";
            return false;
        }

        var c = text[_position];
        if (char.IsAsciiHexDigit(c))
        {
            if (_position + 1 >= text.Length || !char.IsAsciiHexDigit(text[_position + 1]))
            {
                error = $"'\\{c}' at offset {at} is neither an escaped special character nor a hex pair";
                return false;
            }

            bytes.Add(byte.Parse(text.AsSpan(_position, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture));
            _position += 2;
            error = null;
            return true;
        }

        if (c is ' ' or '"' or '#' or '+' or ',' or ';' or '<' or '=' or '>' or '\\')
        {
            bytes.Add((byte)c);
            _position++;
            error = null;
            return true;
        }

        error = $"'\\{c}' at offset {at} is not a valid escape (escape one of , + \" \\ < > ; # = space, or write a hex pair)";
        return false;
    }

    private bool TryParseQuoted([NotNullWhen(true)] out string? value, [NotNullWhen(false)] out string? error)
    {
        var start = _position++;
        var bytes = new List<byte>();
        while (_position < text.Length && text[_position] != '"')
        {
            if (text[_position] == '\\')
            {
                if (!TryParseEscape(bytes, out error))
                {
                    value = null;
                    return false;
                }

                continue;
            }

            bytes.AddRange(Encoding.UTF8.GetBytes(text[_position].ToString()));
            _position++;
        }

        if (_position >= text.Length)
        {
            error = $"unterminated quoted value starting at offset {start}";
            value = null;
            return false;
        }

        _position++;
        return TryDecode(bytes, out value, out error);
    }

    private bool TryParseHexString([NotNullWhen(true)] out string? value, [NotNullWhen(false)] out string? error)
    {
        var start = _position++;
        var hexStart = _position;
        while (_position < text.Length && char.IsAsciiHexDigit(text[_position]))
        {
            _position++;
        }

        var hex = text[hexStart.._position];
        if (hex.Length == 0 || hex.Length % 2 != 0)
        {
            error = $"'#' at offset {start} must be followed by an even number of hex digits (a BER-encoded value)";
            value = null;
            return false;
        }

        var bytes = Convert.FromHexString(hex);
        value = BerString.TryDecode(bytes) ?? "#" + hex.ToLowerInvariant();
        error = null;
        return true;
    }

    private bool TryDecode(List<byte> bytes, [NotNullWhen(true)] out string? value, [NotNullWhen(false)] out string? error)
    {
        try
        {
            value = StrictUtf8.GetString(bytes.ToArray());
            error = null;
            return true;
        }
        catch (DecoderFallbackException)
        {
            value = null;
            error = $"the value ending at offset {_position} is not valid UTF-8 once unescaped";
            return false;
        }
    }

    private void SkipSpaces()
    {
        while (_position < text.Length && text[_position] == ' ')
        {
            _position++;
        }
    }

    private static bool IsNumericOid(string type) =>
        type.Split('.').All(part => part.Length > 0 && part.All(char.IsAsciiDigit));
}

/// <summary>Decodes the string types a DN's <c>#hexstring</c> value may carry.</summary>
internal static class BerString
{
    public static string? TryDecode(byte[] ber)
    {
        if (ber.Length < 2)
        {
            return null;
        }

        var tag = ber[0];
        int length;
        int offset;
        if (ber[1] < 0x80)
        {
            length = ber[1];
            offset = 2;
        }
        else
        {
            var count = ber[1] & 0x7F;
            if (count is 0 or > 3 || ber.Length < 2 + count)
            {
                return null;
            }

            length = 0;
            for (var i = 0; i < count; i++)
            {
                length = (length << 8) | ber[2 + i];
            }

            offset = 2 + count;
        }

        if (offset + length != ber.Length)
        {
            return null;
        }

        try
        {
            return tag switch
            {
                0x04 or 0x0C => new UTF8Encoding(false, true).GetString(ber, offset, length),
                0x13 or 0x16 => Encoding.ASCII.GetString(ber, offset, length),
                _ => null,
            };
        }
        catch (DecoderFallbackException)
        {
            return null;
        }
    }
}
