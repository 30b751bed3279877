using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using AuthSplit.Core.Configuration;
using AuthSplit.Core.Errors;
using AuthSplit.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace AuthSplit.Ldap.IntegrationTests;

public sealed class SignalInterruptionTests
{
    [Theory]
    [InlineData("ldap")]
    [InlineData("ldaps")]
    public async Task A_silent_server_is_timed_out_and_not_reported_down_while_child_processes_end(string scheme)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start(100);
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

        await using var churn = new ChildProcessChurn(loops: 8, TimeSpan.FromMilliseconds(50));
        var clock = Stopwatch.StartNew();
        var results = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            var attempt = Stopwatch.StartNew();
            try
            {
                await foreach (var _ in new LdapLegacyDirectory(options, NullLogger<LdapLegacyDirectory>.Instance).ReadEntriesAsync(CancellationToken.None))
                {
                }

                return (Message: "no error", attempt.Elapsed);
            }
            catch (ExternalSystemException ex)
            {
                return (ex.Message, attempt.Elapsed);
            }
        })));

        Console.WriteLine($"{churn.Ended} children ended in {clock.Elapsed}");
        foreach (var r in results)
        {
            Console.WriteLine($"{r.Elapsed}: {r.Message}");
        }

        results.Should().OnlyContain(r => r.Message.Contains("did not answer within 2 s"));
    }
}
