using AuthSplit.Core.Errors;
using AuthSplit.Core.Secrets;
using AuthSplit.Testing;

namespace AuthSplit.Core.Tests.Secrets;

public sealed class SecretLoaderTests
{
    private static SecretSource FromVariable(string variable) => new(variable, null, "Source:PasswordEnvVar", "Source:PasswordFile", "the bind password");

    private static SecretSource FromFile(string file) => new(null, file, "Target:VariableKey", "Target:SecretFile", "the client secret");

    private static string WriteFile(string content)
    {
        var path = Path.Combine(TestPaths.NewWorkDirectory(), "secret");
        File.WriteAllText(path, content);
        return path;
    }

    [Theory]
    [InlineData("s3cret", "s3cret")]
    [InlineData("s3cret\n", "s3cret")]
    [InlineData("s3cret\r\n", "s3cret")]
    [InlineData("s3cret\r\nsecond line\r\n", "s3cret")]
    [InlineData("  spaces are part of it  \n", "  spaces are part of it  ")]
    [InlineData("\uFEFFwritten by PowerShell\r\n", "written by PowerShell")]
    public void A_file_secret_is_its_first_line_without_the_line_end(string content, string expected) =>
        SecretLoader.Load(FromFile(WriteFile(content))).Reveal().Should().Be(expected);

    [Theory]
    [InlineData("s3cret", "s3cret")]
    [InlineData("s3cret\r\n", "s3cret")]
    [InlineData(" padded \n", " padded ")]
    public void A_variable_secret_follows_the_same_rule_as_a_file(string value, string expected) =>
        SecretLoader.Load(FromVariable("PW"), name => name == "PW" ? value : null).Reveal().Should().Be(expected);

    [Fact]
    public void The_variable_wins_over_the_file_when_both_are_configured()
    {
        var source = new SecretSource("PW", WriteFile("from the file"), "K1", "K2", "it");

        SecretLoader.Load(source, _ => "from the variable").Reveal().Should().Be("from the variable");
    }

    [Fact]
    public void A_variable_that_is_not_set_names_the_variable_and_its_key()
    {
        var act = () => SecretLoader.Load(FromVariable("AUTHSPLIT_NOT_SET"), _ => null);

        act.Should().Throw<InputException>()
            .Where(e => e.Code == SecretLoader.ErrorCode && e.Message.Contains("AUTHSPLIT_NOT_SET", StringComparison.Ordinal) && e.Message.Contains("Source:PasswordEnvVar", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("")]
    [InlineData("\n")]
    [InlineData("\r\nthe secret on line two\n")]
    public void A_file_with_nothing_on_its_first_line_is_refused_naming_the_file(string content)
    {
        var path = WriteFile(content);

        var act = () => SecretLoader.Load(FromFile(path));

        act.Should().Throw<InputException>()
            .Where(e => e.Code == SecretLoader.ErrorCode && e.Origin == path && e.Message.Contains("Target:SecretFile", StringComparison.Ordinal));
    }

    [Fact]
    public void A_missing_file_is_refused_with_the_same_code()
    {
        var path = Path.Combine(TestPaths.NewWorkDirectory(), "absent");

        var act = () => SecretLoader.Load(FromFile(path));

        act.Should().Throw<InputException>().Where(e => e.Code == SecretLoader.ErrorCode && e.Origin == path);
    }

    [Fact]
    public void Nothing_configured_is_null_when_optional_and_refused_when_required()
    {
        var source = new SecretSource(null, " ", "Target:SecretEnvVar", "Target:SecretFile", "the client secret");

        SecretLoader.LoadOptional(source).Should().BeNull();
        var act = () => SecretLoader.Load(source);
        act.Should().Throw<InputException>()
            .Where(e => e.Code == SecretLoader.ErrorCode && e.Message.Contains("Target:SecretEnvVar or Target:SecretFile", StringComparison.Ordinal));
    }

    [Fact]
    public void No_message_ever_carries_the_secret()
    {
        var path = WriteFile("hunter2\n");
        var secret = SecretLoader.Load(FromFile(path));

        secret.ToString().Should().Be("***");
        $"bind with {secret}".Should().Be("bind with ***");
        string.Format(System.Globalization.CultureInfo.InvariantCulture, "{0}", secret).Should().Be("***");
        typeof(Secret).GetProperties().Should().BeEmpty("a structured logger destructuring it must find nothing to print");
    }
}
