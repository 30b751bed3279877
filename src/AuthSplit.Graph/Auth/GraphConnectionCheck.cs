using AuthSplit.Core.Errors;
using AuthSplit.Graph.Resilience;

namespace AuthSplit.Graph.Auth;

/// <summary>
/// <c>authsplit config check --connect</c> for the target: one page of one user (<c>GET /v1.0/users?$top=1</c>)
/// over the configured connection, which proves the URL, TLS, the credential and <c>User.Read.All</c>.
/// </summary>
public static class GraphConnectionCheck
{
    public static async Task<string> ReadOneUserAsync(GraphConnection connection, CancellationToken cancellationToken)
    {
        try
        {
            var page = await connection.Client.Users.GetAsync(request =>
            {
                request.QueryParameters.Top = 1;
                request.QueryParameters.Select = ["id"];
            }, cancellationToken);
            return page?.Value is null
                ? throw new ExternalSystemException(connection.Description, "Graph answered the users request without a page of users")
                : $"{connection.Description}, users readable";
        }
        catch (Exception ex) when (GraphErrors.IsGraphFailure(ex))
        {
            throw GraphErrors.From(connection.Description, ex);
        }
    }
}
