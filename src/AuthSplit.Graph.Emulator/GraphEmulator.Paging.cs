using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace AuthSplit.Graph.Emulator;

/// <summary>Collections as Graph pages them: <c>$filter</c> (eq), <c>$top</c>, <c>$select</c>, <c>@odata.nextLink</c> with a skip token.</summary>
public sealed partial class GraphEmulator
{
    private static EmulatorResponse List(List<JsonObject> items, Dictionary<string, string> query, string root, string version, string resource, string context, string? clientRequestId)
    {
        IEnumerable<JsonObject> selected = items;
        if (query.TryGetValue("$filter", out var filter))
        {
            if (!EqFilter.TryParse(filter, out var eq, out var problem))
            {
                return Error(HttpStatusCode.BadRequest, "Request_UnsupportedQuery", $"Unsupported or invalid query filter clause specified: {problem}", clientRequestId);
            }

            selected = selected.Where(eq.Matches);
        }

        var top = DefaultTop;
        if (query.TryGetValue("$top", out var topText) && (!int.TryParse(topText, CultureInfo.InvariantCulture, out top) || top < 1 || top > MaxTop))
        {
            return Error(HttpStatusCode.BadRequest, "Request_BadRequest", $"Invalid page size specified: '{topText}'. Must be between 1 and {MaxTop} inclusive.", clientRequestId);
        }

        var skip = 0;
        if (query.TryGetValue("$skiptoken", out var token) && !TryDecodeSkipToken(token, out skip))
        {
            return Error(HttpStatusCode.BadRequest, "Directory_ExpiredPageToken", "The specified page token value has expired or is invalid.", clientRequestId);
        }

        var all = selected as List<JsonObject> ?? selected.ToList();
        var page = all.Skip(skip).Take(top).ToList();
        var select = query.TryGetValue("$select", out var selectText) ? selectText.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) : null;
        var value = new JsonArray([.. page.Select(i => (JsonNode)Project(i, select))]);
        var result = new JsonObject { ["@odata.context"] = context, ["value"] = value };
        if (skip + page.Count < all.Count)
        {
            var next = new Dictionary<string, string>(query, StringComparer.Ordinal) { ["$skiptoken"] = EncodeSkipToken(skip + page.Count), ["$top"] = top.ToString(CultureInfo.InvariantCulture) };
            var nextQuery = string.Join('&', next.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => Uri.EscapeDataString(p.Key) + "=" + Uri.EscapeDataString(p.Value)));
            result["@odata.nextLink"] = $"{root}/{version}/{resource}?{nextQuery}";
        }

        return new EmulatorResponse(HttpStatusCode.OK, result);
    }

    private static JsonObject Project(JsonObject item, string[]? select)
    {
        if (select is null)
        {
            return item.DeepClone().AsObject();
        }

        var projected = new JsonObject();
        foreach (var name in select.Prepend("id").Distinct(StringComparer.OrdinalIgnoreCase))
        {
            var property = item.FirstOrDefault(p => string.Equals(p.Key, name, StringComparison.OrdinalIgnoreCase));
            projected[property.Key ?? name] = property.Value?.DeepClone();
        }

        return projected;
    }

    private static Dictionary<string, string> ParseQuery(string query)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in query.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            var key = Uri.UnescapeDataString((equals < 0 ? pair : pair[..equals]).Replace('+', ' '));
            var value = equals < 0 ? string.Empty : Uri.UnescapeDataString(pair[(equals + 1)..].Replace('+', ' '));
            result[key] = value;
        }

        return result;
    }

    private static string EncodeSkipToken(int offset) => "X" + Convert.ToHexString(Encoding.UTF8.GetBytes("skip:" + offset.ToString(CultureInfo.InvariantCulture)));

    private static bool TryDecodeSkipToken(string token, out int offset)
    {
        offset = 0;
        try
        {
            var text = Encoding.UTF8.GetString(Convert.FromHexString(token.TrimStart('X')));
            return text.StartsWith("skip:", StringComparison.Ordinal) && int.TryParse(text.AsSpan(5), NumberStyles.None, CultureInfo.InvariantCulture, out offset);
        }
        catch (FormatException)
        {
            return false;
        }
    }
}
