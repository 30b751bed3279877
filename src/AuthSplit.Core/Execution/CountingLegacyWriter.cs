using AuthSplit.Core.Configuration;
using AuthSplit.Core.Model;

namespace AuthSplit.Core.Execution;

/// <summary>Counts the LDAP operations of a run, for the rate the progress display and the deadline forecast use.</summary>
internal sealed class CountingLegacyWriter(ILegacyDirectoryWriter inner) : ILegacyDirectoryWriter
{
    private long _operations;

    public long Operations => Interlocked.Read(ref _operations);

    public string Description => inner.Description;

    public DirectoryDialect Dialect => inner.Dialect;

    public Task<DirectoryEntry?> ReadEntryAsync(string dn, CancellationToken cancellationToken) => Count(inner.ReadEntryAsync(dn, cancellationToken));

    public Task<IReadOnlyList<DirectoryEntry>> FindByIdentityAsync(string entityId, CancellationToken cancellationToken) => Count(inner.FindByIdentityAsync(entityId, cancellationToken));

    public Task<IReadOnlyList<GroupListing>> FindGroupsListingAsync(string memberDn, CancellationToken cancellationToken) => Count(inner.FindGroupsListingAsync(memberDn, cancellationToken));

    public Task<LegacyWriteResult> ModifyAsync(string dn, IReadOnlyList<AttributeChange> changes, CancellationToken cancellationToken) => Count(inner.ModifyAsync(dn, changes, cancellationToken));

    public Task<LegacyWriteResult> MoveAsync(string dn, string newParentDn, CancellationToken cancellationToken) => Count(inner.MoveAsync(dn, newParentDn, cancellationToken));

    public Task<LegacyWriteResult> DeleteAsync(string dn, CancellationToken cancellationToken) => Count(inner.DeleteAsync(dn, cancellationToken));

    public Task<LegacyWriteResult> AddAsync(DirectoryEntry entry, CancellationToken cancellationToken) => Count(inner.AddAsync(entry, cancellationToken));

    private Task<T> Count<T>(Task<T> operation)
    {
        Interlocked.Increment(ref _operations);
        return operation;
    }
}
