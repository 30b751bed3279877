using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using AuthSplit.Core.Configuration;
using AuthSplit.Core.Errors;
using AuthSplit.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace AuthSplit.Ldap.IntegrationTests;

/// <summary>
/// A server that accepts the TCP connection and then says nothing (a hung directory, or a port that
/// speaks another protocol): libldap blocks in the TLS handshake or the bind without heeding its timeout.
/// </summary>
public sealed class SilentServerTests
{
    [Theory]
    [InlineData("ldaps")]
    [InlineData("ldap")]
    public async Task A_server_that_accepts_but_never_answers_is_given_up_on_after_the_configured_timeout(string scheme)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var accepted = new List<Socket>();
        using var stop = new CancellationTokenSource();
        var acceptLoop = Task.Run(async () =>
        {
            try
            {
                while (true)
                {
                    accepted.Add(await listener.AcceptSocketAsync(stop.Token));
                }
            }
            catch (OperationCanceledException)
            {
            }
        });
        var work = TestPaths.NewWorkDirectory();
        var password = Path.Combine(work, "pw");
        await File.WriteAllTextAsync(password, "unused");
        var options = new SourceOptions
        {
            Url = $"{scheme}://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}",
            BaseDn = "dc=example,dc=jp",
            BindDn = "cn=reader,dc=example,dc=jp",
            PasswordFile = password,
            TimeoutSeconds = 2,
        };
        var clock = Stopwatch.StartNew();

        var read = Task.Run(async () =>
        {
            await foreach (var _ in new LdapLegacyDirectory(options, NullLogger<LdapLegacyDirectory>.Instance).ReadEntriesAsync(CancellationToken.None))
            {
            }
        });

        // Before the fix the read never ended: fail instead of hanging the suite.
        (await Task.WhenAny(read, Task.Delay(TimeSpan.FromSeconds(60)))).Should().BeSameAs(read, "the read must give up on a silent server");
        clock.Stop();
        var error = (await FluentActions.Awaiting(() => read).Should().ThrowAsync<ExternalSystemException>()).Which;
        await stop.CancelAsync();
        await acceptLoop;
        foreach (var socket in accepted)
        {
            socket.Dispose();
        }

        accepted.Should().NotBeEmpty("the server accepted the connection, so the client got past TCP");
        error.Message.Should().Contain("did not answer within 2 s").And.Contain("Source:TimeoutSeconds");
        error.Message.Should().NotContain("certificate", "nothing about the certificate is known when the server never answered");
        // Generous: the TCP probe, the open and the bind each have the 2 s timeout; unbounded before the fix.
        clock.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(30));
    }
}
