using AuthSplit.Core.Configuration;
using AuthSplit.Core.Errors;
using AuthSplit.Core.Secrets;
using AuthSplit.Testing;

namespace AuthSplit.Ldap.IntegrationTests;

/// <summary>The LDAP adapter reads its bind password through the core's one loader: same rule, same code as the Graph adapter.</summary>
public sealed class LdapSecretLoadingTests
{
    private static SourceOptions Options(string? variable = null, string? file = null) => new()
    {
        Url = "ldaps://127.0.0.1:6360",
        BaseDn = "dc=example,dc=jp",
        BindDn = "cn=reader,dc=example,dc=jp",
        PasswordEnvVar = variable,
        PasswordFile = file,
    };

    [Fact]
    public void A_password_file_gives_its_first_line_without_the_line_end_and_nothing_else_trimmed()
    {
        var file = Path.Combine(TestPaths.NewWorkDirectory(), "password");
        File.WriteAllText(file, " pass word \r\nsecond line\r\n");

        var settings = LdapConnectionSettings.From(Options(file: file));

        settings.Password!.Reveal().Should().Be(" pass word ");
        settings.Password.ToString().Should().Be("***");
        settings.ToString().Should().NotContain("pass word", "a record's generated ToString must not print the password");
    }

    [Fact]
    public void A_variable_that_is_not_set_is_the_one_secret_code_naming_the_variable()
    {
        var act = () => LdapConnectionSettings.From(Options(variable: "AUTHSPLIT_UNSET_" + Guid.NewGuid().ToString("N")[..8]));

        act.Should().Throw<InputException>().Where(e => e.Code == SecretLoader.ErrorCode && e.Message.Contains("Source:PasswordEnvVar", StringComparison.Ordinal));
    }
}
