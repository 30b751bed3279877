using System.DirectoryServices.Protocols;
using AuthSplit.Core.Configuration;
using AuthSplit.Core.Errors;
using Microsoft.Extensions.Logging;

namespace AuthSplit.Ldap;

/// <summary>
/// <c>authsplit config check --connect</c> for the legacy directory: connect as a plan would (TLS, CA,
/// bind) and read only the base entry, so that a wrong URL, certificate, password or <c>Source:BaseDn</c>
/// shows in seconds instead of at the start of a long read.
/// </summary>
public static class LdapConnectionCheck
{
    private const int NoSuchObject = 32;

    /// <summary>The LDAP password policy control (draft-behera-ldap-password-policy), announced by slapd when its ppolicy overlay is loaded.</summary>
    public const string PasswordPolicyControlOid = "1.3.6.1.4.1.42.2.27.8.5.1";

    /// <summary>
    /// Whether the server's root DSE announces the password policy control: without it slapd's ppolicy
    /// overlay is not loaded, and a <c>pwdAccountLockedTime</c> lock (<c>Removal:OpenLdapDisable:
    /// PasswordPolicyLock</c>) would not stop a bind.
    /// </summary>
    public static async Task<bool> AnnouncesPasswordPolicyAsync(SourceOptions options, ILogger logger, CancellationToken cancellationToken)
    {
        var settings = LdapConnectionSettings.From(options);
        using var session = await LdapSession.OpenAsync(settings, logger, cancellationToken);
        var response = await session.SearchAsync(new SearchRequest(string.Empty, "(objectClass=*)", SearchScope.Base, "supportedControl"), cancellationToken);
        return response.Entries.Count == 1
            && response.Entries[0].Attributes["supportedControl"] is { } controls
            && controls.GetValues(typeof(string)).OfType<string>().Contains(PasswordPolicyControlOid, StringComparer.Ordinal);
    }

    /// <summary>Binds and reads <c>Source:BaseDn</c> (no attributes); returns what was reached, e.g. <c>ldaps://host:636, dc=example,dc=jp</c>.</summary>
    public static async Task<string> ReadBaseEntryAsync(SourceOptions options, ILogger logger, CancellationToken cancellationToken)
    {
        var settings = LdapConnectionSettings.From(options);
        using var session = await LdapSession.OpenAsync(settings, logger, cancellationToken);
        var request = new SearchRequest(options.BaseDn, "(objectClass=*)", SearchScope.Base, "1.1");
        SearchResponse response;
        try
        {
            response = await session.SearchAsync(request, cancellationToken);
        }
        catch (ExternalSystemException ex) when (ex.InnerException is DirectoryOperationException { Response.ResultCode: (ResultCode)NoSuchObject })
        {
            throw new ExternalSystemException(settings.Server, $"the bind worked but Source:BaseDn {options.BaseDn} does not exist on the server (or the bind account cannot see it)", ex);
        }

        return response.Entries.Count == 1
            ? $"{settings.Server}, {options.BaseDn}"
            : throw new ExternalSystemException(settings.Server, $"the bind worked but Source:BaseDn {options.BaseDn} was not returned (the bind account cannot see it)");
    }
}
