using AuthSplit.Core.Directory;
using AuthSplit.Core.Planning;
using AuthSplit.Core.Planning.DryRun;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace AuthSplit.Ldap.Ldif;

/// <summary>
/// An LDIF snapshot as a dry run reads it (<see cref="ILegacyDirectoryReader"/>): every pass reads the whole
/// file, and Active Directory's class map comes from the <c>&lt;name&gt;-schema.json</c> saved beside it, else
/// from AD's default schema.
/// </summary>
public sealed partial class LdifSnapshotReader(string path, ILoggerFactory? loggers = null) : ILegacyDirectoryReader
{
    private readonly ILoggerFactory _loggers = loggers ?? NullLoggerFactory.Instance;

    public bool IsSnapshot => true;

    /// <summary>The schema file an LDIF snapshot's map is read from: <c>source.ldif</c> → <c>source-schema.json</c>.</summary>
    public static string SchemaPathFor(string ldifPath) =>
        Path.Combine(Path.GetDirectoryName(Path.GetFullPath(ldifPath)) ?? ".", Path.GetFileNameWithoutExtension(ldifPath) + "-schema.json");

    public Task<ObjectCategoryMap> ReadObjectCategoriesAsync(DistinguishedName baseDn, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var schemaPath = SchemaPathFor(path);
        var map = File.Exists(schemaPath) ? ObjectCategoryMap.Read(schemaPath) : ObjectCategoryMap.ActiveDirectoryDefault(baseDn);
        var logger = _loggers.CreateLogger<LdifSnapshotReader>();
        if (logger.IsEnabled(LogLevel.Information))
        {
            LogSchema(
                logger,
                map.Origin == ObjectCategoryMap.SavedOrigin ? schemaPath : "Active Directory's default schema (no " + Path.GetFileName(schemaPath) + " beside the LDIF)",
                map.Classes.Count,
                map.SchemaNamingContext);
        }

        return Task.FromResult(map);
    }

    public ILegacyDirectorySource OpenLinkRead(IReadOnlyCollection<string> attributes) => Open();

    /// <summary>The whole file, whatever <paramref name="attributes"/> asks: its hash is of the file as it is.</summary>
    public ILegacyDirectorySource OpenPlanningRead(IReadOnlyCollection<string>? attributes) => Open();

    private LdifFileSource Open() => new(path, _loggers.CreateLogger<LdifFileSource>());

    [LoggerMessage(EventId = 1202, Level = LogLevel.Information, Message = "objectCategory names resolve against {Schema} ({Count} classes under {SchemaNamingContext})")]
    private static partial void LogSchema(ILogger logger, string schema, int count, string schemaNamingContext);
}
