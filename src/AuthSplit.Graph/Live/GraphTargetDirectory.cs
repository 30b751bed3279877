using System.Globalization;
using System.Net;
using System.Runtime.CompilerServices;
using AuthSplit.Core.Errors;
using AuthSplit.Core.Model;
using AuthSplit.Core.Planning;
using Microsoft.Graph.Models;
using Microsoft.Graph.Models.ODataErrors;
using Polly.CircuitBreaker;

namespace AuthSplit.Graph.Live;

/// <summary>
/// The tenant's users read live through Microsoft Graph: <c>GET /v1.0/users?$select=...&amp;$top=999</c>,
/// following <c>@odata.nextLink</c>. Each user becomes a <see cref="TargetUser"/> with exactly the
/// selected properties (null when Graph has none), as a snapshot of the same pages would give.
/// </summary>
public sealed class GraphTargetDirectory(GraphConnection connection, IEnumerable<string> extraProperties) : ITargetDirectorySource
{
    /// <summary>What a target snapshot holds; matching rules may add more.</summary>
    public static readonly IReadOnlyList<string> SnapshotProperties = ["id", "userPrincipalName", "mail", "employeeId", "onPremisesImmutableId", "accountEnabled"];

    private readonly string[] _select = [.. SnapshotProperties.Concat(extraProperties).Distinct(StringComparer.OrdinalIgnoreCase)];

    public string Description => connection.Description;

    public IReadOnlyList<string> Select => _select;

    public async IAsyncEnumerable<TargetUser> ReadUsersAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var page = await CallAsync(() => connection.Client.Users.GetAsync(request =>
        {
            request.QueryParameters.Select = _select;
            request.QueryParameters.Top = 999;
        }, cancellationToken));
        while (page is not null)
        {
            foreach (var user in page.Value ?? [])
            {
                yield return ToTargetUser(user);
            }

            if (string.IsNullOrEmpty(page.OdataNextLink))
            {
                break;
            }

            var next = page.OdataNextLink;
            page = await CallAsync(() => connection.Client.Users.WithUrl(next).GetAsync(cancellationToken: cancellationToken));
        }
    }

    private TargetUser ToTargetUser(User user)
    {
        if (string.IsNullOrEmpty(user.Id))
        {
            throw new ExternalSystemException(connection.Description, "Graph returned a user without an id");
        }

        var values = new Dictionary<string, object?>(StringComparer.OrdinalIgnoreCase);
        foreach (var (key, value) in user.BackingStore.Enumerate())
        {
            values[key] = value;
        }

        foreach (var (key, value) in user.AdditionalData)
        {
            values.TryAdd(key, value);
        }

        var properties = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var name in _select)
        {
            properties[name] = values.GetValueOrDefault(name) switch
            {
                null => null,
                string text => text,
                bool flag => flag ? "true" : "false",
                IFormattable number => number.ToString(null, CultureInfo.InvariantCulture),
                var other => other.ToString(),
            };
        }

        return new TargetUser(user.Id, properties);
    }

    private async Task<T?> CallAsync<T>(Func<Task<T?>> call)
    {
        try
        {
            return await call();
        }
        catch (ODataError ex) when (ex.ResponseStatusCode is (int)HttpStatusCode.Unauthorized or (int)HttpStatusCode.Forbidden)
        {
            throw new ExternalSystemException(connection.Description, $"Graph refused the credential ({ex.ResponseStatusCode} {ex.Error?.Code}: {ex.Error?.Message}); check Target:Auth and that the app has User.Read.All", ex);
        }
        catch (ODataError ex)
        {
            throw new ExternalSystemException(connection.Description, $"Graph answered {ex.ResponseStatusCode} {ex.Error?.Code}: {ex.Error?.Message}", ex);
        }
        catch (BrokenCircuitException ex)
        {
            throw new ExternalSystemException(connection.Description, "Graph kept failing (5xx or no answer) and the circuit breaker opened; try again later", ex);
        }
        catch (HttpRequestException ex)
        {
            throw new ExternalSystemException(connection.Description, $"cannot reach Graph: {ex.Message}", ex);
        }
    }
}
