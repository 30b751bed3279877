using AuthSplit.Core.Configuration;

namespace AuthSplit.Core.Tests.Configuration;

/// <summary><c>Target:Limits:ReadBackAttempts</c> and <c>ReadBackDelaySeconds</c>: how long a write's read-back waits for Graph's replication.</summary>
public sealed class ReadBackLimitsValidationTests
{
    private static IEnumerable<string> Keys(GraphLimitsOptions limits) => AuthSplitOptionsValidator.Validate(
        new AuthSplitOptions
        {
            Source = new SourceOptions { Url = "ldaps://127.0.0.1:6360", BaseDn = "dc=example,dc=com", BindDn = "cn=reader,dc=example,dc=com", PasswordEnvVar = "LDAP_PASSWORD" },
            Waves = { new WaveOptions { Name = "hq", Order = 1, Deadline = "2025-04-30", BaseDn = "ou=hq,dc=example,dc=com", Filter = "(objectClass=inetOrgPerson)" } },
            Matching = { new MatchingRuleOptions { Source = "mail", Target = "mail" } },
            Target = new TargetOptions { Auth = "StaticToken", TokenEnvVar = "GRAPH_TOKEN", Limits = limits },
        },
        requireLiveSource: false).Select(e => e.Key);

    [Fact]
    public void The_defaults_read_back_four_times_from_two_seconds()
    {
        var limits = new GraphLimitsOptions();

        (limits.ReadBackAttempts, limits.ReadBackDelaySeconds).Should().Be((4, 2.0));
        Keys(limits).Should().BeEmpty();
    }

    [Theory]
    [InlineData(0, 2, "Target:Limits:ReadBackAttempts")]
    [InlineData(21, 2, "Target:Limits:ReadBackAttempts")]
    [InlineData(4, 0, "Target:Limits:ReadBackDelaySeconds")]
    [InlineData(4, 601, "Target:Limits:ReadBackDelaySeconds")]
    public void A_read_back_limit_out_of_range_is_named(int attempts, double delaySeconds, string key)
    {
        Keys(new GraphLimitsOptions { ReadBackAttempts = attempts, ReadBackDelaySeconds = delaySeconds }).Should().Equal(key);
    }
}
