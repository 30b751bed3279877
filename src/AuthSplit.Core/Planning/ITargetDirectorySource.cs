using AuthSplit.Core.Model;
using AuthSplit.Core.Planning.Format;

namespace AuthSplit.Core.Planning;

/// <summary>Where the planner reads the target IdP's users from: live Graph or a saved Graph JSON snapshot.</summary>
public interface ITargetDirectorySource
{
    string Description { get; }

    /// <summary>Streams every user; completes only when every page was read (same rule as the legacy source).</summary>
    IAsyncEnumerable<TargetUser> ReadUsersAsync(CancellationToken cancellationToken);

    /// <summary>The plan's record of the last read: kind, location, user count and the hash of exactly the pages read.</summary>
    /// <exception cref="InvalidOperationException">No read has completed (never started, still running, or failed).</exception>
    InputDescription DescribeRead();

    /// <summary>
    /// The tenant's groups (members of the synchronised ones), applications and service principals: live
    /// from Graph, or from the snapshot's inventory files (a snapshot saved without them answers with an
    /// <see cref="Errors.InputException"/> that says to save the snapshot again).
    /// </summary>
    Task<TargetInventory> ReadInventoryAsync(CancellationToken cancellationToken);

    /// <summary>The plan's record of the inventory read (kind <c>graph-inventory</c>, count of objects, hash of what was read).</summary>
    /// <exception cref="InvalidOperationException">No inventory read has completed.</exception>
    InputDescription DescribeInventoryRead();
}
