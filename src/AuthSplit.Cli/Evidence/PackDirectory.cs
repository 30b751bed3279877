using System.Globalization;
using AuthSplit.Cli.Output;
using AuthSplit.Core.Errors;

namespace AuthSplit.Cli.Evidence;

/// <summary>
/// An evidence pack on disk: written whole or not at all (a temporary directory beside the target, renamed
/// into place at the end, under <see cref="Interruption.CommitGate"/>; one a killed export left is removed by
/// the next), owner-only (0700, files 0600: the pack holds ids, DNs and names), never over anything that
/// exists and is not an empty directory, never through a symbolic link.
/// </summary>
public static class PackDirectory
{
    private const string TemporarySuffix = ".tmp";

    /// <summary>Checks <c>--out</c> before anything is read: a new path (under a directory), or an empty directory; never a link.</summary>
    public static string CheckTarget(string? path)
    {
        if (string.IsNullOrWhiteSpace(path))
        {
            throw new InputException("output-invalid", "--out: the output path is empty; give a new directory for the pack");
        }

        var trimmed = Path.TrimEndingDirectorySeparator(path);
        if (new FileInfo(trimmed).LinkTarget is { } link)
        {
            // Renaming a pack onto a link replaces the link, not what it points to: the operator would look in the wrong place.
            throw new InputException("output-invalid", $"--out \"{path}\" is a symbolic link (to \"{link}\"); a pack is never written through a link: give the directory itself, or a new path");
        }

        var identity = UnixFile.Identify(trimmed);
        switch (identity.Kind)
        {
            case FileKind.Missing:
                CheckParent(path, Path.GetFullPath(trimmed));
                return Path.GetFullPath(trimmed);
            case FileKind.Directory when !Directory.EnumerateFileSystemEntries(trimmed).Any():
                return Path.GetFullPath(trimmed);
            case FileKind.Directory:
                throw new InputException("output-exists", $"--out \"{path}\" is a directory that is not empty; a pack is never written over anything: give a new directory");
            default:
                throw new InputException("output-exists", $"--out \"{path}\" exists and is not a directory (a config, a state store or another file is never overwritten): give a new directory");
        }
    }

    /// <summary>
    /// Removes what an export killed outright (SIGKILL, a power cut) left beside <paramref name="target"/>: its
    /// temporary directory, never renamed into place, so never a pack. One whose export is still running (its
    /// process id is in the name, and alive) is left alone.
    /// </summary>
    /// <returns>The directories removed, for the operator to be told.</returns>
    public static IReadOnlyList<string> RemoveLeftovers(string target)
    {
        var parent = Path.GetDirectoryName(target)!;
        if (!Directory.Exists(parent))
        {
            return [];
        }

        var removed = new List<string>();
        var prefix = $".{Path.GetFileName(target)}.";
        foreach (var candidate in Directory.EnumerateDirectories(parent, prefix + "*" + TemporarySuffix))
        {
            // .NAME.PID-GUID.tmp; .NAME.GUID.tmp from versions that did not name the process.
            var middle = Path.GetFileName(candidate)[prefix.Length..^TemporarySuffix.Length];
            var dash = middle.IndexOf('-', StringComparison.Ordinal);
            int? owner = dash > 0 && int.TryParse(middle[..dash], NumberStyles.None, CultureInfo.InvariantCulture, out var pid) ? pid : null;
            if (!Guid.TryParseExact(owner is null ? middle : middle[(dash + 1)..], "N", out _) || (owner is { } running && IsRunning(running)))
            {
                continue;
            }

            Directory.Delete(candidate, recursive: true);
            removed.Add(candidate);
        }

        return removed;
    }

    /// <summary>
    /// Writes the pack into <c>.NAME.PID-GUID.tmp</c> beside <paramref name="target"/> and renames it into place.
    /// The temporary directory is removed on any failure or cancellation, and on a second Ctrl+C too (it is
    /// tracked by <see cref="Interruption"/>); only a kill leaves it, and the next export removes it
    /// (<see cref="RemoveLeftovers"/>).
    /// </summary>
    public static async Task WriteAsync(string target, IReadOnlyList<KeyValuePair<string, byte[]>> files, CancellationToken cancellationToken)
    {
        var parent = Path.GetDirectoryName(target)!;
        var temporary = Path.Combine(parent, $".{Path.GetFileName(target)}.{Environment.ProcessId.ToString(CultureInfo.InvariantCulture)}-{Guid.NewGuid():N}{TemporarySuffix}");
        try
        {
            AtomicFile.CreateDirectory(parent);
            Interruption.Track(temporary);
            CreateOwnerOnlyDirectory(temporary);
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
                if (Directory.Exists(target) && new FileInfo(target).LinkTarget is null && !Directory.EnumerateFileSystemEntries(target).Any())
                {
                    Directory.Delete(target, recursive: false);
                }
                else if (Path.Exists(target) || new FileInfo(target).LinkTarget is not null)
                {
                    throw new InputException("output-exists", $"--out \"{target}\" appeared while the pack was built; nothing was written over it");
                }

                Directory.Move(temporary, target);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException && !cancellationToken.IsCancellationRequested)
        {
            throw new InputException("output-unwritable", $"--out \"{target}\": the pack cannot be written there ({ex.Message}); nothing was left behind");
        }
        finally
        {
            if (Directory.Exists(temporary))
            {
                Directory.Delete(temporary, recursive: true);
            }

            Interruption.Untrack(temporary);
        }
    }

    /// <summary>Every regular file at the top of the pack, by name (a pack has no subdirectories, links or special files; one found stands as empty, and fails its digest or is reported as unsigned).</summary>
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
            // Only regular files are read: a link, FIFO or device in a pack (which has none) could point anywhere or
            // never end; it stands as empty, so its digest fails or it is reported as unsigned.
            var regular = new FileInfo(entry).LinkTarget is null && UnixFile.Identify(entry).Kind == FileKind.Regular;
            files[name] = regular ? await File.ReadAllBytesAsync(entry, cancellationToken) : [];
        }

        return files;
    }

    // The nearest existing ancestor of a new --out must be a directory: found now, not after the pack is built.
    private static void CheckParent(string given, string fullPath)
    {
        for (var ancestor = Path.GetDirectoryName(fullPath); ancestor is not null; ancestor = Path.GetDirectoryName(ancestor))
        {
            var kind = UnixFile.Identify(ancestor).Kind;
            if (kind == FileKind.Directory)
            {
                return;
            }

            if (kind != FileKind.Missing)
            {
                throw new InputException("output-invalid", $"--out \"{given}\": \"{ancestor}\" is a file, not a directory; give a new directory for the pack");
            }
        }
    }

    private static bool IsRunning(int processId)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(processId);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
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
