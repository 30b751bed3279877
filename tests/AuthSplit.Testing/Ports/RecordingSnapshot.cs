using AuthSplit.Core.Directory;
using AuthSplit.Core.Planning.DryRun;

namespace AuthSplit.Testing.Ports;

/// <summary>A <c>--save-snapshot</c> stand-in that records whether, and with which class map, it was committed.</summary>
public sealed class RecordingSnapshot : IReadSnapshot
{
    public int Commits { get; private set; }

    public ObjectCategoryMap? CommittedObjectCategories { get; private set; }

    public bool Disposed { get; private set; }

    public SavedReads? CommittedReads { get; private set; }

    public Task CommitAsync(SavedReads reads, CancellationToken cancellationToken)
    {
        Commits++;
        CommittedReads = reads;
        CommittedObjectCategories = reads.ObjectCategories;
        return Task.CompletedTask;
    }

    public ValueTask DisposeAsync()
    {
        Disposed = true;
        return ValueTask.CompletedTask;
    }
}
