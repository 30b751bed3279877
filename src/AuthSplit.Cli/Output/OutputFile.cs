using AuthSplit.Core.Errors;

namespace AuthSplit.Cli.Output;

/// <summary>Writes an <see cref="OutputTarget"/>: atomically onto regular files and new paths, as a stream onto anything else.</summary>
public static class OutputFile
{
    public static async Task WriteAsync(OutputTarget target, Func<Stream, CancellationToken, Task> write, CancellationToken cancellationToken)
    {
        try
        {
            switch (target.Mode)
            {
                case OutputMode.Atomic:
                    await AtomicFile.WriteAsync(target.WritePath, write, cancellationToken);
                    break;
                case OutputMode.StandardOutput:
                    await using (var stdout = Console.OpenStandardOutput())
                    {
                        await write(stdout, cancellationToken);
                        await stdout.FlushAsync(cancellationToken);
                    }

                    break;
                default:
                    // A device or FIFO is opened as it is: never truncated, created or renamed over.
                    await using (var stream = new FileStream(target.WritePath, FileMode.Open, FileAccess.Write, FileShare.ReadWrite, 1 << 16))
                    {
                        await write(stream, cancellationToken);
                        await stream.FlushAsync(cancellationToken);
                    }

                    break;
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException && !cancellationToken.IsCancellationRequested)
        {
            throw new InputException("output-unwritable", $"{target.Option} \"{target.Given}\" cannot be written: {ex.Message}");
        }
    }

    /// <summary>An owner-only scratch file for <paramref name="target"/>'s writer, deleted when closed.</summary>
    public static FileStream CreateScratch(OutputTarget target) => AtomicFile.CreateScratch(target.ScratchDirectory);
}
