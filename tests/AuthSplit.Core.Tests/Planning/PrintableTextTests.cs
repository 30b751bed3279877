using AuthSplit.Core.Planning.Format;

namespace AuthSplit.Core.Tests.Planning;

public sealed class PrintableTextTests
{
    [Theory]
    [InlineData("uid=evil\u001b[31mred,ou=hq", "uid=evil\\x1B[31mred,ou=hq")]
    [InlineData("line\r\nbreak\ttab\u007f", "line\\x0D\\x0Abreak\\x09tab\\x7F")]
    [InlineData("c1\u009bcsi", "c1\\x9Bcsi")]
    [InlineData("txt.exe\u202Efdp.", "txt.exe\\u202Efdp.")]
    [InlineData("cn=山田 太郎,cn=Smith\\, John", "cn=山田 太郎,cn=Smith\\, John")]
    public void Control_and_bidirectional_characters_are_shown_escaped_and_everything_else_as_is(string raw, string shown)
    {
        PrintableText.Escape(raw).Should().Be(shown);
    }
}
