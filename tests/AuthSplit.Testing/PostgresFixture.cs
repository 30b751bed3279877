using AuthSplit.Lab.Servers;
using Xunit;

namespace AuthSplit.Testing;

/// <summary>
/// A private PostgreSQL (Debian's package, installed when missing) shared by the tests of a collection;
/// each test class or test takes a fresh database from it (<see cref="PostgresServer.CreateDatabaseAsync"/>).
/// If the server cannot be installed or started the fixture throws, with the server's log tail: a test
/// must fail, never pass vacuously. Start is bounded, so a test never hangs on it.
/// </summary>
public sealed class PostgresFixture : IAsyncLifetime
{
    /// <summary>The collection name; each test assembly declares its own <c>[CollectionDefinition]</c> (xunit requires it there).</summary>
    public const string Collection = "postgres";

    private PostgresServer? _server;

    public PostgresServer Server => _server ?? throw new InvalidOperationException("the PostgreSQL fixture has not started");

    public async Task InitializeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(25));
        _server = await PostgresServer.StartAsync(new PostgresServerOptions { NoSync = true, Log = Console.Error }, timeout.Token);
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}
