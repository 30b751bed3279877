using System.Net;

namespace AuthSplit.Graph.Emulator;

/// <summary>The emulator's stand-in for Entra's tokens: every request carries the one configured bearer token.</summary>
public sealed partial class GraphEmulator
{
    // Graph's answers to a missing and to a wrong token; null when the request may proceed.
    private EmulatorResponse? Unauthenticated(string? authorization, string? clientRequestId) =>
        string.Equals(authorization, "Bearer " + _options.AccessToken, StringComparison.Ordinal)
            ? null
            : Error(HttpStatusCode.Unauthorized, "InvalidAuthenticationToken", authorization is null ? "Access token is empty." : "Access token validation failure. Invalid audience.", clientRequestId);
}
