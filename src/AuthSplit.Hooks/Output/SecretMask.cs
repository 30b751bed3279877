using System.Text;
using AuthSplit.Core.Configuration;

namespace AuthSplit.Hooks.Output;

/// <summary>
/// The secret values a hook's output must not carry into the journal: each occurrence becomes <c>***</c>
/// in the excerpt (and in a detail line). Longest first, so a secret that contains another is masked whole.
/// </summary>
internal sealed class SecretMask
{
    public const string Masked = "***";

    private readonly string[] _values;

    public SecretMask(IEnumerable<string> values)
    {
        _values = [.. values.Where(v => v.Length > 0).Distinct(StringComparer.Ordinal).OrderByDescending(v => v.Length)];
        Margin = _values.Length == 0 ? 0 : _values.Max(v => Encoding.UTF8.GetByteCount(v));
    }

    /// <summary>The longest secret in UTF-8 bytes: how far past the excerpt the capture must see.</summary>
    public int Margin { get; }

    public SecretMask With(IEnumerable<string> more) => new(_values.Concat(more));

    public string Apply(string text)
    {
        foreach (var value in _values)
        {
            text = text.Replace(value, Masked, StringComparison.Ordinal);
        }

        return text;
    }

    /// <summary>
    /// The excerpt of <paramref name="head"/>: decoded as UTF-8, masked, then cut to at most
    /// <see cref="SystemDefaults.OutputExcerptBytes"/> bytes at a character boundary. Masking before the cut
    /// means a secret that starts inside the excerpt never leaves a prefix of itself at its end.
    /// </summary>
    public string Excerpt(ReadOnlySpan<byte> head)
    {
        var masked = Apply(Encoding.UTF8.GetString(head));
        return Truncate(masked, SystemDefaults.OutputExcerptBytes);
    }

    private static string Truncate(string text, int maxBytes)
    {
        if (Encoding.UTF8.GetByteCount(text) <= maxBytes)
        {
            return text;
        }

        var bytes = 0;
        var end = 0;
        foreach (var rune in text.EnumerateRunes())
        {
            if (bytes + rune.Utf8SequenceLength > maxBytes)
            {
                break;
            }

            bytes += rune.Utf8SequenceLength;
            end += rune.Utf16SequenceLength;
        }

        return text[..end];
    }
}
