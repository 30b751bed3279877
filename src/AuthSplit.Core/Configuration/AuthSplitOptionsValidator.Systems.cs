using System.Text.RegularExpressions;
using AuthSplit.Core.Directory;

namespace AuthSplit.Core.Configuration;

// The Systems and PasswordSync sections (issue 11). Same rules as the rest: every fault at once, each
// with its key path; a secret is only ever named (an environment variable or a file), never written here.
public static partial class AuthSplitOptionsValidator
{
    /// <summary>The HTTP methods a cutover hook or probe may use.</summary>
    public static readonly IReadOnlyList<string> HttpMethods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"];

    // Headers whose value is a credential: a literal value would put the secret in the config file.
    private static readonly string[] SecretHeaders = ["Authorization", "Proxy-Authorization"];

    private static void ValidateSystems(IList<SystemOptions> systems, IList<WaveOptions> waves, DistinguishedName? sourceBase, List<ConfigError> errors)
    {
        var ids = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var waveNames = waves.Select(w => w.Name).Where(n => n is not null).ToHashSet(StringComparer.Ordinal);
        for (var i = 0; i < systems.Count; i++)
        {
            var system = systems[i];
            var key = $"Systems:{i}";
            if (string.IsNullOrWhiteSpace(system.Id) || !SystemId().IsMatch(system.Id))
            {
                errors.Add(new($"{key}:Id", $"\"{system.Id}\" must be letters, digits, '-' and '_' (at most 64, e.g. crm or hr-portal): decisions, the journal and the evidence name the system by it"));
            }
            else if (!ids.Add(system.Id))
            {
                errors.Add(new($"{key}:Id", $"system \"{system.Id}\" is defined twice (ids are compared without case)"));
            }

            if (string.IsNullOrWhiteSpace(system.Wave))
            {
                errors.Add(new($"{key}:Wave", "is required: the wave the system is cut over in"));
            }
            else if (!waveNames.Contains(system.Wave))
            {
                errors.Add(new($"{key}:Wave", $"\"{system.Wave}\" is not a configured wave (waves: {string.Join(", ", waveNames)})"));
            }

            ValidateLegacyAccounts(system.LegacyAccounts, key, sourceBase, errors);
            ValidateSystemTarget(system.Target, $"{key}:Target", errors);
            if (system.Cutover is { } cutover)
            {
                ValidateCutover(cutover, $"{key}:Cutover", errors);
            }

            var probeNames = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            for (var p = 0; p < system.Probes.Count; p++)
            {
                ValidateProbe(system.Probes[p], $"{key}:Probes:{p}", probeNames, errors);
            }
        }
    }

    private static void ValidateLegacyAccounts(IList<LegacyAccountOptions> accounts, string systemKey, DistinguishedName? sourceBase, List<ConfigError> errors)
    {
        var seen = new HashSet<DistinguishedName>();
        for (var j = 0; j < accounts.Count; j++)
        {
            var key = $"{systemKey}:LegacyAccounts:{j}";
            var dn = Dn(accounts[j].Dn, $"{key}:Dn", required: true, errors);
            if (dn is not null && sourceBase is not null && !dn.IsWithin(sourceBase))
            {
                errors.Add(new($"{key}:Dn", $"\"{accounts[j].Dn}\" is not inside Source:BaseDn \"{sourceBase.Original}\": the plan could not read it"));
            }
            else if (dn is not null && !seen.Add(dn))
            {
                errors.Add(new($"{key}:Dn", $"\"{accounts[j].Dn}\" is listed twice for this system"));
            }

            RequireCredential(accounts[j].CredentialEnvVar, accounts[j].CredentialFile, $"{key}:CredentialEnvVar", $"{key}:CredentialFile", "the account's password (for the bind that must fail after the disable)", required: false, errors);
        }
    }

    private static void ValidateSystemTarget(SystemTargetOptions target, string key, List<ConfigError> errors)
    {
        var hasId = !string.IsNullOrWhiteSpace(target.ServicePrincipalId);
        var hasAppId = !string.IsNullOrWhiteSpace(target.AppId);
        if (hasId == hasAppId)
        {
            errors.Add(new(key, "set exactly one of ServicePrincipalId (the enterprise application's object id) and AppId (its application (client) id)"));
            return;
        }

        if (hasId)
        {
            RequireGuid(target.ServicePrincipalId, $"{key}:ServicePrincipalId", errors);
        }
        else
        {
            RequireGuid(target.AppId, $"{key}:AppId", errors);
        }
    }

    private static void ValidateCutover(CutoverOptions cutover, string key, List<ConfigError> errors)
    {
        var hasCommand = cutover.Command.Count > 0;
        if (hasCommand == (cutover.Http is not null))
        {
            errors.Add(new(key, "set exactly one of Command (a program and its arguments) and Http (a call to make); leave Cutover out when the system's owners switch it themselves"));
        }
        else if (hasCommand)
        {
            RequireCommand(cutover.Command, $"{key}:Command", errors);
        }
        else
        {
            ValidateHttpCall(cutover.Http!, $"{key}:Http", errors);
        }

        Range(cutover.TimeoutSeconds, 1, 3600, $"{key}:TimeoutSeconds", errors);
    }

    private static void ValidateProbe(ProbeOptions probe, string key, HashSet<string> names, List<ConfigError> errors)
    {
        if (string.IsNullOrWhiteSpace(probe.Name) || !SystemId().IsMatch(probe.Name))
        {
            errors.Add(new($"{key}:Name", $"\"{probe.Name}\" must be letters, digits, '-' and '_' (e.g. sso-login): the journal and the evidence name the probe by it"));
        }
        else if (!names.Add(probe.Name))
        {
            errors.Add(new($"{key}:Name", $"probe \"{probe.Name}\" is defined twice for this system"));
        }

        if (!Enum.IsDefined(probe.Expect))
        {
            errors.Add(new($"{key}:Expect", "must be Success or Failure"));
        }

        Range(probe.TimeoutSeconds, 1, 600, $"{key}:TimeoutSeconds", errors);
        switch (probe.Kind)
        {
            case ProbeKind.LdapBind:
                if (string.IsNullOrWhiteSpace(probe.Url))
                {
                    errors.Add(new($"{key}:Url", "an LdapBind probe needs the server's URL (ldaps://host:port, or ldap://host:port with StartTLS)"));
                }
                else if (!Uri.TryCreate(probe.Url, UriKind.Absolute, out var url) || (url.Scheme != "ldaps" && url.Scheme != "ldap") || string.IsNullOrEmpty(url.Host))
                {
                    errors.Add(new($"{key}:Url", $"\"{probe.Url}\" is not an ldaps://host:port or ldap://host:port URL"));
                }

                Dn(probe.BindDn, $"{key}:BindDn", required: true, errors);
                RequireCredential(probe.CredentialEnvVar, probe.CredentialFile, $"{key}:CredentialEnvVar", $"{key}:CredentialFile", "the password to bind with", required: true, errors);
                break;
            case ProbeKind.Http:
                if (probe.Http is null)
                {
                    errors.Add(new($"{key}:Http", "an Http probe needs Http with at least its Url"));
                }
                else
                {
                    ValidateHttpCall(probe.Http, $"{key}:Http", errors);
                }

                break;
            case ProbeKind.Command:
                if (probe.Command.Count == 0)
                {
                    errors.Add(new($"{key}:Command", "a Command probe needs the program and its arguments; exit 0 passes"));
                }
                else
                {
                    RequireCommand(probe.Command, $"{key}:Command", errors);
                }

                break;
            default:
                errors.Add(new($"{key}:Kind", "must be LdapBind, Http or Command"));
                break;
        }
    }

    private static void ValidateHttpCall(HttpCallOptions http, string key, List<ConfigError> errors)
    {
        if (string.IsNullOrWhiteSpace(http.Url))
        {
            errors.Add(new($"{key}:Url", "is required (an https:// URL)"));
        }
        else if (!Uri.TryCreate(http.Url, UriKind.Absolute, out var url) || (url.Scheme != Uri.UriSchemeHttps && url.Scheme != Uri.UriSchemeHttp) || string.IsNullOrEmpty(url.Host))
        {
            errors.Add(new($"{key}:Url", $"\"{http.Url}\" is not an absolute https:// URL"));
        }
        else if (url.Scheme == Uri.UriSchemeHttp && !url.IsLoopback)
        {
            errors.Add(new($"{key}:Url", "plain http:// is allowed only to a loopback address (a local test server); use https:// (TLS is verified)"));
        }
        else if (!string.IsNullOrEmpty(url.UserInfo))
        {
            errors.Add(new($"{key}:Url", "must not carry a user name or password; send a credential in a header whose value comes from ValueEnvVar or ValueFile"));
        }

        if (!HttpMethods.Contains(http.Method, StringComparer.Ordinal))
        {
            errors.Add(new($"{key}:Method", $"\"{http.Method}\" is not one of {string.Join(", ", HttpMethods)}"));
        }

        if (http.ExpectStatus is { } status && status is < 100 or > 599)
        {
            errors.Add(new($"{key}:ExpectStatus", $"must be an HTTP status between 100 and 599 (got {status})"));
        }

        for (var h = 0; h < http.Headers.Count; h++)
        {
            ValidateHeader(http.Headers[h], $"{key}:Headers:{h}", errors);
        }
    }

    private static void ValidateHeader(HttpHeaderOptions header, string key, List<ConfigError> errors)
    {
        if (string.IsNullOrWhiteSpace(header.Name) || !HeaderName().IsMatch(header.Name))
        {
            errors.Add(new($"{key}:Name", $"\"{header.Name}\" is not an HTTP header name"));
        }

        var sources = new[] { header.Value, header.ValueEnvVar, header.ValueFile }.Count(v => v is not null);
        if (sources != 1)
        {
            errors.Add(new(key, "set exactly one of Value (not secret), ValueEnvVar or ValueFile (where a secret value is)"));
        }
        else if (header.Value is not null && SecretHeaders.Contains(header.Name?.Trim(), StringComparer.OrdinalIgnoreCase))
        {
            // The value itself is never echoed: it is the secret.
            errors.Add(new($"{key}:Value", $"a {header.Name!.Trim()} header carries a credential: name where it is with ValueEnvVar or ValueFile; secrets are never read from the config file"));
        }
        else if (header.ValueEnvVar is not null)
        {
            RequireEnvVarName(header.ValueEnvVar, $"{key}:ValueEnvVar", "the header's value", errors);
        }
        else if (header.ValueFile is not null && string.IsNullOrWhiteSpace(header.ValueFile))
        {
            errors.Add(new($"{key}:ValueFile", "is empty: name the file that holds the header's value"));
        }
    }

    private static void RequireCommand(IList<string> command, string key, List<ConfigError> errors)
    {
        if (string.IsNullOrWhiteSpace(command[0]))
        {
            errors.Add(new($"{key}:0", "the program to run is empty"));
        }
    }

    private static void ValidatePasswordSync(PasswordSyncOptions sync, List<ConfigError> errors)
    {
        Range(sync.BatchSize, 1, 20, "PasswordSync:BatchSize", errors);
        Range(sync.TimeoutSeconds, 1, 3600, "PasswordSync:TimeoutSeconds", errors);
        switch (sync.Strategy)
        {
            case PasswordSyncStrategy.SourceOfAuthority:
                if (sync.Command.Count > 0 || sync.ReadBackCommand.Count > 0 || sync.ReadBackGraphProperty is not null || sync.ReadBackGraphValue is not null)
                {
                    errors.Add(new("PasswordSync:Strategy", "Command, ReadBackCommand, ReadBackGraphProperty and ReadBackGraphValue are for Strategy Command; with SourceOfAuthority they would be ignored"));
                }

                break;
            case PasswordSyncStrategy.Command:
                if (sync.Command.Count == 0)
                {
                    errors.Add(new("PasswordSync:Command", "Strategy Command needs the hook to run (a program and its arguments)"));
                }
                else
                {
                    RequireCommand(sync.Command, "PasswordSync:Command", errors);
                }

                var hasReadBack = sync.ReadBackCommand.Count > 0;
                var hasProperty = !string.IsNullOrWhiteSpace(sync.ReadBackGraphProperty);
                if (hasReadBack == hasProperty)
                {
                    errors.Add(new("PasswordSync:ReadBackCommand", "Strategy Command needs exactly one way to confirm the stop: ReadBackCommand or ReadBackGraphProperty"));
                }
                else if (hasReadBack)
                {
                    RequireCommand(sync.ReadBackCommand, "PasswordSync:ReadBackCommand", errors);
                }
                else if (!GraphPropertyName().IsMatch(sync.ReadBackGraphProperty!))
                {
                    errors.Add(new("PasswordSync:ReadBackGraphProperty", $"\"{sync.ReadBackGraphProperty}\" is not a Graph user property name (e.g. onPremisesSyncEnabled)"));
                }

                if (sync.ReadBackGraphValue is not null && !hasProperty)
                {
                    errors.Add(new("PasswordSync:ReadBackGraphValue", "is the value ReadBackGraphProperty must read; set ReadBackGraphProperty too, or remove it"));
                }

                break;
            default:
                errors.Add(new("PasswordSync:Strategy", "must be SourceOfAuthority or Command"));
                break;
        }
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")]
    private static partial Regex SystemId();

    // RFC 9110 token characters.
    [GeneratedRegex("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")]
    private static partial Regex HeaderName();

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9_]*(/[A-Za-z][A-Za-z0-9_]*)?$")]
    private static partial Regex GraphPropertyName();
}
