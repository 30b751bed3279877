using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using AuthSplit.Core.Configuration;
using AuthSplit.Core.Errors;
using AuthSplit.Graph.Auth;
using AuthSplit.Graph.Emulator;
using AuthSplit.Graph.Resilience;
using AuthSplit.Graph.Users;
using Microsoft.Extensions.Logging.Abstractions;

namespace AuthSplit.Graph.Tests;

/// <summary>Where the connector's credentials come from, and the clear errors when they are wrong.</summary>
public sealed class GraphCredentialTests : IDisposable
{
    private const string CertificatePassword = "pfx-pass-Q7v2!";
    private readonly string _work = Directory.CreateTempSubdirectory("authsplit-graph-credentials-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    private static readonly Func<string, string?> NoEnvironment = _ => null;

    private static TargetOptions CertificateTarget(string path, string? secretFile = null) => new()
    {
        Auth = "Certificate",
        TenantId = "00000000-0000-0000-0000-0000000000aa",
        ClientId = "00000000-0000-0000-0000-0000000000bb",
        CertificatePath = path,
        SecretFile = secretFile,
    };

    private static GraphConnection Create(TargetOptions target, Func<string, string?>? environment = null) =>
        GraphConnection.Create(target, new GraphResilienceOptions(), NullLogger.Instance, environment ?? NoEnvironment);

    private string File(string name, string text)
    {
        var path = Path.Combine(_work, name);
        System.IO.File.WriteAllText(path, text);
        return path;
    }

    private static X509Certificate2 SelfSigned()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=authsplit-test-app", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
    }

    [Theory]
    [InlineData("https://graph.microsoft.com/", "https://login.microsoftonline.com/")]
    [InlineData("https://graph.microsoft.us/", "https://login.microsoftonline.us/")]
    [InlineData("https://dod-graph.microsoft.us/", "https://login.microsoftonline.us/")]
    [InlineData("https://microsoftgraph.chinacloudapi.cn/", "https://login.chinacloudapi.cn/")]
    public void A_national_clouds_graph_takes_tokens_from_that_clouds_sign_in(string graph, string authority)
    {
        GraphConnection.AuthorityHostFor(new Uri(graph)).Should().Be(new Uri(authority));
    }

    [Fact]
    public async Task A_token_file_authenticates_like_a_token_variable()
    {
        const string token = "file-token-3f9e";
        await using var emulator = await GraphEmulator.StartAsync(new GraphEmulatorOptions { AccessToken = token }, CancellationToken.None);
        var target = new TargetOptions { BaseUrl = emulator.BaseUrl.ToString(), Auth = "StaticToken", TokenFile = File("token", token + "\n"), AllowInsecureLoopback = true };
        using var connection = Create(target);

        var state = await new GraphTenant(connection).GetTenantSyncStateAsync(CancellationToken.None);

        state.PasswordSyncEnabled.Should().BeTrue("the emulator accepted the token read from the file");
    }

    [Fact]
    public void An_empty_token_file_is_bad_input_naming_the_key()
    {
        var act = () => Create(new TargetOptions { Auth = "StaticToken", TokenFile = File("empty", "\n") });

        act.Should().Throw<InputException>().WithMessage("*Target:TokenFile*empty*");
    }

    [Fact]
    public void A_password_protected_pfx_loads_with_the_password_from_a_file()
    {
        using var certificate = SelfSigned();
        var pfx = Path.Combine(_work, "app.pfx");
        System.IO.File.WriteAllBytes(pfx, certificate.Export(X509ContentType.Pfx, CertificatePassword));

        using var connection = Create(CertificateTarget(pfx, File("pfx-password", CertificatePassword + "\n")));

        connection.Description.Should().Be("https://graph.microsoft.com");
        connection.CertificateThumbprint.Should().Be(certificate.Thumbprint, "the credential holds the certificate from the file");
    }

    [Fact]
    public void A_wrong_certificate_password_is_bad_input_that_never_shows_the_password()
    {
        using var certificate = SelfSigned();
        var pfx = Path.Combine(_work, "app.pfx");
        System.IO.File.WriteAllBytes(pfx, certificate.Export(X509ContentType.Pfx, CertificatePassword));
        const string wrong = "not-the-password-88";

        var act = () => Create(CertificateTarget(pfx, File("pfx-password", wrong)));

        var error = act.Should().Throw<InputException>().Which;
        error.Message.Should().Contain("Target:CertificatePath").And.Contain(pfx).And.NotContain(wrong).And.NotContain(CertificatePassword);
        error.Code.Should().Be("target-certificate");
    }

    [Fact]
    public void A_pem_with_its_key_loads_and_a_pem_without_a_key_is_refused()
    {
        using var certificate = SelfSigned();
        var withKey = File("app.pem", certificate.ExportCertificatePem() + "\n" + certificate.GetRSAPrivateKey()!.ExportPkcs8PrivateKeyPem());
        var withoutKey = File("public.pem", certificate.ExportCertificatePem());

        using var connection = Create(CertificateTarget(withKey));
        connection.CertificateThumbprint.Should().Be(certificate.Thumbprint, "the credential holds the certificate from the PEM, with its key (one without is refused below)");

        var act = () => Create(CertificateTarget(withoutKey));
        act.Should().Throw<InputException>().WithMessage("*private key*");
    }

    [Fact]
    public void A_certificate_path_that_is_not_a_certificate_is_bad_input()
    {
        var act = () => Create(CertificateTarget(File("notes.txt", "this is not a certificate")));

        act.Should().Throw<InputException>().Which.Code.Should().Be("target-certificate");
    }
}
