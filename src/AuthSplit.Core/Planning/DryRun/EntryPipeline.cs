using System.Threading.Channels;
using AuthSplit.Core.Model;

namespace AuthSplit.Core.Planning.DryRun;

/// <summary>
/// Reads entries on one task and plans them on another, so parsing (or waiting on the directory) and
/// planning overlap. Entries cross in batches, so the hand-over costs little per entry; the bounded
/// channel keeps memory flat: the reader waits when the planner lags. A failure on either side fails
/// the whole read; nothing is swallowed.
/// </summary>
internal static class EntryPipeline
{
    private const int BatchSize = 256;
    private const int BatchesInFlight = 8;

    public static async Task<int> RunAsync(IAsyncEnumerable<DirectoryEntry> entries, Func<DirectoryEntry, ValueTask> consume, IProgress<int> progress, CancellationToken cancellationToken)
    {
        var channel = Channel.CreateBounded<List<DirectoryEntry>>(new BoundedChannelOptions(BatchesInFlight) { SingleReader = true, SingleWriter = true });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var producer = Task.Run(async () =>
        {
            try
            {
                var batch = new List<DirectoryEntry>(BatchSize);
                await foreach (var entry in entries.WithCancellation(stop.Token))
                {
                    batch.Add(entry);
                    if (batch.Count == BatchSize)
                    {
                        await channel.Writer.WriteAsync(batch, stop.Token);
                        batch = new List<DirectoryEntry>(BatchSize);
                    }
                }

                if (batch.Count > 0)
                {
                    await channel.Writer.WriteAsync(batch, stop.Token);
                }

                channel.Writer.Complete();
            }
            catch (Exception ex)
            {
                channel.Writer.Complete(ex);
                throw;
            }
        }, stop.Token);

        var count = 0;
        try
        {
            await foreach (var batch in channel.Reader.ReadAllAsync(stop.Token))
            {
                foreach (var entry in batch)
                {
                    await consume(entry);
                    progress.Report(++count);
                }
            }
        }
        catch (Exception) when (!producer.IsCompleted)
        {
            await stop.CancelAsync();
            try
            {
                await producer;
            }
            catch (OperationCanceledException)
            {
            }

            throw;
        }

        await producer;
        return count;
    }
}
