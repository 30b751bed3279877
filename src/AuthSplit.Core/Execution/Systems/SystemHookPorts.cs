using AuthSplit.Core.Planning.Format;

namespace AuthSplit.Core.Execution.Systems;

// The outside world a system's steps touch besides the legacy directory and the tenant: programs, HTTP
// endpoints and LDAP binds as the system's own accounts. Ports by role; the adapters are by technology
// (AuthSplit.Hooks: processes and HTTP; AuthSplit.Ldap: the bind probe). Each call is bounded by its own
// timeout and never throws for the outside system's answer: what happened is a HookOutcome.

/// <summary>How a hook or probe call ended, as a fact (whether that passes is the step's decision).</summary>
public enum HookStatus
{
    /// <summary>The command exited 0, the HTTP call got the expected status (and body), the bind succeeded.</summary>
    Succeeded,

    /// <summary>The other side answered no: a non-zero exit, another HTTP status or body, a bind refused (invalid credentials, account locked or disabled).</summary>
    Refused,

    /// <summary>No answer within the timeout (the process was killed, the request cancelled).</summary>
    TimedOut,

    /// <summary>The call could not be made: the program is missing, the host does not answer, TLS failed, the credential source is missing.</summary>
    Unavailable,
}

/// <summary>
/// What a hook or probe did. <see cref="OutputSha256"/> hashes everything it printed (stdout then stderr,
/// or the response body); <see cref="OutputExcerpt"/> is at most <c>SystemDefaults.OutputExcerptBytes</c> of
/// it with every configured secret value replaced by <c>***</c>.
/// </summary>
public sealed record HookOutcome
{
    public required HookStatus Status { get; init; }

    public int? ExitCode { get; init; }

    public int? HttpStatus { get; init; }

    /// <summary>The LDAP result code of a bind (49 invalidCredentials, 53 unwillingToPerform...).</summary>
    public int? LdapResultCode { get; init; }

    public required TimeSpan Duration { get; init; }

    public required string OutputSha256 { get; init; }

    public required string OutputExcerpt { get; init; }

    /// <summary>
    /// A command's standard output alone, at most <c>SystemDefaults.OutputExcerptBytes</c>, secrets masked (null for
    /// HTTP calls and binds): what a read-back hook answers. Not journalled as such; the excerpt and hash are.
    /// </summary>
    public string? StandardOutput { get; init; }

    /// <summary>One line for the journal and the operator: what was run (never a secret) and how it ended.</summary>
    public required string Detail { get; init; }
}

/// <summary>Runs a program (no shell) with extra environment variables and optional standard input.</summary>
public interface ICommandRunner
{
    Task<HookOutcome> RunAsync(IReadOnlyList<string> command, IReadOnlyDictionary<string, string> environment, string? standardInput, TimeSpan timeout, CancellationToken cancellationToken);
}

/// <summary>Makes an HTTP call as configured (TLS verified; header values from their sources) and compares its answer with the expectation.</summary>
public interface IHttpCaller
{
    Task<HookOutcome> CallAsync(HttpCallSpec call, TimeSpan timeout, CancellationToken cancellationToken);
}

/// <summary>Tries a simple bind as a DN with a credential from its source, over TLS (LDAPS or StartTLS), then unbinds.</summary>
public interface ILdapBindProbe
{
    /// <param name="url">The server; null means the legacy directory the executor writes to (its URL and CA).</param>
    Task<HookOutcome> BindAsync(string? url, string bindDn, string credentialSource, string? caFile, TimeSpan timeout, CancellationToken cancellationToken);
}
