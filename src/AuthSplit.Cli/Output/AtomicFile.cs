namespace AuthSplit.Cli.Output;

/// <summary>
/// Writes a file so that readers see either the old content or the whole new content, never half of
/// it: write a temporary file beside it, flush it to disk, then rename over the target.
/// </summary>
public static class AtomicFile
{
    public static Task WriteAllBytesAsync(string path, ReadOnlyMemory<byte> content, CancellationToken cancellationToken) =>
        WriteAsync(path, (stream, ct) => stream.WriteAsync(content, ct).AsTask(), cancellationToken);

    public static async Task WriteAsync(string path, Func<Stream, CancellationToken, Task> write, CancellationToken cancellationToken)
    {
        var fullPath = Path.GetFullPath(path);
        var directory = Path.GetDirectoryName(fullPath)!;
        Directory.CreateDirectory(directory);
        var temporary = Path.Combine(directory, $".{Path.GetFileName(fullPath)}.{Guid.NewGuid():N}.tmp");
        try
        {
            await using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous))
            {
                await write(stream, cancellationToken);
                await stream.FlushAsync(cancellationToken);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temporary, fullPath, overwrite: true);
        }
        finally
        {
            if (File.Exists(temporary))
            {
                File.Delete(temporary);
            }
        }
    }

    /// <summary>A temporary path beside <paramref name="path"/> for content that is renamed into place with <see cref="Commit"/>.</summary>
    public static string TemporaryFor(string path)
    {
        var fullPath = Path.GetFullPath(path);
        return Path.Combine(Path.GetDirectoryName(fullPath)!, $".{Path.GetFileName(fullPath)}.{Guid.NewGuid():N}.tmp");
    }

    public static void Commit(string temporary, string path) => File.Move(temporary, Path.GetFullPath(path), overwrite: true);
}
