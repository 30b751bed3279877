using AuthSplit.Core.Configuration;

namespace AuthSplit.Core.Tests.Configuration;

public sealed class AuthSplitOptionsValidatorTests
{
    private static AuthSplitOptions Valid() => new()
    {
        Source = new SourceOptions { Url = "ldaps://127.0.0.1:6360", BaseDn = "dc=example,dc=com", BindDn = "cn=reader,dc=example,dc=com", PasswordEnvVar = "LDAP_PASSWORD" },
        Waves = { new WaveOptions { Name = "hq", Order = 1, Deadline = "2025-04-30", BaseDn = "ou=hq,dc=example,dc=com", Filter = "(objectClass=inetOrgPerson)" } },
        Matching = { new MatchingRuleOptions { Source = "mail", Target = "mail" } },
    };

    [Fact]
    public void A_valid_config_has_no_errors() =>
        AuthSplitOptionsValidator.Validate(Valid(), requireLiveSource: true).Should().BeEmpty();

    [Fact]
    public void Every_fault_is_reported_at_once_with_its_key_path()
    {
        var options = Valid();
        options.Source.Url = "http://example.com";
        options.Source.PageSize = 0;
        options.Waves[0].Filter = "(objectClass=inetOrgPerson";
        options.Waves[0].Deadline = "31/03/2025";
        options.Waves.Add(new WaveOptions { Name = "hq", Order = 1, Deadline = "2026-01-01", BaseDn = "ou=x,dc=other,dc=com", Filter = "(cn=*)" });
        options.Matching[0].Target = "no such property!";
        options.Safety.ProtectedDns.Add("not a dn");

        var keys = AuthSplitOptionsValidator.Validate(options, requireLiveSource: true).Select(e => e.Key);

        keys.Should().BeEquivalentTo(
            "Source:Url", "Source:PageSize", "Waves:0:Filter", "Waves:0:Deadline", "Waves:1:Name", "Waves:1:Order", "Waves:1:BaseDn", "Matching:0:Target", "Safety:ProtectedDns:0");
    }

    [Fact]
    public void Plain_ldap_needs_an_explicit_opt_in()
    {
        var options = Valid();
        options.Source.Url = "ldap://127.0.0.1:3890";
        options.Source.StartTls = false;

        AuthSplitOptionsValidator.Validate(options, true).Should().ContainSingle().Which.Key.Should().Be("Source:Url");
        options.Source.AllowPlainLdap = true;
        AuthSplitOptionsValidator.Validate(options, true).Should().BeEmpty();
    }

    [Fact]
    public void A_password_in_the_env_var_field_is_caught_without_echoing_it()
    {
        var options = Valid();
        options.Source.PasswordEnvVar = "s3cr3t!pass";

        var error = AuthSplitOptionsValidator.Validate(options, true).Single();

        error.Key.Should().Be("Source:PasswordEnvVar");
        error.Message.Should().Contain("must name the variable");
    }

    [Fact]
    public void A_snapshot_plan_does_not_need_connection_settings()
    {
        var options = Valid();
        options.Source.Url = null;
        options.Source.PasswordEnvVar = null;

        AuthSplitOptionsValidator.Validate(options, requireLiveSource: false).Should().BeEmpty();
        AuthSplitOptionsValidator.Validate(options, requireLiveSource: true).Select(e => e.Key).Should().BeEquivalentTo("Source:Url", "Source:PasswordEnvVar");
    }

    [Fact]
    public void Dependencies_must_name_an_earlier_wave()
    {
        var options = Valid();
        options.Waves.Add(new WaveOptions { Name = "domestic", Order = 2, Deadline = "2026-03-31", BaseDn = "ou=d,dc=example,dc=com", Filter = "(cn=*)", DependsOn = { "overseas", "hq" } });
        options.Waves[0].DependsOn.Add("domestic");

        var messages = AuthSplitOptionsValidator.Validate(options, true).Select(e => e.ToString());

        messages.Should().BeEquivalentTo(
            "Waves:1:DependsOn: \"overseas\" is not a wave",
            "Waves:0:DependsOn: \"domestic\" runs at order 2, not before this wave (1)");
    }
}
