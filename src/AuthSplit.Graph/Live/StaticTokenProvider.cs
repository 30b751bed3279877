using Microsoft.Kiota.Abstractions.Authentication;

namespace AuthSplit.Graph.Live;

/// <summary>A bearer token given from outside (e.g. <c>az account get-access-token</c>, or the emulator's), sent only to the allowed hosts.</summary>
internal sealed class StaticTokenProvider(string token, IEnumerable<string> allowedHosts) : IAccessTokenProvider
{
    public AllowedHostsValidator AllowedHostsValidator { get; } = new(allowedHosts);

    public Task<string> GetAuthorizationTokenAsync(Uri uri, Dictionary<string, object>? additionalAuthenticationContext = null, CancellationToken cancellationToken = default) =>
        Task.FromResult(AllowedHostsValidator.IsUrlHostValid(uri) ? token : string.Empty);
}
