using System.Diagnostics;
using System.DirectoryServices.Protocols;
using System.Net;
using System.Net.Sockets;
using AuthSplit.Core.Errors;
using AuthSplit.Core.Observability;
using Microsoft.Extensions.Logging;

namespace AuthSplit.Ldap;

/// <summary>
/// One bound, TLS-protected LDAP connection. Failures become <see cref="ExternalSystemException"/>s that
/// name the server and say what to check; the password never appears in them.
/// </summary>
internal sealed partial class LdapSession : IDisposable
{
    private const int InvalidCredentials = 49;
    private const int ServerDown = 81;
    private const int ConnectError = 91;
    private readonly LdapConnection _connection;
    private Task _inFlight = Task.CompletedTask;
    private readonly LdapConnectionSettings _settings;
    private readonly string? _trustDirectory;

    // Set once TLS and the bind succeeded: a "server down" after that is a lost connection, not a TLS
    // or certificate fault, whatever libldap's code says.
    private bool _established;
    private int _entriesRead;

    private LdapSession(LdapConnection connection, LdapConnectionSettings settings, string? trustDirectory)
    {
        _connection = connection;
        _settings = settings;
        _trustDirectory = trustDirectory;
    }

    public static async Task<LdapSession> OpenAsync(LdapConnectionSettings settings, ILogger logger, CancellationToken cancellationToken)
    {
        await ProbeTcpAsync(settings, cancellationToken);
        if (!settings.UseLdaps && !settings.UseStartTls)
        {
            LogPlainLdap(logger, settings.Server);
        }

        LibLdapRestart.EnsureApplied();
        var identifier = new LdapDirectoryIdentifier(settings.Url.Host, settings.Port, fullyQualifiedDnsHostName: false, connectionless: false);
        var connection = new LdapConnection(identifier)
        {
            AuthType = settings.BindDn is null ? AuthType.Anonymous : AuthType.Basic,
            AutoBind = false,
            // libldap's own timeout reports a silent server as "server down"; ours (settings.Timeout, from
            // the outside) fires first and says what happened.
            Timeout = settings.Timeout + NativeTimeoutMargin,
        };
        string? trustDirectory = null;
        var session = new LdapSession(connection, settings, null);
        try
        {
            var options = connection.SessionOptions;
            options.ProtocolVersion = 3;
            options.ReferralChasing = ReferralChasingOptions.None;
            if (settings.CaFile is not null && !OperatingSystem.IsWindows())
            {
                trustDirectory = TrustDirectory(settings.CaFile);
                options.TrustedCertificatesDirectory = trustDirectory;
                session = new LdapSession(connection, settings, trustDirectory);
            }

            if (settings.UseLdaps)
            {
                options.SecureSocketLayer = true;
            }

            if ((settings.UseLdaps || settings.UseStartTls) && !OperatingSystem.IsWindows())
            {
                // Apply the TLS options above to a fresh libldap TLS context (Linux/macOS).
                options.StartNewTlsSessionContext();
            }

            if (settings.UseStartTls)
            {
                // The connection must be open before StartTLS: an anonymous read of the root DSE opens it.
                await session.RunAsync(() => session.OffloadAsync("search", () => connection.SendRequest(new SearchRequest(string.Empty, "(objectClass=*)", SearchScope.Base, "supportedExtension")), cancellationToken), "open the connection");
                await session.RunAsync(() => session.BlockingAsync("start_tls", () => StartTls(options), cancellationToken), "start TLS (StartTLS)");
            }

            if (settings.BindDn is not null)
            {
                var credential = new NetworkCredential(settings.BindDn, settings.Password!.Reveal());
                await session.RunAsync(() => session.BlockingAsync("bind", () => connection.Bind(credential), cancellationToken), $"bind as {settings.BindDn}");
            }
            else
            {
                await session.RunAsync(() => session.BlockingAsync("bind", connection.Bind, cancellationToken), "bind anonymously");
            }

            session._established = true;
            return session;
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    // slapd answers StartTLS with operationsError ("operations are outstanding") while the operation
    // that opened the connection is still counted on it: the search's result is sent before slapd
    // retires the operation, so under load the StartTLS can arrive in between (about 1 in 200 when 16
    // sessions opened at once here, also with every open serialised in the process). The refusal changes
    // nothing on the connection, so StartTLS is asked again after a short wait.
    private static void StartTls(LdapSessionOptions options)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                options.StartTransportLayerSecurity(null);
                return;
            }
            catch (Exception ex) when (attempt < StartTlsAttempts && IsOperationsError(ex))
            {
                Thread.Sleep(TimeSpan.FromMilliseconds(10 << attempt));
            }
        }
    }

    private const int StartTlsAttempts = 5;

    private static bool IsOperationsError(Exception exception) => exception switch
    {
        DirectoryOperationException { Response.ResultCode: ResultCode.OperationsError } => true,
        LdapException { ErrorCode: 1 } => true,
        _ => false,
    };

    public async Task<SearchResponse> SearchAsync(SearchRequest request, CancellationToken cancellationToken) =>
        (SearchResponse)await RunAsync(() => OffloadAsync("search", () => _connection.SendRequest(request), cancellationToken), "search");

    /// <summary>
    /// One request sent as it is, bounded like every call here (offloaded, Source:TimeoutSeconds as a
    /// backstop, cancellation): LDAP errors are not translated, so the writer can act on result codes
    /// (noSuchObject, entryAlreadyExists...) as values and retry what is transient.
    /// </summary>
    public Task<DirectoryResponse> SendAsIsAsync(DirectoryRequest request, CancellationToken cancellationToken) =>
        OffloadAsync(OperationOf(request), () => _connection.SendRequest(request), cancellationToken);

    /// <summary>One page of a paged read; <paramref name="entriesRead"/> so far is named if the connection is lost.</summary>
    public Task<SearchResponse> SearchPageAsync(SearchRequest request, int entriesRead, CancellationToken cancellationToken)
    {
        _entriesRead = entriesRead;
        return SearchAsync(request, cancellationToken);
    }

    /// <summary>Active Directory returns large multi-valued attributes in ranges (member;range=0-1499): fetch the rest.</summary>
    public async Task<List<byte[]>> ReadRemainingRangeAsync(string dn, string attribute, long start, CancellationToken cancellationToken)
    {
        var values = new List<byte[]>();
        while (true)
        {
            var request = new SearchRequest(dn, "(objectClass=*)", SearchScope.Base, $"{attribute};range={start}-*");
            var response = await SearchAsync(request, cancellationToken);
            var entry = response.Entries.Cast<SearchResultEntry>().SingleOrDefault()
                ?? throw new ExternalSystemException(_settings.Server, $"entry {dn} vanished while its {attribute} values were read in ranges; re-run the plan");
            var ranged = entry.Attributes.Values.Cast<DirectoryAttribute>().FirstOrDefault(a => a.Name.StartsWith(attribute + ";range=", StringComparison.OrdinalIgnoreCase));
            if (ranged is null)
            {
                return values;
            }

            values.AddRange(ranged.GetValues(typeof(byte[])).Cast<byte[]>());
            var match = LdapLegacyDirectory.RangedAttribute().Match(ranged.Name);
            if (!match.Success || match.Groups["end"].Value == "*")
            {
                return values;
            }

            start = long.Parse(match.Groups["end"].Value, System.Globalization.CultureInfo.InvariantCulture) + 1;
        }
    }

    public void Dispose()
    {
        // A call given up on (timeout, Ctrl+C) may still be inside libldap on this connection: freeing the
        // handle under it would let its socket's number be reused by the next connection while the stuck
        // call still holds it. The handle is released when that call returns.
        var inFlight = _inFlight;
        if (inFlight.IsCompleted)
        {
            _connection.Dispose();
        }
        else
        {
            _ = inFlight.ContinueWith(_ => _connection.Dispose(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }

        if (_trustDirectory is not null)
        {
            try
            {
                Directory.Delete(_trustDirectory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    // libldap's TLS handshake and bind block in native code and do not heed the connection's Timeout: a
    // server that accepted TCP but never answered the handshake held a plan for 15 minutes, deaf to the
    // first SIGTERM. Wait for them at most Source:TimeoutSeconds and never past cancellation; a call that
    // is given up on stays blocked on its pool thread until the process ends, which it then does.
    private static readonly TimeSpan NativeTimeoutMargin = TimeSpan.FromSeconds(5);

    private Task<bool> BlockingAsync(string operation, Action call, CancellationToken cancellationToken) =>
        OffloadAsync(operation, () =>
        {
            call();
            return true;
        }, cancellationToken);

    // S.DS.P's APM pair (BeginSendRequest/EndSendRequest) stalls on long paged reads on Linux: measured
    // against a private slapd, a 100,000-entry read in pages of 1,000 hung after 30,000-60,000 entries
    // until the client timeout, every time, while the synchronous SendRequest on the same connection read
    // everything (docs/benchmarks.md). So every call runs synchronously on a pool thread, bounded from the
    // outside by Source:TimeoutSeconds (the connection's own timeout neither bounds libldap's connect nor
    // names what happened) and by cancellation; the caller gets a TimeoutException it names upstream.
    // The operation's duration (authsplit.ldap.operation.duration) is libldap's own time on the pool
    // thread, answer or error, not the wait for a thread; a call given up on is recorded when it returns.
    private Task<T> OffloadAsync<T>(string operation, Func<T> call, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var running = Task.Run(() =>
        {
            var startedAt = Stopwatch.GetTimestamp();
            try
            {
                var result = call();
                AuthSplitMetrics.RecordLdapOperation(operation, startedAt);
                return result;
            }
            catch (Exception ex)
            {
                AuthSplitMetrics.RecordLdapOperation(operation, startedAt, ErrorTypeOf(ex));
                throw;
            }
        }, CancellationToken.None);
        _inFlight = running;
        return running.WaitAsync(_settings.Timeout, cancellationToken);
    }

    private async Task<T> RunAsync<T>(Func<Task<T>> operation, string what)
    {
        try
        {
            return await operation();
        }
        catch (TimeoutException ex)
        {
            var seconds = _settings.Timeout.TotalSeconds.ToString("0.#", System.Globalization.CultureInfo.InvariantCulture);
            if (_established)
            {
                throw new ExternalSystemException(_settings.Server, string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{what} got no answer within {seconds} s (Source:TimeoutSeconds) after {_entriesRead:N0} entries of the read: the server is hung or overloaded. No plan is made from a partial read; run it again, or raise Source:TimeoutSeconds if the server is merely slow"), ex);
            }

            var speaks = _settings.UseLdaps ? "LDAPS (TLS from the first byte)" : "LDAP";
            throw new ExternalSystemException(_settings.Server, $"could not {what}: the server accepted the connection but did not answer within {seconds} s (Source:TimeoutSeconds). Check that the port in Source:Url speaks {speaks} and that the server is not hung or overloaded", ex);
        }
        catch (LdapException ex)
        {
            throw Translate(ex.ErrorCode, ex.ServerErrorMessage ?? ex.Message, what, ex);
        }
        catch (TlsOperationException ex)
        {
            throw new ExternalSystemException(_settings.Server, $"StartTLS failed ({ex.Message}); check that the server offers StartTLS and that its certificate is signed by Source:CaFile", ex);
        }
        catch (DirectoryOperationException ex)
        {
            var code = (int?)ex.Response?.ResultCode ?? 0;
            throw Translate(code, ex.Response?.ErrorMessage ?? ex.Message, what, ex);
        }
    }

    private async Task RunAsync(Func<Task> operation, string what) =>
        await RunAsync(async () =>
        {
            await operation();
            return true;
        }, what);

    // An answer with a result code (noSuchObject from a read-back after a delete is an expected one) by
    // that code's name; a failure of the connection or the library by its exception.
    private static string ErrorTypeOf(Exception exception) => exception switch
    {
        DirectoryOperationException { Response: { } response } => response.ResultCode.ToString(),
        LdapException ldap => "ldap_error_" + ldap.ErrorCode.ToString(System.Globalization.CultureInfo.InvariantCulture),
        _ => exception.GetType().Name,
    };

    /// <summary>The operation's name in the metrics' <c>ldap.operation</c> attribute.</summary>
    private static string OperationOf(DirectoryRequest request) => request switch
    {
        SearchRequest => "search",
        ModifyRequest => "modify",
        AddRequest => "add",
        DeleteRequest => "delete",
        ModifyDNRequest => "modify_dn",
        CompareRequest => "compare",
        ExtendedRequest => "extended",
        _ => "other",
    };

    private ExternalSystemException Translate(int code, string message, string what, Exception inner)
    {
        var server = _settings.Server;
        return code switch
        {
            InvalidCredentials => new ExternalSystemException(server, $"{what} was rejected (invalid credentials): check the DN and the password in the variable named by Source:PasswordEnvVar", inner),
            ServerDown or ConnectError when _established => new ExternalSystemException(server, string.Create(System.Globalization.CultureInfo.InvariantCulture, $"the connection to {server} was lost after {_entriesRead:N0} entries of the read (the server stopped answering or the network dropped). No plan is made from a partial read; run it again once the server is back"), inner),
            ServerDown when _settings.UseLdaps || _settings.UseStartTls => new ExternalSystemException(server, $"could not {what}: the server accepts TCP connections but the TLS session failed. Most often its certificate is not trusted: set Source:CaFile to the CA that signed it (the certificate must name the host as in Source:Url)", inner),
            ServerDown => new ExternalSystemException(server, $"could not {what}: the server is unavailable", inner),
            _ => new ExternalSystemException(server, $"{what} failed: LDAP result {code}: {message.Trim()}", inner),
        };
    }

    private static async Task ProbeTcpAsync(LdapConnectionSettings settings, CancellationToken cancellationToken)
    {
        using var client = new TcpClient();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(settings.Timeout);
        try
        {
            await client.ConnectAsync(settings.Url.Host, settings.Port, timeout.Token);
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            throw new ExternalSystemException(settings.Server, $"cannot connect ({(ex is SocketException s ? s.SocketErrorCode.ToString() : "timed out")}): check Source:Url and that the server is running and reachable", ex);
        }
    }

    // libldap (GnuTLS on Debian) loads every CA certificate file in TLS_CACERTDIR: a private folder holds just ours.
    private static string TrustDirectory(string caFile)
    {
        var directory = Directory.CreateTempSubdirectory("authsplit-ca-").FullName;
        File.Copy(caFile, Path.Combine(directory, "ca.pem"));
        return directory;
    }

    [LoggerMessage(EventId = 1001, Level = LogLevel.Warning, Message = "Reading {Server} WITHOUT TLS (Source:AllowPlainLdap is true): the bind password and every entry cross the network in clear")]
    private static partial void LogPlainLdap(ILogger logger, string server);
}
