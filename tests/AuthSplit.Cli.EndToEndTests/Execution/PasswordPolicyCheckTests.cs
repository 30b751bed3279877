namespace AuthSplit.Cli.EndToEndTests.Execution;

/// <summary><c>config check --connect</c> against a slapd with the ppolicy overlay, as the executor's lock needs.</summary>
public sealed class PasswordPolicyCheckTests
{
    [Fact]
    public async Task Connect_says_the_directory_announces_the_password_policy_control_the_ppolicy_lock_needs()
    {
        await using var lab = await ExecutionLab.StartAsync(people: 5);

        var result = await lab.CliAsync("config", "check", "--config", lab.Config, "--connect");

        result.ExitCode.Should().Be(0, result.ToString());
        result.Output.Should().Contain("source: announces the password policy control: Removal:OpenLdapDisable PasswordPolicyLock can lock accounts");
        result.Error.Should().NotContain("password policy control", result.ToString());
    }
}
