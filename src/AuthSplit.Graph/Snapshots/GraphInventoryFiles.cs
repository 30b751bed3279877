using System.Security.Cryptography;
using System.Text.Encodings.Web;
using System.Text.Json;
using AuthSplit.Core.Errors;
using AuthSplit.Core.Model;
using AuthSplit.Core.Planning.Format;

namespace AuthSplit.Graph.Snapshots;

/// <summary>
/// The target's inventory as a snapshot holds it, in <c>target/inventory/</c>: <c>groups.json</c>,
/// <c>applications.json</c> and <c>servicePrincipals.json</c>, each a Graph page <c>{"value":[...]}</c> of
/// the objects with the properties the live read selects, in Graph's names; a group synchronised from
/// on-premises also carries <c>"members"</c>, the ids of its direct user members.
/// </summary>
/// <remarks>
/// The files are rendered canonically, from what was read rather than from Graph's bytes (the inventory
/// is read through the SDK's typed models and its members through <c>$batch</c>): objects sorted by id,
/// member ids sorted, every selected property written (null kept), one object per line. So the same
/// tenant state always gives the same bytes whatever order Graph paged it in, and the inventory's hash
/// (<see cref="Combine"/>) is the same for a live read and for the snapshot saved from it.
/// </remarks>
public static class GraphInventoryFiles
{
    /// <summary>The folder inside a snapshot's <c>target/</c>.</summary>
    public const string Folder = "inventory";

    public const string Groups = "groups.json";
    public const string Applications = "applications.json";
    public const string ServicePrincipals = "servicePrincipals.json";

    public static readonly IReadOnlyList<string> Names = [Applications, Groups, ServicePrincipals];

    private const string Kind = "target-snapshot";

    private static readonly JsonWriterOptions Writer = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, Indented = false };

    /// <summary>One rendered file: its name, bytes, lower-case hex SHA-256 and object count.</summary>
    public sealed record File(string Name, byte[] Content, string Sha256, int Objects);

    public static IReadOnlyList<File> Render(TargetInventory inventory) =>
    [
        Page(Applications, inventory.Applications.OrderBy(a => a.Id, StringComparer.Ordinal), static (w, a) =>
        {
            w.WriteString("id", a.Id);
            w.WriteString("appId", a.AppId);
            w.WriteString("displayName", a.DisplayName);
            w.WriteStartArray("identifierUris");
            foreach (var uri in a.IdentifierUris)
            {
                w.WriteStringValue(uri);
            }

            w.WriteEndArray();
        }),
        Page(Groups, inventory.Groups.OrderBy(g => g.Group.Id, StringComparer.Ordinal), static (w, g) =>
        {
            var group = g.Group;
            w.WriteString("id", group.Id);
            w.WriteString("displayName", group.DisplayName);
            Boolean(w, "securityEnabled", group.SecurityEnabled);
            Boolean(w, "mailEnabled", group.MailEnabled);
            Boolean(w, "onPremisesSyncEnabled", group.OnPremisesSyncEnabled);
            w.WriteString("onPremisesSecurityIdentifier", group.OnPremisesSecurityIdentifier);
            if (group.OnPremisesSyncEnabled == true)
            {
                w.WriteStartArray("members");
                foreach (var member in g.MemberIds.Order(StringComparer.Ordinal))
                {
                    w.WriteStringValue(member);
                }

                w.WriteEndArray();
            }
        }),
        Page(ServicePrincipals, inventory.ServicePrincipals.OrderBy(s => s.Id, StringComparer.Ordinal), static (w, s) =>
        {
            w.WriteString("id", s.Id);
            w.WriteString("appId", s.AppId);
            w.WriteString("displayName", s.DisplayName);
            Boolean(w, "accountEnabled", s.AccountEnabled);
            w.WriteString("servicePrincipalType", s.ServicePrincipalType);
        }),
    ];

    /// <summary>
    /// The inventory's hash: SHA-256 of the lines <c>"&lt;file name&gt; &lt;hex sha256 of the file&gt;\n"</c>
    /// of its three files sorted by name (the rule of a directory of user pages).
    /// </summary>
    public static string Combine(IEnumerable<File> files) => GraphUserSnapshot.CombinePages(files.Select(f => (f.Name, f.Sha256)));

    /// <summary>The inventory's record in the plan.</summary>
    public static InputDescription Describe(string location, IReadOnlyList<File> files) => new()
    {
        Kind = "graph-inventory",
        Location = location,
        Sha256 = Combine(files),
        Count = files.Sum(f => f.Objects),
    };

    private static File Page<T>(string name, IEnumerable<T> items, Action<Utf8JsonWriter, T> write)
    {
        using var buffer = new MemoryStream();
        buffer.Write("{\"value\":[\n"u8);
        var count = 0;
        foreach (var item in items)
        {
            if (count > 0)
            {
                buffer.Write(",\n"u8);
            }

            using (var writer = new Utf8JsonWriter(buffer, Writer))
            {
                writer.WriteStartObject();
                write(writer, item);
                writer.WriteEndObject();
            }

            count++;
        }

        buffer.Write(count == 0 ? "]}\n"u8 : "\n]}\n"u8);
        var content = buffer.ToArray();
        return new File(name, content, Convert.ToHexStringLower(SHA256.HashData(content)), count);
    }

    private static void Boolean(Utf8JsonWriter writer, string name, bool? value)
    {
        if (value is { } b)
        {
            writer.WriteBoolean(name, b);
        }
        else
        {
            writer.WriteNull(name);
        }
    }

    /// <summary>Parses the three files (as saved, or hand-made in the same shape) into the inventory.</summary>
    /// <exception cref="InputException">A file is not JSON, not a whole page, or an object in it is not what Graph returns.</exception>
    public static TargetInventory Parse(IReadOnlyDictionary<string, (byte[] Content, string Path)> files) => new()
    {
        Groups = ParsePage(files[Groups], (item, at, path) =>
        {
            var group = new TargetGroup(Id(item, at, path), Text(item, "displayName", at, path), Flag(item, "securityEnabled", at, path), Flag(item, "mailEnabled", at, path), Flag(item, "onPremisesSyncEnabled", at, path), Text(item, "onPremisesSecurityIdentifier", at, path));
            var members = Texts(item, "members", at, path);
            if (group.OnPremisesSyncEnabled == true && members is null)
            {
                throw new InputException(Kind, $"{at}: group {group.Id} is synchronised from on-premises but has no \"members\": the file does not hold what the read saw", path);
            }

            return new TargetGroupMembers(group, members ?? []);
        }, g => g.Group.Id),
        Applications = ParsePage(files[Applications], (item, at, path) => new TargetApplication(Id(item, at, path), Text(item, "appId", at, path), Text(item, "displayName", at, path), Texts(item, "identifierUris", at, path) ?? []), a => a.Id),
        ServicePrincipals = ParsePage(files[ServicePrincipals], (item, at, path) => new TargetServicePrincipal(Id(item, at, path), Text(item, "appId", at, path), Text(item, "displayName", at, path), Flag(item, "accountEnabled", at, path), Text(item, "servicePrincipalType", at, path)), s => s.Id),
    };

    private static List<T> ParsePage<T>((byte[] Content, string Path) file, Func<JsonElement, string, string, T> parse, Func<T, string> id)
    {
        var (content, path) = file;
        try
        {
            using var document = JsonDocument.Parse(GraphUserSnapshot.WithoutByteOrderMark(content));
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("value", out var value) || value.ValueKind != JsonValueKind.Array)
            {
                throw new InputException(Kind, "expected a Graph page: an object with a \"value\" array", path);
            }

            if (GraphUserSnapshot.NextLink(root) is not null)
            {
                throw new InputException(Kind, "this page carries @odata.nextLink: the pages after it are missing, so the read is short. Save the inventory with --save-snapshot", path);
            }

            var items = new List<T>(value.GetArrayLength());
            var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            var index = 0;
            foreach (var element in value.EnumerateArray())
            {
                var item = parse(element, $"value[{index++}]", path);
                if (!seen.Add(id(item)))
                {
                    throw new InputException(Kind, $"id {id(item)} appears twice; the file is inconsistent", path);
                }

                items.Add(item);
            }

            return items;
        }
        catch (JsonException ex)
        {
            throw new InputException(Kind, $"not valid JSON: {ex.Message}", path, (int?)(ex.LineNumber + 1));
        }
    }

    private static string Id(JsonElement item, string at, string path) =>
        item.ValueKind == JsonValueKind.Object && item.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String && !string.IsNullOrEmpty(id.GetString())
            ? id.GetString()!
            : throw new InputException(Kind, $"{at} is not an object with a string \"id\"", path);

    private static string? Text(JsonElement item, string name, string at, string path) =>
        !item.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null ? null
        : value.ValueKind == JsonValueKind.String ? value.GetString()
        : throw new InputException(Kind, $"{at}: \"{name}\" must be a string or null", path);

    private static bool? Flag(JsonElement item, string name, string at, string path) =>
        !item.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null ? null
        : value.ValueKind is JsonValueKind.True or JsonValueKind.False ? value.GetBoolean()
        : throw new InputException(Kind, $"{at}: \"{name}\" must be true, false or null", path);

    private static List<string>? Texts(JsonElement item, string name, string at, string path)
    {
        if (!item.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Array || value.EnumerateArray().Any(v => v.ValueKind != JsonValueKind.String))
        {
            throw new InputException(Kind, $"{at}: \"{name}\" must be an array of strings", path);
        }

        return [.. value.EnumerateArray().Select(v => v.GetString()!)];
    }
}
