using AuthSplit.Core.Configuration;

namespace AuthSplit.Core.Tests.Configuration;

/// <summary>The <c>Target</c> section: the live Graph connector's settings.</summary>
public sealed class TargetOptionsValidationTests
{
    private static AuthSplitOptions With(TargetOptions target) => new()
    {
        Source = new SourceOptions { Url = "ldaps://127.0.0.1:6360", BaseDn = "dc=example,dc=com", BindDn = "cn=reader,dc=example,dc=com", PasswordEnvVar = "LDAP_PASSWORD" },
        Waves = { new WaveOptions { Name = "hq", Order = 1, Deadline = "2025-04-30", BaseDn = "ou=hq,dc=example,dc=com", Filter = "(objectClass=inetOrgPerson)" } },
        Matching = { new MatchingRuleOptions { Source = "mail", Target = "mail" } },
        Target = target,
    };

    private static IEnumerable<string> Keys(TargetOptions target) => AuthSplitOptionsValidator.Validate(With(target), requireLiveSource: false).Select(e => e.Key);

    [Fact]
    public void Client_secret_auth_needs_tenant_and_client_guids_and_a_variable_name()
    {
        Keys(new TargetOptions { Auth = "ClientSecret", TenantId = Guid.NewGuid().ToString(), ClientId = Guid.NewGuid().ToString(), SecretEnvVar = "GRAPH_SECRET" }).Should().BeEmpty();
        Keys(new TargetOptions { Auth = "ClientSecret", TenantId = "contoso", SecretEnvVar = "the secret itself!" })
            .Should().BeEquivalentTo("Target:TenantId", "Target:ClientId", "Target:SecretEnvVar");
    }

    [Fact]
    public void A_secret_or_token_comes_from_a_variable_or_a_file_but_not_both()
    {
        var tenant = Guid.NewGuid().ToString();
        var client = Guid.NewGuid().ToString();
        Keys(new TargetOptions { Auth = "ClientSecret", TenantId = tenant, ClientId = client, SecretFile = "/run/credentials/authsplit/graph-secret" }).Should().BeEmpty();
        Keys(new TargetOptions { Auth = "StaticToken", TokenFile = "token.txt" }).Should().BeEmpty();
        Keys(new TargetOptions { Auth = "ClientSecret", TenantId = tenant, ClientId = client, SecretEnvVar = "GRAPH_SECRET", SecretFile = "secret.txt" }).Should().Equal("Target:SecretEnvVar");
        Keys(new TargetOptions { Auth = "StaticToken" }).Should().Equal("Target:TokenEnvVar");
    }

    [Fact]
    public void A_certificate_password_is_optional_but_never_inline()
    {
        var tenant = Guid.NewGuid().ToString();
        var client = Guid.NewGuid().ToString();
        Keys(new TargetOptions { Auth = "Certificate", TenantId = tenant, ClientId = client, CertificatePath = "app.pfx" }).Should().BeEmpty();
        Keys(new TargetOptions { Auth = "Certificate", TenantId = tenant, ClientId = client, CertificatePath = "app.pfx", SecretFile = "pfx-password" }).Should().BeEmpty();
        Keys(new TargetOptions { Auth = "Certificate", TenantId = tenant, ClientId = client, CertificatePath = "app.pfx", SecretEnvVar = "p@ssw0rd itself" }).Should().Equal("Target:SecretEnvVar");
    }

    [Fact]
    public void Certificate_auth_needs_a_certificate_path()
    {
        Keys(new TargetOptions { Auth = "Certificate", TenantId = Guid.NewGuid().ToString(), ClientId = Guid.NewGuid().ToString() })
            .Should().BeEquivalentTo("Target:CertificatePath");
    }

    [Fact]
    public void An_unknown_kind_or_auth_is_named()
    {
        Keys(new TargetOptions { Kind = "Okta", Auth = "Password", TokenEnvVar = "T" }).Should().BeEquivalentTo("Target:Kind", "Target:Auth");
    }

    [Theory]
    [InlineData("http://graph.example.com/", true)]
    [InlineData("http://127.0.0.1:5000/", false)]
    [InlineData("graph.microsoft.com", true)]
    [InlineData("ftp://graph.microsoft.com/", true)]
    public void Plain_http_only_for_a_loopback_emulator_with_the_opt_in(string url, bool allowLoopback)
    {
        Keys(new TargetOptions { BaseUrl = url, Auth = "StaticToken", TokenEnvVar = "GRAPH_TOKEN", AllowInsecureLoopback = allowLoopback })
            .Should().Equal("Target:BaseUrl");
    }

    [Fact]
    public void Https_national_clouds_and_a_loopback_emulator_with_the_opt_in_are_accepted()
    {
        Keys(new TargetOptions { BaseUrl = "https://graph.microsoft.us", Auth = "StaticToken", TokenEnvVar = "GRAPH_TOKEN" }).Should().BeEmpty();
        Keys(new TargetOptions { BaseUrl = "http://127.0.0.1:5000/", Auth = "StaticToken", TokenEnvVar = "GRAPH_TOKEN", AllowInsecureLoopback = true }).Should().BeEmpty();
    }

    [Fact]
    public void Limits_out_of_range_are_each_named()
    {
        var target = new TargetOptions
        {
            Auth = "StaticToken",
            TokenEnvVar = "GRAPH_TOKEN",
            Limits = new GraphLimitsOptions { WritesPerWindow = 0, WriteWindowSeconds = -1, MaxRetries = 99, RetryBaseDelaySeconds = 0, MaxRetryDelaySeconds = 0, AttemptTimeoutSeconds = 0 },
        };

        Keys(target).Should().BeEquivalentTo(
            "Target:Limits:WritesPerWindow",
            "Target:Limits:WriteWindowSeconds",
            "Target:Limits:MaxRetries",
            "Target:Limits:RetryBaseDelaySeconds",
            "Target:Limits:MaxRetryDelaySeconds",
            "Target:Limits:AttemptTimeoutSeconds");
    }
}
