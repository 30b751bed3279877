using AuthSplit.Testing;

namespace AuthSplit.Ldap.IntegrationTests;

[Collection(SlapdFixture.Collection)]
public sealed class SlapdServerTests(SlapdFixture fixture)
{
    [Fact]
    public async Task The_private_slapd_answers_over_ldaps_with_its_lab_ca()
    {
        var result = await fixture.Server.SearchAsync(["-LLL", "-b", fixture.Server.Suffix, "-s", "base", "(objectClass=*)", "dn"], CancellationToken.None);

        result.Output.Should().Contain("dn: dc=example,dc=jp", "the sample organisation is loaded");
    }

    [Fact]
    public async Task The_private_slapd_listens_on_loopback_only()
    {
        var listening = await File.ReadAllTextAsync("/proc/net/tcp");
        var port = fixture.Server.LdapsPort.ToString("X4", System.Globalization.CultureInfo.InvariantCulture);

        listening.Should().Contain($"0100007F:{port}", "slapd binds 127.0.0.1");
        listening.Should().NotContain($"00000000:{port}", "slapd must not listen on every interface");
    }
}
