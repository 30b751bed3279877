using AuthSplit.Core.Configuration;
using AuthSplit.Core.Model;
using AuthSplit.Core.Planning;
using AuthSplit.Graph.Auth;
using AuthSplit.Graph.Resilience;
using AuthSplit.Graph.Snapshots;
using AuthSplit.Graph.Users;
using AuthSplit.Ldap;
using AuthSplit.Ldap.Ldif;
using Microsoft.Extensions.Logging;
using Serilog.Extensions.Logging;

namespace AuthSplit.Cli.Planning;

/// <summary>The composition of the adapters a plan needs; the only place the CLI names adapter types.</summary>
public sealed class AdapterFactory(Serilog.ILogger log) : IDisposable
{
    private readonly SerilogLoggerFactory _loggerFactory = new(log);
    private readonly List<IDisposable> _connections = [];

    public LdifFileSource OpenLdif(string path) => new(path, _loggerFactory.CreateLogger<LdifFileSource>());

    public ILegacyDirectorySource OpenLive(SourceOptions options, IProgress<int> progress, IReadOnlyCollection<string>? attributes) =>
        new LdapLegacyDirectory(options, _loggerFactory.CreateLogger<LdapLegacyDirectory>(), progress, attributes);

    /// <summary>Active Directory's class → defaultObjectCategory map, read from the directory's schema partition.</summary>
    public Task<Core.Directory.ObjectCategoryMap> ReadObjectCategoriesAsync(SourceOptions options, CancellationToken cancellationToken) =>
        ActiveDirectorySchemaReader.ReadAsync(options, _loggerFactory.CreateLogger(typeof(ActiveDirectorySchemaReader).FullName!), cancellationToken);

    public static ISnapshotWriter CreateLdifWriter(Stream stream) => new LdifSnapshotWriter(new LdifWriter(stream));

    public static GraphUserSnapshot OpenTargetSnapshot(string path) => new(path);

    /// <summary>The tenant read live; the connection lives as long as this factory.</summary>
    public GraphTargetDirectory OpenLiveTarget(TargetOptions options, IEnumerable<string> matchedProperties)
    {
        var connection = GraphConnection.Create(options, GraphResilienceOptions.From(options.Limits), _loggerFactory.CreateLogger<GraphConnection>());
        _connections.Add(connection);
        return new GraphTargetDirectory(connection, matchedProperties);
    }

    /// <summary>Resolves what a live directory read needs before it connects (the bind password); bad input names the setting.</summary>
    public static void ResolveSourceCredentials(SourceOptions options) => _ = LdapConnectionSettings.From(options);

    /// <summary>Resolves the Graph credential (secret, token or certificate) as a live read would, without a request.</summary>
    public void ResolveTargetCredentials(TargetOptions options) => OpenTargetConnection(options);

    /// <summary><c>config check --connect</c>: bind to the directory and read its base entry.</summary>
    public Task<string> CheckSourceAsync(SourceOptions options, CancellationToken cancellationToken) =>
        LdapConnectionCheck.ReadBaseEntryAsync(options, _loggerFactory.CreateLogger<LdapLegacyDirectory>(), cancellationToken);

    /// <summary><c>config check --connect</c>: read one page of one Graph user.</summary>
    public Task<string> CheckTargetAsync(TargetOptions options, CancellationToken cancellationToken) =>
        GraphConnectionCheck.ReadOneUserAsync(OpenTargetConnection(options), cancellationToken);

    private GraphConnection OpenTargetConnection(TargetOptions options)
    {
        var connection = GraphConnection.Create(options, GraphResilienceOptions.From(options.Limits), _loggerFactory.CreateLogger<GraphConnection>());
        _connections.Add(connection);
        return connection;
    }

    public void Dispose()
    {
        foreach (var connection in _connections)
        {
            connection.Dispose();
        }

        _loggerFactory.Dispose();
    }
}

/// <summary>Writes legacy entries into a snapshot.</summary>
public interface ISnapshotWriter : IAsyncDisposable
{
    ValueTask WriteAsync(DirectoryEntry entry, CancellationToken cancellationToken);

    /// <summary>Marks the snapshot complete (its trailer); a snapshot disposed without it reads as cut off.</summary>
    ValueTask CompleteAsync(CancellationToken cancellationToken);
}

internal sealed class LdifSnapshotWriter(LdifWriter writer) : ISnapshotWriter
{
    public ValueTask WriteAsync(DirectoryEntry entry, CancellationToken cancellationToken) => writer.WriteAsync(entry, cancellationToken);

    public ValueTask CompleteAsync(CancellationToken cancellationToken) => writer.CompleteAsync(cancellationToken);

    public ValueTask DisposeAsync() => writer.DisposeAsync();
}
