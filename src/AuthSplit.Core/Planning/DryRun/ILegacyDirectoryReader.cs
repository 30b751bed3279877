using AuthSplit.Core.Directory;

namespace AuthSplit.Core.Planning.DryRun;

/// <summary>
/// The legacy directory as a dry run reads it: live (LDAP or Active Directory) or a saved LDIF snapshot.
/// Besides the read that is planned, Active Directory's filter semantics need its class map and, for an
/// in-chain filter, a first pass over the links.
/// </summary>
public interface ILegacyDirectoryReader
{
    /// <summary>
    /// A saved snapshot, which must read the same on every pass (two passes that hash differently mean the
    /// file changed under the plan); a live directory may change between passes.
    /// </summary>
    bool IsSnapshot { get; }

    /// <summary>
    /// Active Directory's class → defaultObjectCategory map: live from the schema partition; for a
    /// snapshot the schema saved beside it, else AD's default schema under <paramref name="baseDn"/>'s domain.
    /// </summary>
    Task<ObjectCategoryMap> ReadObjectCategoriesAsync(DistinguishedName baseDn, CancellationToken cancellationToken);

    /// <summary>The in-chain first pass: a read of (at least) these link attributes.</summary>
    ILegacyDirectorySource OpenLinkRead(IReadOnlyCollection<string> attributes);

    /// <summary>
    /// The read that is planned. <paramref name="attributes"/>: <c>null</c> for whole entries (what a saved
    /// snapshot must hold), else (at least) these. A live read being saved writes what it read into the snapshot as it reads it.
    /// </summary>
    ILegacyDirectorySource OpenPlanningRead(IReadOnlyCollection<string>? attributes);
}
