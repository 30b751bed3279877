using System.Net;
using AuthSplit.Core.Errors;
using Microsoft.Graph.Models.ODataErrors;
using Polly.CircuitBreaker;

namespace AuthSplit.Graph.Resilience;

/// <summary>Graph failures as the operator reads them: what happened and what to check, never the token.</summary>
internal static class GraphErrors
{
    /// <summary>The failures a Graph call ends with once the resilience pipeline has given up: each is turned into an operator's message by <see cref="From"/>.</summary>
    public static bool IsGraphFailure(Exception exception) => exception is ODataError or BrokenCircuitException or HttpRequestException;

    public static ExternalSystemException From(string system, Exception exception) => exception switch
    {
        ODataError { ResponseStatusCode: (int)HttpStatusCode.Unauthorized or (int)HttpStatusCode.Forbidden } ex =>
            new ExternalSystemException(system, $"Graph refused the credential ({ex.ResponseStatusCode} {ex.Error?.Code}: {ex.Error?.Message}); check Target:Auth and the app's permissions (User.Read.All to plan; User.ReadWrite.All and User-OnPremisesSyncBehavior.ReadWrite.All to execute)", ex),
        ODataError ex => new ExternalSystemException(system, $"Graph answered {ex.ResponseStatusCode} {ex.Error?.Code}: {ex.Error?.Message}", ex),
        BrokenCircuitException ex => new ExternalSystemException(system, "Graph kept failing (5xx or no answer) and the circuit breaker opened; try again later", ex),
        HttpRequestException ex => new ExternalSystemException(system, $"cannot reach Graph: {ex.Message}", ex),
        _ => new ExternalSystemException(system, exception.Message, exception),
    };
}
