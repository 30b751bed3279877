using System.Diagnostics.CodeAnalysis;
using AuthSplit.Core.Model;

namespace AuthSplit.Core.Directory;

/// <summary>
/// An LDAP search filter (RFC 4515) that the planner evaluates itself, so that a plan made offline from an
/// LDIF snapshot selects exactly what a live read selects. Supports and, or, not, equality, presence,
/// substrings, &gt;=, &lt;=, ~= (as equality) and the Active Directory bit-wise extensible matches
/// (1.2.840.113556.1.4.803 AND, .804 OR). Matching follows <see cref="AttributeSyntax"/>.
/// </summary>
public abstract class LdapFilter
{
    /// <summary>Parses <paramref name="text"/>; throws <see cref="FormatException"/> naming the offset of the fault.</summary>
    public static LdapFilter Parse(string text) =>
        TryParse(text, out var filter, out var error) ? filter : throw new FormatException(error);

    public static bool TryParse(string text, [NotNullWhen(true)] out LdapFilter? filter, [NotNullWhen(false)] out string? error) =>
        throw new NotImplementedException("TODO(helper: core-directory)");

    public abstract bool Matches(DirectoryEntry entry);

    /// <summary>The attribute names this filter reads (lower-case), so a plan can fingerprint what it relied on.</summary>
    public abstract IReadOnlySet<string> AttributeNames { get; }

    /// <summary>Escapes a value for use inside a filter (RFC 4515 section 3).</summary>
    public static string EscapeValue(string value) => throw new NotImplementedException("TODO(helper: core-directory)");

    /// <summary>Escapes raw bytes (e.g. an objectGUID) as \xx pairs.</summary>
    public static string EscapeValue(ReadOnlySpan<byte> value) => throw new NotImplementedException("TODO(helper: core-directory)");
}
