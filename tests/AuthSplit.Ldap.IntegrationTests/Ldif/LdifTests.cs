using System.Text;
using AuthSplit.Core.Errors;
using AuthSplit.Core.Model;
using AuthSplit.Lab.Data;
using AuthSplit.Ldap.Ldif;
using AuthSplit.Testing;

namespace AuthSplit.Ldap.IntegrationTests.Ldif;

/// <summary>The LDIF reader and writer on their own (no server needed).</summary>
public sealed class LdifTests
{
    private static async Task<List<DirectoryEntry>> ReadAsync(string ldif, string path = "test.ldif")
    {
        var entries = new List<DirectoryEntry>();
        await foreach (var entry in LdifReader.ReadAsync(new MemoryStream(Encoding.UTF8.GetBytes(ldif)), path, CancellationToken.None))
        {
            entries.Add(entry);
        }

        return entries;
    }

    [Fact]
    public async Task Reads_what_ldapsearch_writes_folded_base64_and_non_ascii()
    {
        const string ldif = "# extended LDIF\r\n#\r\nversion: 1\r\n\r\ndn:: Y2495bGx55SwIOWkqumDjixvdT1ocSxkYz1leGFtcGxlLGRjPWpw\r\nobjectClass: inetOrgPerson\r\ncn:: 5bGx55SwIOWkqumDjg==\r\ndescription: a long value that ldapsearch folds at seventy-six columns so it cont\r\n inues on the next line\r\nobjectGUID:: AAECAwQFBgcICQoLDA0ODw==\r\nmail:\r\n\r\ndn: cn=second,dc=jp\r\ncn: second";

        var entries = await ReadAsync(ldif);

        entries.Should().HaveCount(2);
        entries[0].Dn.Should().Be("cn=山田 太郎,ou=hq,dc=example,dc=jp");
        entries[0].GetString("cn").Should().Be("山田 太郎");
        entries[0].GetString("description").Should().Be("a long value that ldapsearch folds at seventy-six columns so it continues on the next line");
        entries[0].GetValues("objectGUID")[0].Should().Equal(Enumerable.Range(0, 16).Select(i => (byte)i));
        entries[0].GetString("mail").Should().BeEmpty();
        entries[1].GetString("cn").Should().Be("second", "a last record without a blank line still counts");
    }

    [Theory]
    [InlineData("dn: cn=a\nno colon here\n", "test.ldif:2", "expected 'attribute: value'")]
    [InlineData("cn: a\n", "test.ldif:1", "must start with 'dn:'")]
    [InlineData("dn: cn=a\nchangetype: modify\n", "test.ldif:2", "change record")]
    [InlineData("dn: cn=a\njpegPhoto:< file:///etc/passwd\n", "test.ldif:2", "not supported")]
    [InlineData("dn: cn=a\ncn:: !!!notbase64\n", "test.ldif:2", "not valid base64")]
    [InlineData("version: 2\n\ndn: cn=a\ncn: a\n", "test.ldif:1", "unsupported LDIF")]
    [InlineData(" continuation first\n", "test.ldif:1", "continuation line")]
    [InlineData("dn: cn=a\n\n", "test.ldif:1", "has no attributes")]
    [InlineData("dn: cn=a\nbad attr: x\n", "test.ldif:2", "not an attribute description")]
    public async Task Faults_name_the_file_and_line(string ldif, string where, string what)
    {
        var act = () => ReadAsync(ldif);

        (await act.Should().ThrowAsync<InputException>()).Which.Message.Should().StartWith(where).And.Contain(what);
    }

    [Fact]
    public async Task Invalid_utf8_is_reported_not_mangled()
    {
        var bytes = Encoding.UTF8.GetBytes("dn: cn=a\ncn: x").Concat(new byte[] { 0xC3, 0x28, (byte)'\n' }).ToArray();

        var act = async () =>
        {
            await foreach (var _ in LdifReader.ReadAsync(new MemoryStream(bytes), "bad.ldif", CancellationToken.None))
            {
            }
        };

        (await act.Should().ThrowAsync<InputException>()).Which.Message.Should().Contain("not valid UTF-8");
    }

    [Fact]
    public async Task What_the_writer_writes_the_reader_reads_back_byte_for_byte()
    {
        var path = Path.Combine(TestPaths.NewWorkDirectory(), "org.ldif");
        await GeneratedOrganization.WriteLdifAsync(path, 200, 20, CancellationToken.None);
        var original = new List<DirectoryEntry>();
        await foreach (var entry in new LdifFileSource(path).ReadEntriesAsync(CancellationToken.None))
        {
            original.Add(entry);
        }

        original.Select(e => e.GetString("cn")).Should().Contain(GeneratedOrganization.HostileNames);
        foreach (var wrap in new[] { 76, 0 })
        {
            using var buffer = new MemoryStream();
            await using (var writer = new LdifWriter(buffer, wrap))
            {
                foreach (var entry in original)
                {
                    await writer.WriteAsync(entry, CancellationToken.None);
                }
            }

            var text = Encoding.UTF8.GetString(buffer.ToArray());
            if (wrap > 0)
            {
                text.Split('\n').Should().OnlyContain(l => l.Length <= wrap);
            }

            var reread = await ReadAsync(text);
            reread.Should().HaveCount(original.Count);
            for (var i = 0; i < original.Count; i++)
            {
                reread[i].Dn.Should().Be(original[i].Dn);
                foreach (var (name, values) in original[i].Attributes)
                {
                    reread[i].GetValues(name).Should().BeEquivalentTo(values, o => o.WithStrictOrdering());
                }
            }
        }
    }

    [Theory]
    [InlineData(" leading space")]
    [InlineData("trailing space ")]
    [InlineData(":colon")]
    [InlineData("<angle")]
    [InlineData("line\nbreak")]
    [InlineData("日本語")]
    public async Task Unsafe_values_are_written_as_base64(string value)
    {
        using var buffer = new MemoryStream();
        await using (var writer = new LdifWriter(buffer))
        {
            await writer.WriteAsync(DirectoryEntry.FromStrings("cn=x", [KeyValuePair.Create("description", new[] { value })]), CancellationToken.None);
        }

        var text = Encoding.UTF8.GetString(buffer.ToArray());
        text.Should().Contain("description:: ");
        (await ReadAsync(text))[0].GetString("description").Should().Be(value);
    }
}
