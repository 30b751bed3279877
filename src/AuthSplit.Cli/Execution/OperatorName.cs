using AuthSplit.Core.Errors;
using AuthSplit.Core.Planning.Format;

namespace AuthSplit.Cli.Execution;

/// <summary>Who approves or executes: a name given on the command line (<c>--by</c>, <c>--as</c>), else the OS user.</summary>
public static class OperatorName
{
    public const int MaxLength = 128;

    public static string Resolve(string? given, string option)
    {
        var name = given ?? Environment.UserName;
        name = name.Trim();
        if (name.Length == 0)
        {
            throw new InputException("operator-name", $"{option} is empty: give the person's name or account as it should appear in the journal and the evidence");
        }

        if (name.Length > MaxLength || name.Any(char.IsControl) || PrintableText.Escape(name) != name)
        {
            throw new InputException("operator-name", $"{option} \"{PrintableText.Escape(name.Length > MaxLength ? name[..MaxLength] + "…" : name)}\" is not a usable name: at most {MaxLength} printable characters");
        }

        return name;
    }
}
