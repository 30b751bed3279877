namespace AuthSplit.Core.Directory;

/// <summary>
/// What a filter needs from the directory besides the entry it is evaluated on, so that it selects what
/// the server itself selects: Active Directory's class → defaultObjectCategory map (short names in
/// <c>objectCategory=</c>) and the link graph that LDAP_MATCHING_RULE_IN_CHAIN walks. Both are resolved
/// when the filter is compiled, so evaluating an entry costs no look-up beyond a hash probe.
/// </summary>
public sealed class FilterContext(ObjectCategoryMap? objectCategories, LinkChains? chains = null)
{
    /// <summary>AD's map; null outside Active Directory (OpenLDAP compares objectCategory as written).</summary>
    public ObjectCategoryMap? ObjectCategories { get; } = objectCategories;

    /// <summary>The resolved in-chain closures; null until the directory's links were read.</summary>
    public LinkChains? Chains { get; } = chains;
}
