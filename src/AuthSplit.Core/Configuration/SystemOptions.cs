namespace AuthSplit.Core.Configuration;

/// <summary>
/// A system (relying party) that still authenticates against the legacy directory and is cut over to
/// the target IdP in one wave: its legacy bind accounts are disabled once its cutover and probes pass,
/// and the wave's people are deleted only after that (or after a recorded exception).
/// </summary>
public sealed class SystemOptions
{
    /// <summary>Short stable id (letters, digits, <c>-</c>, <c>_</c>): the journal, decisions and evidence use it.</summary>
    public string? Id { get; set; }

    public string? Name { get; set; }

    /// <summary>The one wave the system is cut over in.</summary>
    public string? Wave { get; set; }

    /// <summary>The service or bind accounts the system uses in the legacy directory.</summary>
    public IList<LegacyAccountOptions> LegacyAccounts { get; init; } = [];

    /// <summary>The system's registration in the target IdP.</summary>
    public SystemTargetOptions Target { get; set; } = new();

    /// <summary>How the system is switched to the target IdP; none when its owners switch it themselves (the probes then confirm it).</summary>
    public CutoverOptions? Cutover { get; set; }

    /// <summary>Checks that the new path works (and, with <see cref="ProbeExpectation.Failure"/>, that the old one is refused).</summary>
    public IList<ProbeOptions> Probes { get; init; } = [];
}

/// <summary>A legacy bind account of a system; its credential, when given, lets <c>probe-legacy-refused</c> try a real bind after the disable.</summary>
public sealed class LegacyAccountOptions
{
    public string? Dn { get; set; }

    /// <summary>Name of the environment variable holding the account's password (never the password itself).</summary>
    public string? CredentialEnvVar { get; set; }

    /// <summary>Path of a file holding the account's password (first line).</summary>
    public string? CredentialFile { get; set; }
}

/// <summary>The system's service principal in the target tenant: by its object id, or by its application (client) id.</summary>
public sealed class SystemTargetOptions
{
    public string? ServicePrincipalId { get; set; }

    public string? AppId { get; set; }
}

/// <summary>Exactly one of <see cref="Command"/> or <see cref="Http"/>.</summary>
public sealed class CutoverOptions
{
    /// <summary>The program and its arguments (no shell): run with the system id in <c>AUTHSPLIT_SYSTEM_ID</c>; exit 0 is success.</summary>
    public IList<string> Command { get; init; } = [];

    public HttpCallOptions? Http { get; set; }

    public int TimeoutSeconds { get; set; } = SystemDefaults.CutoverTimeoutSeconds;
}

/// <summary>An HTTP call: a cutover hook or a probe. TLS is verified; plain <c>http://</c> only to a loopback address.</summary>
public sealed class HttpCallOptions
{
    public string Method { get; set; } = "POST";

    public string? Url { get; set; }

    /// <summary>Headers whose values are not secret.</summary>
    public IList<HttpHeaderOptions> Headers { get; init; } = [];

    /// <summary>The request body, sent as <c>application/json</c>.</summary>
    public string? Body { get; set; }

    /// <summary>The status that counts as success; any 2xx when absent.</summary>
    public int? ExpectStatus { get; set; }

    /// <summary>A substring the response body must contain (probes).</summary>
    public string? BodyContains { get; set; }
}

/// <summary>A header; a secret one (a bearer token) names where its value is, never the value.</summary>
public sealed class HttpHeaderOptions
{
    public string? Name { get; set; }

    public string? Value { get; set; }

    public string? ValueEnvVar { get; set; }

    public string? ValueFile { get; set; }
}

public enum ProbeKind
{
    LdapBind,
    Http,
    Command,
}

public enum ProbeExpectation
{
    Success,
    Failure,
}

public sealed class ProbeOptions
{
    /// <summary>A name for the journal and the evidence (<c>sso-login</c>, <c>legacy-bind</c>).</summary>
    public string? Name { get; set; }

    public ProbeKind Kind { get; set; }

    /// <summary>What passing means: the call succeeds, or (for the old path) it is refused.</summary>
    public ProbeExpectation Expect { get; set; } = ProbeExpectation.Success;

    /// <summary><see cref="ProbeKind.LdapBind"/>: the server (<c>ldaps://</c> or <c>ldap://</c> with StartTLS).</summary>
    public string? Url { get; set; }

    /// <summary><see cref="ProbeKind.LdapBind"/>: the DN to bind as.</summary>
    public string? BindDn { get; set; }

    public string? CredentialEnvVar { get; set; }

    public string? CredentialFile { get; set; }

    /// <summary><see cref="ProbeKind.LdapBind"/>: PEM of the CA that signs the server's certificate.</summary>
    public string? CaFile { get; set; }

    /// <summary><see cref="ProbeKind.Http"/>: the request and what its answer must be.</summary>
    public HttpCallOptions? Http { get; set; }

    /// <summary><see cref="ProbeKind.Command"/>: the program and its arguments; exit 0 passes.</summary>
    public IList<string> Command { get; init; } = [];

    public int TimeoutSeconds { get; set; } = SystemDefaults.ProbeTimeoutSeconds;
}

public static class SystemDefaults
{
    public const int CutoverTimeoutSeconds = 300;
    public const int ProbeTimeoutSeconds = 30;

    /// <summary>The most output of a hook or probe kept in the journal (the whole output is hashed).</summary>
    public const int OutputExcerptBytes = 4096;
}

public enum PasswordSyncStrategy
{
    /// <summary>The Graph per-user source-of-authority switch (<c>onPremisesSyncBehavior isCloudManaged=true</c>).</summary>
    SourceOfAuthority,

    /// <summary>A configured hook, per batch of people, for a sync engine Graph does not know.</summary>
    Command,
}

/// <summary>How the legacy platform is stopped from feeding each person's password into the target IdP.</summary>
public sealed class PasswordSyncOptions
{
    public PasswordSyncStrategy Strategy { get; set; } = PasswordSyncStrategy.SourceOfAuthority;

    /// <summary><see cref="PasswordSyncStrategy.Command"/>: the hook; it gets the batch's target user ids one per line on stdin and in <c>AUTHSPLIT_USER_IDS</c>, and exits 0 when it stopped them all.</summary>
    public IList<string> Command { get; init; } = [];

    /// <summary>
    /// <see cref="PasswordSyncStrategy.Command"/>: how the stop is confirmed. A read-back command prints, one
    /// per line, the ids whose sync is stopped; otherwise <see cref="ReadBackGraphProperty"/> is read.
    /// </summary>
    public IList<string> ReadBackCommand { get; init; } = [];

    /// <summary>A Graph user property whose value confirms the stop, e.g. <c>onPremisesSyncEnabled</c> read as not true.</summary>
    public string? ReadBackGraphProperty { get; set; }

    /// <summary>The value of <see cref="ReadBackGraphProperty"/> that confirms the stop (compared without case); unset: confirmed when the property is null or false.</summary>
    public string? ReadBackGraphValue { get; set; }

    public int BatchSize { get; set; } = 20;

    public int TimeoutSeconds { get; set; } = SystemDefaults.CutoverTimeoutSeconds;
}
