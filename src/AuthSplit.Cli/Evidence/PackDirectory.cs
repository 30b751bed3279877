using AuthSplit.Cli.Output;
using AuthSplit.Core.Errors;

namespace AuthSplit.Cli.Evidence;

/// <summary>
/// An evidence pack on disk: written whole or not at all (a temporary directory beside the target, renamed
/// into place at the end, under <see cref="Interruption.CommitGate"/>), owner-only (0700, files 0600: the
/// pack holds ids, DNs and names), never over anything that exists and is not an empty directory.
/// </summary>
public static class PackDirectory
{
    /// <summary>Checks <c>--out</c> before anything is read: a new path, or an empty directory.</summary>
    public static string CheckTarget(string? path)
    {
        if (string.IsNullOrWhiteSpace(path))
        {
            throw new InputException("output-invalid", "--out: the output path is empty; give a new directory for the pack");
        }

        var identity = UnixFile.Identify(path);
        switch (identity.Kind)
        {
            case FileKind.Missing:
                return Path.GetFullPath(path);
            case FileKind.Directory when !Directory.EnumerateFileSystemEntries(path).Any():
                return Path.GetFullPath(path);
            case FileKind.Directory:
                throw new InputException("output-exists", $"--out \"{path}\" is a directory that is not empty; a pack is never written over anything: give a new directory");
            default:
                throw new InputException("output-exists", $"--out \"{path}\" exists and is not a directory (a config, a state store or another file is never overwritten): give a new directory");
        }
    }

    public static async Task WriteAsync(string target, IReadOnlyList<KeyValuePair<string, byte[]>> files, CancellationToken cancellationToken)
    {
        var parent = Path.GetDirectoryName(target)!;
        AtomicFile.CreateDirectory(parent);
        var temporary = Path.Combine(parent, $".{Path.GetFileName(target)}.{Guid.NewGuid():N}.tmp");
        CreateOwnerOnlyDirectory(temporary);
        try
        {
            foreach (var (name, content) in files)
            {
                await using var stream = new FileStream(Path.Combine(temporary, name), UnixFile.OwnerOnlyOptions(FileMode.CreateNew, FileAccess.Write, options: FileOptions.Asynchronous));
                await stream.WriteAsync(content, cancellationToken);
                await stream.FlushAsync(cancellationToken);
                stream.Flush(flushToDisk: true);
            }

            lock (Interruption.CommitGate)
            {
                cancellationToken.ThrowIfCancellationRequested();

                // Checked again: something may have appeared there while the pack was built.
                if (Directory.Exists(target))
                {
                    Directory.Delete(target, recursive: false);
                }
                else if (File.Exists(target))
                {
                    throw new InputException("output-exists", $"--out \"{target}\" appeared while the pack was built; nothing was written over it");
                }

                Directory.Move(temporary, target);
            }
        }
        finally
        {
            if (Directory.Exists(temporary))
            {
                Directory.Delete(temporary, recursive: true);
            }
        }
    }

    /// <summary>Every regular file at the top of the pack, by name (a pack has no subdirectories; one found is reported as unsigned).</summary>
    public static async Task<IReadOnlyDictionary<string, byte[]>> ReadAsync(string directory, CancellationToken cancellationToken)
    {
        if (!Directory.Exists(directory))
        {
            throw new InputException("pack-missing", $"\"{directory}\" is not a directory holding an evidence pack");
        }

        var files = new SortedDictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var entry in Directory.EnumerateFileSystemEntries(directory))
        {
            var name = Path.GetFileName(entry);
            files[name] = File.Exists(entry) ? await File.ReadAllBytesAsync(entry, cancellationToken) : [];
        }

        return files;
    }

    private static void CreateOwnerOnlyDirectory(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
        }
        else
        {
            Directory.CreateDirectory(path, UnixFile.OwnerOnlyDirectory);
        }
    }
}
