using AuthSplit.Cli.Output;
using AuthSplit.Core.Configuration;
using AuthSplit.Core.Directory;
using AuthSplit.Core.Errors;
using AuthSplit.Core.Planning;
using AuthSplit.Core.Planning.Format;
using Serilog;

namespace AuthSplit.Cli.Planning;

/// <summary>
/// Compiles the plan's filters against the legacy directory's own semantics before its entries are
/// planned, so an offline plan selects what Active Directory selects. For AD: the class →
/// defaultObjectCategory map (live: the schema partition; offline: the <c>&lt;name&gt;-schema.json</c>
/// saved beside the LDIF, else AD's default schema under the base DN's domain), and, when a filter has an
/// in-chain match, the link closures from a first pass over the source (the second pass plans). OpenLDAP
/// filters compile as they are.
/// </summary>
public sealed class SourceSemantics
{
    /// <summary>The name of the schema file saved beside a snapshot's source.ldif.</summary>
    public const string SavedSchemaFile = "source-schema.json";

    private const string InChainRuleOid = "1.2.840.113556.1.4.1941";

    private readonly ObjectCategoryMap? _map;
    private readonly string? _firstPassSha256;

    private SourceSemantics(PlanningSettings settings, ObjectCategoryMap? map, string? firstPassSha256)
    {
        Settings = settings;
        _map = map;
        _firstPassSha256 = firstPassSha256;
    }

    /// <summary>The settings with every filter compiled against the directory's semantics.</summary>
    public PlanningSettings Settings { get; }

    /// <summary>The schema file an LDIF snapshot's map is read from: <c>source.ldif</c> → <c>source-schema.json</c>.</summary>
    public static string SchemaPathFor(string ldifPath) =>
        Path.Combine(Path.GetDirectoryName(Path.GetFullPath(ldifPath)) ?? ".", Path.GetFileNameWithoutExtension(ldifPath) + "-schema.json");

    public static async Task<SourceSemantics> PrepareAsync(AdapterFactory adapters, AuthSplitOptions options, PlanningSettings settings, string? ldifPath, ILogger log, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(adapters);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(settings);
        if (settings.Dialect != DirectoryDialect.ActiveDirectory)
        {
            if (settings.Filters.Any(f => f?.HasInChainMatch == true))
            {
                throw new InputException("config-invalid", $"a filter uses the in-chain match {InChainRuleOid}, which only Active Directory evaluates (Source:Dialect is {settings.Dialect})");
            }

            return new SourceSemantics(settings, null, null);
        }

        ObjectCategoryMap map;
        if (ldifPath is null)
        {
            map = await adapters.ReadObjectCategoriesAsync(options.Source, cancellationToken);
        }
        else
        {
            var schemaPath = SchemaPathFor(ldifPath);
            map = File.Exists(schemaPath) ? ObjectCategoryMap.Read(schemaPath) : ObjectCategoryMap.ActiveDirectoryDefault(settings.BaseDn);
            log.Information(
                "objectCategory names resolve against {Schema} ({Count} classes under {SchemaNamingContext})",
                map.Origin == ObjectCategoryMap.SavedOrigin ? schemaPath : "Active Directory's default schema (no " + Path.GetFileName(schemaPath) + " beside the LDIF)",
                map.Classes.Count,
                map.SchemaNamingContext);
        }

        var chains = new LinkChainBuilder(PlanningSettings.From(options, new FilterContext(map)).Filters);
        string? firstPassSha256 = null;
        if (chains.IsNeeded)
        {
            log.Information("A filter matches in chain (1.2.840.113556.1.4.1941): reading the source's {Attributes} links first (a second pass plans)", string.Join(", ", chains.Attributes));
            if (ldifPath is null)
            {
                var directory = adapters.OpenLive(options.Source, new Progress<int>(), [.. chains.Attributes]);
                await foreach (var entry in directory.ReadEntriesAsync(cancellationToken))
                {
                    chains.Add(entry);
                }
            }
            else
            {
                var source = adapters.OpenLdif(ldifPath);
                await foreach (var entry in source.ReadEntriesAsync(cancellationToken))
                {
                    chains.Add(entry);
                }

                firstPassSha256 = source.Sha256;
            }
        }

        var context = new FilterContext(map, chains.IsNeeded ? chains.Build() : null);
        return new SourceSemantics(PlanningSettings.From(options, context), map, firstPassSha256);
    }

    /// <summary>
    /// The source's input description with the schema the filters were compiled against (so the plan id
    /// changes when the map does); refuses an LDIF that changed between the two passes.
    /// </summary>
    public InputDescription Describe(InputDescription source)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (_firstPassSha256 is not null && !string.Equals(_firstPassSha256, source.Sha256, StringComparison.Ordinal))
        {
            throw new InputException("source-changed", "the LDIF snapshot changed between the two reads planning it (links, then entries); plan from a file nothing writes to", source.Location);
        }

        return _map is null ? source : source with
        {
            Schema = new SchemaDescription { Origin = _map.Origin, Sha256 = _map.Sha256, Classes = _map.Classes.Count },
        };
    }

    /// <summary>Saves the live read's schema beside the snapshot's source.ldif (AD only).</summary>
    public async Task SaveAsync(string? saveDirectory, ILogger log, CancellationToken cancellationToken)
    {
        if (saveDirectory is null || _map is null)
        {
            return;
        }

        var path = Path.Combine(saveDirectory, SavedSchemaFile);
        await AtomicFile.WriteAsync(path, (stream, ct) => _map.WriteAsync(stream, ct), cancellationToken);
        log.Information("Saved the directory's class map (objectCategory names) to {Path}", path);
    }
}
