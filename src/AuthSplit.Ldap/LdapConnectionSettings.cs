using AuthSplit.Core.Configuration;
using AuthSplit.Core.Errors;
using AuthSplit.Core.Secrets;

namespace AuthSplit.Ldap;

/// <summary>How to reach and authenticate to the legacy directory, resolved from <see cref="SourceOptions"/>.</summary>
public sealed record LdapConnectionSettings
{
    public required Uri Url { get; init; }

    public required bool UseLdaps { get; init; }

    public required bool UseStartTls { get; init; }

    public string? CaFile { get; init; }

    public string? BindDn { get; init; }

    public Secret? Password { get; init; }

    public required TimeSpan Timeout { get; init; }

    /// <summary>The server as it appears in messages: <c>ldaps://host:port</c>, never a credential.</summary>
    public string Server => $"{Url.Scheme}://{Url.Host}:{Port}";

    public int Port => Url.IsDefaultPort || Url.Port <= 0 ? (UseLdaps ? 636 : 389) : Url.Port;

    public static LdapConnectionSettings From(SourceOptions options)
    {
        var url = new Uri(options.Url ?? throw new InputException("config-invalid", "Source:Url is required for a live read"));
        var ldaps = url.Scheme == "ldaps";
        return new LdapConnectionSettings
        {
            Url = url,
            UseLdaps = ldaps,
            UseStartTls = !ldaps && options.StartTls,
            CaFile = options.CaFile,
            BindDn = string.IsNullOrWhiteSpace(options.BindDn) ? null : options.BindDn,
            Password = string.IsNullOrWhiteSpace(options.BindDn) ? null : ReadPassword(options),
            Timeout = TimeSpan.FromSeconds(options.TimeoutSeconds),
        };
    }

    private static Secret ReadPassword(SourceOptions options) =>
        SecretLoader.Load(new SecretSource(options.PasswordEnvVar, options.PasswordFile, "Source:PasswordEnvVar", "Source:PasswordFile", $"the bind password of {options.BindDn}"));
}
