using System.DirectoryServices.Protocols;
using AuthSplit.Core.Execution;
using Polly.Timeout;

namespace AuthSplit.Ldap.Writing;

/// <summary>
/// What an LDAP result code means to a step: a value it acts on (<see cref="LegacyWriteStatus"/>), or a
/// transient failure the writer retries on a fresh connection.
/// </summary>
internal static class LdapResultCodes
{
    public const int TimeLimitExceeded = 3;
    public const int NoSuchAttribute = 16;
    public const int AttributeOrValueExists = 20;
    public const int NoSuchObject = 32;
    public const int InvalidCredentials = 49;
    public const int Busy = 51;
    public const int Unavailable = 52;
    public const int EntryAlreadyExists = 68;

    // Client-side codes libldap reports (RFC 4511 leaves 80+ to the API).
    public const int ServerDown = 81;
    public const int LocalError = 82;
    public const int ClientTimeout = 85;
    public const int ConnectError = 91;

    public static LegacyWriteStatus StatusOf(int code) => code switch
    {
        0 => LegacyWriteStatus.Done,
        NoSuchObject => LegacyWriteStatus.NoSuchObject,
        EntryAlreadyExists => LegacyWriteStatus.AlreadyExists,
        NoSuchAttribute or AttributeOrValueExists => LegacyWriteStatus.AlreadyInState,
        _ => LegacyWriteStatus.Rejected,
    };

    /// <summary><c>unwillingToPerform (53): the server's message</c>; the message is the server's diagnostic text, which never echoes a value written.</summary>
    public static string Describe(int code, string? message)
    {
        var name = Enum.IsDefined(typeof(ResultCode), code) ? ((ResultCode)code).ToString() : "result";
        name = char.ToLowerInvariant(name[0]) + name[1..];
        var text = string.IsNullOrWhiteSpace(message) ? string.Empty : ": " + message.Trim();
        return string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{name} ({code}){text}");
    }

    public static bool IsTransientCode(int code) =>
        code is TimeLimitExceeded or Busy or Unavailable or ServerDown or LocalError or ClientTimeout or ConnectError;

    /// <summary>The result code an exception carries, if it carries one.</summary>
    public static bool TryGetCode(Exception exception, out int code, out string? message)
    {
        switch (exception)
        {
            case DirectoryOperationException { Response: { } response }:
                code = (int)response.ResultCode;
                message = response.ErrorMessage;
                return true;
            case LdapException ldap:
                code = ldap.ErrorCode;
                message = ldap.ServerErrorMessage ?? ldap.Message;
                return true;
            default:
                code = 0;
                message = null;
                return false;
        }
    }

    /// <summary>Worth another attempt on a new connection: the server went away, was busy, or did not answer in time.</summary>
    public static bool IsTransient(Exception exception) => exception switch
    {
        TimeoutRejectedException or TimeoutException => true,
        DirectoryOperationException or LdapException => TryGetCode(exception, out var code, out _) && IsTransientCode(code),
        System.Net.Sockets.SocketException => true,

        // LdapSession.OpenAsync names the server and the step; what it wraps says whether to try again
        // (a refused TCP connect, a reset during StartTLS or bind: yes; wrong credentials: never).
        Core.Errors.ExternalSystemException { InnerException: { } inner } => inner is OperationCanceledException || IsTransient(inner),
        _ => false,
    };
}
