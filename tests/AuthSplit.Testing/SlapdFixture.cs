using AuthSplit.Lab.Servers;
using Xunit;

namespace AuthSplit.Testing;

/// <summary>
/// One private slapd per test collection (suffix <c>dc=example,dc=jp</c>, the sample organisation's).
/// If slapd cannot be installed or started the fixture throws: a test must fail, never pass vacuously.
/// </summary>
public sealed class SlapdFixture : IAsyncLifetime
{
    /// <summary>The collection name; each test assembly declares its own <c>[CollectionDefinition]</c> (xunit requires it there).</summary>
    public const string Collection = "slapd";

    private SlapdServer? _server;

    public SlapdServer Server => _server ?? throw new InvalidOperationException("the slapd fixture has not started");

    public async Task InitializeAsync() =>
        _server = await SlapdServer.StartAsync(new SlapdServerOptions { Suffix = "dc=example,dc=jp", NoSync = true, Log = Console.Error }, CancellationToken.None);

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}
