using AuthSplit.Core.Configuration;
using AuthSplit.Core.Model;

namespace AuthSplit.Core.Execution;

/// <summary>
/// The legacy directory as the executor's steps use it: a handful of LDAP primitives. What to write
/// (which attribute disables an account in which dialect, which groups to clean before a delete) is
/// decided in the core; the adapter only carries it out, through its own resilience pipeline (reconnect
/// after a server restart, bounded retries, per-operation timeouts).
/// </summary>
/// <remarks>
/// Outcomes a step must act on are values (<see cref="LegacyWriteStatus"/>): an entry that is already
/// gone, a value that is already absent, a refusal by the server. An <see cref="Errors.ExternalSystemException"/>
/// means the directory stayed unreachable after the adapter's retries: the wave stops, resumable, rather
/// than failing every remaining entity.
/// </remarks>
public interface ILegacyDirectoryWriter
{
    /// <summary>What this directory is, for messages and the journal (never a credential).</summary>
    string Description { get; }

    DirectoryDialect Dialect { get; }

    /// <summary>The entry at <paramref name="dn"/> with every user and operational attribute (<c>*</c> and <c>+</c>), or null when there is no such entry.</summary>
    Task<DirectoryEntry?> ReadEntryAsync(string dn, CancellationToken cancellationToken);

    /// <summary>
    /// Every entry under the source's base DN whose identity attribute (<c>entryUUID</c> on OpenLDAP,
    /// <c>objectGUID</c> on AD) is <paramref name="entityId"/>, with every user and operational attribute.
    /// Normally zero or one; more is reported, never guessed between.
    /// </summary>
    Task<IReadOnlyList<DirectoryEntry>> FindByIdentityAsync(string entityId, CancellationToken cancellationToken);

    /// <summary>Every group under the base DN that lists <paramref name="memberDn"/> in a membership attribute (<c>member</c>, <c>uniqueMember</c>).</summary>
    Task<IReadOnlyList<GroupListing>> FindGroupsListingAsync(string memberDn, CancellationToken cancellationToken);

    /// <summary>Applies <paramref name="changes"/> to the entry at <paramref name="dn"/> in one modify operation.</summary>
    Task<LegacyWriteResult> ModifyAsync(string dn, IReadOnlyList<AttributeChange> changes, CancellationToken cancellationToken);

    /// <summary>Moves the entry under <paramref name="newParentDn"/>, keeping its RDN; the result's <see cref="LegacyWriteResult.Dn"/> is the new DN.</summary>
    Task<LegacyWriteResult> MoveAsync(string dn, string newParentDn, CancellationToken cancellationToken);

    Task<LegacyWriteResult> DeleteAsync(string dn, CancellationToken cancellationToken);

    /// <summary>Adds <paramref name="entry"/> as it is (restore); attributes the server manages itself must already be left out.</summary>
    Task<LegacyWriteResult> AddAsync(DirectoryEntry entry, CancellationToken cancellationToken);
}

/// <summary>A group that lists a member: its DN, its identity (entryUUID/objectGUID as the plan writes ids) and the attribute that holds the member.</summary>
public sealed record GroupListing(string GroupDn, string? GroupId, string Attribute);

public enum AttributeChangeKind
{
    Add,
    Delete,
    Replace,
}

/// <summary>One change of a modify operation; <see cref="Values"/> empty with <see cref="AttributeChangeKind.Delete"/> removes the attribute.</summary>
public sealed record AttributeChange(AttributeChangeKind Kind, string Attribute, IReadOnlyList<byte[]> Values);

public enum LegacyWriteStatus
{
    /// <summary>The server applied the operation.</summary>
    Done,

    /// <summary>The entry (or the new parent) does not exist (noSuchObject).</summary>
    NoSuchObject,

    /// <summary>An add or move found an entry already there (entryAlreadyExists).</summary>
    AlreadyExists,

    /// <summary>A value to delete was not there, or one to add already was (noSuchAttribute, attributeOrValueExists).</summary>
    AlreadyInState,

    /// <summary>The server refused it for good (insufficientAccessRights, constraintViolation, unwillingToPerform, notAllowedOnNonLeaf...): retrying will not help.</summary>
    Rejected,
}

/// <summary>What the server said; <see cref="Detail"/> is its result code and diagnostic message (never a credential).</summary>
public sealed record LegacyWriteResult(LegacyWriteStatus Status, string? Detail = null, string? Dn = null)
{
    public static LegacyWriteResult Done(string? dn = null) => new(LegacyWriteStatus.Done, null, dn);
}
