using Azure.Identity;
using AuthSplit.Core.Configuration;
using AuthSplit.Core.Errors;
using Microsoft.Extensions.Logging;
using Microsoft.Graph;
using Microsoft.Kiota.Abstractions.Authentication;
using Microsoft.Kiota.Authentication.Azure;
using Microsoft.Kiota.Http.HttpClientLibrary.Middleware;

namespace AuthSplit.Graph.Live;

/// <summary>
/// A <see cref="GraphServiceClient"/> for the configured tenant: the real Microsoft Graph by default, a
/// national cloud or the emulator by <c>Target:BaseUrl</c>. Credentials come from the environment or a
/// certificate file, never from the config file, and the token is sent to the configured host only.
/// The SDK's retry handler is replaced by <see cref="GraphResilienceHandler"/>.
/// </summary>
public sealed class GraphConnection : IDisposable
{
    public const string PublicCloud = "https://graph.microsoft.com/";

    private readonly HttpClient _http;

    private GraphConnection(GraphServiceClient client, HttpClient http, Uri root, GraphResilienceOptions resilience, ILogger logger, TimeProvider time)
    {
        Client = client;
        _http = http;
        Root = root;
        Resilience = resilience;
        Logger = logger;
        Time = time;
    }

    public GraphServiceClient Client { get; }

    /// <summary>The service root without a version, e.g. <c>https://graph.microsoft.com/</c>.</summary>
    public Uri Root { get; }

    public string Description => Root.GetLeftPart(UriPartial.Authority);

    /// <summary>The pacing and retries every request of this connection gets.</summary>
    public GraphResilienceOptions Resilience { get; }

    public ILogger Logger { get; }

    public TimeProvider Time { get; }

    public static GraphConnection Create(TargetOptions options, GraphResilienceOptions resilience, ILogger logger, Func<string, string?>? environment = null, TimeProvider? time = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        var root = new Uri((options.BaseUrl ?? PublicCloud).TrimEnd('/') + "/");
        if (root.Scheme != Uri.UriSchemeHttps && !(root.IsLoopback && options.AllowInsecureLoopback))
        {
            throw new InputException("target-url", "Target:BaseUrl must be https (plain http only for a loopback emulator with Target:AllowInsecureLoopback: true)");
        }

        IAuthenticationProvider authentication = options.Auth switch
        {
            "StaticToken" => new BaseBearerTokenAuthenticationProvider(new StaticTokenProvider(Required(environment, options.TokenEnvVar, "Target:TokenEnvVar"), [root.Host])),
            "ClientSecret" => new AzureIdentityAuthenticationProvider(
                new ClientSecretCredential(options.TenantId, options.ClientId, Required(environment, options.SecretEnvVar, "Target:SecretEnvVar")),
                [root.Host],
                scopes: [$"{root.GetLeftPart(UriPartial.Authority)}/.default"]),
            "Certificate" => new AzureIdentityAuthenticationProvider(
                Certificate(options),
                [root.Host],
                scopes: [$"{root.GetLeftPart(UriPartial.Authority)}/.default"]),
            _ => throw new InputException("target-auth", $"Target:Auth must be ClientSecret, Certificate or StaticToken (got \"{options.Auth}\")"),
        };

        var handlers = GraphClientFactory.CreateDefaultHandlers();
        foreach (var retry in handlers.OfType<RetryHandler>().ToArray())
        {
            handlers.Remove(retry);
        }

        handlers.Add(new GraphResilienceHandler(resilience, logger, time));
        var http = GraphClientFactory.Create(handlers, finalHandler: new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5), AutomaticDecompression = System.Net.DecompressionMethods.All });
        http.Timeout = Timeout.InfiniteTimeSpan; // each attempt has its own timeout in the resilience pipeline
        var client = new GraphServiceClient(http, authentication, new Uri(root, "v1.0").ToString());
        return new GraphConnection(client, http, root, resilience, logger, time ?? TimeProvider.System);
    }

    public void Dispose()
    {
        Client.Dispose();
        _http.Dispose();
    }

    private static string Required(Func<string, string?> environment, string? variable, string key)
    {
        if (string.IsNullOrWhiteSpace(variable))
        {
            throw new InputException("target-secret", $"{key} must name the environment variable that holds the credential");
        }

        var value = environment(variable);
        return string.IsNullOrEmpty(value)
            ? throw new InputException("target-secret", $"the environment variable {variable} (named by {key}) is not set; export it before running")
            : value;
    }

    private static ClientCertificateCredential Certificate(TargetOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.CertificatePath) || !File.Exists(options.CertificatePath))
        {
            throw new InputException("target-certificate", $"Target:CertificatePath \"{options.CertificatePath}\" is not a readable file (PFX, or PEM with its private key)");
        }

        return new ClientCertificateCredential(options.TenantId, options.ClientId, options.CertificatePath);
    }
}
