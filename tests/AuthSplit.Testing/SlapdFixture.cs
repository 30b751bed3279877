using AuthSplit.Lab.Servers;
using Xunit;

namespace AuthSplit.Testing;

/// <summary>
/// A private slapd serving the sample organisation of <c>config/samples/legacy.ldif</c> (suffix
/// <c>dc=example,dc=jp</c>), loaded with slapadd so the entries keep the sample's entryUUIDs. The
/// sample's read-only account <c>cn=authsplit-reader,ou=system,dc=example,dc=jp</c> gets
/// <see cref="ReaderPassword"/>. If slapd cannot be installed or started the fixture throws: a test must
/// fail, never pass vacuously.
/// </summary>
public sealed class SlapdFixture : IAsyncLifetime
{
    /// <summary>The collection name; each test assembly declares its own <c>[CollectionDefinition]</c> (xunit requires it there).</summary>
    public const string Collection = "slapd";

    public const string ReaderDn = "cn=authsplit-reader,ou=system,dc=example,dc=jp";

    private SlapdServer? _server;

    public SlapdServer Server => _server ?? throw new InvalidOperationException("the slapd fixture has not started");

    /// <summary>The reader's password in this private server (a test value).</summary>
    public string ReaderPassword { get; } = "reader-" + Guid.NewGuid().ToString("N");

    public async Task InitializeAsync()
    {
        _server = await SlapdServer.StartAsync(new SlapdServerOptions { Suffix = "dc=example,dc=jp", NoSync = true, CreateSuffixEntry = false, Log = Console.Error }, CancellationToken.None);
        await _server.LoadLdifAsync(Path.Combine(TestPaths.Samples, "legacy.ldif"), CancellationToken.None);
        await _server.ModifyAsync($"dn: {ReaderDn}\nchangetype: modify\nreplace: userPassword\nuserPassword: {ReaderPassword}\n", CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}
