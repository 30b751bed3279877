using AuthSplit.Core.Configuration;
using AuthSplit.Core.Directory;
using AuthSplit.Core.Errors;
using AuthSplit.Core.Planning.Format;

namespace AuthSplit.Core.Planning.DryRun;

/// <summary>
/// Compiles the plan's filters against the legacy directory's own semantics before its entries are
/// planned, so an offline plan selects what Active Directory selects. For AD: the class →
/// defaultObjectCategory map (<see cref="ILegacyDirectoryReader.ReadObjectCategoriesAsync"/>), and, when a
/// filter has an in-chain match, the link closures from a first pass over the source (the second pass
/// plans). OpenLDAP filters compile as they are.
/// </summary>
internal sealed class SourceSemantics
{
    private const string InChainRuleOid = "1.2.840.113556.1.4.1941";

    private readonly string? _firstPassSha256;

    private SourceSemantics(PlanningSettings settings, ObjectCategoryMap? map, string? firstPassSha256)
    {
        Settings = settings;
        ObjectCategories = map;
        _firstPassSha256 = firstPassSha256;
    }

    /// <summary>The settings with every filter compiled against the directory's semantics.</summary>
    public PlanningSettings Settings { get; }

    /// <summary>The class map the filters were compiled against (Active Directory only).</summary>
    public ObjectCategoryMap? ObjectCategories { get; }

    public static async Task<SourceSemantics> PrepareAsync(ILegacyDirectoryReader legacy, PlanningSettings settings, IDryRunObserver observer, CancellationToken cancellationToken)
    {
        if (settings.Dialect != DirectoryDialect.ActiveDirectory)
        {
            if (settings.Filters.Any(f => f?.HasInChainMatch == true))
            {
                throw new InputException("config-invalid", $"a filter uses the in-chain match {InChainRuleOid}, which only Active Directory evaluates (Source:Dialect is {settings.Dialect})");
            }

            return new SourceSemantics(settings, null, null);
        }

        var options = settings.Options;
        var map = await legacy.ReadObjectCategoriesAsync(settings.BaseDn, cancellationToken);
        var chains = new LinkChainBuilder(PlanningSettings.From(options, new FilterContext(map)).Filters);
        string? firstPassSha256 = null;
        if (chains.IsNeeded)
        {
            observer.LinkPassStarting(chains.Attributes);
            var source = legacy.OpenLinkRead([.. chains.Attributes]);
            await foreach (var entry in source.ReadEntriesAsync(cancellationToken))
            {
                chains.Add(entry);
            }

            if (legacy.IsSnapshot)
            {
                firstPassSha256 = source.DescribeRead().Sha256;
            }
        }

        var context = new FilterContext(map, chains.IsNeeded ? chains.Build() : null);
        return new SourceSemantics(PlanningSettings.From(options, context), map, firstPassSha256);
    }

    /// <summary>
    /// The source's input description with the schema the filters were compiled against (so the plan id
    /// changes when the map does); refuses a snapshot that changed between the two passes.
    /// </summary>
    public InputDescription Describe(InputDescription source)
    {
        if (_firstPassSha256 is not null && !string.Equals(_firstPassSha256, source.Sha256, StringComparison.Ordinal))
        {
            throw new InputException("source-changed", "the LDIF snapshot changed between the two reads planning it (links, then entries); plan from a file nothing writes to", source.Location);
        }

        return ObjectCategories is null ? source : source with
        {
            Schema = new SchemaDescription { Origin = ObjectCategories.Origin, Sha256 = ObjectCategories.Sha256, Classes = ObjectCategories.Classes.Count },
        };
    }
}
