using System.DirectoryServices.Protocols;

namespace AuthSplit.Ldap;

/// <summary>The one bridge from System.DirectoryServices.Protocols' APM methods to tasks.</summary>
internal static class LdapRequests
{
    public static async Task<DirectoryResponse> SendAsync(this LdapConnection connection, DirectoryRequest request, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var pending = connection.BeginSendRequest(request, PartialResultProcessing.NoPartialResultSupport, null, null);
        await using var registration = cancellationToken.Register(() =>
        {
            try
            {
                connection.Abort(pending);
            }
            catch (Exception ex) when (ex is LdapException or DirectoryOperationException or InvalidOperationException or ArgumentException)
            {
                // Already finished: nothing to abort.
            }
        });
        var response = await Task.Factory.FromAsync(pending, connection.EndSendRequest);
        cancellationToken.ThrowIfCancellationRequested();
        return response;
    }
}
