using System.DirectoryServices.Protocols;
using System.Globalization;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using AuthSplit.Core.Configuration;
using AuthSplit.Core.Errors;
using AuthSplit.Core.Execution.Systems;
using AuthSplit.Core.Secrets;
using AuthSplit.Ldap.Writing;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.Retry;

namespace AuthSplit.Ldap.Probes;

/// <summary>
/// A simple bind as a system's account, with its credential from its source, over LDAPS or StartTLS (plain
/// LDAP only where <c>Source:AllowPlainLdap</c> allows it for the legacy directory), opened exactly as
/// every other connection of this adapter (<see cref="LdapSession"/>: CA trust, StartTLS retry, bounded
/// native calls), then unbound. A refused bind says why when the server tells: Active Directory's
/// diagnostic <c>data 533</c> (disabled) or <c>data 775</c> (locked); for OpenLDAP, whose ppolicy answers a
/// locked account with a bare invalidCredentials, the legacy directory's own account reads
/// <c>pwdAccountLockedTime</c> back when the probe is against the legacy directory.
/// </summary>
public sealed partial class LdapBindProbe(SourceOptions legacy, ILogger<LdapBindProbe> logger, TimeProvider time) : ILdapBindProbe
{
    // No output: the excerpt is empty and its hash is the hash of nothing, as the port describes.
    private static readonly string EmptySha256 = "sha256:" + Convert.ToHexStringLower(SHA256.HashData([]));

    public async Task<HookOutcome> BindAsync(string? url, string bindDn, string credentialSource, string? caFile, TimeSpan timeout, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var started = time.GetTimestamp();
        if ((url ?? legacy.Url) is not { } address || !Uri.TryCreate(address, UriKind.Absolute, out var uri) || uri.Scheme is not ("ldaps" or "ldap"))
        {
            return Outcome(HookStatus.Unavailable, null, started, $"bind as {bindDn}: {(url is null ? "Source:Url" : "the probe's URL")} is not an ldaps:// or ldap:// URL");
        }

        var ldaps = uri.Scheme == "ldaps";
        var settings = new LdapConnectionSettings
        {
            Url = uri,
            UseLdaps = ldaps,
            UseStartTls = !ldaps && legacy.StartTls,
            CaFile = caFile ?? legacy.CaFile,
            BindDn = bindDn,
            Timeout = timeout,
        };
        var what = $"bind as {bindDn} to {settings.Server}";
        if (!settings.UseLdaps && !settings.UseStartTls && !legacy.AllowPlainLdap)
        {
            return Outcome(HookStatus.Unavailable, null, started, $"{what} not tried: ldap:// without StartTLS would send the password in clear (Source:StartTls is false and Source:AllowPlainLdap is not true)");
        }

        try
        {
            settings = settings with { Password = SecretReference.Load(credentialSource, $"the password of {bindDn}") };
        }
        catch (InputException ex)
        {
            return Outcome(HookStatus.Unavailable, null, started, $"{what} not tried: {ex.Message}");
        }

        using var deadline = new CancellationTokenSource(timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, cancellationToken);
        var attempts = 0;
        HookOutcome? last = null;
        try
        {
            var answer = await ReachPipeline(time).ExecuteAsync(
                async token =>
                {
                    attempts++;
                    var attempt = await AttemptAsync(settings, what, url, bindDn, timeout, started, token, cancellationToken);
                    last = attempt.Outcome;
                    if (attempt.CouldNotReach)
                    {
                        LogNotReached(logger, bindDn, settings.Server, attempts, attempt.Outcome.Detail);
                    }

                    return attempt;
                },
                linked.Token);
            return Retried(answer.Outcome, attempts, started);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // The timeout ran out between two attempts: the server was still unreachable.
            return last is null
                ? Outcome(HookStatus.TimedOut, null, started, $"{what} got no answer within {Seconds(timeout)} s")
                : Retried(last, attempts, started);
        }
    }

    // A server that cannot be reached (restarting, refusing or dropping the connection) is asked again with
    // backoff until the probe's timeout, as the adapter's other operations are: a server in the middle of a
    // restart says nothing about the account. A success or a refusal is an answer and is never asked again.
    private static ResiliencePipeline<BindAttempt> ReachPipeline(TimeProvider time) =>
        new ResiliencePipelineBuilder<BindAttempt> { TimeProvider = time }
            .AddRetry(new RetryStrategyOptions<BindAttempt>
            {
                ShouldHandle = arguments => ValueTask.FromResult(arguments.Outcome.Result is { CouldNotReach: true }),
                MaxRetryAttempts = int.MaxValue,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = TimeSpan.FromMilliseconds(250),
                MaxDelay = TimeSpan.FromSeconds(4),
            })
            .Build();

    private HookOutcome Retried(HookOutcome outcome, int attempts, long started) => attempts <= 1
        ? outcome
        : outcome with
        {
            Duration = time.GetElapsedTime(started),
            Detail = $"{outcome.Detail} (after {attempts} attempts in {Seconds(time.GetElapsedTime(started))} s; the first {attempts - 1} could not reach the server)",
        };

    private async Task<BindAttempt> AttemptAsync(LdapConnectionSettings settings, string what, string? url, string bindDn, TimeSpan timeout, long started, CancellationToken attemptToken, CancellationToken cancellationToken)
    {
        try
        {
            using var session = await LdapSession.OpenAsync(settings, logger, attemptToken);
            LogBound(logger, bindDn, settings.Server);
            return new BindAttempt(Outcome(HookStatus.Succeeded, 0, started, $"{what} succeeded in {Seconds(time.GetElapsedTime(started))} s"), false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new BindAttempt(Outcome(HookStatus.TimedOut, null, started, $"{what} got no answer within {Seconds(timeout)} s"), false);
        }
        catch (ExternalSystemException ex)
        {
            var outcome = await RefusedOrUnavailableAsync(ex, what, url, bindDn, timeout, started, cancellationToken);
            return new BindAttempt(outcome, outcome.Status == HookStatus.Unavailable && CouldNotReach(ex.InnerException));
        }
    }

    // The connection could not be made or was lost: refused or reset TCP, libldap's server-down or connect error.
    // TLS failures (a certificate problem does not heal by asking again) and refusals are not among them.
    private static bool CouldNotReach(Exception? inner) => inner switch
    {
        SocketException => true,
        null or TlsOperationException => false,
        _ => LdapResultCodes.TryGetCode(inner, out var code, out _) && code is LdapResultCodes.ServerDown or LdapResultCodes.ConnectError,
    };

    private sealed record BindAttempt(HookOutcome Outcome, bool CouldNotReach);

    private async Task<HookOutcome> RefusedOrUnavailableAsync(ExternalSystemException ex, string what, string? url, string bindDn, TimeSpan timeout, long started, CancellationToken cancellationToken)
    {
        switch (ex.InnerException)
        {
            case TimeoutException or OperationCanceledException:
                return Outcome(HookStatus.TimedOut, null, started, $"{what} got no answer within {Seconds(timeout)} s");
            case TlsOperationException:
            case SocketException:
            case null:
                return Outcome(HookStatus.Unavailable, null, started, ex.Message);
        }

        if (!LdapResultCodes.TryGetCode(ex.InnerException, out var code, out var message))
        {
            return Outcome(HookStatus.Unavailable, null, started, ex.Message);
        }

        if (code == LdapResultCodes.ClientTimeout)
        {
            return Outcome(HookStatus.TimedOut, null, started, $"{what} got no answer within {Seconds(timeout)} s");
        }

        if (code >= LdapResultCodes.ServerDown)
        {
            // libldap's own codes: the server went away, TLS failed, the connection could not be made.
            return Outcome(HookStatus.Unavailable, code, started, ex.Message);
        }

        LogRefused(logger, bindDn, code);
        var reason = code == LdapResultCodes.InvalidCredentials
            ? ActiveDirectoryReason(message) ?? await LockedInLegacyDirectoryAsync(url, bindDn, cancellationToken)
            : null;
        var described = Describe(code, message);
        return Outcome(HookStatus.Refused, code, started, reason is null ? $"{what} refused: {described}" : $"{what} refused: {reason}; {described}");
    }

    // S.DS.P's ResultCode enum has no member for the bind results (49 lives in its LdapError instead).
    private static string Describe(int code, string? message) => code switch
    {
        LdapResultCodes.InvalidCredentials => "invalidCredentials (49)" + (string.IsNullOrWhiteSpace(message) ? string.Empty : ": " + message.Trim()),
        InappropriateAuthentication => "inappropriateAuthentication (48)" + (string.IsNullOrWhiteSpace(message) ? string.Empty : ": " + message.Trim()),
        _ => LdapResultCodes.Describe(code, message),
    };

    private const int InappropriateAuthentication = 48;

    /// <summary>Active Directory's reason for a refused bind, from the <c>data NNN</c> of its diagnostic (MS-ADTS, and Samba's copy of it).</summary>
    private static string? ActiveDirectoryReason(string? diagnostic)
    {
        if (diagnostic is null || ActiveDirectoryData().Match(diagnostic) is not { Success: true } match)
        {
            return null;
        }

        var data = match.Groups["data"].Value.ToLowerInvariant();
        var why = data switch
        {
            "525" => "no such user",
            "52e" => "wrong password",
            "530" => "not permitted to log on at this time",
            "531" => "not permitted to log on at this workstation",
            "532" => "the password has expired",
            "533" => "the account is disabled",
            "701" => "the account has expired",
            "773" => "the user must reset the password",
            "775" => "the account is locked out",
            _ => "refused",
        };
        return $"{why} (AD data {data})";
    }

    /// <summary>
    /// slapd's ppolicy refuses a locked account with a bare invalidCredentials (it says more only in a response
    /// control S.DS.P does not surface for binds). For the legacy directory, its configured account reads the
    /// lock back; elsewhere, or when that read fails, the refusal stands without a reason.
    /// </summary>
    private async Task<string?> LockedInLegacyDirectoryAsync(string? url, string bindDn, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(legacy.Url) || string.IsNullOrWhiteSpace(legacy.BindDn) || (url is not null && !SameServer(url, legacy.Url)))
        {
            return null;
        }

        try
        {
            var settings = LdapConnectionSettings.From(legacy);
            using var session = await LdapSession.OpenAsync(settings, logger, cancellationToken);
            var response = await session.SearchAsync(new SearchRequest(bindDn, "(objectClass=*)", SearchScope.Base, "pwdAccountLockedTime"), cancellationToken);
            var lockedAt = response.Entries.Cast<SearchResultEntry>().SingleOrDefault()?.Attributes["pwdAccountLockedTime"]?.GetValues(typeof(string)).OfType<string>().FirstOrDefault();
            return lockedAt switch
            {
                null => null,
                "000001010000Z" => "the account is locked by an administrator (ppolicy pwdAccountLockedTime 000001010000Z)",
                _ => $"the account is locked (ppolicy pwdAccountLockedTime {lockedAt})",
            };
        }
        catch (Exception ex) when (ex is ExternalSystemException or InputException or DirectoryOperationException or LdapException)
        {
            LogLockReadFailed(logger, bindDn, ex.Message);
            return null;
        }
    }

    private static bool SameServer(string url, string legacyUrl) =>
        Uri.TryCreate(url, UriKind.Absolute, out var a) && Uri.TryCreate(legacyUrl, UriKind.Absolute, out var b)
        && string.Equals(a.Host, b.Host, StringComparison.OrdinalIgnoreCase) && a.Port == b.Port;

    private HookOutcome Outcome(HookStatus status, int? code, long started, string detail) => new()
    {
        Status = status,
        LdapResultCode = code,
        Duration = time.GetElapsedTime(started),
        OutputSha256 = EmptySha256,
        OutputExcerpt = string.Empty,
        Detail = detail,
    };

    private static string Seconds(TimeSpan duration) => duration.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture);

    [GeneratedRegex(@"\bdata (?<data>[0-9a-fA-F]{3,8})\b", RegexOptions.CultureInvariant)]
    private static partial Regex ActiveDirectoryData();

    [LoggerMessage(EventId = 1401, Level = LogLevel.Information, Message = "Probe bind as {BindDn} to {Server} succeeded")]
    private static partial void LogBound(ILogger logger, string bindDn, string server);

    [LoggerMessage(EventId = 1402, Level = LogLevel.Information, Message = "Probe bind as {BindDn} refused with LDAP result {Code}")]
    private static partial void LogRefused(ILogger logger, string bindDn, int code);

    [LoggerMessage(EventId = 1404, Level = LogLevel.Warning, Message = "Probe bind as {BindDn} could not reach {Server} (attempt {Attempt}), asking again until the probe's timeout: {Reason}")]
    private static partial void LogNotReached(ILogger logger, string bindDn, string server, int attempt, string reason);

    [LoggerMessage(EventId = 1403, Level = LogLevel.Warning, Message = "Could not read the lock state of {BindDn} after its probe bind was refused: {Reason}")]
    private static partial void LogLockReadFailed(ILogger logger, string bindDn, string reason);
}
