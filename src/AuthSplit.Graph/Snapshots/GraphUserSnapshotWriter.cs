namespace AuthSplit.Graph.Snapshots;

/// <summary>
/// Saves a live read of the tenant's users as a target snapshot directory (the format
/// <see cref="GraphUserSnapshot"/> reads). Pages go into a hidden folder beside the destination and
/// replace it only on <see cref="Commit"/>, so a failed read leaves the old snapshot (or none), never
/// half of a new one. <see cref="Commit"/> writes <c>manifest.json</c> (pages, users, each page's hash),
/// which the reader checks, so a page file deleted later is refused by name. The tenant's inventory
/// (<see cref="WriteInventoryAsync"/>) goes in <c>inventory/</c> beside the pages, its files in the manifest too.
/// </summary>
public sealed class GraphUserSnapshotWriter : IDisposable
{
    private readonly string _destination;
    private readonly string _staging;
    private readonly List<(string Name, string Sha256, int Users)> _pages = [];
    private IReadOnlyList<GraphInventoryFiles.File>? _inventory;
    private bool _committed;

    public GraphUserSnapshotWriter(string destination)
    {
        _destination = Path.GetFullPath(destination);
        var parent = Path.GetDirectoryName(_destination)!;
        CreateOwnerOnlyDirectory(parent);
        _staging = Path.Combine(parent, $".{Path.GetFileName(_destination)}.{Guid.NewGuid():N}.tmp");
        CreateOwnerOnlyDirectory(_staging);
    }

    public string Destination => _destination;

    public async Task WriteAsync(GraphUserPage page, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_committed, this);
        await using var file = new FileStream(Path.Combine(_staging, page.FileName), OwnerOnlyNewFile(FileOptions.Asynchronous));
        await file.WriteAsync(page.Content, cancellationToken);
        await file.FlushAsync(cancellationToken);
        file.Flush(flushToDisk: true);
        _pages.Add((page.FileName, page.Sha256, page.Users.Count));
    }

    /// <summary>
    /// Stages the inventory's files in <c>inventory/</c> (replacing any staged before); the manifest lists
    /// their hashes, so a file changed or cut short later is refused by name.
    /// </summary>
    public async Task WriteInventoryAsync(IReadOnlyList<GraphInventoryFiles.File> files, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_committed, this);
        var folder = Path.Combine(_staging, GraphInventoryFiles.Folder);
        if (Directory.Exists(folder))
        {
            Directory.Delete(folder, recursive: true);
        }

        CreateOwnerOnlyDirectory(folder);
        foreach (var inventoryFile in files)
        {
            await using var file = new FileStream(Path.Combine(folder, inventoryFile.Name), OwnerOnlyNewFile(FileOptions.Asynchronous));
            await file.WriteAsync(inventoryFile.Content, cancellationToken);
            await file.FlushAsync(cancellationToken);
            file.Flush(flushToDisk: true);
        }

        _inventory = files;
    }

    // The pages and the manifest hold personal data (or describe it): owner-only from their creation, whatever the umask.
    private static FileStreamOptions OwnerOnlyNewFile(FileOptions fileOptions)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None, BufferSize = 1 << 16, Options = fileOptions };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        return options;
    }

    /// <summary>Puts the written pages in place of whatever the destination held.</summary>
    public void Commit()
    {
        ObjectDisposedException.ThrowIf(_committed, this);
        using (var manifest = new FileStream(Path.Combine(_staging, GraphSnapshotManifest.FileName), OwnerOnlyNewFile(FileOptions.None)))
        {
            manifest.Write(GraphSnapshotManifest.Render(_pages, _inventory));
            manifest.Flush(flushToDisk: true);
        }

        string? replaced = null;
        if (Directory.Exists(_destination))
        {
            replaced = _staging[..^".tmp".Length] + ".replaced";
            Directory.Move(_destination, replaced);
        }

        Directory.Move(_staging, _destination);
        _committed = true;
        if (replaced is not null)
        {
            Directory.Delete(replaced, recursive: true);
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
            Directory.CreateDirectory(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    public void Dispose()
    {
        if (!_committed && Directory.Exists(_staging))
        {
            Directory.Delete(_staging, recursive: true);
        }
    }
}
