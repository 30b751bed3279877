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
        const string ldif = "# extended LDIF\r\n#\r\nversion: 1\r\n\r\ndn:: Y2495bGx55SwIOWkqumDjixvdT1ocSxkYz1leGFtcGxlLGRjPWpw\r\nobjectClass: inetOrgPerson\r\ncn:: 5bGx55SwIOWkqumDjg==\r\ndescription: a long value that ldapsearch folds at seventy-six columns so it cont\r\n inues on the next line\r\nobjectGUID:: AAECAwQFBgcICQoLDA0ODw==\r\nmail:\r\n\r\ndn: cn=second,dc=jp\r\ncn: second\r\n# numResponses: 3\r\n# numEntries: 2\r\n";

        var entries = await ReadAsync(ldif);

        entries.Should().HaveCount(2);
        entries[0].Dn.Should().Be("cn=山田 太郎,ou=hq,dc=example,dc=jp");
        entries[0].GetString("cn").Should().Be("山田 太郎");
        entries[0].GetString("description").Should().Be("a long value that ldapsearch folds at seventy-six columns so it continues on the next line");
        entries[0].GetValues("objectGUID")[0].Should().Equal(Enumerable.Range(0, 16).Select(i => (byte)i));
        entries[0].GetString("mail").Should().BeEmpty();
        entries[1].GetString("cn").Should().Be("second", "a last record without a blank line counts when the trailer proves the file complete");
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

                await writer.CompleteAsync(CancellationToken.None);
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
            await writer.CompleteAsync(CancellationToken.None);
        }

        var text = Encoding.UTF8.GetString(buffer.ToArray());
        text.Should().Contain("description:: ");
        (await ReadAsync(text))[0].GetString("description").Should().Be(value);
    }

    private static async Task<List<DirectoryEntry>> ReadBytesAsync(byte[] bytes, string path = "test.ldif")
    {
        var entries = new List<DirectoryEntry>();
        await foreach (var entry in LdifReader.ReadAsync(new MemoryStream(bytes), path, CancellationToken.None))
        {
            entries.Add(entry);
        }

        return entries;
    }

    // What ldifde writes (Windows, no ldifde here to run): a leading blank line, every record
    // "changetype: add" right after its DN, CR LF line ends, a blank line after every record.
    private const string LdifdeExport =
        "\r\ndn: CN=Taro Yamada,OU=People,DC=example,DC=jp\r\nchangetype: add\r\nobjectClass: top\r\nobjectClass: person\r\nobjectClass: organizationalPerson\r\nobjectClass: user\r\ncn: Taro Yamada\r\nobjectGUID:: AAECAwQFBgcICQoLDA0ODw==\r\nsAMAccountName: taro\r\n\r\n" +
        "dn: CN=Hanako Sato,OU=People,DC=example,DC=jp\r\nchangetype: add\r\nobjectClass: top\r\nobjectClass: user\r\ncn: Hanako Sato\r\nobjectGUID:: EBESExQVFhcYGRobHB0eHw==\r\nsAMAccountName: hanako\r\n\r\n";

    [Fact]
    public async Task Reads_an_ldifde_export_whose_records_are_changetype_add_with_crlf()
    {
        var entries = await ReadAsync(LdifdeExport);

        entries.Select(e => e.Dn).Should().Equal("CN=Taro Yamada,OU=People,DC=example,DC=jp", "CN=Hanako Sato,OU=People,DC=example,DC=jp");
        entries[0].Attributes.Keys.Should().NotContain("changetype");
        entries[0].GetString("sAMAccountName").Should().Be("taro");
    }

    [Fact]
    public async Task Reads_an_ldifde_u_export_in_utf16_with_its_byte_order_mark()
    {
        var text = LdifdeExport.Replace("Taro Yamada", "山田 太郎", StringComparison.Ordinal);
        var utf16 = Encoding.Unicode.GetPreamble().Concat(Encoding.Unicode.GetBytes(text)).ToArray();
        var utf8Bom = Encoding.UTF8.GetPreamble().Concat(Encoding.UTF8.GetBytes(text)).ToArray();

        foreach (var bytes in new[] { utf16, utf8Bom })
        {
            var entries = await ReadBytesAsync(bytes);

            entries.Should().HaveCount(2);
            entries[0].Dn.Should().Be("CN=山田 太郎,OU=People,DC=example,DC=jp");
            entries[0].GetString("cn").Should().Be("山田 太郎", "values are kept as UTF-8 bytes whatever the file's encoding");
        }
    }

    [Theory]
    [InlineData("dn: cn=a,dc=jp\ncn: a\nchangetype: add\n\n", 3)]
    [InlineData("dn: cn=a,dc=jp\nchangetype: delete\n\n", 2)]
    [InlineData("dn: cn=a,dc=jp\nchangetype: modrdn\nnewrdn: cn=b\n\n", 2)]
    [InlineData("dn: cn=a,dc=jp\nchangetype: modify\nreplace: cn\ncn: b\n-\n\n", 2)]
    public async Task Change_records_other_than_a_whole_entry_add_are_still_refused(string ldif, int line)
    {
        var act = () => ReadAsync(ldif);

        (await act.Should().ThrowAsync<InputException>()).Which.Message.Should().StartWith($"test.ldif:{line}:").And.Contain("change record");
    }

    [Fact]
    public async Task A_byte_that_is_not_utf8_is_reported_at_its_own_line()
    {
        var lines = Enumerable.Range(0, 2000).Select(i => $"dn: cn=p{i},dc=jp\ncn: p{i}\n\n");
        var head = Encoding.UTF8.GetBytes(string.Concat(lines));
        var bytes = head.Concat(Encoding.UTF8.GetBytes("dn: cn=bad,dc=jp\ncn: x")).Concat(new byte[] { 0xC3, 0x28, (byte)'\n', (byte)'\n' }).ToArray();

        var act = () => ReadBytesAsync(bytes, "bad.ldif");

        (await act.Should().ThrowAsync<InputException>()).Which.Message.Should().StartWith("bad.ldif:6002:").And.Contain("not valid UTF-8");
    }

    [Fact]
    public async Task Two_entries_with_the_same_dn_compared_normalised_are_refused_naming_both_lines()
    {
        const string ldif = "dn: uid=A,ou=People,dc=example,dc=jp\nuid: A\n\ndn: cn=other,dc=example,dc=jp\ncn: other\n\ndn: UID=a, OU=people,DC=Example,DC=JP\nuid: a\n\n";

        var act = () => ReadAsync(ldif);

        var message = (await act.Should().ThrowAsync<InputException>()).Which.Message;
        message.Should().StartWith("test.ldif:7:").And.Contain("same DN as the entry at line 1");
    }

    [Theory]
    [InlineData("dn: cn=ok,dc=jp\ncn: ok\n\ndn: cn=a,,dc=jp\ncn: a\n\n", "test.ldif:4:", "not a valid DN")]
    [InlineData("dn: cn=a,dc=jp\nentryUUID: 0b8f1b3e-0000-4000-8000-000000000001\n\ndn: cn=b,dc=jp\nentryUUID: 0B8F1B3E-0000-4000-8000-000000000001\n\n", "test.ldif:4:", "entryUUID 0b8f1b3e-0000-4000-8000-000000000001, as has the entry at line 1")]
    [InlineData("dn: cn=a,dc=jp\nobjectGUID:: AAECAwQFBgcICQoLDA0ODw==\n\ndn: cn=b,dc=jp\ncn: b\n\ndn: cn=c,dc=jp\nobjectGUID:: AAECAwQFBgcICQoLDA0ODw==\n\n", "test.ldif:7:", "objectGUID 03020100-0504-0706-0809-0a0b0c0d0e0f, as has the entry at line 1")]
    public async Task An_invalid_dn_or_a_duplicate_identity_names_the_file_and_line(string ldif, string where, string what)
    {
        var act = () => ReadAsync(ldif);

        (await act.Should().ThrowAsync<InputException>()).Which.Message.Should().StartWith(where).And.Contain(what);
    }

    [Theory]
    [InlineData("dn: cn=a,dc=jp\ncn: a\n\ndn: cn=b,dc=jp\ncn: b\n", "test.ldif:4:", "not followed by a blank line")]
    [InlineData("dn: cn=a,dc=jp\ncn: a\n\ndn: cn=b,dc=jp\ncn: b\ndescription: cut her", "test.ldif:6:", "middle of this line")]
    [InlineData("dn: cn=a,dc=jp\ncn: a\n\ndn: cn=b,dc=jp\ndescription: folded and\n", "test.ldif:4:", "not followed by a blank line")]
    [InlineData("dn: cn=a,dc=jp\ncn: a\n\n# numResponses: 3\n# numEntries: 2\n", "test.ldif:5:", "says it holds 2 entries but 1 were read")]
    [InlineData("# extended LDIF\n#\n\ndn: cn=a,dc=jp\ncn: a\n\n", "test.ldif:6:", "always ends with '# numResponses:'")]
    [InlineData("version: 1\n# AuthSplit snapshot: complete only with the '# numEntries:' line at its end\n\ndn: cn=a,dc=jp\ncn: a\n\n", "test.ldif:6:", "ends with '# numEntries:'")]
    public async Task A_file_that_may_have_been_cut_off_is_refused(string ldif, string where, string what)
    {
        var act = () => ReadAsync(ldif);

        (await act.Should().ThrowAsync<InputException>()).Which.Message.Should().StartWith(where).And.Contain(what);
    }

    [Fact]
    public async Task A_saved_snapshot_carries_its_count_and_is_refused_when_cut_at_a_record_boundary_or_unfinished()
    {
        var entries = Enumerable.Range(0, 3).Select(i => DirectoryEntry.FromStrings($"cn=p{i},dc=jp", [KeyValuePair.Create("cn", new[] { $"p{i}" })])).ToList();
        using var complete = new MemoryStream();
        using var unfinished = new MemoryStream();
        await using (var writer = new LdifWriter(complete))
        await using (var partial = new LdifWriter(unfinished))
        {
            foreach (var entry in entries)
            {
                await writer.WriteAsync(entry, CancellationToken.None);
                await partial.WriteAsync(entry, CancellationToken.None);
            }

            await writer.CompleteAsync(CancellationToken.None);
        }

        var text = Encoding.UTF8.GetString(complete.ToArray());
        text.Should().EndWith("\n\n# numEntries: 3\n");
        (await ReadAsync(text)).Should().HaveCount(3);

        var cutAtBoundary = text[..(text.LastIndexOf("dn: cn=p2", StringComparison.Ordinal))];
        var edited = text.Replace("# numEntries: 3", "# numEntries: 4", StringComparison.Ordinal);
        foreach (var (bad, what) in new[] { (cutAtBoundary, "ends with '# numEntries:'"), (Encoding.UTF8.GetString(unfinished.ToArray()), "ends with '# numEntries:'"), (edited, "says it holds 4 entries but 3 were read") })
        {
            var act = () => ReadAsync(bad);

            (await act.Should().ThrowAsync<InputException>()).Which.Message.Should().Contain(what);
        }
    }

    [Fact]
    public async Task A_search_reference_is_skipped_and_counted()
    {
        const string ldif = "dn: cn=a,dc=jp\ncn: a\n\n# search reference\nref: ldap://forestdnszones.example.jp/DC=ForestDnsZones,DC=example,DC=jp\n\ndn: cn=b,dc=jp\ncn: b\n\n";
        var summary = new LdifReadSummary();
        var entries = new List<DirectoryEntry>();

        await foreach (var entry in LdifReader.ReadAsync(new MemoryStream(Encoding.UTF8.GetBytes(ldif)), "test.ldif", summary, CancellationToken.None))
        {
            entries.Add(entry);
        }

        entries.Select(e => e.Dn).Should().Equal("cn=a,dc=jp", "cn=b,dc=jp");
        summary.References.Should().Be(1);
    }

    // The reader keeps lines as the file's UTF-8 bytes and checks them without decoding while they are ASCII:
    // these pin that text beyond ASCII still arrives as the same bytes and a bad byte is still found at its line.
    [Fact]
    public async Task Plain_text_values_beyond_ascii_are_read_as_their_utf8_bytes()
    {
        const string ldif = "dn: cn=山田 太郎,ou=人事,dc=example,dc=jp\ncn: 山田 太郎\ndescription: café, naïve, 😀 and a folded tail that continues\n  on the next line 終\nCN: second value\n\n";

        var entries = await ReadAsync(ldif);

        entries.Should().ContainSingle();
        entries[0].Dn.Should().Be("cn=山田 太郎,ou=人事,dc=example,dc=jp");
        entries[0].GetValues("cn")[0].Should().Equal(Encoding.UTF8.GetBytes("山田 太郎"));
        entries[0].GetValues("cn")[1].Should().Equal(Encoding.UTF8.GetBytes("second value"), "the same attribute spelt in another case is the same attribute");
        entries[0].GetString("description").Should().Be("café, naïve, 😀 and a folded tail that continues on the next line 終");
    }

    [Theory]
    [InlineData(new byte[] { 0xE5, 0xB1, 0xB1, 0xFF }, "a byte that is never UTF-8 after a whole three-byte character")]
    [InlineData(new byte[] { 0xC3, 0xA9, 0xE5, 0xB1 }, "a three-byte character cut after two, after a whole two-byte one")]
    [InlineData(new byte[] { 0xED, 0xA0, 0x80 }, "a UTF-16 surrogate encoded as UTF-8")]
    [InlineData(new byte[] { 0xC0, 0xAF }, "an overlong encoding of '/'")]
    public async Task A_bad_byte_after_valid_multi_byte_text_is_reported_at_its_own_line(byte[] bad, string because)
    {
        // Far enough into the file that the line lies beyond the reader's first 64 KB buffer.
        var head = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Range(0, 3000).Select(i => $"dn: cn=人{i},dc=jp\ncn: 人{i}\n\n")));
        var bytes = head.Concat(Encoding.UTF8.GetBytes("dn: cn=bad,dc=jp\ncn: 山田")).Concat(bad).Concat("\ndescription: fine\n\n"u8.ToArray()).ToArray();

        var act = () => ReadBytesAsync(bytes, "bad.ldif");

        (await act.Should().ThrowAsync<InputException>(because)).Which.Message.Should().StartWith("bad.ldif:9002:").And.Contain("not valid UTF-8");
    }

    [Fact]
    public async Task A_line_of_white_space_other_than_a_leading_space_still_ends_a_record()
    {
        var entries = await ReadAsync("dn: cn=a,dc=jp\ncn: a\n\t\ndn: cn=b,dc=jp\ncn: b\n\u3000\n");

        entries.Select(e => e.Dn).Should().Equal("cn=a,dc=jp", "cn=b,dc=jp");
    }

    [Fact]
    public async Task An_attribute_name_beyond_ascii_is_refused_at_its_line()
    {
        var act = () => ReadAsync("dn: cn=a,dc=jp\ncn: a\n\ndn: cn=b,dc=jp\ncn: b\nnamé: x\n\n");

        (await act.Should().ThrowAsync<InputException>()).Which.Message.Should().StartWith("test.ldif:6:").And.Contain("'namé' is not an attribute description");
    }
}
