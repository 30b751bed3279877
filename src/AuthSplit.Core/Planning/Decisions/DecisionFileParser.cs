using System.Text.Json;
using AuthSplit.Core.Errors;

namespace AuthSplit.Core.Planning.Decisions;

/// <summary>
/// Reads a decisions file:
/// <c>{"formatVersion":1,"decisions":[{"entityId":"...","decision":"keep|remove|assign-wave|use-target","wave":"hq","targetId":"...","reason":"...","decidedBy":"..."}]}</c>.
/// Every fault names the file and the decision's index.
/// </summary>
public static class DecisionFileParser
{
    private static readonly JsonDocumentOptions DocumentOptions = new() { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };

    public static IReadOnlyList<Decision> Parse(string json, string path)
    {
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

    private static DecisionKind ParseKind(string text, string path, string at) => text switch
    {
        "keep" => DecisionKind.Keep,
        "remove" => DecisionKind.Remove,
        "assign-wave" => DecisionKind.AssignWave,
        "use-target" => DecisionKind.UseTarget,
        _ => throw new InputException("decisions-invalid", $"{at}.decision: \"{text}\" is not one of keep, remove, assign-wave, use-target", path),
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
