using System.Diagnostics;
using AuthSplit.Core.Configuration;
using AuthSplit.Core.Errors;
using AuthSplit.Lab.Data;
using AuthSplit.Lab.Servers;
using AuthSplit.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace AuthSplit.Ldap.IntegrationTests;

/// <summary>A directory server that dies in the middle of a paged read (its own private slapd, killed by PID).</summary>
public sealed class ConnectionLossTests
{
    /// <summary>Reports synchronously on the reading thread (Progress&lt;T&gt; would post to the pool, too late).</summary>
    private sealed class KillAt(int entries, int pid) : IProgress<int>
    {
        public void Report(int value)
        {
            if (value == entries)
            {
                using var process = Process.GetProcessById(pid);
                process.Kill();
                process.WaitForExit();
            }
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_server_killed_mid_read_is_reported_as_a_lost_connection_after_n_entries(bool ldaps)
    {
        var work = TestPaths.NewWorkDirectory();
        var ldif = Path.Combine(work, "org.ldif");
        await GeneratedOrganization.WriteLdifAsync(ldif, 3000, groupSize: 50, CancellationToken.None);
        await using var server = await SlapdServer.StartAsync(new SlapdServerOptions { Suffix = GeneratedOrganization.Suffix, CreateSuffixEntry = false, NoSync = true }, CancellationToken.None);
        await server.LoadLdifAsync(ldif, CancellationToken.None);
        var password = Path.Combine(work, "pw");
        await File.WriteAllTextAsync(password, server.AdminPassword);
        var options = new SourceOptions
        {
            Url = ldaps ? server.LdapsUrl : server.LdapUrl,
            BaseDn = GeneratedOrganization.Suffix,
            BindDn = server.AdminDn,
            PasswordFile = password,
            CaFile = server.CaFile,
            PageSize = 100,
            TimeoutSeconds = 10,
        };
        var read = 0;

        var act = async () =>
        {
            await foreach (var _ in new LdapLegacyDirectory(options, NullLogger<LdapLegacyDirectory>.Instance, new KillAt(1000, server.Pid)).ReadEntriesAsync(CancellationToken.None))
            {
                read++;
            }
        };

        var error = (await act.Should().ThrowAsync<ExternalSystemException>()).Which;
        error.Message.Should().Contain($"the connection to {(ldaps ? server.LdapsUrl : server.LdapUrl)} was lost after 1,000 entries of the read")
            .And.NotContain("certificate");
        read.Should().Be(1000);
    }
}
