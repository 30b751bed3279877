using AuthSplit.Core.Configuration;
using AuthSplit.Core.Directory;
using AuthSplit.Core.Planning;
using AuthSplit.Core.Planning.DryRun;
using Microsoft.Extensions.Logging;

namespace AuthSplit.Ldap;

/// <summary>The legacy directory read live, as a dry run reads it (<see cref="ILegacyDirectoryReader"/>).</summary>
/// <param name="options">The <c>Source</c> section.</param>
/// <param name="loggers">Where the readers log.</param>
/// <param name="progress">Told the number of entries of the planned read so far.</param>
/// <param name="snapshot">Where the planned read's LDIF rendering goes (<c>--save-snapshot</c>'s <c>source.ldif</c>), or <c>null</c>.</param>
public sealed partial class LdapDirectoryReader(SourceOptions options, ILoggerFactory loggers, IProgress<int>? progress = null, Stream? snapshot = null) : ILegacyDirectoryReader
{
    private readonly ILogger _logger = loggers.CreateLogger<LdapDirectoryReader>();

    public bool IsSnapshot => false;

    public Task<ObjectCategoryMap> ReadObjectCategoriesAsync(DistinguishedName baseDn, CancellationToken cancellationToken) =>
        ActiveDirectorySchemaReader.ReadAsync(options, loggers.CreateLogger(typeof(ActiveDirectorySchemaReader).FullName!), cancellationToken);

    public ILegacyDirectorySource OpenLinkRead(IReadOnlyCollection<string> attributes) =>
        new LdapLegacyDirectory(options, loggers.CreateLogger<LdapLegacyDirectory>(), null, attributes);

    public ILegacyDirectorySource OpenPlanningRead(IReadOnlyCollection<string>? attributes)
    {
        if (attributes is not null)
        {
            LogProjectedRead(_logger, attributes.Count, attributes);
        }

        return new LdapLegacyDirectory(options, loggers.CreateLogger<LdapLegacyDirectory>(), progress, attributes, snapshot);
    }

    [LoggerMessage(EventId = 1104, Level = LogLevel.Information, Message = "Reading only the {Count} attributes the plan relies on ({Attributes}); --save-snapshot reads and keeps whole entries")]
    private static partial void LogProjectedRead(ILogger logger, int count, IReadOnlyCollection<string> attributes);
}
