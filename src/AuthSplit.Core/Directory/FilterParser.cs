using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;

namespace AuthSplit.Core.Directory;

/// <summary>The RFC 4515 parser behind <see cref="LdapFilter"/>; errors name the offset.</summary>
internal sealed class FilterParser(string text, FilterContext? context = null)
{
    private int _position;
    private int _depth;

    public bool TryParse([NotNullWhen(true)] out LdapFilter? filter, [NotNullWhen(false)] out string? error)
    {
        filter = null;
        if (text.Length > LdapFilter.MaxLength)
        {
            error = $"the filter is {text.Length} characters long; at most {LdapFilter.MaxLength} are accepted";
            return false;
        }

        var trimmed = text.Trim();
        if (trimmed.Length == 0)
        {
            error = "the filter is empty";
            return false;
        }

        // ldapsearch accepts a bare item such as uid=x; so do we.
        if (trimmed[0] != '(')
        {
            return new FilterParser("(" + trimmed + ")", context).TryParse(out filter, out error);
        }

        _position = text.IndexOf('(', StringComparison.Ordinal);
        try
        {
            filter = ParseFilter();
            SkipSpaces();
            if (_position != text.Length)
            {
                throw Fail($"unexpected '{text[_position]}' after the end of the filter");
            }

            error = null;
            return true;
        }
        catch (FilterSyntaxException ex)
        {
            error = ex.Message;
            filter = null;
            return false;
        }
    }

    private LdapFilter ParseFilter()
    {
        Expect('(');
        if (++_depth > LdapFilter.MaxDepth)
        {
            throw Fail($"the filter nests deeper than {LdapFilter.MaxDepth} levels");
        }

        if (_position >= text.Length)
        {
            throw Fail("unexpected end of the filter");
        }

        LdapFilter result;
        switch (text[_position])
        {
            case '&':
                _position++;
                var and = ParseList();
                result = and.Count == 0 ? new AbsoluteFilter(true) : new AndFilter(and);
                break;
            case '|':
                _position++;
                var or = ParseList();
                result = or.Count == 0 ? new AbsoluteFilter(false) : new OrFilter(or);
                break;
            case '!':
                _position++;
                result = new NotFilter(ParseFilter());
                break;
            default:
                result = ParseItem();
                break;
        }

        Expect(')');
        _depth--;
        return result;
    }

    private List<LdapFilter> ParseList()
    {
        var list = new List<LdapFilter>();
        while (_position < text.Length && text[_position] == '(')
        {
            list.Add(ParseFilter());
        }

        return list;
    }

    private LdapFilter ParseItem()
    {
        var start = _position;
        while (_position < text.Length && (char.IsAsciiLetterOrDigit(text[_position]) || text[_position] is '-' or '.' or ';' or '_'))
        {
            _position++;
        }

        var attribute = text[start.._position];
        if (_position >= text.Length)
        {
            throw Fail("unexpected end of the filter inside an item");
        }

        if (text[_position] == ':')
        {
            return ParseExtensible(attribute, start);
        }

        if (attribute.Length == 0 || !char.IsAsciiLetterOrDigit(attribute[0]))
        {
            throw Fail($"expected an attribute name at offset {start}", start);
        }

        var op = text[_position];
        Comparison? comparison = op switch
        {
            '=' => Comparison.Equal,
            '>' => Comparison.GreaterOrEqual,
            '<' => Comparison.LessOrEqual,
            '~' => Comparison.Approximate,
            _ => null,
        };
        if (comparison is null)
        {
            throw Fail($"expected '=', '>=', '<=', '~=' or ':' after attribute '{attribute}', found '{op}'");
        }

        _position++;
        if (comparison != Comparison.Equal)
        {
            Expect('=');
        }

        if (comparison == Comparison.Equal)
        {
            var pieces = ParseValuePieces();
            if (pieces.Count == 1)
            {
                return new CompareFilter(attribute, Comparison.Equal, pieces[0], ObjectCategoryDn(attribute, pieces[0]));
            }

            if (pieces.Count == 2 && pieces[0].Length == 0 && pieces[1].Length == 0)
            {
                return new PresentFilter(attribute);
            }

            var any = pieces.Skip(1).Take(pieces.Count - 2).ToArray();
            if (any.Any(p => p.Length == 0))
            {
                throw Fail($"'**' in the value of '{attribute}': an empty substring between two '*' is not allowed");
            }

            return new SubstringFilter(attribute, pieces[0].Length == 0 ? null : pieces[0], any, pieces[^1].Length == 0 ? null : pieces[^1]);
        }

        var valueStart = _position;
        var value = ParseValuePieces();
        if (value.Count != 1)
        {
            throw Fail($"'*' is not allowed in a {op}= value (offset {valueStart})", valueStart);
        }

        return new CompareFilter(attribute, comparison.Value, value[0]);
    }

    // AD evaluates objectCategory=<name> as objectCategory=<the defaultObjectCategory of the class so
    // named>; a value that is already a DN stays as written, and so does a name no class has.
    private byte[]? ObjectCategoryDn(string attribute, byte[] value)
    {
        if (context?.ObjectCategories is not { } categories
            || !string.Equals(AttributeSyntax.BaseName(attribute), "objectCategory", StringComparison.OrdinalIgnoreCase)
            || value.Contains((byte)'='))
        {
            return null;
        }

        return categories.TryResolve(Encoding.UTF8.GetString(value).Trim(), out var dn) ? Encoding.UTF8.GetBytes(dn) : null;
    }

    private LdapFilter ParseExtensible(string attribute, int start)
    {
        _position++;
        var ruleStart = _position;
        while (_position < text.Length && (char.IsAsciiLetterOrDigit(text[_position]) || text[_position] == '.'))
        {
            _position++;
        }

        var rule = text[ruleStart.._position];
        if (attribute.Length == 0 || rule.Equals("dn", StringComparison.OrdinalIgnoreCase))
        {
            throw Fail($"extensible match at offset {start} ({text[start..Math.Min(text.Length, _position + 2)]}) cannot be evaluated offline by the planner: only attr:{BitwiseFilter.BitAnd}:=, attr:{BitwiseFilter.BitOr}:= and attr:{InChainFilter.Rule}:= can", start);
        }

        if (rule != BitwiseFilter.BitAnd && rule != BitwiseFilter.BitOr && rule != InChainFilter.Rule)
        {
            throw Fail($"matching rule {rule} at offset {ruleStart} cannot be evaluated offline by the planner; supported: {BitwiseFilter.BitAnd} (bit AND), {BitwiseFilter.BitOr} (bit OR) and {InChainFilter.Rule} (in chain)", ruleStart);
        }

        Expect(':');
        Expect('=');
        var pieces = ParseValuePieces();
        if (rule == InChainFilter.Rule)
        {
            if (pieces.Count != 1 || !DistinguishedName.TryParse(Encoding.UTF8.GetString(pieces[0]), out var target, out _) || target.Rdns.Count == 0)
            {
                throw Fail($"the value of an in-chain match on '{attribute}' must be a DN");
            }

            return new InChainFilter(attribute, pieces[0], target.Normalized, context?.Chains?.Closure(attribute, target.Normalized));
        }

        if (pieces.Count != 1 || !ValueMatcher.TryParseInteger(pieces[0], out var mask))
        {
            throw Fail($"the value of a bit-wise match on '{attribute}' must be an integer");
        }

        return new BitwiseFilter(attribute, rule, mask);
    }

    // The value up to the closing parenthesis, split at unescaped '*', each piece unescaped to bytes.
    private List<byte[]> ParseValuePieces()
    {
        var pieces = new List<byte[]>();
        var current = new List<byte>();
        Span<byte> utf8 = stackalloc byte[4];
        while (_position < text.Length && text[_position] != ')')
        {
            var c = text[_position];
            if (c == '(')
            {
                throw Fail("unescaped '(' in a value (write \\28)");
            }

            if (c == '*')
            {
                pieces.Add([.. current]);
                current.Clear();
                _position++;
                continue;
            }

            if (c == '\\')
            {
                if (_position + 2 >= text.Length || !char.IsAsciiHexDigit(text[_position + 1]) || !char.IsAsciiHexDigit(text[_position + 2]))
                {
                    throw Fail("'\\' in a value must be followed by two hex digits (e.g. \\2a for '*')");
                }

                current.Add(byte.Parse(text.AsSpan(_position + 1, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture));
                _position += 3;
                continue;
            }

            var width = char.IsHighSurrogate(c) && _position + 1 < text.Length ? 2 : 1;
            var count = Encoding.UTF8.GetBytes(text.AsSpan(_position, width), utf8);
            for (var i = 0; i < count; i++)
            {
                current.Add(utf8[i]);
            }

            _position += width;
        }

        pieces.Add([.. current]);
        return pieces;
    }

    private void Expect(char expected)
    {
        if (_position >= text.Length)
        {
            throw Fail($"expected '{expected}' but the filter ended");
        }

        if (text[_position] != expected)
        {
            throw Fail($"expected '{expected}', found '{text[_position]}'");
        }

        _position++;
    }

    private void SkipSpaces()
    {
        while (_position < text.Length && char.IsWhiteSpace(text[_position]))
        {
            _position++;
        }
    }

    private FilterSyntaxException Fail(string message, int? at = null) =>
        new(message.Contains("offset", StringComparison.Ordinal) ? message : $"{message} at offset {at ?? _position}");

    private sealed class FilterSyntaxException(string message) : Exception(message);
}
