using System.Text;

namespace AuthSplit.Core.Directory;

/// <summary>
/// String preparation for comparing directory strings (a practical subset of RFC 4518): Unicode NFKC,
/// case folding for case-ignore rules, and "insignificant space" handling — leading and trailing
/// spaces dropped, inner runs of spaces collapsed to one. OpenLDAP and AD compare cn, ou, mail, uid
/// and the like this way.
/// </summary>
public static class Rfc4518
{
    public static string Prepare(string value, bool ignoreCase)
    {
        if (IsPlainAscii(value))
        {
            return ignoreCase ? value.ToLowerInvariant() : value;
        }

        var normalized = value.IsNormalized(NormalizationForm.FormKC) ? value : value.Normalize(NormalizationForm.FormKC);
        var builder = new StringBuilder(normalized.Length);
        var pendingSpace = false;
        foreach (var c in normalized)
        {
            if (c == ' ' || char.IsWhiteSpace(c))
            {
                pendingSpace = builder.Length > 0;
                continue;
            }

            if (pendingSpace)
            {
                builder.Append(' ');
                pendingSpace = false;
            }

            builder.Append(ignoreCase ? char.ToLowerInvariant(c) : c);
        }

        return builder.ToString();
    }

    // Printable ASCII with single inner spaces and none at the ends is already prepared but for case.
    private static bool IsPlainAscii(string value)
    {
        if (value.Length == 0 || value[0] == ' ' || value[^1] == ' ')
        {
            return false;
        }

        var previousSpace = false;
        foreach (var c in value)
        {
            if (c == ' ')
            {
                if (previousSpace)
                {
                    return false;
                }

                previousSpace = true;
                continue;
            }

            if (c is < '!' or > '~')
            {
                return false;
            }

            previousSpace = false;
        }

        return true;
    }

    /// <summary>
    /// Prepares one piece of a substring assertion. Unlike a whole value, a piece keeps a single
    /// leading or trailing space (collapsed), because "a *b" must not match "ab".
    /// </summary>
    public static string PreparePiece(string value, bool ignoreCase)
    {
        var core = Prepare(value, ignoreCase);
        if (core.Length == 0)
        {
            return value.Length > 0 ? " " : string.Empty;
        }

        var leading = value.Length > 0 && char.IsWhiteSpace(value[0]);
        var trailing = value.Length > 0 && char.IsWhiteSpace(value[^1]);
        return (leading ? " " : string.Empty) + core + (trailing ? " " : string.Empty);
    }
}
