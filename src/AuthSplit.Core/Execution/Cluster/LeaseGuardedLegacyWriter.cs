using AuthSplit.Core.Configuration;
using AuthSplit.Core.Model;

namespace AuthSplit.Core.Execution.Cluster;

/// <summary>The legacy directory as a leased run sees it: every write asks the lease first, reads go straight through.</summary>
internal sealed class LeaseGuardedLegacyWriter(ILegacyDirectoryWriter inner, WorkLease lease) : ILegacyDirectoryWriter
{
    public string Description => inner.Description;

    public DirectoryDialect Dialect => inner.Dialect;

    public Task<DirectoryEntry?> ReadEntryAsync(string dn, CancellationToken cancellationToken) => inner.ReadEntryAsync(dn, cancellationToken);

    public Task<IReadOnlyList<DirectoryEntry>> FindByIdentityAsync(string entityId, CancellationToken cancellationToken) => inner.FindByIdentityAsync(entityId, cancellationToken);

    public Task<IReadOnlyList<GroupListing>> FindGroupsListingAsync(string memberDn, CancellationToken cancellationToken) => inner.FindGroupsListingAsync(memberDn, cancellationToken);

    public Task<LegacyWriteResult> ModifyAsync(string dn, IReadOnlyList<AttributeChange> changes, CancellationToken cancellationToken)
    {
        lease.ThrowIfNotHeld();
        return inner.ModifyAsync(dn, changes, cancellationToken);
    }

    public Task<LegacyWriteResult> MoveAsync(string dn, string newParentDn, CancellationToken cancellationToken)
    {
        lease.ThrowIfNotHeld();
        return inner.MoveAsync(dn, newParentDn, cancellationToken);
    }

    public Task<LegacyWriteResult> DeleteAsync(string dn, CancellationToken cancellationToken)
    {
        lease.ThrowIfNotHeld();
        return inner.DeleteAsync(dn, cancellationToken);
    }

    public Task<LegacyWriteResult> AddAsync(DirectoryEntry entry, CancellationToken cancellationToken)
    {
        lease.ThrowIfNotHeld();
        return inner.AddAsync(entry, cancellationToken);
    }
}
