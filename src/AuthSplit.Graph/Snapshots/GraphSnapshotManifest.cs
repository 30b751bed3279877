using System.Text.Json;
using AuthSplit.Core.Errors;

namespace AuthSplit.Graph.Snapshots;

/// <summary>
/// <c>manifest.json</c> beside the pages of a saved target snapshot: how many pages and users it holds,
/// and each page file's name and SHA-256. Saved pages carry no paging links, so without it a deleted
/// page file would leave a snapshot that reads as complete with fewer users (everyone on that page
/// planned as having no target account). The reader refuses a snapshot whose pages differ from it.
/// </summary>
internal sealed class GraphSnapshotManifest
{
    public const string FileName = "manifest.json";

    private static readonly JsonSerializerOptions Options = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    private readonly string _path;
    private readonly Dictionary<string, string> _hashes;

    private GraphSnapshotManifest(string path, Contents contents)
    {
        _path = path;
        Users = contents.Users;
        _hashes = contents.Files.ToDictionary(f => f.Name, f => f.Sha256, StringComparer.Ordinal);
        Inventory = contents.Inventory;
    }

    public int Users { get; }

    /// <summary>The inventory files saved beside the pages (<c>inventory/*.json</c>), or null for a snapshot saved before they were.</summary>
    public IReadOnlyList<InventoryFile>? Inventory { get; }

    public string Location => _path;

    /// <param name="pages">The user pages.</param>
    /// <param name="inventory">The inventory files (an older reader ignores them: the pages stay readable).</param>
    public static byte[] Render(IReadOnlyList<(string Name, string Sha256, int Users)> pages, IReadOnlyList<GraphInventoryFiles.File>? inventory = null) =>
        JsonSerializer.SerializeToUtf8Bytes(
            new Contents(1, pages.Count, pages.Sum(p => p.Users), [.. pages.Select(p => new PageFile(p.Name, p.Sha256))], inventory is null ? null : [.. inventory.Select(f => new InventoryFile(f.Name, f.Sha256, f.Objects))]),
            Options);

    /// <summary>The manifest of the snapshot directory <paramref name="directory"/>, checked against its page files; null when it has none.</summary>
    public static GraphSnapshotManifest? ReadFor(string directory, IReadOnlyList<string> files)
    {
        var path = Path.Combine(directory, FileName);
        if (!System.IO.Directory.Exists(directory) || !File.Exists(path))
        {
            return null;
        }

        Contents? contents;
        try
        {
            contents = JsonSerializer.Deserialize<Contents>(GraphUserSnapshot.WithoutByteOrderMark(File.ReadAllBytes(path)).Span, Options);
        }
        catch (JsonException ex)
        {
            throw new InputException("target-snapshot", $"the snapshot's manifest is not valid: {ex.Message}", path, (int?)(ex.LineNumber + 1));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new InputException("target-snapshot", $"cannot read the snapshot's manifest: {ex.Message}", path);
        }

        if (contents is null || contents.FormatVersion != 1 || contents.Files is null || contents.Pages != contents.Files.Count)
        {
            throw new InputException("target-snapshot", "the snapshot's manifest is not one this version understands (formatVersion 1, pages = the number of files listed)", path);
        }

        var manifest = new GraphSnapshotManifest(path, contents);
        var present = files.Select(Path.GetFileName).ToHashSet(StringComparer.Ordinal);
        foreach (var listed in contents.Files)
        {
            if (!present.Contains(listed.Name))
            {
                throw new InputException("target-snapshot", $"page file {listed.Name} is missing: the manifest lists {contents.Pages} pages of {contents.Users} users, so the snapshot is short", path);
            }
        }

        foreach (var file in files)
        {
            if (!manifest._hashes.ContainsKey(Path.GetFileName(file)))
            {
                throw new InputException("target-snapshot", $"{Path.GetFileName(file)} is not one of the {contents.Pages} pages the manifest lists: the snapshot was changed after it was saved", path);
            }
        }

        return manifest;
    }

    public void CheckPage(string file, string sha256)
    {
        if (!string.Equals(_hashes[Path.GetFileName(file)], sha256, StringComparison.Ordinal))
        {
            throw new InputException("target-snapshot", $"{Path.GetFileName(file)} differs from the page that was saved (its SHA-256 is not the one in the manifest): the snapshot was changed after it was saved", _path);
        }
    }

    public void CheckUsers(int users)
    {
        if (users != Users)
        {
            throw new InputException("target-snapshot", $"the pages hold {users} users but the manifest says {Users}", _path);
        }
    }

    private sealed record Contents(int FormatVersion, int Pages, int Users, List<PageFile> Files, List<InventoryFile>? Inventory = null);

    /// <summary>An inventory file: its name in <c>inventory/</c>, its SHA-256 and how many objects it holds.</summary>
    public sealed record InventoryFile(string Name, string Sha256, int Objects);

    private sealed record PageFile(string Name, string Sha256);
}
