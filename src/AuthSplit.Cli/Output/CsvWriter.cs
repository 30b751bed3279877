using System.Text;
using AuthSplit.Core.Planning.Format;

namespace AuthSplit.Cli.Output;

/// <summary>
/// RFC 4180 CSV. Control characters are written escaped (<see cref="PrintableText"/>): the CSV goes to
/// a terminal as often as to a file. A cell that a spreadsheet would run as a formula (starting with
/// = + - @ or a tab or CR) is prefixed with an apostrophe: DNs and messages come from the directory,
/// and a hostile value must not become a formula on a reviewer's machine.
/// </summary>
public static class CsvWriter
{
    public static string Line(IEnumerable<string?> cells) => string.Join(',', cells.Select(Cell));

    private static string Cell(string? value)
    {
        var text = PrintableText.Escape(value);
        if (text.Length > 0 && "=+-@\t\r".Contains(text[0], StringComparison.Ordinal))
        {
            text = "'" + text;
        }

        if (text.AsSpan().IndexOfAny(",\"\r\n") < 0)
        {
            return text;
        }

        return new StringBuilder(text.Length + 2).Append('"').Append(text.Replace("\"", "\"\"", StringComparison.Ordinal)).Append('"').ToString();
    }
}
