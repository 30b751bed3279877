using AuthSplit.Core.Configuration;
using AuthSplit.Core.Directory;
using AuthSplit.Core.Planning.Format;
using AuthSplit.Core.Planning.Preconditions;

namespace AuthSplit.Core.Planning;

/// <summary>
/// The validated configuration compiled for planning: filters parsed, DNs normalised, dialect defaults
/// filled in. Build it only from options that <see cref="AuthSplitOptionsValidator"/> accepted.
/// </summary>
public sealed class PlanningSettings
{
    private PlanningSettings(
        AuthSplitOptions options,
        IReadOnlyList<CompiledWave> waves,
        IReadOnlyList<CompiledMatchingRule> matching,
        LdapFilter? protectedFilter,
        IReadOnlyList<DistinguishedName> protectedDns,
        DistinguishedName? bindDn,
        EntityClassifier classifier,
        FilterContext? filterContext)
    {
        Options = options;
        FilterContext = filterContext;
        Dialect = options.Source.Dialect;
        BaseDn = DistinguishedName.Parse(options.Source.BaseDn ?? string.Empty);
        Waves = waves;
        Matching = matching;
        ProtectedFilter = protectedFilter;
        ProtectedDns = protectedDns;
        BindDn = bindDn;
        Classifier = classifier;
        IdentityAttribute = EntityIdentity.AttributeFor(Dialect);
        FingerprintAttributes = CollectFingerprintAttributes();
        Echo = BuildEcho();
    }

    public AuthSplitOptions Options { get; }

    public DirectoryDialect Dialect { get; }

    public DistinguishedName BaseDn { get; }

    /// <summary>Waves in execution order.</summary>
    public IReadOnlyList<CompiledWave> Waves { get; }

    public IReadOnlyList<CompiledMatchingRule> Matching { get; }

    public LdapFilter? ProtectedFilter { get; }

    public IReadOnlyList<DistinguishedName> ProtectedDns { get; }

    /// <summary>The account the tool binds with: never planned for removal.</summary>
    public DistinguishedName? BindDn { get; }

    public EntityClassifier Classifier { get; }

    /// <summary>What the filters were compiled against (AD's class map, in-chain closures); null for OpenLDAP.</summary>
    public FilterContext? FilterContext { get; }

    /// <summary>Every filter the planner evaluates: waves, protection, classification.</summary>
    public IEnumerable<LdapFilter?> Filters => Waves.Select(w => w.Filter).Append(ProtectedFilter).Concat(Classifier.Filters);

    public string IdentityAttribute { get; }

    public IReadOnlyList<string> FingerprintAttributes { get; }

    /// <summary>The settings as they are written into the plan (and hashed as the config input).</summary>
    public PlanSettings Echo { get; }

    /// <param name="options">The validated configuration.</param>
    /// <param name="context">
    /// The directory semantics to compile the filters against. Null means: for Active Directory, AD's
    /// default schema under the base DN's domain and no in-chain closures (an in-chain filter then cannot
    /// be evaluated); for OpenLDAP, none.
    /// </param>
    public static PlanningSettings From(AuthSplitOptions options, FilterContext? context = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (context is null && options.Source.Dialect == DirectoryDialect.ActiveDirectory)
        {
            context = new FilterContext(ObjectCategoryMap.ActiveDirectoryDefault(DistinguishedName.Parse(options.Source.BaseDn ?? string.Empty)));
        }

        var waves = options.Waves
            .Select(w => new CompiledWave(
                w.Name!,
                w.Order,
                w.Deadline!,
                DistinguishedName.Parse(w.BaseDn!),
                LdapFilter.Parse(w.Filter!, context),
                w.Filter!.Trim(),
                [.. w.DependsOn],
                w.AllowEmptyScope))
            .OrderBy(w => w.Order)
            .ToArray();
        var matching = options.Matching
            .Select((m, i) => new CompiledMatchingRule(
                i + 1,
                m.Source!.Trim(),
                m.Target!.Trim(),
                m.Transform ?? (string.Equals(m.Target?.Trim(), "onPremisesImmutableId", StringComparison.OrdinalIgnoreCase) ? MatchTransform.Base64 : MatchTransform.None)))
            .ToArray();
        var protectedFilter = string.IsNullOrWhiteSpace(options.Safety.ProtectedFilter) ? null : LdapFilter.Parse(options.Safety.ProtectedFilter, context);
        var protectedDns = options.Safety.ProtectedDns.Select(DistinguishedName.Parse).ToArray();
        var bindDn = string.IsNullOrWhiteSpace(options.Source.BindDn) ? null : DistinguishedName.Parse(options.Source.BindDn);
        return new PlanningSettings(options, waves, matching, protectedFilter, protectedDns, bindDn, EntityClassifier.For(options.Source.Dialect, options.Classification, context), context);
    }

    private string[] CollectFingerprintAttributes()
    {
        var names = new SortedSet<string>(StringComparer.Ordinal) { "objectclass", IdentityAttribute };
        foreach (var wave in Waves)
        {
            names.UnionWith(wave.Filter.AttributeNames);
        }

        foreach (var rule in Matching)
        {
            names.Add(rule.Source.ToLowerInvariant());
        }

        if (ProtectedFilter is not null)
        {
            names.UnionWith(ProtectedFilter.AttributeNames);
        }

        names.UnionWith(Classifier.AttributeNames);
        names.UnionWith(BuiltInProtection.AttributeNames(Dialect));
        return [.. names];
    }

    private PlanSettings BuildEcho()
    {
        var safety = Options.Safety;
        return new PlanSettings
        {
            Dialect = Dialect.ToString(),
            BaseDn = BaseDn.Original,
            Waves = [.. Waves.Select(w => new WaveSettings(w.Name, w.Order, w.Deadline, w.BaseDn.Original, w.FilterText, w.DependsOn, w.AllowEmptyScope))],
            Matching = [.. Matching.Select(m => new MatchingRuleSettings(m.Rule, m.Source, m.Target, m.Transform.ToString()))],
            Safety = new SafetySettings(
                string.IsNullOrWhiteSpace(safety.ProtectedFilter) ? null : safety.ProtectedFilter.Trim(),
                [.. ProtectedDns.Select(d => d.Original)],
                BuiltInProtection.Describe(Dialect),
                safety.MaxDeletesPerWave,
                safety.MaxScopeDropPercent),
            Classification = new ClassificationSettings(Classifier.ServiceAccountFilterText, Classifier.GroupFilterText, Classifier.PersonFilterText),
            Removal = new RemovalSettings(
                string.IsNullOrWhiteSpace(Options.Removal.QuarantineDn) ? null : Options.Removal.QuarantineDn.Trim(),
                Options.Removal.HoldDays,
                Options.Removal.BackupRetentionDays),
            FingerprintAttributes = FingerprintAttributes,
            PasswordSyncHook = Options.PasswordSync is { Strategy: PasswordSyncStrategy.Command } sync
                ? new PasswordSyncHookSpec
                {
                    Command = [.. sync.Command],
                    ReadBackCommand = sync.ReadBackCommand.Count > 0 ? [.. sync.ReadBackCommand] : null,
                    ReadBackGraphProperty = string.IsNullOrWhiteSpace(sync.ReadBackGraphProperty) ? null : sync.ReadBackGraphProperty.Trim(),
                    ReadBackGraphValue = sync.ReadBackGraphValue,
                    BatchSize = sync.BatchSize,
                    TimeoutSeconds = sync.TimeoutSeconds,
                }
                : null,
        };
    }
}

public sealed record CompiledWave(
    string Name,
    int Order,
    string Deadline,
    DistinguishedName BaseDn,
    LdapFilter Filter,
    string FilterText,
    IReadOnlyList<string> DependsOn,
    bool AllowEmptyScope)
{
    public bool Contains(DistinguishedName dn, Model.DirectoryEntry entry) => dn.IsWithin(BaseDn) && Filter.Matches(entry);
}

public sealed record CompiledMatchingRule(int Rule, string Source, string Target, MatchTransform Transform);
