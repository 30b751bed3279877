using AuthSplit.Core.Configuration;
using AuthSplit.Core.Planning.Format;

namespace AuthSplit.Core.Execution.Systems;

/// <summary>
/// How a system's probes are run and judged, once: by the executor's probe steps (<see cref="SystemRun"/>) and
/// by <c>evidence verify --live</c>, which asks the same questions through the same ports after the wave.
/// </summary>
public static class SystemProbes
{
    /// <summary>A configured probe, through the port of its kind, bounded by its own timeout.</summary>
    public static Task<HookOutcome> RunAsync(SystemPorts ports, ProbeSpec probe, IReadOnlyDictionary<string, string> environment, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ports);
        ArgumentNullException.ThrowIfNull(probe);
        var timeout = TimeSpan.FromSeconds(probe.TimeoutSeconds);
        return probe.Kind switch
        {
            ProbeKind.LdapBind => ports.LdapBind.BindAsync(probe.Url, probe.BindDn!, probe.CredentialSource!, probe.CaFile, timeout, cancellationToken),
            ProbeKind.Http => ports.Http.CallAsync(probe.Http!, timeout, cancellationToken),
            _ => ports.Commands.RunAsync(probe.Command!, environment, null, timeout, cancellationToken),
        };
    }

    /// <summary>A bind as a system's legacy account against the legacy directory: after the cutover it must be refused.</summary>
    public static Task<HookOutcome> BindAsLegacyAccountAsync(SystemPorts ports, string accountDn, string credentialSource, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ports);
        return ports.LdapBind.BindAsync(null, accountDn, credentialSource, null, TimeSpan.FromSeconds(SystemDefaults.ProbeTimeoutSeconds), cancellationToken);
    }

    // A probe of the old path passes when the other side says no (a bind refused), not when it cannot be reached.
    public static bool Passed(ProbeExpectation expect, HookOutcome outcome)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        return expect == ProbeExpectation.Success ? outcome.Status == HookStatus.Succeeded : outcome.Status == HookStatus.Refused;
    }

    /// <summary>What a command probe or hook sees of the run it belongs to.</summary>
    public static Dictionary<string, string> Environment(string systemId, string wave, string planId) => new(StringComparer.Ordinal)
    {
        ["AUTHSPLIT_SYSTEM_ID"] = systemId,
        ["AUTHSPLIT_WAVE"] = wave,
        ["AUTHSPLIT_PLAN_ID"] = planId,
    };

    /// <summary>What a probe asks, for a record: the server, account and credential's source, the URL without its query, the program; never a secret.</summary>
    public static string Describe(ProbeSpec probe)
    {
        ArgumentNullException.ThrowIfNull(probe);
        return probe.Kind switch
        {
            ProbeKind.LdapBind => $"LDAP simple bind as {probe.BindDn} to {probe.Url ?? "the legacy directory"} (credential from {probe.CredentialSource}), expect {(probe.Expect == ProbeExpectation.Success ? "success" : "a refusal")}",
            ProbeKind.Http => $"HTTP {probe.Http!.Method} {UrlForRecord(probe.Http.Url)}, expect {(probe.Http.ExpectStatus is { } status ? "status " + status : "a success status")}{(probe.Http.BodyContains is null ? "" : " and the configured body text")}{(probe.Expect == ProbeExpectation.Success ? "" : " to fail")}",
            _ => $"command {probe.Command![0]}, expect {(probe.Expect == ProbeExpectation.Success ? "exit 0" : "a non-zero exit")}",
        };
    }

    // A URL in a record without its query (where tokens are sometimes put).
    public static string UrlForRecord(string url) => Uri.TryCreate(url, UriKind.Absolute, out var uri) ? uri.GetLeftPart(UriPartial.Path) : "(not a URL)";
}
