using AuthSplit.Core.Model;
using AuthSplit.Core.Planning.Format;

namespace AuthSplit.Core.Planning;

/// <summary>
/// Where the planner reads the legacy directory from: a live LDAP/AD read or an LDIF snapshot.
/// </summary>
public interface ILegacyDirectorySource
{
    /// <summary>What this source is, for the plan's inputs and for messages (never a credential).</summary>
    string Description { get; }

    /// <summary>
    /// Streams every entry under the configured base DN with all user and operational attributes.
    /// The sequence completes only when the read was complete: a dropped connection, a page loop that
    /// ended early or a size limit throws (<see cref="Errors.ExternalSystemException"/> or
    /// <see cref="Errors.InputException"/>) instead of ending short, because a short read planned as
    /// "everyone else is gone" is how sync tools have deleted whole user bases.
    /// </summary>
    IAsyncEnumerable<DirectoryEntry> ReadEntriesAsync(CancellationToken cancellationToken);

    /// <summary>
    /// The plan's record of the last read: kind, location, entry count and the hash of exactly what was
    /// read (for a live read, of its LDIF rendering, which is the snapshot <c>--save-snapshot</c> keeps).
    /// An Active Directory source's schema is added by the planning use case, which knows the class map
    /// the filters were compiled against.
    /// </summary>
    /// <exception cref="InvalidOperationException">No read has completed (never started, still running, or failed).</exception>
    InputDescription DescribeRead();
}
