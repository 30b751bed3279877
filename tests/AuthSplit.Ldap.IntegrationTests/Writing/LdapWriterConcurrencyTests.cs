using AuthSplit.Core.Configuration;
using AuthSplit.Lab.Servers;
using AuthSplit.Ldap.Writing;
using Microsoft.Extensions.Logging.Abstractions;

namespace AuthSplit.Ldap.IntegrationTests.Writing;

public sealed class LdapWriterConcurrencyTests
{
    /// <summary>
    /// Sessions opened on many threads at once: before libldap's TLS contexts were created one at a time,
    /// about 1 StartTLS in 200 failed with "operation error" here (3 of 640 opens; 0 of 480 after).
    /// </summary>
    [Fact]
    public async Task Sessions_opened_by_many_callers_at_once_over_StartTLS_and_LDAPS_all_open()
    {
        const string suffix = "dc=concurrency,dc=test";
        await using var server = await SlapdServer.StartAsync(new SlapdServerOptions { Suffix = suffix, NoSync = true }, CancellationToken.None);
        var failures = new List<string>();

        for (var round = 0; round < 10; round++)
        {
            await Task.WhenAll(Enumerable.Range(0, 16).Select(i => Task.Run(async () =>
            {
                // One attempt each: a retry must not hide a failed open.
                using var writer = new LdapLegacyDirectoryWriter(
                    WriterSlapdFixture.SourceOptionsFor(server, ldaps: i % 2 == 0, baseDn: suffix),
                    new ExecutionOptions { LdapMaxRetries = 1, LdapOperationTimeoutSeconds = 20 },
                    NullLogger<LdapLegacyDirectoryWriter>.Instance);
                try
                {
                    (await writer.ReadEntryAsync(suffix, CancellationToken.None)).Should().NotBeNull();
                }
                catch (Core.Errors.ExternalSystemException ex)
                {
                    lock (failures)
                    {
                        failures.Add(ex.Message);
                    }
                }
            })));
        }

        failures.Should().BeEmpty();
    }
}
