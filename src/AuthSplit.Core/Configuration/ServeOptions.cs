namespace AuthSplit.Core.Configuration;

/// <summary><c>Serve</c>: what <c>authsplit serve</c> exposes for the operators' own tools.</summary>
public sealed class ServeOptions
{
    /// <summary><c>Serve:Http</c>: liveness, readiness and metrics over HTTP.</summary>
    public ServeHttpOptions Http { get; set; } = new();

    /// <summary>
    /// <c>Serve:CheckinIntervalSeconds</c> (PostgreSQL cluster): how often a node checks in to Quartz's scheduler
    /// state table. Quartz's documented example, 10 s, by default.
    /// </summary>
    public double CheckinIntervalSeconds { get; set; } = 10;

    /// <summary>
    /// <c>Serve:CheckinMisfireThresholdSeconds</c>: how late a node's check-in may be before the others take it for
    /// dead and recover its firings (20 s). A dead node's part is taken over within this plus one check-in interval;
    /// too short on a loaded machine and a live but slow node is taken for dead (its leases still keep its steps its own).
    /// </summary>
    public double CheckinMisfireThresholdSeconds { get; set; } = 20;
}

/// <summary>
/// <c>Serve:Http</c>: <c>/healthz/live</c>, <c>/healthz/ready</c> and <c>/metrics</c> (Prometheus text).
/// On the loopback interface by default: a scraper or agent on the same machine reads them, and nothing
/// about the waves is offered to the network unless <see cref="AllowNonLoopback"/> says so.
/// </summary>
public sealed class ServeHttpOptions
{
    /// <summary>False: serve opens no HTTP port at all.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// Where to listen, as ASP.NET Core's <c>urls</c>: <c>http://host:port</c>, several separated by
    /// <c>;</c>. Port 0 takes a free port (serve prints the one it got).
    /// </summary>
    public string Urls { get; set; } = ServeDefaults.HttpUrls;

    /// <summary>
    /// True lets <see cref="Urls"/> name an address other than the loopback interface (<c>0.0.0.0</c>, a
    /// host's own address): the endpoints carry no secret, but wave names and counts, without TLS or authentication.
    /// </summary>
    public bool AllowNonLoopback { get; set; }
}

public static class ServeDefaults
{
    /// <summary>Loopback, on the port OpenTelemetry's Prometheus exporter uses by default.</summary>
    public const string HttpUrls = "http://127.0.0.1:9464";
}

/// <summary>One address of <see cref="ServeHttpOptions.Urls"/>, read without touching the network.</summary>
public sealed record ServeHttpAddress(string Host, int Port, bool IsLoopback)
{
    /// <summary>The addresses of a <c>;</c>-separated list, blanks skipped.</summary>
    public static IReadOnlyList<string> Split(string? urls) =>
        (urls ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>
    /// Reads <c>http://host:port</c>. The wildcard hosts Kestrel accepts (<c>*</c>, <c>+</c>) and
    /// <c>0.0.0.0</c>/<c>[::]</c> are every interface; loopback is <c>localhost</c>, <c>127.0.0.0/8</c> and <c>[::1]</c>.
    /// </summary>
    public static bool TryParse(string url, out ServeHttpAddress? address)
    {
        address = null;
        const string scheme = "http://";
        if (!url.StartsWith(scheme, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var rest = url[scheme.Length..].TrimEnd('/');
        if (rest.StartsWith("*:", StringComparison.Ordinal) || rest.StartsWith("+:", StringComparison.Ordinal))
        {
            return int.TryParse(rest[2..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var anyPort)
                && anyPort is >= 0 and <= 65535
                && (address = new ServeHttpAddress(rest[..1], anyPort, IsLoopback: false)) is not null;
        }

        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.AbsolutePath != "/" || uri.Query.Length > 0 || uri.UserInfo.Length > 0
            || uri.IsDefaultPort && !HasExplicitPort(rest))
        {
            return false;
        }

        address = new ServeHttpAddress(uri.Host, uri.Port, IsLoopbackHost(uri));
        return true;
    }

    // An explicit :80 is allowed; a URL without a port is not (which port serve listens on must be visible in the config).
    private static bool HasExplicitPort(string hostAndPort) => hostAndPort.LastIndexOf(':') > hostAndPort.LastIndexOf(']');

    private static bool IsLoopbackHost(Uri uri) => uri.HostNameType switch
    {
        UriHostNameType.IPv4 => uri.Host.StartsWith("127.", StringComparison.Ordinal),
        UriHostNameType.IPv6 => uri.Host == "[::1]",
        _ => string.Equals(uri.Host, "localhost", StringComparison.OrdinalIgnoreCase),
    };
}
