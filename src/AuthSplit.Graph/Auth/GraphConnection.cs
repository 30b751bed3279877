using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using AuthSplit.Core.Configuration;
using AuthSplit.Core.Errors;
using AuthSplit.Core.Execution.Cluster;
using AuthSplit.Core.Secrets;
using AuthSplit.Graph.Resilience;
using Azure.Identity;
using Microsoft.Extensions.Logging;
using Microsoft.Graph;
using Microsoft.Kiota.Abstractions.Authentication;
using Microsoft.Kiota.Authentication.Azure;
using Microsoft.Kiota.Http.HttpClientLibrary.Middleware;

namespace AuthSplit.Graph.Auth;

/// <summary>
/// A <see cref="GraphServiceClient"/> for the configured tenant: the real Microsoft Graph by default, a
/// national cloud or the emulator by <c>Target:BaseUrl</c>. Secrets and tokens come from an environment
/// variable or a file, the certificate from its file, never from the config file; the certificate is
/// loaded at start-up, and requests and the token go to the configured endpoint only (scheme, host and
/// port, <see cref="GraphEndpoint"/>).
/// The SDK's retry handler is replaced by <see cref="GraphResilienceHandler"/>.
/// </summary>
public sealed class GraphConnection : IDisposable
{
    public const string PublicCloud = "https://graph.microsoft.com/";

    /// <summary>The API version the SDK's client speaks.</summary>
    public const string Version = "v1.0";

    private readonly HttpClient _http;

    private GraphConnection(GraphServiceClient client, HttpClient http, GraphEndpoint endpoint, GraphResilienceOptions resilience, WritePacing pacing, ILogger logger, TimeProvider time, string? certificateThumbprint)
    {
        Client = client;
        _http = http;
        Endpoint = endpoint;
        Root = endpoint.Root;
        CertificateThumbprint = certificateThumbprint;
        Resilience = resilience;
        Pacing = pacing;
        Logger = logger;
        Time = time;
    }

    public GraphServiceClient Client { get; }

    /// <summary>The service root without a version, e.g. <c>https://graph.microsoft.com/</c>.</summary>
    public Uri Root { get; }

    public string Description => Root.GetLeftPart(UriPartial.Authority);

    /// <summary>The only endpoint this connection sends requests (and its token) to.</summary>
    public GraphEndpoint Endpoint { get; }

    /// <summary>The thumbprint of the app certificate loaded for <c>Target:Auth: Certificate</c> (null for the other kinds), for the log.</summary>
    public string? CertificateThumbprint { get; }

    /// <summary>
    /// Where this tenant serves <c>users/{id}/onPremisesSyncBehavior</c>, once known: v1.0, or beta after
    /// v1.0 refused it (400/404) and beta answered. Null until the first call tells.
    /// </summary>
    internal string? SyncBehaviorVersion { get; set; }

    /// <summary>The pacing and retries every request of this connection gets.</summary>
    public GraphResilienceOptions Resilience { get; }

    /// <summary>How this connection's writes are paced (the limiter in its <see cref="GraphResilienceHandler"/>).</summary>
    public WritePacing Pacing { get; }

    public ILogger Logger { get; }

    public TimeProvider Time { get; }

    /// <param name="sharedWrites">
    /// A node of a cluster: its writes are paced by the budget all nodes share (tenant and app as configured)
    /// instead of by this process alone. Null: one node, the local token bucket.
    /// </param>
    public static GraphConnection Create(TargetOptions options, GraphResilienceOptions resilience, ILogger logger, Func<string, string?>? environment = null, TimeProvider? time = null, SharedWrites? sharedWrites = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        var root = new Uri((options.BaseUrl ?? PublicCloud).TrimEnd('/') + "/");
        if (root.Scheme != Uri.UriSchemeHttps && !(root.IsLoopback && options.AllowInsecureLoopback))
        {
            throw new InputException("target-url", "Target:BaseUrl must be https (plain http only for a loopback emulator with Target:AllowInsecureLoopback: true)");
        }

        var endpoint = new GraphEndpoint(root, Version);
        X509Certificate2? certificate = null;
        IAuthenticationProvider authentication = options.Auth switch
        {
            "StaticToken" => new BaseBearerTokenAuthenticationProvider(new StaticTokenProvider(
                Credential(environment, options.TokenEnvVar, options.TokenFile, "Target:TokenEnvVar", "Target:TokenFile", "the bearer token") ?? throw Missing("Target:TokenEnvVar", "Target:TokenFile", "the bearer token"),
                endpoint)),
            "ClientSecret" => new AzureIdentityAuthenticationProvider(
                new ClientSecretCredential(
                    options.TenantId,
                    options.ClientId,
                    Credential(environment, options.SecretEnvVar, options.SecretFile, "Target:SecretEnvVar", "Target:SecretFile", "the client secret") ?? throw Missing("Target:SecretEnvVar", "Target:SecretFile", "the client secret"),
                    new ClientSecretCredentialOptions { AuthorityHost = AuthorityHostFor(root) }),
                [root.Host],
                scopes: [$"{root.GetLeftPart(UriPartial.Authority)}/.default"]),
            "Certificate" => new AzureIdentityAuthenticationProvider(
                new ClientCertificateCredential(
                    options.TenantId,
                    options.ClientId,
                    certificate = LoadCertificate(options, Credential(environment, options.SecretEnvVar, options.SecretFile, "Target:SecretEnvVar", "Target:SecretFile", "the certificate's password")),
                    new ClientCertificateCredentialOptions { AuthorityHost = AuthorityHostFor(root) }),
                [root.Host],
                scopes: [$"{root.GetLeftPart(UriPartial.Authority)}/.default"]),
            _ => throw new InputException("target-auth", $"Target:Auth must be ClientSecret, Certificate or StaticToken (got \"{options.Auth}\")"),
        };

        var handlers = GraphClientFactory.CreateDefaultHandlers();
        foreach (var retry in handlers.OfType<RetryHandler>().ToArray())
        {
            handlers.Remove(retry);
        }

        var resilienceHandler = new GraphResilienceHandler(resilience, logger, time, sharedWrites is null ? null : SharedLimiter(options, root, resilience, sharedWrites, logger, time));
        handlers.Add(resilienceHandler);
        handlers.Add(new EndpointGuardHandler(endpoint)); // last: it sees every attempt and every redirect
        var http = GraphClientFactory.Create(handlers, finalHandler: new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5), AutomaticDecompression = System.Net.DecompressionMethods.All });
        http.Timeout = Timeout.InfiniteTimeSpan; // each attempt has its own timeout in the resilience pipeline
        var client = new GraphServiceClient(http, new EndpointAuthenticationProvider(authentication, endpoint), new Uri(root, Version).ToString());
        return new GraphConnection(client, http, endpoint, resilience, resilienceHandler.Pacing, logger, time ?? TimeProvider.System, certificate?.Thumbprint)
        {
            PacingMeter = resilienceHandler.PacingMeter,
        };
    }

    /// <summary>How long writes waited for the write limiter, and (in a cluster) the shared budget's refusals and dropped permits.</summary>
    public WritePacingMeter PacingMeter { get; private init; } = new();

    // Graph counts writes per tenant and app: that is the budget's key (the StaticToken kind names neither: its base URL and kind).
    private static SharedWriteBudgetLimiter SharedLimiter(TargetOptions options, Uri root, GraphResilienceOptions resilience, SharedWrites shared, ILogger logger, TimeProvider? time)
    {
        var (key, limit) = SharedBudgetOf(options, root, resilience, shared.Margin);
        return new SharedWriteBudgetLimiter(shared.Budget, key, limit, shared.Node, root.GetLeftPart(UriPartial.Authority), new WritePacingMeter(), logger, time);
    }

    /// <summary>The shared write budget this target's writes come from, and the limit this node would ask it with (for the check at start).</summary>
    public static (WriteBudgetKey Key, WriteBudgetLimit Limit) SharedBudgetOf(TargetOptions options, GraphResilienceOptions resilience, TimeSpan? margin = null) =>
        SharedBudgetOf(options, new Uri((options.BaseUrl ?? PublicCloud).TrimEnd('/') + "/"), resilience, margin);

    private static (WriteBudgetKey Key, WriteBudgetLimit Limit) SharedBudgetOf(TargetOptions options, Uri root, GraphResilienceOptions resilience, TimeSpan? margin)
    {
        var key = new WriteBudgetKey(
            string.IsNullOrWhiteSpace(options.TenantId) ? root.GetLeftPart(UriPartial.Authority) : options.TenantId,
            string.IsNullOrWhiteSpace(options.ClientId) ? options.Auth ?? "app" : options.ClientId);
        return (key, new WriteBudgetLimit(resilience.WritesPerWindow, resilience.WriteWindow, WritePacing.For(resilience).MaxWritesPerRequest, margin));
    }

    public void Dispose()
    {
        Client.Dispose();
        _http.Dispose();
    }

    /// <summary>
    /// Where tokens for this Graph come from: a national cloud's Graph takes tokens only from that
    /// cloud's Entra sign-in endpoint. Any other host (the public cloud, the emulator) uses the public one.
    /// </summary>
    public static Uri AuthorityHostFor(Uri graphRoot) => graphRoot.Host.ToLowerInvariant() switch
    {
        "graph.microsoft.us" or "dod-graph.microsoft.us" => AzureAuthorityHosts.AzureGovernment,
        "microsoftgraph.chinacloudapi.cn" => AzureAuthorityHosts.AzureChina,
        _ => AzureAuthorityHosts.AzurePublicCloud,
    };

    // A credential from an environment variable or the first line of a file; null when neither is configured.
    private static string? Credential(Func<string, string?> environment, string? variable, string? file, string variableKey, string fileKey, string what) =>
        SecretLoader.LoadOptional(new SecretSource(variable, file, variableKey, fileKey, what), environment)?.Reveal();

    private static InputException Missing(string variableKey, string fileKey, string what) =>
        new(SecretLoader.ErrorCode, $"{variableKey} or {fileKey} must say where {what} is; secrets are never read from the config file");

    /// <summary>
    /// Loads the app's certificate now, so that a wrong path, a wrong password or a certificate without its
    /// private key is bad input at start-up rather than a token failure in the middle of a run.
    /// </summary>
    private static X509Certificate2 LoadCertificate(TargetOptions options, string? password)
    {
        var path = options.CertificatePath;
        if (string.IsNullOrWhiteSpace(path) || !File.Exists(path))
        {
            throw new InputException("target-certificate", $"Target:CertificatePath \"{path}\" is not a readable file (PFX, or PEM with its private key)");
        }

        X509Certificate2 certificate;
        try
        {
            var bytes = File.ReadAllBytes(path);
            if (bytes.AsSpan().IndexOf("-----BEGIN"u8) >= 0)
            {
                // One PEM file holds the certificate and its key: the same text is searched for each.
                var pem = System.Text.Encoding.ASCII.GetString(bytes);
                certificate = password is null ? X509Certificate2.CreateFromPem(pem, pem) : X509Certificate2.CreateFromEncryptedPem(pem, pem, password);
            }
            else
            {
                certificate = X509CertificateLoader.LoadPkcs12(bytes, password, X509KeyStorageFlags.EphemeralKeySet);
            }
        }
        catch (Exception ex) when (ex is CryptographicException or IOException or UnauthorizedAccessException or ArgumentException)
        {
            // The exception's text never includes the password; it can name the format problem.
            throw new InputException(
                "target-certificate",
                $"cannot load the certificate in Target:CertificatePath ({ex.Message.TrimEnd('.')}): it must be PFX/PKCS#12 or PEM with the certificate and its private key, and its password, if any, in Target:SecretEnvVar or Target:SecretFile",
                path);
        }

        if (!certificate.HasPrivateKey)
        {
            certificate.Dispose();
            throw new InputException("target-certificate", "the certificate in Target:CertificatePath has no private key; export it with its key (PFX, or PEM with the key in the same file)", path);
        }

        return certificate;
    }
}
