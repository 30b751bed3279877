using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AuthSplit.Hooks.Tests.Http;

/// <summary>
/// A real Kestrel on 127.0.0.1 (ports chosen by the system): one plain HTTP endpoint and one HTTPS
/// endpoint with a self-signed certificate no trust store knows. It records what each request carried.
/// </summary>
public sealed class LoopbackHttpServer : IAsyncLifetime
{
    public const string BigBodyNeedle = "the-end-of-the-big-body";

    private WebApplication? _app;

    public Uri Http { get; private set; } = null!;

    public Uri Https { get; private set; } = null!;

    /// <summary>Each request's path and the headers and body it carried, in arrival order.</summary>
    public ConcurrentQueue<(string Path, IReadOnlyDictionary<string, string> Headers, string Body)> Requests { get; } = new();

    /// <summary>The body of <c>/big</c>: 1 MB of text that ends with <see cref="BigBodyNeedle"/>.</summary>
    public static byte[] BigBody { get; } = Encoding.ASCII.GetBytes(new string('b', 1_000_000 - BigBodyNeedle.Length) + BigBodyNeedle);

    public async Task InitializeAsync()
    {
        using var certificate = SelfSigned();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrelHttpsConfiguration();
        var pfx = certificate.Export(X509ContentType.Pfx);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(IPAddress.Loopback, 0);
            kestrel.Listen(IPAddress.Loopback, 0, listen => listen.UseHttps(X509CertificateLoader.LoadPkcs12(pfx, null)));
        });
        _app = builder.Build();
        _app.Use(async (context, next) =>
        {
            using var reader = new StreamReader(context.Request.Body);
            var body = await reader.ReadToEndAsync(context.RequestAborted);
            Requests.Enqueue((context.Request.Path.Value ?? string.Empty, context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase), body));
            await next(context);
        });
        _app.MapGet("/ok", () => Results.Text("hello world"));
        _app.MapMethods("/status/{code:int}", ["GET", "POST"], (int code) => Results.Text("status " + code, statusCode: code));
        _app.MapPost("/echo", (HttpRequest request) => Results.Text($"content-type={request.ContentType}; authorization={request.Headers.Authorization}; x-api-key={request.Headers["X-Api-Key"]}"));
        _app.MapGet("/big", () => Results.Bytes(BigBody, "text/plain"));
        _app.MapGet("/slow", async (CancellationToken aborted) =>
        {
            await Task.Delay(TimeSpan.FromSeconds(30), aborted);
            return Results.Text("late");
        });
        await _app.StartAsync();
        var addresses = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        Http = new Uri(addresses.Single(a => a.StartsWith("http://", StringComparison.Ordinal)));
        Https = new Uri(addresses.Single(a => a.StartsWith("https://", StringComparison.Ordinal)));
    }

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }

    private static X509Certificate2 SelfSigned()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        var now = DateTimeOffset.UtcNow;
        return request.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(1));
    }
}
