using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using AuthSplit.Core.Errors;
using AuthSplit.Core.Model;
using AuthSplit.Core.Planning;
using AuthSplit.Core.Planning.Format;

namespace AuthSplit.Graph.Snapshots;

/// <summary>
/// A target snapshot: one Graph JSON page file, or a directory of them (<c>*.json</c>, read in name
/// order), each exactly as <c>GET /v1.0/users?$select=...</c> returns it: <c>{"value":[...]}</c> with
/// optional <c>@odata.context</c> and <c>@odata.nextLink</c>. Every scalar property of a user becomes a
/// <see cref="TargetUser"/> property (booleans as <c>true</c>/<c>false</c>, numbers invariant).
/// </summary>
public sealed class GraphUserSnapshot(string path) : ITargetDirectorySource
{
    private InputDescription? _read;

    public string Description => path;

    /// <summary>
    /// The snapshot's hash, known once <see cref="ReadUsersAsync"/> has read every page: for a file the
    /// SHA-256 of its bytes; for a directory the SHA-256 of the lines <c>"&lt;name&gt; &lt;sha256 of file&gt;\n"</c>
    /// of its page files sorted by name. Each page's bytes are hashed as they are parsed, so the snapshot
    /// is read once, not twice.
    /// </summary>
    public string? Sha256 { get; private set; }

    public async IAsyncEnumerable<TargetUser> ReadUsersAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        Sha256 = null;
        _read = null;
        var seen = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var files = Files(path);
        var manifest = GraphSnapshotManifest.ReadFor(path, files);
        var pageHashes = new List<(string File, string Hash)>(files.Count);
        var links = new List<string?>(files.Count);
        var userCount = 0;
        // Pages are parsed ahead, one per core, and handed out in name order.
        var ahead = new Queue<Task<PageRead>>();
        var queued = 0;
        for (var i = 0; i < files.Count; i++)
        {
            while (queued < files.Count && ahead.Count < Math.Max(2, Environment.ProcessorCount))
            {
                var pageFile = files[queued++];
                ahead.Enqueue(Task.Run(() => ReadPageAsync(pageFile, cancellationToken), cancellationToken));
            }

            var file = files[i];
            var page = await ahead.Dequeue();
            manifest?.CheckPage(file, page.Hash);
            pageHashes.Add((file, page.Hash));
            links.Add(page.NextLink);
            foreach (var user in page.Users)
            {
                if (!seen.TryAdd(user.Id, file))
                {
                    throw new InputException("target-snapshot", $"user id {user.Id} appears twice (also in {Path.GetFileName(seen[user.Id])}); the snapshot is inconsistent", file);
                }

                userCount++;
                yield return user;
            }
        }

        manifest?.CheckUsers(userCount);
        CheckLinks(files, links);
        Sha256 = Combine(path, pageHashes);
        _read = Describe(userCount);
    }

    private InputDescription Describe(int users) => new()
    {
        Kind = "graph-snapshot",
        Location = Path.GetFileName(Path.TrimEndingDirectorySeparator(path)),
        Sha256 = Sha256 ?? throw new InvalidOperationException("the snapshot's hash is taken before it is described"),
        Count = users,
    };

    /// <inheritdoc/>
    public InputDescription DescribeRead() =>
        _read ?? throw new InvalidOperationException($"the target snapshot {path} has not been read to its end");

    private InputDescription? _inventoryRead;

    /// <summary>
    /// The inventory saved in the snapshot's <c>inventory/</c> (<see cref="GraphInventoryFiles"/>). With a
    /// manifest (a snapshot saved by <c>--save-snapshot</c>) every file must be the one it lists, by SHA-256
    /// and object count; without one (a hand-made directory) the files are taken as they are, as its pages are.
    /// </summary>
    /// <exception cref="InputException">The snapshot holds no inventory (saved before it was saved, or a single page file), or a file differs from what was saved.</exception>
    public async Task<TargetInventory> ReadInventoryAsync(CancellationToken cancellationToken)
    {
        _inventoryRead = null;
        var folder = System.IO.Directory.Exists(path) ? Path.Combine(path, GraphInventoryFiles.Folder) : null;
        var manifest = folder is null ? null : GraphSnapshotManifest.ReadFor(path, Files(path));
        if (folder is null || (manifest?.Inventory is null && !System.IO.Directory.Exists(folder)))
        {
            throw new InputException("target-snapshot-no-inventory", "this target snapshot holds the users only (it was saved before snapshots held the tenant's groups, applications and service principals): run the plan live once with --save-snapshot to save the snapshot again, then plan from the new one", path);
        }

        if (manifest is { Inventory: null })
        {
            throw new InputException("target-snapshot", $"{GraphInventoryFiles.Folder}/ is not in the snapshot's manifest: the snapshot was changed after it was saved", manifest.Location);
        }

        var files = new Dictionary<string, (byte[] Content, string Path)>(StringComparer.Ordinal);
        var hashes = new List<GraphInventoryFiles.File>();
        foreach (var name in GraphInventoryFiles.Names)
        {
            var file = Path.Combine(folder, name);
            byte[] content;
            try
            {
                content = await File.ReadAllBytesAsync(file, cancellationToken);
            }
            catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
            {
                throw new InputException("target-snapshot", $"the snapshot's inventory has no {name}: it is incomplete. Save the snapshot again with --save-snapshot", file);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new InputException("target-snapshot", $"cannot read: {ex.Message}", file);
            }

            var sha256 = Convert.ToHexStringLower(SHA256.HashData(content));
            if (manifest?.Inventory is { } listed)
            {
                var saved = listed.FirstOrDefault(f => f.Name == name)
                    ?? throw new InputException("target-snapshot", $"{GraphInventoryFiles.Folder}/{name} is not in the snapshot's manifest: the snapshot was changed after it was saved", manifest.Location);
                if (!string.Equals(saved.Sha256, sha256, StringComparison.Ordinal))
                {
                    throw new InputException("target-snapshot", $"{GraphInventoryFiles.Folder}/{name} differs from the file that was saved (its SHA-256 is not the one in the manifest): the snapshot was changed or cut short after it was saved", manifest.Location);
                }
            }

            files[name] = (content, file);
            hashes.Add(new GraphInventoryFiles.File(name, content, sha256, 0));
        }

        var inventory = GraphInventoryFiles.Parse(files);
        var counts = new Dictionary<string, int>(StringComparer.Ordinal)
        {
            [GraphInventoryFiles.Groups] = inventory.Groups.Count,
            [GraphInventoryFiles.Applications] = inventory.Applications.Count,
            [GraphInventoryFiles.ServicePrincipals] = inventory.ServicePrincipals.Count,
        };
        foreach (var saved in manifest?.Inventory ?? [])
        {
            if (counts.TryGetValue(saved.Name, out var count) && count != saved.Objects)
            {
                throw new InputException("target-snapshot", $"{GraphInventoryFiles.Folder}/{saved.Name} holds {count} objects but the manifest says {saved.Objects}", manifest!.Location);
            }
        }

        _inventoryRead = GraphInventoryFiles.Describe(Path.GetFileName(Path.TrimEndingDirectorySeparator(path)) + "/" + GraphInventoryFiles.Folder, [.. hashes.Select(h => h with { Objects = counts[h.Name] })]);
        return inventory;
    }

    /// <inheritdoc/>
    public InputDescription DescribeInventoryRead() =>
        _inventoryRead ?? throw new InvalidOperationException($"the inventory of the target snapshot {path} has not been read");

    // Pages saved from Graph responses carry @odata.nextLink on every page but the last. A link on the
    // last page file means the page it names was never saved (or was deleted): the read is short. A page
    // without one before the last means the files are not one read. Pages without any links (our own
    // saved pages, which a manifest guards, or hand-made files) are taken as they are.
    private static void CheckLinks(IReadOnlyList<string> files, List<string?> links)
    {
        if (links.All(l => l is null))
        {
            return;
        }

        for (var i = 0; i < files.Count - 1; i++)
        {
            if (links[i] is null)
            {
                throw new InputException("target-snapshot", $"this page has no @odata.nextLink (it was the last page of a read) but {Path.GetFileName(files[i + 1])} follows it: the files are not the pages of one read", files[i]);
            }
        }

        if (links[^1] is { } last)
        {
            throw new InputException("target-snapshot", $"this page carries @odata.nextLink to a page the snapshot does not hold ({Shorten(last)}): the page after {Path.GetFileName(files[^1])} is missing, so the read is short. Save every page of the read", files[^1]);
        }
    }

    private static string Shorten(string text) => text.Length <= 120 ? text : text[..117] + "...";

    private static string Combine(string path, List<(string File, string Hash)> pageHashes) =>
        File.Exists(path) ? "sha256:" + pageHashes[0].Hash : CombinePages(pageHashes.Select(p => (Path.GetFileName(p.File), p.Hash)));

    /// <summary>The hash of a directory of pages: SHA-256 of the lines <c>"&lt;file name&gt; &lt;hex sha256&gt;\n"</c> in name order.</summary>
    internal static string CombinePages(IEnumerable<(string Name, string Hash)> pages)
    {
        var lines = new StringBuilder();
        foreach (var (name, hash) in pages.OrderBy(p => p.Name, StringComparer.Ordinal))
        {
            lines.Append(name).Append(' ').Append(hash).Append('\n');
        }

        return "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(lines.ToString())));
    }

    internal static IReadOnlyList<string> Files(string path)
    {
        if (File.Exists(path))
        {
            return [path];
        }

        if (!System.IO.Directory.Exists(path))
        {
            throw new InputException("target-snapshot", "no such file or directory (give a Graph JSON page file or a directory of them)", path);
        }

        var files = System.IO.Directory.GetFiles(path, "*.json")
            .Where(f => !Path.GetFileName(f).Equals(GraphSnapshotManifest.FileName, StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .ToArray();
        if (files.Length == 0)
        {
            throw new InputException("target-snapshot", "the directory holds no *.json page files", path);
        }

        return files;
    }

    private sealed record PageRead(List<TargetUser> Users, string Hash, string? NextLink);

    private static async Task<PageRead> ReadPageAsync(string file, CancellationToken cancellationToken)
    {
        byte[] bytes;
        try
        {
            bytes = await File.ReadAllBytesAsync(file, cancellationToken);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new InputException("target-snapshot", $"cannot read: {ex.Message}", file);
        }

        try
        {
            using var document = JsonDocument.Parse(WithoutByteOrderMark(bytes));
            return new PageRead(ParseUsers(document.RootElement, file), Convert.ToHexStringLower(SHA256.HashData(bytes)), NextLink(document.RootElement));
        }
        catch (JsonException ex)
        {
            throw new InputException("target-snapshot", $"not valid JSON: {ex.Message}", file, (int?)(ex.LineNumber + 1));
        }
    }

    /// <summary>PowerShell's <c>Out-File</c>/<c>Set-Content -Encoding utf8</c> (5.1) writes a UTF-8 byte order mark; JSON itself has none.</summary>
    internal static ReadOnlyMemory<byte> WithoutByteOrderMark(byte[] bytes) =>
        bytes.AsSpan().StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]) ? bytes.AsMemory(3) : bytes;

    internal static string? NextLink(JsonElement root) =>
        root.ValueKind == JsonValueKind.Object && root.TryGetProperty("@odata.nextLink", out var link) && link.ValueKind == JsonValueKind.String && !string.IsNullOrEmpty(link.GetString())
            ? link.GetString()
            : null;

    /// <summary>The users of a page: <c>{"value":[...]}</c>, each with a string <c>id</c>.</summary>
    internal static List<TargetUser> ParseUsers(JsonElement root, string file)
    {
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("value", out var value) || value.ValueKind != JsonValueKind.Array)
        {
            throw new InputException("target-snapshot", "expected a Graph page: an object with a \"value\" array", file);
        }

        var users = new List<TargetUser>(value.GetArrayLength());
        var index = 0;
        foreach (var item in value.EnumerateArray())
        {
            users.Add(ParseUser(item, $"value[{index}]", file));
            index++;
        }

        return users;
    }

    /// <summary>One user object: every scalar property as text (booleans <c>true</c>/<c>false</c>, numbers invariant, null kept).</summary>
    internal static TargetUser ParseUser(JsonElement item, string position, string file)
    {
        if (item.ValueKind != JsonValueKind.Object || !item.TryGetProperty("id", out var id) || id.ValueKind != JsonValueKind.String || string.IsNullOrEmpty(id.GetString()))
        {
            throw new InputException("target-snapshot", $"{position} is not a user with a string \"id\"", file);
        }

        // The id and each name are read out of the document once (each read is a new string).
        var userId = id.GetString()!;
        var properties = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var property in item.EnumerateObject())
        {
            var name = property.Name;
            var value = property.Value;
            var kind = value.ValueKind;
            CheckType(name, value, kind, userId, position, file);
            switch (kind)
            {
                case JsonValueKind.String:
                    properties[name] = value.GetString();
                    break;
                case JsonValueKind.True:
                    properties[name] = "true";
                    break;
                case JsonValueKind.False:
                    properties[name] = "false";
                    break;
                case JsonValueKind.Number:
                    properties[name] = value.GetRawText();
                    break;
                case JsonValueKind.Null:
                    properties[name] = null;
                    break;
                default:
                    break;
            }
        }

        return new TargetUser(userId, properties);
    }

    // Graph's user properties the planner reads as typed values: a value of another type would be
    // misread (or end as a defect), so it is bad input naming the user and the property.
    private static readonly Dictionary<string, JsonValueKind> TypedProperties = new(StringComparer.OrdinalIgnoreCase)
    {
        ["accountEnabled"] = JsonValueKind.True,
        ["onPremisesSyncEnabled"] = JsonValueKind.True,
        ["userPrincipalName"] = JsonValueKind.String,
        ["mail"] = JsonValueKind.String,
        ["employeeId"] = JsonValueKind.String,
        ["onPremisesImmutableId"] = JsonValueKind.String,
        ["onPremisesSamAccountName"] = JsonValueKind.String,
        ["onPremisesUserPrincipalName"] = JsonValueKind.String,
        ["onPremisesSecurityIdentifier"] = JsonValueKind.String,
        ["onPremisesDistinguishedName"] = JsonValueKind.String,
        ["mailNickname"] = JsonValueKind.String,
        ["displayName"] = JsonValueKind.String,
    };

    // Declared after TypedProperties, so initialised after it.
    private static readonly string[] BooleanProperties = [.. TypedProperties.Where(p => p.Value == JsonValueKind.True).Select(p => p.Key)];

    private static void CheckType(string name, JsonElement value, JsonValueKind kind, string id, string position, string file)
    {
        // Strings are the common case and every typed property but two is one: no lookup for those.
        if (kind is JsonValueKind.Null || (kind is JsonValueKind.String && !IsBoolean(name)) || !TypedProperties.TryGetValue(name, out var expected))
        {
            return;
        }

        var ok = expected == JsonValueKind.True ? kind is JsonValueKind.True or JsonValueKind.False : kind == expected;
        if (!ok)
        {
            var wanted = expected == JsonValueKind.True ? "true, false or null" : "a string or null";
            var found = value.GetRawText();
            throw new InputException("target-snapshot", $"user {id} ({position}): \"{name}\" must be {wanted}, found {(found.Length <= 40 ? found : found[..37] + "...")} ({kind.ToString().ToLowerInvariant()})", file);
        }
    }

    private static bool IsBoolean(string name)
    {
        foreach (var boolean in BooleanProperties)
        {
            if (name.Equals(boolean, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }
}
