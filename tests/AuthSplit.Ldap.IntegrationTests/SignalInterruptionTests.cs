using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using AuthSplit.Core.Configuration;
using AuthSplit.Core.Errors;
using AuthSplit.Lab.Data;
using AuthSplit.Lab.Servers;
using AuthSplit.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit.Abstractions;

namespace AuthSplit.Ldap.IntegrationTests;

/// <summary>
/// Reads while child processes end, as in a full test run (the fixtures run slapd, slapadd, ldapmodify,
/// openssl...). A child's SIGCHLD interrupts the thread that started it; when that pool thread was waiting
/// inside libldap, libldap called the connection dead (LDAP_OPT_RESTART off): the full suite once saw a
/// 40,000-entry read "lost after 12,600 entries" and a silent server reported down after 966 ms instead
/// of timing out. Without the fix (LibLdapRestart) the ldap:// silent server failed here in 4 runs of 4
/// (1 to 4 of its 6 reads "down" after 0.5 s, the children's lifetime) and the paged read in 3 of 3 (1 to
/// 4 reads lost after 400-3,000 entries), with those very messages; the ldaps:// silent server passed
/// either way (its TLS handshake blocks in read(2), which the kernel restarts) and guards that path. The
/// soak (3 minutes of 43,217-entry reads in pages of 200): without the fix 45 of 62 reads failed, some in
/// the bind as "TLS session failed, certificate not trusted"; with it 32 of 32 read every entry while
/// 38,691 children ended.
/// </summary>
public sealed class SignalInterruptionTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("ldap")]
    [InlineData("ldaps")]
    public async Task A_silent_server_is_given_up_on_after_the_timeout_not_reported_down_while_child_processes_end(string scheme)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);

        // A deep accept queue: the reads retry their connection, and once the kernel holds backlog + 1
        // unaccepted connections it drops new SYNs, so a further connect timed out ("cannot connect") on a
        // loaded CI machine instead of meeting the silent server this test is about (16 was once too few).
        listener.Start(backlog: 512);
        var password = Path.Combine(TestPaths.NewWorkDirectory(), "pw");
        await File.WriteAllTextAsync(password, "unused");
        var options = new SourceOptions
        {
            Url = $"{scheme}://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}",
            BaseDn = "dc=example,dc=jp",
            BindDn = "cn=reader,dc=example,dc=jp",
            PasswordFile = password,
            TimeoutSeconds = 2,
        };
        int ended;
        (string Message, TimeSpan Elapsed)[] results;

        // Six reads at once, each on a pool thread that has likely just started a child: that child ends
        // while the thread waits in libldap for an answer. The listener never accepts: the kernel completes
        // the TCP handshakes, and nobody ever answers.
        await using (var churn = new ChildProcessChurn(loops: 8, TimeSpan.FromMilliseconds(500)))
        {
            await churn.WaitForChildrenAsync(8);
            results = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => Task.Run(() => ReadExpectingFailureAsync(options))));
            ended = churn.Ended;
        }

        output.WriteLine($"{ended} children ended during the reads");
        foreach (var (message, elapsed) in results)
        {
            output.WriteLine($"{elapsed.TotalSeconds:0.00} s: {message}");
        }

        ended.Should().BePositive("children must end during the reads, or this proves nothing");
        results.Should().AllSatisfy(r =>
        {
            r.Message.Should().Contain("did not answer within 2 s", "a silent server is a timeout, not a server that is down");
            // libldap's timer and the test's stopwatch do not start at the same instant (measured: up to 0.7 ms
            // short of 2 s); the failure this guards against came at about 0.5 s, when a child ended.
            r.Elapsed.Should().BeGreaterThanOrEqualTo(TimeSpan.FromSeconds(1.9), "given up at the timeout, not when a child process ended");
        });
    }

    [Fact]
    public async Task A_paged_read_gets_every_entry_while_child_processes_end() =>
        await ReadRepeatedlyWhileChildrenEndAsync(people: 3000, pageSize: 50, TimeSpan.FromSeconds(6));

    [LongFact]
    [Trait("Category", "Soak")]
    public async Task Long_paged_reads_of_a_large_directory_get_every_entry_while_child_processes_end() =>
        await ReadRepeatedlyWhileChildrenEndAsync(people: 40_000, pageSize: 200, TimeSpan.FromMinutes(3));

    private async Task ReadRepeatedlyWhileChildrenEndAsync(int people, int pageSize, TimeSpan duration)
    {
        var work = TestPaths.NewWorkDirectory();
        var ldif = Path.Combine(work, "org.ldif");
        await GeneratedOrganization.WriteLdifAsync(ldif, people, groupSize: 50, CancellationToken.None);
        await using var server = await SlapdServer.StartAsync(new SlapdServerOptions { Suffix = GeneratedOrganization.Suffix, CreateSuffixEntry = false, NoSync = true }, CancellationToken.None);
        await server.LoadLdifAsync(ldif, CancellationToken.None);
        var password = Path.Combine(work, "pw");
        await File.WriteAllTextAsync(password, server.AdminPassword);
        var options = new SourceOptions
        {
            Url = server.LdapsUrl,
            BaseDn = GeneratedOrganization.Suffix,
            BindDn = server.AdminDn,
            PasswordFile = password,
            CaFile = server.CaFile,
            PageSize = pageSize,
            TimeoutSeconds = 30,
        };
        var expected = 0;
        await foreach (var _ in new Ldap.Ldif.LdifFileSource(ldif).ReadEntriesAsync(CancellationToken.None))
        {
            expected++;
        }

        var counts = new List<int>();
        var errors = new List<string>();
        var clock = Stopwatch.StartNew();
        int ended;
        await using (var churn = new ChildProcessChurn(loops: 8, TimeSpan.FromMilliseconds(20)))
        {
            // At least three reads, however slow the machine: each one is a chance for the signal to land.
            while (clock.Elapsed < duration || counts.Count < 3)
            {
                var count = 0;
                try
                {
                    // A hang guard only: the read itself is bounded by its 30 s timeout per call.
                    using var hang = new CancellationTokenSource(TimeSpan.FromMinutes(5));
                    await foreach (var _ in new LdapLegacyDirectory(options, NullLogger<LdapLegacyDirectory>.Instance).ReadEntriesAsync(hang.Token))
                    {
                        count++;
                    }
                }
                catch (ExternalSystemException ex)
                {
                    errors.Add(ex.Message);
                }

                counts.Add(count);
            }

            ended = churn.Ended;
        }

        output.WriteLine($"{counts.Count} reads of {expected:N0} entries in pages of {pageSize} over LDAPS in {clock.Elapsed.TotalSeconds:0.0} s while {ended:N0} children ended; entries per read: {string.Join(' ', counts)}");
        ended.Should().BePositive("children must end during the reads, or this proves nothing");
        errors.Should().BeEmpty("a child process ending is no reason to lose the connection");
        counts.Should().AllBeEquivalentTo(expected);
    }

    private static async Task<(string Message, TimeSpan Elapsed)> ReadExpectingFailureAsync(SourceOptions options)
    {
        var clock = Stopwatch.StartNew();
        try
        {
            await foreach (var _ in new LdapLegacyDirectory(options, NullLogger<LdapLegacyDirectory>.Instance).ReadEntriesAsync(CancellationToken.None))
            {
            }

            return ("the read of a silent server ended without an error", clock.Elapsed);
        }
        catch (ExternalSystemException ex)
        {
            return (ex.Message, clock.Elapsed);
        }
    }
}
