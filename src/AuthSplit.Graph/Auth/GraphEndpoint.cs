using AuthSplit.Core.Errors;
using Microsoft.Kiota.Abstractions;
using Microsoft.Kiota.Abstractions.Authentication;

namespace AuthSplit.Graph.Auth;

/// <summary>
/// The one Graph endpoint a connection talks to: the scheme, host and port of <c>Target:BaseUrl</c> and
/// the API version under it. Nothing the server answers (an <c>@odata.nextLink</c>, a redirect) can move
/// a request, or the bearer token, anywhere else: same host on another port is another endpoint.
/// </summary>
public sealed class GraphEndpoint
{
    public GraphEndpoint(Uri root, string version)
    {
        Root = root;
        Version = version;
        VersionRoot = new Uri(root, version + "/");
    }

    /// <summary>The service root without a version, e.g. <c>https://graph.microsoft.com/</c>.</summary>
    public Uri Root { get; }

    public string Version { get; }

    /// <summary>E.g. <c>https://graph.microsoft.com/v1.0/</c>.</summary>
    public Uri VersionRoot { get; }

    public string Authority => Root.GetLeftPart(UriPartial.Authority);

    /// <summary>Same scheme, host and port (the default port of the scheme when none is written).</summary>
    public bool IsSameAuthority(Uri? uri) =>
        uri is { IsAbsoluteUri: true }
        && string.Equals(uri.Scheme, Root.Scheme, StringComparison.OrdinalIgnoreCase)
        && string.Equals(uri.IdnHost, Root.IdnHost, StringComparison.OrdinalIgnoreCase)
        && uri.Port == Root.Port;

    /// <summary>
    /// An <c>@odata.nextLink</c> this connection may follow: on its own authority and under its own API
    /// version; anything else is refused, naming where the link leads (never the token).
    /// </summary>
    public string RequireOwnLink(string link, string what)
    {
        if (!Uri.TryCreate(link, UriKind.Absolute, out var uri))
        {
            throw new ExternalSystemException(Authority, $"Graph's {what} has an @odata.nextLink that is not an absolute URL; the read is refused");
        }

        if (!IsSameAuthority(uri) || !uri.AbsolutePath.StartsWith(VersionRoot.AbsolutePath, StringComparison.Ordinal))
        {
            var segments = uri.AbsolutePath.Split('/', StringSplitOptions.RemoveEmptyEntries);
            var leadsTo = uri.GetLeftPart(UriPartial.Authority) + (segments.Length > 0 ? "/" + segments[0] : string.Empty);
            throw new ExternalSystemException(
                Authority,
                $"Graph's {what} has an @odata.nextLink to {leadsTo}, which is not the configured endpoint {Authority}/{Version} (Target:BaseUrl); the read is refused and nothing was sent there");
        }

        return link;
    }
}

/// <summary>Authenticates only requests to the connection's own authority (scheme, host and port); any other request leaves without a token.</summary>
internal sealed class EndpointAuthenticationProvider(IAuthenticationProvider inner, GraphEndpoint endpoint) : IAuthenticationProvider
{
    public Task AuthenticateRequestAsync(RequestInformation request, Dictionary<string, object>? additionalAuthenticationContext = null, CancellationToken cancellationToken = default) =>
        endpoint.IsSameAuthority(request.URI) ? inner.AuthenticateRequestAsync(request, additionalAuthenticationContext, cancellationToken) : Task.CompletedTask;
}

/// <summary>
/// The last handler before the network: a request for any authority but the connection's own (a
/// redirect, a link that slipped past <see cref="GraphEndpoint.RequireOwnLink"/>) is refused, so neither
/// it nor its <c>Authorization</c> header ever leaves.
/// </summary>
internal sealed class EndpointGuardHandler(GraphEndpoint endpoint) : DelegatingHandler
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
        endpoint.IsSameAuthority(request.RequestUri)
            ? base.SendAsync(request, cancellationToken)
            : throw new ExternalSystemException(
                endpoint.Authority,
                $"refused to send a request to {request.RequestUri?.GetLeftPart(UriPartial.Authority)}: it is not the configured Graph endpoint {endpoint.Authority} (Target:BaseUrl)");
}
