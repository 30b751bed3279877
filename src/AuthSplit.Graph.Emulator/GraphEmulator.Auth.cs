using System.Net;

namespace AuthSplit.Graph.Emulator;

/// <summary>
/// The emulator's stand-in for Entra's tokens: every request carries the configured app-only token, or the
/// delegated-admin token (<see cref="GraphEmulatorOptions.AdminAccessToken"/>), which alone may write what
/// Graph lets only a signed-in administrator write.
/// </summary>
public sealed partial class GraphEmulator
{
    // Graph's answers to a missing and to a wrong token; null when the request may proceed.
    private EmulatorResponse? Unauthenticated(string? authorization, string? clientRequestId) =>
        string.Equals(authorization, "Bearer " + _options.AccessToken, StringComparison.Ordinal) || IsDelegatedAdmin(authorization)
            ? null
            : Error(HttpStatusCode.Unauthorized, "InvalidAuthenticationToken", authorization is null ? "Access token is empty." : "Access token validation failure. Invalid audience.", clientRequestId);

    private bool IsDelegatedAdmin(string? authorization) =>
        !string.IsNullOrEmpty(_options.AdminAccessToken) && string.Equals(authorization, "Bearer " + _options.AdminAccessToken, StringComparison.Ordinal);
}
