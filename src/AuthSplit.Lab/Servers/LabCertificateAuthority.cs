using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace AuthSplit.Lab.Servers;

/// <summary>
/// A throw-away certificate authority for lab servers: a CA and a server certificate for
/// <c>IP:127.0.0.1</c> (libldap checks the address against the SAN), written as PEM files. Test clients
/// trust the CA through <see cref="CaFile"/> or <see cref="CaDirectory"/>, never by turning checks off.
/// </summary>
public sealed class LabCertificateAuthority
{
    private LabCertificateAuthority(string directory)
    {
        Directory = directory;
    }

    public string Directory { get; }

    public string CaFile => Path.Combine(Directory, "ca.pem");

    /// <summary>A folder holding only the CA, for libldap's TLS_CACERTDIR (<c>TrustedCertificatesDirectory</c>).</summary>
    public string CaDirectory => Path.Combine(Directory, "cacerts");

    public string CertificateFile => Path.Combine(Directory, "server.pem");

    public string KeyFile => Path.Combine(Directory, "server.key");

    public static LabCertificateAuthority Create(string directory, string commonName, params string[] dnsNames)
    {
        System.IO.Directory.CreateDirectory(directory);
        var authority = new LabCertificateAuthority(directory);
        var now = DateTimeOffset.UtcNow;

        using var caKey = RSA.Create(2048);
        var caRequest = new CertificateRequest($"CN=AuthSplit lab CA {commonName}", caKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        caRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(caRequest.PublicKey, false));
        using var ca = caRequest.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(30));

        using var serverKey = RSA.Create(2048);
        var serverRequest = new CertificateRequest($"CN={commonName}", serverKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        san.AddDnsName("localhost");
        foreach (var name in dnsNames)
        {
            san.AddDnsName(name);
        }

        serverRequest.CertificateExtensions.Add(san.Build());
        serverRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        serverRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        serverRequest.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F;
        using var server = serverRequest.Create(ca, now.AddMinutes(-5), now.AddDays(29), serial);

        File.WriteAllText(authority.CaFile, ca.ExportCertificatePem() + "\n");
        File.WriteAllText(authority.CertificateFile, server.ExportCertificatePem() + "\n");
        File.WriteAllText(authority.KeyFile, serverKey.ExportPkcs8PrivateKeyPem() + "\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(authority.KeyFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        System.IO.Directory.CreateDirectory(authority.CaDirectory);
        File.Copy(authority.CaFile, Path.Combine(authority.CaDirectory, "ca.pem"), overwrite: true);
        return authority;
    }
}
