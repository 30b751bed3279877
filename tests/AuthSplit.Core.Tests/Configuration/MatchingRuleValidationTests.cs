using AuthSplit.Core.Configuration;

namespace AuthSplit.Core.Tests.Configuration;

public sealed class MatchingRuleValidationTests
{
    private static AuthSplitOptions WithTarget(string property) => new()
    {
        Source = new SourceOptions { BaseDn = "dc=example,dc=com" },
        Waves = { new WaveOptions { Name = "hq", Order = 1, Deadline = "2025-04-30", BaseDn = "ou=hq,dc=example,dc=com", Filter = "(objectClass=inetOrgPerson)" } },
        Matching = { new MatchingRuleOptions { Source = "mail", Target = property } },
    };

    [Fact]
    public void A_rule_naming_a_property_Graph_users_do_not_have_is_refused_with_the_properties_they_do_have()
    {
        var errors = AuthSplitOptionsValidator.Validate(WithTarget("favouriteColour"), requireLiveSource: false);

        var error = errors.Should().ContainSingle().Which;
        error.Key.Should().Be("Matching:0:Target");
        error.Message.Should().Contain("favouriteColour").And.Contain("employeeId").And.Contain("onPremisesImmutableId").And.Contain("userPrincipalName");
    }

    [Theory]
    [InlineData("employeeId")]
    [InlineData("EmployeeID")]
    [InlineData("onPremisesImmutableId")]
    [InlineData("userPrincipalName")]
    [InlineData("mail")]
    public void A_rule_naming_a_Graph_user_property_is_accepted_in_any_casing(string property) =>
        AuthSplitOptionsValidator.Validate(WithTarget(property), requireLiveSource: false).Should().BeEmpty();

    [Fact]
    public void Every_property_the_snapshot_holds_can_be_matched_on()
    {
        foreach (var property in new[] { "id", "userPrincipalName", "mail", "employeeId", "onPremisesImmutableId" })
        {
            GraphUserProperties.Find(property).Should().Be(property);
        }
    }
}
