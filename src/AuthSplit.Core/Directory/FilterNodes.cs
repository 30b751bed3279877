using System.Text;
using AuthSplit.Core.Model;

namespace AuthSplit.Core.Directory;

/// <summary>An <c>&amp;</c> or <c>|</c> of child filters; they differ only in how children combine.</summary>
internal abstract class CompositeFilter(IReadOnlyList<LdapFilter> children, char operation) : LdapFilter
{
    public IReadOnlyList<LdapFilter> Children { get; } = children;

    internal override void Render(StringBuilder builder)
    {
        builder.Append('(').Append(operation);
        foreach (var child in Children)
        {
            child.Render(builder);
        }

        builder.Append(')');
    }

    internal override void CollectAttributes(HashSet<string> names)
    {
        foreach (var child in Children)
        {
            child.CollectAttributes(names);
        }
    }

    internal override void CollectChains(List<InChainFilter> chains)
    {
        foreach (var child in Children)
        {
            child.CollectChains(chains);
        }
    }
}

internal sealed class AndFilter(IReadOnlyList<LdapFilter> children) : CompositeFilter(children, '&')
{
    public override bool Matches(DirectoryEntry entry)
    {
        foreach (var child in Children)
        {
            if (!child.Matches(entry))
            {
                return false;
            }
        }

        return true;
    }
}

internal sealed class OrFilter(IReadOnlyList<LdapFilter> children) : CompositeFilter(children, '|')
{
    public override bool Matches(DirectoryEntry entry)
    {
        foreach (var child in Children)
        {
            if (child.Matches(entry))
            {
                return true;
            }
        }

        return false;
    }
}

internal sealed class NotFilter(LdapFilter child) : LdapFilter
{
    public override bool Matches(DirectoryEntry entry) => !child.Matches(entry);

    internal override void Render(StringBuilder builder)
    {
        builder.Append("(!");
        child.Render(builder);
        builder.Append(')');
    }

    internal override void CollectAttributes(HashSet<string> names) => child.CollectAttributes(names);

    internal override void CollectChains(List<InChainFilter> chains) => child.CollectChains(chains);
}

/// <summary>A filter item on one attribute.</summary>
internal abstract class ItemFilter(string attribute) : LdapFilter
{
    public string Attribute { get; } = attribute;

    internal override void CollectAttributes(HashSet<string> names) => names.Add(Attribute.ToLowerInvariant());
}

internal sealed class PresentFilter(string attribute) : ItemFilter(attribute)
{
    public override bool Matches(DirectoryEntry entry) => entry.GetValues(Attribute).Count > 0;

    internal override void Render(StringBuilder builder) => builder.Append('(').Append(Attribute).Append("=*)");
}

internal enum Comparison
{
    Equal,
    GreaterOrEqual,
    LessOrEqual,
    Approximate,
}

internal sealed class CompareFilter : ItemFilter
{
    private readonly ValueMatcher _matcher;

    /// <param name="attribute">The attribute the filter item tests.</param>
    /// <param name="comparison">Equality, ordering or approximate match.</param>
    /// <param name="assertion">The assertion value as written in the filter.</param>
    /// <param name="matchAs">
    /// What values are compared with when that is not the assertion as written: the DN an Active
    /// Directory <c>objectCategory</c> short name stands for. The filter still renders as written.
    /// </param>
    public CompareFilter(string attribute, Comparison comparison, byte[] assertion, byte[]? matchAs = null)
        : base(attribute)
    {
        Comparison = comparison;
        Assertion = assertion;
        _matcher = new ValueMatcher(attribute, matchAs ?? assertion);
    }

    public Comparison Comparison { get; }

    public byte[] Assertion { get; }

    public override bool Matches(DirectoryEntry entry)
    {
        foreach (var value in entry.GetValues(Attribute))
        {
            var matched = Comparison switch
            {
                Comparison.GreaterOrEqual => _matcher.Compare(value) >= 0,
                Comparison.LessOrEqual => _matcher.Compare(value) is <= 0 and not int.MinValue,
                _ => _matcher.EqualsValue(value),
            };
            if (matched)
            {
                return true;
            }
        }

        return false;
    }

    internal override void Render(StringBuilder builder)
    {
        var op = Comparison switch
        {
            Comparison.GreaterOrEqual => ">=",
            Comparison.LessOrEqual => "<=",
            Comparison.Approximate => "~=",
            _ => "=",
        };
        builder.Append('(').Append(Attribute).Append(op).Append(FilterText.Escape(Assertion)).Append(')');
    }
}

internal sealed class SubstringFilter : ItemFilter
{
    private readonly bool _ignoreCase;
    private readonly string? _initial;
    private readonly string[] _any;
    private readonly string? _final;
    private readonly byte[]? _rawInitial;
    private readonly IReadOnlyList<byte[]> _rawAny;
    private readonly byte[]? _rawFinal;
    private readonly bool _neverMatches;

    public SubstringFilter(string attribute, byte[]? initial, IReadOnlyList<byte[]> any, byte[]? final)
        : base(attribute)
    {
        _rawInitial = initial;
        _rawAny = any;
        _rawFinal = final;
        var syntax = AttributeSyntax.For(attribute);
        _neverMatches = syntax is AttributeComparison.Binary or AttributeComparison.IntegerValue;
        _ignoreCase = syntax != AttributeComparison.CaseExactString;
        _initial = initial is null ? null : Rfc4518.PreparePiece(Encoding.UTF8.GetString(initial), _ignoreCase);
        _any = [.. any.Select(a => Rfc4518.PreparePiece(Encoding.UTF8.GetString(a), _ignoreCase))];
        _final = final is null ? null : Rfc4518.PreparePiece(Encoding.UTF8.GetString(final), _ignoreCase);
    }

    public override bool Matches(DirectoryEntry entry)
    {
        if (_neverMatches)
        {
            return false;
        }

        foreach (var raw in entry.GetValues(Attribute))
        {
            if (MatchesValue(Rfc4518.Prepare(Encoding.UTF8.GetString(raw), _ignoreCase)))
            {
                return true;
            }
        }

        return false;
    }

    private bool MatchesValue(string value)
    {
        var start = 0;
        var end = value.Length;
        if (_initial is not null)
        {
            if (!value.StartsWith(_initial, StringComparison.Ordinal))
            {
                return false;
            }

            start = _initial.Length;
        }

        if (_final is not null)
        {
            if (value.Length - start < _final.Length || !value.EndsWith(_final, StringComparison.Ordinal))
            {
                return false;
            }

            end = value.Length - _final.Length;
        }

        foreach (var piece in _any)
        {
            var found = value.IndexOf(piece, start, end - start, StringComparison.Ordinal);
            if (found < 0)
            {
                return false;
            }

            start = found + piece.Length;
        }

        return true;
    }

    internal override void Render(StringBuilder builder)
    {
        builder.Append('(').Append(Attribute).Append('=');
        if (_rawInitial is not null)
        {
            builder.Append(FilterText.Escape(_rawInitial));
        }

        builder.Append('*');
        foreach (var piece in _rawAny)
        {
            builder.Append(FilterText.Escape(piece)).Append('*');
        }

        if (_rawFinal is not null)
        {
            builder.Append(FilterText.Escape(_rawFinal));
        }

        builder.Append(')');
    }
}

/// <summary>Active Directory's LDAP_MATCHING_RULE_BIT_AND (.803) and BIT_OR (.804) on integer attributes.</summary>
internal sealed class BitwiseFilter(string attribute, string rule, long mask) : ItemFilter(attribute)
{
    public const string BitAnd = "1.2.840.113556.1.4.803";
    public const string BitOr = "1.2.840.113556.1.4.804";

    public override bool Matches(DirectoryEntry entry)
    {
        foreach (var raw in entry.GetValues(Attribute))
        {
            if (!ValueMatcher.TryParseInteger(raw, out var value))
            {
                continue;
            }

            if (rule == BitAnd ? (value & mask) == mask : (value & mask) != 0)
            {
                return true;
            }
        }

        return false;
    }

    internal override void Render(StringBuilder builder) =>
        builder.Append('(').Append(Attribute).Append(':').Append(rule).Append(":=").Append(mask.ToString(System.Globalization.CultureInfo.InvariantCulture)).Append(')');
}

/// <summary>
/// Active Directory's LDAP_MATCHING_RULE_IN_CHAIN (1.2.840.113556.1.4.1941): true when one of the entry's
/// <see cref="ItemFilter.Attribute"/> DNs is the target or leads to it through that attribute of other
/// entries (<c>memberOf</c>: member of the group, nested; <c>manager</c>: reports, indirect ones too).
/// The closure is computed from the whole directory before planning (<see cref="LinkChainBuilder"/>);
/// a filter compiled without it cannot be evaluated and says so instead of answering wrongly.
/// </summary>
internal sealed class InChainFilter(string attribute, byte[] assertion, string target, HashSet<string>? closure) : ItemFilter(attribute)
{
    public const string Rule = "1.2.840.113556.1.4.1941";

    /// <summary>The target DN, normalised.</summary>
    public string Target { get; } = target;

    public override bool Matches(DirectoryEntry entry)
    {
        if (closure is null)
        {
            throw new InvalidOperationException($"the in-chain match on {Attribute} needs the directory's links: compile the filter with a FilterContext whose LinkChains a LinkChainBuilder built");
        }

        foreach (var raw in entry.GetValues(Attribute))
        {
            if (LinkValues.TryNormalize(raw, out var dn) && closure.Contains(dn))
            {
                return true;
            }
        }

        return false;
    }

    internal override void CollectChains(List<InChainFilter> chains) => chains.Add(this);

    internal override void Render(StringBuilder builder) =>
        builder.Append('(').Append(Attribute).Append(':').Append(Rule).Append(":=").Append(FilterText.Escape(assertion)).Append(')');
}

/// <summary>RFC 4526 absolute true <c>(&amp;)</c> and absolute false <c>(|)</c>.</summary>
internal sealed class AbsoluteFilter(bool value) : LdapFilter
{
    public override bool Matches(DirectoryEntry entry) => value;

    internal override void Render(StringBuilder builder) => builder.Append(value ? "(&)" : "(|)");

    internal override void CollectAttributes(HashSet<string> names)
    {
    }
}

internal static class FilterText
{
    private static readonly UTF8Encoding StrictUtf8 = new(false, true);

    /// <summary>Text values are escaped as text (readable); bytes that are not UTF-8 as hex pairs.</summary>
    public static string Escape(byte[] value)
    {
        try
        {
            return LdapFilter.EscapeValue(StrictUtf8.GetString(value));
        }
        catch (DecoderFallbackException)
        {
            return LdapFilter.EscapeValue(value);
        }
    }
}
