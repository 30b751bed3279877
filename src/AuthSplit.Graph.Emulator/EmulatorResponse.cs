using System.Net;
using System.Text.Json.Nodes;

namespace AuthSplit.Graph.Emulator;

internal sealed record EmulatorResponse(HttpStatusCode Status, JsonObject? Body)
{
    public IReadOnlyList<KeyValuePair<string, string>> Headers { get; init; } = [];
}
