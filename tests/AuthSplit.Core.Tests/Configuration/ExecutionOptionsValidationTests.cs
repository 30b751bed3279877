using AuthSplit.Core.Configuration;

namespace AuthSplit.Core.Tests.Configuration;

/// <summary><c>Execution:Concurrency</c> and <c>Execution:LdapConnections</c>: how much the executor asks of the systems at once.</summary>
public sealed class ExecutionOptionsValidationTests
{
    private static IEnumerable<string> Keys(ExecutionOptions execution) => AuthSplitOptionsValidator.Validate(
        new AuthSplitOptions
        {
            Source = new SourceOptions { Url = "ldaps://127.0.0.1:6360", BaseDn = "dc=example,dc=com", BindDn = "cn=reader,dc=example,dc=com", PasswordEnvVar = "LDAP_PASSWORD" },
            Waves = { new WaveOptions { Name = "hq", Order = 1, Deadline = "2025-04-30", BaseDn = "ou=hq,dc=example,dc=com", Filter = "(objectClass=inetOrgPerson)" } },
            Matching = { new MatchingRuleOptions { Source = "mail", Target = "mail" } },
            Execution = execution,
        },
        requireLiveSource: false).Select(e => e.Key);

    [Fact]
    public void The_defaults_work_on_32_entities_with_8_ldap_connections()
    {
        var execution = new ExecutionOptions();

        (execution.Concurrency, execution.LdapConnections).Should().Be((32, 8));
        Keys(execution).Should().BeEmpty();
    }

    [Theory]
    [InlineData(0, 8, "Execution:Concurrency")]
    [InlineData(257, 8, "Execution:Concurrency")]
    [InlineData(32, 0, "Execution:LdapConnections")]
    [InlineData(32, 65, "Execution:LdapConnections")]
    public void A_value_out_of_range_is_named(int concurrency, int ldapConnections, string key)
    {
        Keys(new ExecutionOptions { Concurrency = concurrency, LdapConnections = ldapConnections }).Should().Equal(key);
    }
}
