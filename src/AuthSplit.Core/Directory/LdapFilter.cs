using System.Diagnostics.CodeAnalysis;
using System.Text;
using AuthSplit.Core.Model;

namespace AuthSplit.Core.Directory;

/// <summary>
/// An LDAP search filter (RFC 4515) that the planner evaluates itself, so that a plan made offline from
/// an LDIF snapshot selects exactly what a live read selects. Supports and, or, not, equality, presence,
/// substrings, &gt;=, &lt;=, ~= (as equality), RFC 4526's absolute true <c>(&amp;)</c> and false <c>(|)</c>,
/// and Active Directory's bit-wise extensible matches (1.2.840.113556.1.4.803 AND, .804 OR) and in-chain
/// match (1.2.840.113556.1.4.1941), with AD's objectCategory short names (see <see cref="FilterContext"/>). Values
/// compare by <see cref="AttributeSyntax"/>. An attribute description with options (<c>cn;lang-ja</c>)
/// matches exactly that description.
/// </summary>
public abstract class LdapFilter
{
    public const int MaxLength = 64 * 1024;
    public const int MaxDepth = 256;

    /// <summary>Parses <paramref name="text"/>; throws <see cref="FormatException"/> naming the offset of the fault.</summary>
    public static LdapFilter Parse(string text, FilterContext? context = null) =>
        TryParse(text, out var filter, out var error, context) ? filter : throw new FormatException(error);

    /// <param name="text">The filter as written (RFC 4515).</param>
    /// <param name="filter">The compiled filter, when the text parses.</param>
    /// <param name="error">What is wrong and at which offset, when it does not.</param>
    /// <param name="context">
    /// The directory's semantics the filter is compiled against: with Active Directory's class map,
    /// <c>objectCategory=person</c> compares with the class's defaultObjectCategory DN; with resolved link
    /// chains, in-chain matches can be evaluated. Without it both are taken literally / refused at evaluation.
    /// </param>
    public static bool TryParse(string text, [NotNullWhen(true)] out LdapFilter? filter, [NotNullWhen(false)] out string? error, FilterContext? context = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        return new FilterParser(text, context).TryParse(out filter, out error);
    }

    public abstract bool Matches(DirectoryEntry entry);

    /// <summary>The attribute names this filter reads (lower-case), so a plan can fingerprint what it relied on.</summary>
    public IReadOnlySet<string> AttributeNames => _attributeNames ??= CollectAttributes();

    private IReadOnlySet<string>? _attributeNames;

    /// <summary>The canonical text of the filter (re-escaped); it parses back to an equal filter.</summary>
    public override string ToString()
    {
        var builder = new StringBuilder();
        Render(builder);
        return builder.ToString();
    }

    internal abstract void Render(StringBuilder builder);

    internal abstract void CollectAttributes(HashSet<string> names);

    internal virtual void CollectChains(List<InChainFilter> chains)
    {
    }

    /// <summary>True when the filter has an in-chain match (1.2.840.113556.1.4.1941), which only Active Directory evaluates.</summary>
    public bool HasInChainMatch
    {
        get
        {
            var chains = new List<InChainFilter>();
            CollectChains(chains);
            return chains.Count > 0;
        }
    }

    /// <summary>Escapes a value for use inside a filter (RFC 4515 section 3).</summary>
    public static string EscapeValue(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var builder = new StringBuilder(value.Length + 8);
        foreach (var c in value)
        {
            switch (c)
            {
                case '*':
                    builder.Append("\\2a");
                    break;
                case '(':
                    builder.Append("\\28");
                    break;
                case ')':
                    builder.Append("\\29");
                    break;
                case '\\':
                    builder.Append("\\5c");
                    break;
                case '\0':
                    builder.Append("\\00");
                    break;
                default:
                    builder.Append(c);
                    break;
            }
        }

        return builder.ToString();
    }

    /// <summary>Escapes raw bytes (e.g. an objectGUID) as \xx pairs.</summary>
    public static string EscapeValue(ReadOnlySpan<byte> value)
    {
        var builder = new StringBuilder(value.Length * 3);
        foreach (var b in value)
        {
            builder.Append('\\').Append(b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture));
        }

        return builder.ToString();
    }

    private HashSet<string> CollectAttributes()
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        CollectAttributes(names);
        return names;
    }
}
