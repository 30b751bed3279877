namespace AuthSplit.Core.Planning.DryRun;

/// <summary>
/// Where <c>--save-snapshot</c> keeps what the live reads saw, to plan again offline. The adapters write
/// into it as they read (the very bytes they hash, so a plan from the snapshot has the same inputs); the
/// dry run commits it only once both sides were read completely. Disposed without
/// <see cref="CommitAsync"/>, it leaves the previous snapshot (or none), never half of a new one.
/// </summary>
public interface IReadSnapshot : IAsyncDisposable
{
    /// <summary>Puts what was read in place, with what the plan records of each read (and the class map the filters were compiled against, Active Directory only).</summary>
    Task CommitAsync(SavedReads reads, CancellationToken cancellationToken);
}
