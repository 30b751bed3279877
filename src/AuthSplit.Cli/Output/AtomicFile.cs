namespace AuthSplit.Cli.Output;

/// <summary>
/// Writes a file so that readers see either the old content or the whole new content, never half of
/// it: write an owner-only temporary file beside it, flush it to disk, then rename over the target —
/// under <see cref="Interruption.CommitGate"/> and only if the run was not cancelled, so that a Ctrl+C
/// never ends with the new file in place or the temporary one left behind.
/// </summary>
public static class AtomicFile
{
    public static async Task WriteAsync(string path, Func<Stream, CancellationToken, Task> write, CancellationToken cancellationToken)
    {
        var fullPath = Path.GetFullPath(path);
        CreateDirectory(Path.GetDirectoryName(fullPath)!);
        var temporary = TemporaryFor(fullPath);
        try
        {
            await using (var stream = CreateTemporary(temporary))
            {
                await write(stream, cancellationToken);
                await stream.FlushAsync(cancellationToken);
                stream.Flush(flushToDisk: true);
            }

            Commit(temporary, fullPath, cancellationToken);
        }
        finally
        {
            Discard(temporary);
        }
    }

    /// <summary>A temporary path beside <paramref name="path"/> for content that is renamed into place with <see cref="Commit"/>.</summary>
    public static string TemporaryFor(string path)
    {
        var fullPath = Path.GetFullPath(path);
        return Path.Combine(Path.GetDirectoryName(fullPath)!, $".{Path.GetFileName(fullPath)}.{Guid.NewGuid():N}.tmp");
    }

    /// <summary>Creates <paramref name="temporary"/> owner-only (whatever the umask), to be committed or discarded.</summary>
    public static FileStream CreateTemporary(string temporary)
    {
        Interruption.Track(temporary);
        return new FileStream(temporary, UnixFile.OwnerOnlyOptions(FileMode.CreateNew, FileAccess.Write, options: FileOptions.Asynchronous));
    }

    /// <summary>An owner-only scratch file that deletes itself when closed (and on a second Ctrl+C).</summary>
    public static FileStream CreateScratch(string directory)
    {
        var path = Path.Combine(directory, $".authsplit-scratch.{Guid.NewGuid():N}.tmp");
        Interruption.Track(path);
        return new TrackedFileStream(path, UnixFile.OwnerOnlyOptions(FileMode.CreateNew, FileAccess.ReadWrite, options: FileOptions.DeleteOnClose));
    }

    /// <summary>Creates a directory (and its missing parents) owner-only; an existing directory is left as it is.</summary>
    public static void CreateDirectory(string directory)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(directory);
        }
        else
        {
            Directory.CreateDirectory(directory, UnixFile.OwnerOnlyDirectory);
        }
    }

    /// <summary>Renames the finished temporary file over <paramref name="path"/>, unless the run was cancelled.</summary>
    public static void Commit(string temporary, string path, CancellationToken cancellationToken)
    {
        lock (Interruption.CommitGate)
        {
            cancellationToken.ThrowIfCancellationRequested();
            File.Move(temporary, Path.GetFullPath(path), overwrite: true);
        }

        Interruption.Untrack(temporary);
    }

    /// <summary>Deletes a temporary file that was not committed.</summary>
    public static void Discard(string temporary)
    {
        if (File.Exists(temporary))
        {
            File.Delete(temporary);
        }

        Interruption.Untrack(temporary);
    }

    private sealed class TrackedFileStream : FileStream
    {
        public TrackedFileStream(string path, FileStreamOptions options)
            : base(path, options)
        {
        }

        protected override void Dispose(bool disposing)
        {
            base.Dispose(disposing);
            Interruption.Untrack(Name);
        }
    }
}
