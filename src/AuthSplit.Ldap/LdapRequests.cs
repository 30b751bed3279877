using System.DirectoryServices.Protocols;

namespace AuthSplit.Ldap;

/// <summary>
/// The one bridge from System.DirectoryServices.Protocols to tasks. On Linux its APM pair
/// (<c>BeginSendRequest</c>/<c>EndSendRequest</c>) stalls on long paged reads: measured against a
/// private slapd, a 100,000-entry read in pages of 1,000 hung after 30,000-60,000 entries until the
/// client timeout, every time, while the synchronous <c>SendRequest</c> on the same connection read
/// everything (see docs/benchmarks.md). So each request runs synchronously on a pool thread, bounded
/// by the connection's <c>Timeout</c> (also from the outside, see below); cancellation returns to the caller at once and the request's
/// outcome is dropped (the session is disposed right after, and its native handle is released only
/// once the call returns).
/// </summary>
internal static class LdapRequests
{
    public static async Task<DirectoryResponse> SendAsync(this LdapConnection connection, DirectoryRequest request, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        // The connection's Timeout bounds the request once it is on the wire, but not libldap's connect: a
        // server that accepts TCP and never answers held the first request (StartTLS's root DSE read) for
        // good. The same bound from the outside; a TimeoutException names Source:TimeoutSeconds upstream.
        var response = await Task.Run(() => connection.SendRequest(request), CancellationToken.None).WaitAsync(connection.Timeout, cancellationToken);
        cancellationToken.ThrowIfCancellationRequested();
        return response;
    }
}
