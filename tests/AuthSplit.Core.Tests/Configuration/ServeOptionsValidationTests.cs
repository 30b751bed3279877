using AuthSplit.Core.Configuration;

namespace AuthSplit.Core.Tests.Configuration;

/// <summary><c>Serve:Http</c>: health and metrics on the loopback interface unless a non-loopback bind is explicitly allowed.</summary>
public sealed class ServeOptionsValidationTests
{
    private static List<ConfigError> Errors(ServeHttpOptions http) => [.. AuthSplitOptionsValidator.Validate(
        new AuthSplitOptions
        {
            Source = new SourceOptions { Url = "ldaps://127.0.0.1:6360", BaseDn = "dc=example,dc=com", BindDn = "cn=reader,dc=example,dc=com", PasswordEnvVar = "LDAP_PASSWORD" },
            Waves = { new WaveOptions { Name = "hq", Order = 1, Deadline = "2025-04-30", BaseDn = "ou=hq,dc=example,dc=com", Filter = "(objectClass=inetOrgPerson)" } },
            Matching = { new MatchingRuleOptions { Source = "mail", Target = "mail" } },
            Serve = new ServeOptions { Http = http },
        },
        requireLiveSource: false)];

    [Fact]
    public void The_default_listens_on_loopback_and_is_valid()
    {
        new ServeHttpOptions().Urls.Should().Be("http://127.0.0.1:9464");
        Errors(new ServeHttpOptions()).Should().BeEmpty();
    }

    [Theory]
    [InlineData("http://127.0.0.1:9464")]
    [InlineData("http://127.0.0.2:9464")]
    [InlineData("http://localhost:9464")]
    [InlineData("http://[::1]:9464")]
    [InlineData("http://127.0.0.1:0")]
    [InlineData("http://127.0.0.1:9464/")]
    [InlineData("http://127.0.0.1:9464; http://[::1]:9464")]
    public void Loopback_addresses_are_valid(string urls) =>
        Errors(new ServeHttpOptions { Urls = urls }).Should().BeEmpty();

    [Theory]
    [InlineData("http://0.0.0.0:9464")]
    [InlineData("http://[::]:9464")]
    [InlineData("http://*:9464")]
    [InlineData("http://+:9464")]
    [InlineData("http://192.0.2.10:9464")]
    [InlineData("http://metrics.example.com:9464")]
    [InlineData("http://127.0.0.1:9464;http://0.0.0.0:9465")]
    public void An_address_beyond_loopback_is_refused_unless_allowed(string urls)
    {
        Errors(new ServeHttpOptions { Urls = urls }).Should().ContainSingle()
            .Which.Should().Match<ConfigError>(e => e.Key == "Serve:Http:Urls" && e.Message.Contains("Serve:Http:AllowNonLoopback", StringComparison.Ordinal));

        Errors(new ServeHttpOptions { Urls = urls, AllowNonLoopback = true }).Should().BeEmpty();
    }

    [Theory]
    [InlineData("")]
    [InlineData(" ; ")]
    [InlineData("127.0.0.1:9464")]
    [InlineData("https://127.0.0.1:9464")]
    [InlineData("http://127.0.0.1")]
    [InlineData("http://127.0.0.1:9464/metrics")]
    [InlineData("http://127.0.0.1:99999")]
    [InlineData("http://*:port")]
    public void A_malformed_address_is_named(string urls) =>
        Errors(new ServeHttpOptions { Urls = urls, AllowNonLoopback = true }).Should().ContainSingle().Which.Key.Should().Be("Serve:Http:Urls");

    [Fact]
    public void Disabled_needs_no_address() =>
        Errors(new ServeHttpOptions { Enabled = false, Urls = "" }).Should().BeEmpty();
}
