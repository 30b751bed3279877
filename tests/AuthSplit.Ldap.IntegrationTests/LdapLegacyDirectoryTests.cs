using AuthSplit.Core.Configuration;
using AuthSplit.Core.Errors;
using AuthSplit.Core.Model;
using AuthSplit.Ldap.Ldif;
using AuthSplit.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace AuthSplit.Ldap.IntegrationTests;

[Collection(SlapdFixture.Collection)]
public sealed class LdapLegacyDirectoryTests(SlapdFixture fixture)
{
    private const string PasswordVariable = "AUTHSPLIT_TEST_LDAP_PASSWORD";

    static LdapLegacyDirectoryTests() => Environment.SetEnvironmentVariable(PasswordVariable, null);

    private SourceOptions Options(string? url = null, string? caFile = null, int pageSize = 1000, string? bindDn = SlapdFixture.ReaderDn, string? passwordFile = null) => new()
    {
        Url = url ?? fixture.Server.LdapsUrl,
        BaseDn = "dc=example,dc=jp",
        BindDn = bindDn,
        PasswordFile = passwordFile ?? (bindDn is null ? null : WritePassword(fixture.ReaderPassword)),
        CaFile = caFile ?? fixture.Server.CaFile,
        PageSize = pageSize,
        TimeoutSeconds = 10,
    };

    private static string WritePassword(string password)
    {
        var path = Path.Combine(TestPaths.NewWorkDirectory(), "pw");
        File.WriteAllText(path, password);
        return path;
    }

    private static async Task<List<DirectoryEntry>> ReadAllAsync(SourceOptions options, CancellationToken cancellationToken = default)
    {
        var entries = new List<DirectoryEntry>();
        await foreach (var entry in new LdapLegacyDirectory(options, NullLogger<LdapLegacyDirectory>.Instance).ReadEntriesAsync(cancellationToken))
        {
            entries.Add(entry);
        }

        return entries;
    }

    private static async Task<List<DirectoryEntry>> ReadSampleLdifAsync()
    {
        var entries = new List<DirectoryEntry>();
        await foreach (var entry in new LdifFileSource(Path.Combine(TestPaths.Samples, "legacy.ldif")).ReadEntriesAsync(CancellationToken.None))
        {
            entries.Add(entry);
        }

        return entries;
    }

    [Fact]
    public async Task Reads_every_entry_over_ldaps_with_its_entryUUID()
    {
        var live = await ReadAllAsync(Options());
        var sample = await ReadSampleLdifAsync();

        live.Select(e => e.GetString("entryUUID")).Should().BeEquivalentTo(sample.Select(e => e.GetString("entryUUID")));
        var yamada = live.Single(e => e.GetString("cn") == "山田 太郎");
        yamada.GetString("mail").Should().Be("taro.yamada@example.jp");
        live.Single(e => e.Dn.StartsWith("uid=akira.sato", StringComparison.Ordinal)).GetStrings("memberOf").Should().ContainSingle();
        live.Should().OnlyContain(e => e.Has("createTimestamp"), "operational attributes are read too ('+')");
    }

    [Fact]
    public async Task Reads_with_starttls_on_the_plain_port()
    {
        var entries = await ReadAllAsync(Options(url: fixture.Server.LdapUrl));

        entries.Should().HaveCount((await ReadSampleLdifAsync()).Count);
    }

    [Fact]
    public async Task Pages_return_every_entry_exactly_once()
    {
        var entries = await ReadAllAsync(Options(pageSize: 3));

        entries.Select(e => e.GetString("entryUUID")).Should().OnlyHaveUniqueItems().And.HaveCount((await ReadSampleLdifAsync()).Count);
    }

    [Fact]
    public async Task A_certificate_from_another_ca_is_refused_with_advice()
    {
        var otherCa = Lab.Servers.LabCertificateAuthority.Create(Path.Combine(TestPaths.NewWorkDirectory(), "tls"), "127.0.0.1");

        var act = () => ReadAllAsync(Options(caFile: otherCa.CaFile));

        (await act.Should().ThrowAsync<ExternalSystemException>())
            .Which.Message.Should().Contain(fixture.Server.LdapsUrl).And.Contain("Source:CaFile");
    }

    [Fact]
    public async Task A_wrong_password_is_reported_without_the_password()
    {
        const string wrong = "not-the-password-1234";

        var act = () => ReadAllAsync(Options(passwordFile: WritePassword(wrong)));

        var error = (await act.Should().ThrowAsync<ExternalSystemException>()).Which;
        error.Message.Should().Contain("invalid credentials").And.Contain(SlapdFixture.ReaderDn).And.NotContain(wrong);
        error.ToString().Should().NotContain(wrong);
    }

    [Fact]
    public async Task An_unreachable_server_is_named()
    {
        var port = Lab.Servers.ServerProcess.FreePort();

        var act = () => ReadAllAsync(Options(url: $"ldaps://127.0.0.1:{port}"));

        (await act.Should().ThrowAsync<ExternalSystemException>())
            .Which.Message.Should().StartWith($"ldaps://127.0.0.1:{port}: cannot connect");
    }

    [Fact]
    public async Task A_missing_password_variable_is_bad_input_naming_the_variable()
    {
        var options = Options();
        options.PasswordFile = null;
        options.PasswordEnvVar = PasswordVariable;

        var act = () => ReadAllAsync(options);

        (await act.Should().ThrowAsync<InputException>()).Which.Message.Should().Contain(PasswordVariable);
    }

    [Fact]
    public async Task Plain_ldap_works_only_when_allowed_and_then_warns()
    {
        var options = Options(url: fixture.Server.LdapUrl);
        options.StartTls = false;
        options.AllowPlainLdap = true;
        var logger = new CollectingLogger<LdapLegacyDirectory>();

        var entries = new List<DirectoryEntry>();
        await foreach (var entry in new LdapLegacyDirectory(options, logger).ReadEntriesAsync(CancellationToken.None))
        {
            entries.Add(entry);
        }

        entries.Should().NotBeEmpty();
        logger.Messages.Should().Contain(m => m.Contains("WITHOUT TLS", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_live_read_saved_as_ldif_reads_back_identical()
    {
        var live = await ReadAllAsync(Options());
        var path = Path.Combine(TestPaths.NewWorkDirectory(), "source.ldif");
        await using (var stream = File.Create(path))
        await using (var writer = new LdifWriter(stream))
        {
            foreach (var entry in live)
            {
                await writer.WriteAsync(entry, CancellationToken.None);
            }

            await writer.CompleteAsync(CancellationToken.None);
        }

        var reread = new List<DirectoryEntry>();
        await foreach (var entry in new LdifFileSource(path).ReadEntriesAsync(CancellationToken.None))
        {
            reread.Add(entry);
        }

        reread.Should().HaveCount(live.Count);
        for (var i = 0; i < live.Count; i++)
        {
            reread[i].Dn.Should().Be(live[i].Dn);
            reread[i].Attributes.Keys.Should().Equal(live[i].Attributes.Keys);
            foreach (var (name, values) in live[i].Attributes)
            {
                reread[i].GetValues(name).Should().BeEquivalentTo(values, o => o.WithStrictOrdering(), $"{live[i].Dn} {name}");
            }
        }
    }

    [Fact]
    public async Task A_live_read_describes_itself_by_the_hash_of_the_ldif_it_renders_which_reads_back_with_the_same_hash()
    {
        var path = Path.Combine(TestPaths.NewWorkDirectory(), "source.ldif");
        var saving = default(LdapLegacyDirectory);
        await using (var file = File.Create(path))
        {
            saving = new LdapLegacyDirectory(Options(), NullLogger<LdapLegacyDirectory>.Instance, null, null, file);
            saving.Invoking(d => d.DescribeRead()).Should().Throw<InvalidOperationException>("nothing was read yet");
            await foreach (var _ in saving.ReadEntriesAsync(CancellationToken.None))
            {
            }
        }

        var hashingOnly = new LdapLegacyDirectory(Options(), NullLogger<LdapLegacyDirectory>.Instance);
        await foreach (var _ in hashingOnly.ReadEntriesAsync(CancellationToken.None))
        {
        }

        var ldif = new LdifFileSource(path);
        ldif.Invoking(s => s.DescribeRead()).Should().Throw<InvalidOperationException>("nothing was read yet");
        await foreach (var _ in ldif.ReadEntriesAsync(CancellationToken.None))
        {
        }

        var live = saving.DescribeRead();
        live.Kind.Should().Be("ldap");
        live.Location.Should().Be(saving.Description);
        live.Sha256.Should().Be("sha256:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(await File.ReadAllBytesAsync(path))), "the hash is of exactly the bytes written");
        hashingOnly.DescribeRead().Should().Be(live, "saving the rendering does not change what is hashed");
        ldif.DescribeRead().Should().Be(live with { Kind = "ldif", Location = "source.ldif" }, "the saved snapshot is read back as the same entries with the same hash");
        live.Count.Should().BeGreaterThan(0);
    }

    [Fact]
    public async Task Attributes_come_in_one_canonical_order_whatever_the_process()
    {
        // S.DS.P returns attributes in per-process hash order; the connector must not pass that on,
        // or two reads of the same directory would give different snapshots and plan inputs.
        var live = await ReadAllAsync(Options());

        live.Should().OnlyContain(e => e.Attributes.Keys.First() == "objectClass");
        foreach (var entry in live)
        {
            entry.Attributes.Keys.Skip(1).Should().BeInAscendingOrder(StringComparer.OrdinalIgnoreCase, entry.Dn);
        }
    }

    [Fact]
    public async Task A_long_paged_read_of_a_large_directory_returns_every_entry()
    {
        // System.DirectoryServices.Protocols' APM path stalled on Linux after 10,000-60,000 entries
        // of a paged read; this reads a 40,000-person directory (about 40,900 entries) in 200 pages.
        const int People = 40_000;
        var work = TestPaths.NewWorkDirectory();
        var ldif = Path.Combine(work, "large.ldif");
        await Lab.Data.GeneratedOrganization.WriteLdifAsync(ldif, People, groupSize: 50, CancellationToken.None);
        await using var server = await Lab.Servers.SlapdServer.StartAsync(new Lab.Servers.SlapdServerOptions { Suffix = Lab.Data.GeneratedOrganization.Suffix, CreateSuffixEntry = false, NoSync = true }, CancellationToken.None);
        await server.LoadLdifAsync(ldif, CancellationToken.None);
        var password = WritePassword(server.AdminPassword);
        var expected = 0;
        await foreach (var _ in new LdifFileSource(ldif).ReadEntriesAsync(CancellationToken.None))
        {
            expected++;
        }

        var options = new SourceOptions
        {
            Url = server.LdapsUrl,
            BaseDn = Lab.Data.GeneratedOrganization.Suffix,
            BindDn = server.AdminDn,
            PasswordFile = password,
            CaFile = server.CaFile,
            PageSize = 200,
            TimeoutSeconds = 30,
        };
        var ids = new HashSet<string>(StringComparer.Ordinal);

        // A hang guard, not a speed limit: the stalled APM read hung past its own client timeout.
        using var hang = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        await foreach (var entry in new LdapLegacyDirectory(options, NullLogger<LdapLegacyDirectory>.Instance).ReadEntriesAsync(hang.Token))
        {
            ids.Add(entry.GetString("entryUUID")!).Should().BeTrue("each entry comes once");
        }

        expected.Should().BeGreaterThan(People);
        ids.Should().HaveCount(expected);
    }

    [Fact]
    public async Task Cancelling_a_read_stops_it()
    {
        using var cancellation = new CancellationTokenSource();
        var count = 0;
        var act = async () =>
        {
            await foreach (var _ in new LdapLegacyDirectory(Options(pageSize: 2), NullLogger<LdapLegacyDirectory>.Instance).ReadEntriesAsync(cancellation.Token))
            {
                if (++count == 3)
                {
                    await cancellation.CancelAsync();
                }
            }
        };

        await act.Should().ThrowAsync<OperationCanceledException>();
        count.Should().BeLessThan(10);
    }
}
