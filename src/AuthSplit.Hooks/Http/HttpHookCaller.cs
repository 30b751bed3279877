using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Text;
using AuthSplit.Core.Configuration;
using AuthSplit.Core.Errors;
using AuthSplit.Core.Execution.Systems;
using AuthSplit.Core.Planning.Format;
using AuthSplit.Hooks.Output;
using AuthSplit.Core.Secrets;

namespace AuthSplit.Hooks.Http;

/// <summary>
/// Makes a cutover or probe HTTP call on one shared handler. The server's certificate is always verified
/// against the system's trust store (there is no switch to skip it: a hook that would accept any
/// certificate would accept an attacker's); plain <c>http://</c> is refused unless the host is a loopback
/// address, before any connection. Secret header values are read from their source at each call and
/// never appear in the outcome: a server that echoes one gets <c>***</c> in the excerpt.
/// </summary>
public sealed class HttpHookCaller : IHttpCaller, IDisposable
{
    private readonly HttpClient _client;
    private readonly HookSecrets _secrets;
    private readonly TimeProvider _time;

    public HttpHookCaller(HookSecrets secrets, TimeProvider time)
    {
        _secrets = secrets;
        _time = time;
        var handler = new SocketsHttpHandler
        {
            // A redirect could carry a secret header to another host; a 3xx is an answer like any other.
            AllowAutoRedirect = false,
            UseCookies = false,
            UseProxy = true,
            PooledConnectionLifetime = TimeSpan.FromMinutes(2),
            AutomaticDecompression = DecompressionMethods.None,
        };
        // The call's own timeout bounds it (linked with the caller's cancellation), not HttpClient's.
        _client = new HttpClient(handler, disposeHandler: true) { Timeout = Timeout.InfiniteTimeSpan };
    }

    public HttpHookCaller()
        : this(HookSecrets.None, TimeProvider.System)
    {
    }

    public async Task<HookOutcome> CallAsync(HttpCallSpec call, TimeSpan timeout, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var started = _time.GetTimestamp();
        var mask = _secrets.Resolve();
        if (!Uri.TryCreate(call.Url, UriKind.Absolute, out var url) || url.Scheme is not ("https" or "http"))
        {
            return Unavailable(started, mask, $"{call.Method} {call.Url}: not an absolute http(s) URL");
        }

        // The query is left out of every message: some endpoints take a key in it.
        var what = $"{call.Method.ToUpperInvariant()} {url.GetLeftPart(UriPartial.Path)}";
        if (url.Scheme == "http" && !url.IsLoopback)
        {
            return Unavailable(started, mask, $"{what} refused without connecting: plain http:// is allowed only to a loopback address (the request and its headers would cross the network in clear); use https://");
        }

        using var request = new HttpRequestMessage(new HttpMethod(call.Method.ToUpperInvariant()), url);
        if (call.Body is not null)
        {
            request.Content = new StringContent(call.Body, Encoding.UTF8, "application/json");
        }

        var revealed = new List<string>();
        foreach (var header in call.Headers)
        {
            string value;
            if (header.ValueSource is { } source)
            {
                try
                {
                    value = SecretReference.Load(source, $"the value of the {header.Name} header").Reveal();
                }
                catch (InputException ex)
                {
                    return Unavailable(started, mask, $"{what} not sent: {ex.Message}");
                }

                revealed.Add(value);
            }
            else
            {
                value = header.Value ?? string.Empty;
            }

            if (request.Headers.TryAddWithoutValidation(header.Name, value))
            {
                continue;
            }

            // A content header (Content-Type...): it replaces the default one of the body, if there is a body.
            request.Content?.Headers.Remove(header.Name);
            if (request.Content?.Headers.TryAddWithoutValidation(header.Name, value) != true)
            {
                return Unavailable(started, mask, $"{what} not sent: the header {header.Name} cannot be set on this request");
            }
        }

        mask = mask.With(revealed);
        using var deadline = new CancellationTokenSource(timeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, cancellationToken);
        using var capture = new OutputCapture(SystemDefaults.OutputExcerptBytes + mask.Margin);
        int status;
        bool found;
        try
        {
            using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, linked.Token);
            status = (int)response.StatusCode;
            await using var body = await response.Content.ReadAsStreamAsync(linked.Token);
            found = await ReadBodyAsync(body, capture, call.BodyContains, linked.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return Outcome(HookStatus.TimedOut, null, started, capture, mask, $"{what} got no complete answer within {Seconds(timeout)} s");
        }
        catch (HttpRequestException ex)
        {
            return Outcome(HookStatus.Unavailable, null, started, capture, mask, $"{what}: {Unreachable(url, ex)}");
        }
        catch (IOException ex)
        {
            return Outcome(HookStatus.Unavailable, null, started, capture, mask, $"{what}: the connection to {url.Authority} broke while the answer was read ({ex.Message})");
        }

        var expected = call.ExpectStatus is { } wanted ? status == wanted : status is >= 200 and < 300;
        var answered = $"{what} answered {status.ToString(CultureInfo.InvariantCulture)} after {Seconds(_time.GetElapsedTime(started))} s ({capture.TotalBytes.ToString("N0", CultureInfo.InvariantCulture)} bytes)";
        if (!expected)
        {
            var want = call.ExpectStatus is { } s ? s.ToString(CultureInfo.InvariantCulture) : "a 2xx status";
            return Outcome(HookStatus.Refused, status, started, capture, mask, $"{answered}; expected {want}");
        }

        return found
            ? Outcome(HookStatus.Succeeded, status, started, capture, mask, answered + (call.BodyContains is null ? string.Empty : "; the body contains the expected text"))
            : Outcome(HookStatus.Refused, status, started, capture, mask, $"{answered}; the body does not contain \"{call.BodyContains}\"");
    }

    public void Dispose() => _client.Dispose();

    /// <summary>Reads the whole body into the capture; whether it contains <paramref name="needle"/>, searched across reads in bounded memory.</summary>
    private static async Task<bool> ReadBodyAsync(Stream body, OutputCapture capture, string? needle, CancellationToken cancellationToken)
    {
        var pattern = needle is null ? [] : Encoding.UTF8.GetBytes(needle);
        var found = pattern.Length == 0;
        var buffer = new byte[16 * 1024 + pattern.Length];
        var carried = 0;
        int read;
        while ((read = await body.ReadAsync(buffer.AsMemory(carried, buffer.Length - carried), cancellationToken)) > 0)
        {
            capture.Append(buffer.AsSpan(carried, read));
            var window = carried + read;
            if (!found)
            {
                found = buffer.AsSpan(0, window).IndexOf(pattern) >= 0;

                // Keep the last pattern-length-minus-one bytes: a match that straddles two reads is found next time.
                carried = Math.Min(pattern.Length - 1, window);
                buffer.AsSpan(window - carried, carried).CopyTo(buffer);
            }
        }

        return found;
    }

    private static string Unreachable(Uri url, HttpRequestException ex)
    {
        var host = url.Authority;
        var tls = FindInner<AuthenticationException>(ex);
        if (tls is not null || ex.HttpRequestError == HttpRequestError.SecureConnectionError)
        {
            return $"TLS with {host} failed: {(tls ?? ex.InnerException ?? ex).Message} (the certificate must chain to a CA in the system trust store and name the host)";
        }

        var socket = FindInner<SocketException>(ex);
        return ex.HttpRequestError switch
        {
            HttpRequestError.NameResolutionError => $"cannot resolve {url.Host} ({socket?.SocketErrorCode.ToString() ?? ex.Message})",
            HttpRequestError.ConnectionError when socket is not null => $"cannot connect to {host} ({socket.SocketErrorCode})",
            _ => $"the call to {host} failed ({ex.HttpRequestError}: {ex.Message})",
        };
    }

    private static T? FindInner<T>(Exception exception)
        where T : Exception
    {
        for (var inner = exception.InnerException; inner is not null; inner = inner.InnerException)
        {
            if (inner is T match)
            {
                return match;
            }
        }

        return null;
    }

    private HookOutcome Unavailable(long started, SecretMask mask, string detail) =>
        Outcome(HookStatus.Unavailable, null, started, null, mask, detail);

    private HookOutcome Outcome(HookStatus status, int? httpStatus, long started, OutputCapture? capture, SecretMask mask, string detail)
    {
        using var empty = capture is null ? new OutputCapture(0) : null;
        var output = capture ?? empty!;
        return new HookOutcome
        {
            Status = status,
            HttpStatus = httpStatus,
            Duration = _time.GetElapsedTime(started),
            OutputSha256 = output.Sha256(),
            OutputExcerpt = mask.Excerpt(output.Head),
            Detail = mask.Apply(detail),
        };
    }

    private static string Seconds(TimeSpan duration) => duration.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture);
}
