using System.Text;

namespace AuthSplit.Cli.EndToEndTests;

/// <summary>
/// An Active Directory export as ldifde/ldapsearch would write it, entry by entry: objectClass values,
/// objectCategory and a deterministic objectGUID (base64), then whatever attributes the test adds.
/// </summary>
internal sealed class ActiveDirectoryExportText
{
    private readonly StringBuilder _text = new();
    private int _entries;

    public void Add(string dn, string category, string classes, params string[] more)
    {
        var guid = Convert.ToBase64String(new Guid($"00000000-0000-0000-0000-{++_entries:D12}").ToByteArray());
        _text.Append($"dn: {dn}\n");
        foreach (var c in classes.Split(' '))
        {
            _text.Append($"objectClass: {c}\n");
        }

        _text.Append($"objectCategory: {category}\nobjectGUID:: {guid}\n");
        foreach (var line in more)
        {
            _text.Append(line).Append('\n');
        }

        _text.Append('\n');
    }

    public override string ToString() => _text.ToString();
}
