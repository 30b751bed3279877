using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace AuthSplit.Core.Execution.Steps;

/// <summary>The compact JSON of a journal row's Before and After: DNs and the values a step relied on, never a credential.</summary>
internal static class StepJson
{
    private static readonly JsonSerializerOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, WriteIndented = false };

    public static string Of(JsonObject value) => value.ToJsonString(Options);

    public static JsonArray Array(IEnumerable<string> values) => [.. values.Select(v => (JsonNode?)JsonValue.Create(v))];
}
