using System.Text;
using AuthSplit.Core.Configuration;
using AuthSplit.Core.Errors;
using AuthSplit.Core.Model;
using AuthSplit.Lab.Servers;
using AuthSplit.Ldap.Ldif;
using AuthSplit.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace AuthSplit.Ldap.IntegrationTests.Ldif;

/// <summary>
/// The reader on what the real <c>ldapsearch</c> writes against a private slapd: its default extended
/// LDIF (comments, <c>search:</c>/<c>result:</c> blocks, the count trailer), paged, with a size limit
/// and with a search reference; and that output cut short.
/// </summary>
[Collection(SlapdFixture.Collection)]
public sealed class LdapsearchExportTests(SlapdFixture fixture)
{
    private static async Task<ProcessRunner.Result> LdapsearchAsync(SlapdServer server, string bindDn, string password, params string[] arguments)
    {
        var passwordFile = Path.Combine(TestPaths.NewWorkDirectory(), "pw");
        await File.WriteAllTextAsync(passwordFile, password);
        return await ProcessRunner.RunAsync(
            "ldapsearch",
            ["-x", "-H", server.LdapsUrl, "-D", bindDn, "-y", passwordFile, "-b", server.Suffix, .. arguments],
            new Dictionary<string, string> { ["LDAPTLS_CACERT"] = server.CaFile, ["LDAPTLS_REQCERT"] = "demand" },
            TimeSpan.FromMinutes(2),
            CancellationToken.None);
    }

    private Task<ProcessRunner.Result> ReaderSearchAsync(params string[] arguments) =>
        LdapsearchAsync(fixture.Server, SlapdFixture.ReaderDn, fixture.ReaderPassword, arguments);

    private static async Task<(List<DirectoryEntry> Entries, LdifReadSummary Summary)> ReadFileAsync(string text, string name)
    {
        var path = Path.Combine(TestPaths.NewWorkDirectory(), name);
        await File.WriteAllTextAsync(path, text, new UTF8Encoding(false));
        var source = new LdifFileSource(path);
        var entries = new List<DirectoryEntry>();
        await foreach (var entry in source.ReadEntriesAsync(CancellationToken.None))
        {
            entries.Add(entry);
        }

        return (entries, source.Summary!);
    }

    private async Task<List<DirectoryEntry>> LiveReadAsync()
    {
        var passwordFile = Path.Combine(TestPaths.NewWorkDirectory(), "pw");
        await File.WriteAllTextAsync(passwordFile, fixture.ReaderPassword);
        var options = new SourceOptions { Url = fixture.Server.LdapsUrl, BaseDn = "dc=example,dc=jp", BindDn = SlapdFixture.ReaderDn, PasswordFile = passwordFile, CaFile = fixture.Server.CaFile, TimeoutSeconds = 10 };
        var entries = new List<DirectoryEntry>();
        await foreach (var entry in new LdapLegacyDirectory(options, NullLogger<LdapLegacyDirectory>.Instance).ReadEntriesAsync(CancellationToken.None))
        {
            entries.Add(entry);
        }

        return entries;
    }

    [Theory]
    [InlineData("")]
    [InlineData("-E pr=7/noprompt")]
    [InlineData("-L")]
    [InlineData("-LLL")]
    public async Task Ldapsearch_output_in_its_default_paged_and_ldif_formats_reads_as_the_live_read(string options)
    {
        var format = options.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var export = await ReaderSearchAsync([.. format, "*", "+"]);
        export.ExitCode.Should().Be(0, export.Error);
        if (format.Length == 0)
        {
            export.Output.Should().StartWith("# extended LDIF").And.Contain("\nresult: 0 Success\n").And.Contain("# numEntries: ");
        }

        var (entries, _) = await ReadFileAsync(export.Output, "export.ldif");
        var live = await LiveReadAsync();

        entries.Select(e => e.Dn).Should().Equal(live.Select(e => e.Dn));
        entries.Select(e => e.GetString("entryUUID")).Should().Equal(live.Select(e => e.GetString("entryUUID")));
    }

    [Fact]
    public async Task A_size_limited_ldapsearch_is_a_short_read_named_at_its_result_line()
    {
        var export = await ReaderSearchAsync("-z", "3", "*", "+");
        export.ExitCode.Should().Be(4, "ldapsearch itself reports the size limit");
        export.Output.Should().Contain("result: 4 Size limit exceeded");
        var resultLine = Array.IndexOf(export.Output.Split('\n'), "result: 4 Size limit exceeded") + 1;

        var act = () => ReadFileAsync(export.Output, "export.ldif");

        (await act.Should().ThrowAsync<InputException>()).Which.Message.Should()
            .Contain($"export.ldif:{resultLine}: ldapsearch reports 'result: 4 Size limit exceeded'");
    }

    [Fact]
    public async Task Ldapsearch_output_cut_anywhere_is_refused()
    {
        var export = await ReaderSearchAsync("*", "+");
        var text = export.Output;
        var lastEntry = text.LastIndexOf("\ndn: ", StringComparison.Ordinal) + 1;
        var cuts = new[]
        {
            text[..(text.IndexOf("\n# search result", StringComparison.Ordinal) + 1)],
            text[..(lastEntry + 20)],
            text[..text.IndexOf('\n', lastEntry + 5)],
            text[..lastEntry],
            text[..(text.LastIndexOf("# numEntries", StringComparison.Ordinal))],
            text[..(text.Length - 2)],
        };

        foreach (var cut in cuts)
        {
            var act = () => ReadFileAsync(cut, "cut.ldif");

            (await act.Should().ThrowAsync<InputException>($"cut at {cut.Length} of {text.Length}")).Which.Code.Should().Be("ldif-incomplete");
        }
    }

    [Fact]
    public async Task A_search_reference_from_ldapsearch_is_skipped_and_counted()
    {
        await using var server = await SlapdServer.StartAsync(new SlapdServerOptions { Suffix = "dc=referrals,dc=jp", NoSync = true }, CancellationToken.None);
        await server.AddLdifTextAsync("dn: cn=someone,dc=referrals,dc=jp\nobjectClass: person\ncn: someone\nsn: one\n", CancellationToken.None);
        var passwordFile = Path.Combine(server.Directory, "admin-test.pw");
        await File.WriteAllTextAsync(passwordFile, server.AdminPassword);
        var add = await ProcessRunner.RunAsync(
            "ldapadd",
            ["-x", "-M", "-H", server.LdapUrl, "-D", server.AdminDn, "-y", passwordFile],
            null,
            TimeSpan.FromMinutes(1),
            CancellationToken.None,
            "dn: ou=forestdnszones,dc=referrals,dc=jp\nobjectClass: referral\nobjectClass: extensibleObject\nou: forestdnszones\nref: ldap://forestdnszones.referrals.jp/DC=ForestDnsZones,DC=referrals,DC=jp\n");
        add.ExitCode.Should().Be(0, add.Error);

        var export = await LdapsearchAsync(server, server.AdminDn, server.AdminPassword, "*", "+");
        export.Output.Should().Contain("\nref: ldap://forestdnszones.referrals.jp/").And.Contain("# numReferences: 1");

        var (entries, summary) = await ReadFileAsync(export.Output, "with-reference.ldif");

        entries.Select(e => e.Dn).Should().BeEquivalentTo(["dc=referrals,dc=jp", "cn=someone,dc=referrals,dc=jp"]);
        summary.References.Should().Be(1);
    }
}
