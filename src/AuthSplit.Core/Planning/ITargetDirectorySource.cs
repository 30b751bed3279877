using AuthSplit.Core.Model;

namespace AuthSplit.Core.Planning;

/// <summary>Where the planner reads the target IdP's users from: live Graph or a saved Graph JSON snapshot.</summary>
public interface ITargetDirectorySource
{
    string Description { get; }

    /// <summary>Streams every user; completes only when every page was read (same rule as the legacy source).</summary>
    IAsyncEnumerable<TargetUser> ReadUsersAsync(CancellationToken cancellationToken);
}
