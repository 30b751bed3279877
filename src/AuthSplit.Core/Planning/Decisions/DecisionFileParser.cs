using System.Text.Json;
using AuthSplit.Core.Errors;

namespace AuthSplit.Core.Planning.Decisions;

/// <summary>
/// Reads a decisions file:
/// <c>{"formatVersion":1,"decisions":[{"entityId":"...","decision":"keep|remove|assign-wave|use-target|except-system|accept-group-loss","wave":"hq","targetId":"...","reason":"...","decidedBy":"..."}]}</c>.
/// <c>entityId</c> names what is decided about: an entity's id, or for <c>except-system</c> a configured
/// system's id and for <c>accept-group-loss</c> a synchronised cloud group's object id (one key for all, so
/// a decision keeps one shape and an id nothing in the plan has is reported <c>unused</c> alike).
/// Every fault names the file and the decision's index; an unknown key (a misspelt <c>targetID</c> would
/// otherwise be ignored and the decision misread) names its key path and line, as the config does.
/// A byte order mark (PowerShell writes one) is accepted.
/// </summary>
public static class DecisionFileParser
{
    private static readonly JsonDocumentOptions DocumentOptions = new() { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };
    private static readonly string[] RootKeys = ["formatVersion", "decisions"];
    private static readonly string[] DecisionKeys = ["entityId", "decision", "wave", "targetId", "reason", "decidedBy"];

    public static IReadOnlyList<Decision> Parse(string json, string path)
    {
        ArgumentNullException.ThrowIfNull(json);
        if (json.StartsWith('\uFEFF'))
        {
            json = json[1..];
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, DocumentOptions);
        }
        catch (JsonException ex)
        {
            throw new InputException("decisions-syntax", $"not valid JSON: {ex.Message}", path, (int?)(ex.LineNumber + 1));
        }

        using (document)
        {
            CheckKeys(json, path);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("decisions", out var list) || list.ValueKind != JsonValueKind.Array)
            {
                throw new InputException("decisions-invalid", "expected an object with a \"decisions\" array", path);
            }

            if (root.TryGetProperty("formatVersion", out var version) && (version.ValueKind != JsonValueKind.Number || version.GetInt32() != 1))
            {
                throw new InputException("decisions-invalid", "formatVersion must be 1", path);
            }

            var decisions = new List<Decision>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            var index = 0;
            foreach (var item in list.EnumerateArray())
            {
                var at = $"decisions[{index}]";
                var entityId = Required(item, "entityId", path, at).ToLowerInvariant();
                var kind = ParseKind(Required(item, "decision", path, at), path, at);
                var wave = Optional(item, "wave");
                var targetId = Optional(item, "targetId");
                var reason = Required(item, "reason", path, at);
                var decidedBy = Required(item, "decidedBy", path, at);
                if (kind == DecisionKind.AssignWave && string.IsNullOrWhiteSpace(wave))
                {
                    throw new InputException("decisions-invalid", $"{at}: assign-wave needs \"wave\"", path);
                }

                if (kind == DecisionKind.UseTarget && string.IsNullOrWhiteSpace(targetId))
                {
                    throw new InputException("decisions-invalid", $"{at}: use-target needs \"targetId\"", path);
                }

                if (!seen.Add(entityId))
                {
                    throw new InputException("decisions-invalid", $"{at}: a second decision for entity {entityId}; keep one", path);
                }

                decisions.Add(new Decision(entityId, kind, wave, targetId, reason, decidedBy));
                index++;
            }

            return decisions;
        }
    }

    // JsonDocument knows no line numbers, so the keys are walked once more with a reader, whose token
    // offsets give the line. Only the two levels the format defines are checked.
    private static void CheckKeys(string json, string path)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(json);
        var reader = new Utf8JsonReader(bytes, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        string? rootProperty = null;
        var index = -1;
        while (reader.Read())
        {
            if (reader.TokenType == JsonTokenType.StartObject && reader.CurrentDepth == 2 && rootProperty == "decisions")
            {
                index++;
            }

            if (reader.TokenType != JsonTokenType.PropertyName)
            {
                continue;
            }

            var name = reader.GetString()!;
            if (reader.CurrentDepth == 1)
            {
                rootProperty = name;
                Check(name, RootKeys, name, bytes, reader.TokenStartIndex, path);
            }
            else if (reader.CurrentDepth == 3 && rootProperty == "decisions")
            {
                Check(name, DecisionKeys, $"decisions[{index}].{name}", bytes, reader.TokenStartIndex, path);
            }
        }
    }

    private static void Check(string name, string[] known, string keyPath, byte[] bytes, long offset, string path)
    {
        if (Array.IndexOf(known, name) < 0)
        {
            var line = 1 + bytes.AsSpan(0, (int)offset).Count((byte)'\n');
            throw new InputException("decisions-invalid", $"{keyPath}: unknown key \"{name}\" (the keys here are {string.Join(", ", known)})", path, line);
        }
    }

    private static DecisionKind ParseKind(string text, string path, string at) => text switch
    {
        "keep" => DecisionKind.Keep,
        "remove" => DecisionKind.Remove,
        "assign-wave" => DecisionKind.AssignWave,
        "use-target" => DecisionKind.UseTarget,
        "except-system" => DecisionKind.ExceptSystem,
        "accept-group-loss" => DecisionKind.AcceptGroupLoss,
        _ => throw new InputException("decisions-invalid", $"{at}.decision: \"{text}\" is not one of keep, remove, assign-wave, use-target, except-system, accept-group-loss", path),
    };

    private static string Required(JsonElement item, string name, string path, string at) =>
        Optional(item, name) is { Length: > 0 } value
            ? value
            : throw new InputException("decisions-invalid", $"{at}.{name} is required", path);

    private static string? Optional(JsonElement item, string name) =>
        item.ValueKind == JsonValueKind.Object && item.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()?.Trim()
            : null;
}
