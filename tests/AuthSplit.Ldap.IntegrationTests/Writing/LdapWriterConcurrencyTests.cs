using AuthSplit.Core.Configuration;
using AuthSplit.Lab.Servers;
using AuthSplit.Ldap.Writing;
using Microsoft.Extensions.Logging.Abstractions;

namespace AuthSplit.Ldap.IntegrationTests.Writing;

public sealed class LdapWriterConcurrencyTests
{
    /// <summary>
    /// Sixteen callers of a fresh writer at once, each needing a session: opened all at once, about 1
    /// StartTLS in 200 failed here with libldap's "operation error" (3 of 640 opens), so the writer's pool
    /// opens them one at a time.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Sessions_opened_for_many_callers_at_once_all_open(bool ldaps)
    {
        const string suffix = "dc=concurrency,dc=test";
        await using var server = await SlapdServer.StartAsync(new SlapdServerOptions { Suffix = suffix, NoSync = true }, CancellationToken.None);
        var failures = new List<string>();

        for (var round = 0; round < 10; round++)
        {
            // One attempt: a retry must not hide a failed open.
            using var writer = new LdapLegacyDirectoryWriter(
                WriterSlapdFixture.SourceOptionsFor(server, ldaps, baseDn: suffix),
                new ExecutionOptions { LdapMaxRetries = 1, LdapOperationTimeoutSeconds = 20 },
                NullLogger<LdapLegacyDirectoryWriter>.Instance);
            await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Task.Run(async () =>
            {
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
