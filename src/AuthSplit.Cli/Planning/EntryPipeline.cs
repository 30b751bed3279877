using System.Threading.Channels;
using AuthSplit.Core.Model;

namespace AuthSplit.Cli.Planning;

/// <summary>
/// Reads entries on one task and plans them on another, so parsing (or waiting on the directory) and
/// planning overlap. The bounded channel keeps memory flat: the reader waits when the planner lags.
/// A failure on either side fails the whole read; nothing is swallowed.
/// </summary>
public static class EntryPipeline
{
    public static async Task<int> RunAsync(IAsyncEnumerable<DirectoryEntry> entries, Func<DirectoryEntry, ValueTask> consume, IProgress<int> progress, CancellationToken cancellationToken)
    {
        var channel = Channel.CreateBounded<DirectoryEntry>(new BoundedChannelOptions(2048) { SingleReader = true, SingleWriter = true });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var producer = Task.Run(async () =>
        {
            try
            {
                await foreach (var entry in entries.WithCancellation(stop.Token))
                {
                    await channel.Writer.WriteAsync(entry, stop.Token);
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
            await foreach (var entry in channel.Reader.ReadAllAsync(stop.Token))
            {
                await consume(entry);
                progress.Report(++count);
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
