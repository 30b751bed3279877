using AuthSplit.Core.Configuration;
using AuthSplit.Core.Planning;
using AuthSplit.Core.Planning.DryRun;
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

    /// <summary>
    /// A cluster's node (State:Provider Postgres): Graph writes are paced by the budget all nodes share in the
    /// state database, since Graph's write limit is per app and tenant. Null: this process's own bucket.
    /// </summary>
    public Core.Execution.Cluster.ISharedWriteBudget? SharedWriteBudget { get; init; }

    /// <summary>
    /// The legacy directory as a dry run reads it: the LDIF snapshot at <paramref name="ldifPath"/>, else live
    /// (its planned read told to <paramref name="progress"/> and, with <paramref name="snapshot"/>, saved as <c>source.ldif</c>).
    /// </summary>
    public ILegacyDirectoryReader OpenLegacy(SourceOptions options, string? ldifPath, IProgress<int> progress, SnapshotDirectory? snapshot) =>
        ldifPath is not null
            ? new LdifSnapshotReader(ldifPath, _loggerFactory)
            : new LdapDirectoryReader(options, _loggerFactory, progress, snapshot?.OpenSource());

    /// <summary>The class-map file saved beside an LDIF snapshot: <c>source.ldif</c> → <c>source-schema.json</c>.</summary>
    public static string SchemaPathFor(string ldifPath) => LdifSnapshotReader.SchemaPathFor(ldifPath);

    public static ITargetDirectorySource OpenTargetSnapshot(string path) => new GraphUserSnapshot(path);

    /// <summary>
    /// The tenant read live (the connection lives as long as this factory); with <paramref name="snapshot"/> its pages saved as <c>target/</c> exactly as the
    /// snapshot reader takes them (the plan records their hash, so re-planning from them gives the same plan).
    /// </summary>
    public ITargetDirectorySource OpenLiveTarget(TargetOptions options, IEnumerable<string> matchedProperties, SnapshotDirectory? snapshot)
    {
        var connection = OpenTargetConnection(options);
        GraphUserSnapshotWriter? writer = null;
        if (snapshot is not null)
        {
            writer = new GraphUserSnapshotWriter(snapshot.TargetDirectory);
            snapshot.Add(new StagedTargetPages(writer));
        }

        var directory = new GraphTargetDirectory(connection, matchedProperties, writer);
        log.Information("Reading the target's users from Graph at {Source} ({Properties})", directory.Description, string.Join(", ", directory.Select));
        return directory;
    }

    /// <summary>Resolves what a live directory read needs before it connects (the bind password); bad input names the setting.</summary>
    /// <summary>The legacy directory's write side for the executor (its own retries and reconnects).</summary>
    public Core.Execution.ILegacyDirectoryWriter OpenLegacyWriter(SourceOptions source, ExecutionOptions execution)
    {
        var writer = new Ldap.Writing.LdapLegacyDirectoryWriter(source, execution, _loggerFactory.CreateLogger<Ldap.Writing.LdapLegacyDirectoryWriter>());
        _connections.Add(writer);
        return writer;
    }

    /// <summary>The target tenant for the executor: source-of-authority switches and read-backs, paced under the write limit.</summary>
    public Core.Execution.ITargetTenant OpenTargetTenant(TargetOptions options) => new GraphTenant(OpenTargetConnection(options));

    /// <summary>The logger factory the adapters log through, for hosts that compose them (the scheduler).</summary>
    public ILoggerFactory LoggerFactory => _loggerFactory;

    public static void ResolveSourceCredentials(SourceOptions options) => _ = LdapConnectionSettings.From(options);

    /// <summary>Resolves the Graph credential (secret, token or certificate) as a live read would, without a request.</summary>
    public void ResolveTargetCredentials(TargetOptions options) => OpenTargetConnection(options);

    /// <summary><c>config check --connect</c>: bind to the directory and read its base entry.</summary>
    public Task<string> CheckSourceAsync(SourceOptions options, CancellationToken cancellationToken) =>
        LdapConnectionCheck.ReadBaseEntryAsync(options, _loggerFactory.CreateLogger<LdapLegacyDirectory>(), cancellationToken);

    public const string PasswordPolicyControlOid = LdapConnectionCheck.PasswordPolicyControlOid;

    /// <summary><c>config check --connect</c>: whether the directory announces the password policy control (slapd's ppolicy overlay).</summary>
    public Task<bool> AnnouncesPasswordPolicyAsync(SourceOptions options, CancellationToken cancellationToken) =>
        LdapConnectionCheck.AnnouncesPasswordPolicyAsync(options, _loggerFactory.CreateLogger<LdapLegacyDirectory>(), cancellationToken);

    /// <summary><c>config check --connect</c>: read one page of one Graph user.</summary>
    public Task<string> CheckTargetAsync(TargetOptions options, CancellationToken cancellationToken) =>
        GraphConnectionCheck.ReadOneUserAsync(OpenTargetConnection(options), cancellationToken);

    /// <summary>
    /// On a cluster: null when this node's Graph write limit is the one the shared budget was created with (the
    /// budget is created with it if none exists yet), else what differs. Without a shared budget or a target: null.
    /// </summary>
    public async Task<Core.Execution.Cluster.WriteBudgetMismatch?> SharedWriteBudgetMismatchAsync(TargetOptions? options, CancellationToken cancellationToken)
    {
        if (SharedWriteBudget is not { } budget || options is null)
        {
            return null;
        }

        var (key, limit) = GraphConnection.SharedBudgetOf(options, GraphResilienceOptions.From(options.Limits));
        return await budget.AgreeAsync(key, limit, cancellationToken);
    }

    private GraphConnection OpenTargetConnection(TargetOptions options)
    {
        var connection = GraphConnection.Create(options, GraphResilienceOptions.From(options.Limits), _loggerFactory.CreateLogger<GraphConnection>(),
            sharedWrites: SharedWriteBudget is { } budget ? new SharedWrites(budget, Environment.MachineName) : null);
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

internal sealed class StagedTargetPages(GraphUserSnapshotWriter writer) : IStagedSnapshotPart
{
    public const string PartName = "target";

    public string Name => PartName;

    public string Destination => writer.Destination;

    public void Commit() => writer.Commit();

    public void Dispose() => writer.Dispose();
}
