using System.Text.Json.Nodes;

namespace AuthSplit.Graph.Emulator;

/// <summary>The one OData filter the emulator understands: <c>property eq 'text'</c> or <c>property eq true|false|null</c>, compared case-insensitively as Graph does for these properties.</summary>
internal sealed record EqFilter(string Property, string? Value)
{
    public static bool TryParse(string text, out EqFilter filter, out string problem)
    {
        filter = new EqFilter(string.Empty, null);
        var trimmed = text.Trim();
        var space = trimmed.IndexOf(' ', StringComparison.Ordinal);
        if (space <= 0 || !trimmed[space..].TrimStart().StartsWith("eq ", StringComparison.Ordinal))
        {
            problem = $"only '<property> eq <value>' is supported (got \"{text}\")";
            return false;
        }

        var property = trimmed[..space];
        var literal = trimmed[space..].TrimStart()[3..].Trim();
        if (literal.Length >= 2 && literal[0] == '\'' && literal[^1] == '\'')
        {
            var inner = literal[1..^1];
            if (inner.Replace("''", string.Empty, StringComparison.Ordinal).Contains('\'', StringComparison.Ordinal))
            {
                problem = "a quote inside a string literal must be doubled";
                return false;
            }

            filter = new EqFilter(property, inner.Replace("''", "'", StringComparison.Ordinal));
        }
        else if (literal is "true" or "false")
        {
            filter = new EqFilter(property, literal);
        }
        else if (literal == "null")
        {
            filter = new EqFilter(property, null);
        }
        else
        {
            problem = $"unsupported literal {literal}";
            return false;
        }

        problem = string.Empty;
        return true;
    }

    public bool Matches(JsonObject item)
    {
        var property = item.FirstOrDefault(p => string.Equals(p.Key, Property, StringComparison.OrdinalIgnoreCase)).Value;
        var text = property is JsonValue value ? value.ToString() : null;
        if (property is JsonValue boolean && boolean.TryGetValue<bool>(out var b))
        {
            text = b ? "true" : "false";
        }

        return Value is null ? property is null : string.Equals(text, Value, StringComparison.OrdinalIgnoreCase);
    }
}
