using Microsoft.Kiota.Abstractions.Authentication;

namespace AuthSplit.Graph.Auth;

/// <summary>
/// A bearer token given from outside (e.g. <c>az account get-access-token</c>, or the emulator's), handed
/// out only for the connection's exact authority: same host on another port or scheme gets none.
/// </summary>
internal sealed class StaticTokenProvider(string token, GraphEndpoint endpoint) : IAccessTokenProvider
{
    public AllowedHostsValidator AllowedHostsValidator { get; } = new([endpoint.Root.Host]);

    public Task<string> GetAuthorizationTokenAsync(Uri uri, Dictionary<string, object>? additionalAuthenticationContext = null, CancellationToken cancellationToken = default) =>
        Task.FromResult(endpoint.IsSameAuthority(uri) ? token : string.Empty);
}
