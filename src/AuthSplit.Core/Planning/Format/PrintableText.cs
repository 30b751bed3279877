using System.Globalization;
using System.Text;

namespace AuthSplit.Core.Planning.Format;

/// <summary>
/// Directory and Graph values made safe to print on a terminal, in a CSV or in a comment line: control
/// characters (C0, DEL, C1: an ESC from a base64 DN would drive the terminal, a line break would start a
/// new line of output) and the invisible format characters that reorder or hide text (bidirectional
/// overrides, line separators) are written as <c>\x1B</c> / <c>\u202E</c>. A DN string never holds
/// <c>\x</c> or <c>\u</c> itself (RFC 4514 escapes are <c>\</c> and a special character or two hex
/// digits), so the escaped form cannot be mistaken for a real DN.
/// </summary>
public static class PrintableText
{
    public static string Escape(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return text ?? string.Empty;
        }

        var first = IndexOfUnprintable(text);
        if (first < 0)
        {
            return text;
        }

        var escaped = new StringBuilder(text.Length + 8).Append(text, 0, first);
        for (var i = first; i < text.Length; i++)
        {
            var c = text[i];
            if (!IsUnprintable(c))
            {
                escaped.Append(c);
            }
            else if (c < 0x100)
            {
                escaped.Append(CultureInfo.InvariantCulture, $"\\x{(int)c:X2}");
            }
            else
            {
                escaped.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:X4}");
            }
        }

        return escaped.ToString();
    }

    private static int IndexOfUnprintable(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (IsUnprintable(text[i]))
            {
                return i;
            }
        }

        return -1;
    }

    private static bool IsUnprintable(char c) =>
        char.IsControl(c)
        || c is '\u061C' or '\u200E' or '\u200F' or '\u2028' or '\u2029' or '\uFEFF'
        || c is >= '\u202A' and <= '\u202E'
        || c is >= '\u2066' and <= '\u2069';
}
