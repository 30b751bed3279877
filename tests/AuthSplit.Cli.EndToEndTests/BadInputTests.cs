namespace AuthSplit.Cli.EndToEndTests;

public sealed class BadInputTests
{
    private static async Task<CliResult> PlanWithConfigAsync(string configJson, string? ldif = null)
    {
        var work = CliRunner.NewWorkDirectory();
        var config = Path.Combine(work, "config.json");
        await File.WriteAllTextAsync(config, configJson);
        var source = Path.Combine(CliRunner.Samples, "legacy.ldif");
        if (ldif is not null)
        {
            source = Path.Combine(work, "broken.ldif");
            await File.WriteAllTextAsync(source, ldif);
        }

        return await CliRunner.RunAsync(
            "plan", "--config", config, "--source-ldif", source,
            "--target-snapshot", Path.Combine(CliRunner.Samples, "target"), "--out", Path.Combine(work, "plan.json"));
    }

    private static async Task<string> SampleConfigAsync() => await File.ReadAllTextAsync(Path.Combine(CliRunner.Samples, "authsplit.json"));

    [Fact]
    public async Task A_missing_config_file_is_named()
    {
        var result = await CliRunner.RunAsync("plan", "--config", "/nonexistent/authsplit.json", "--source-ldif", "x.ldif", "--target-snapshot", "t", "--out", "p.json");

        result.ExitCode.Should().Be(2);
        result.Error.Should().Contain("/nonexistent/authsplit.json").And.Contain("config file not found");
    }

    [Fact]
    public async Task Config_that_is_not_json_names_the_file()
    {
        var result = await PlanWithConfigAsync("{ \"Source\": { \"BaseDn\": ");

        result.ExitCode.Should().Be(2, result.ToString());
        result.Error.Should().Contain("config.json");
    }

    [Fact]
    public async Task Every_config_fault_is_printed_with_its_key_path()
    {
        var config = (await SampleConfigAsync())
            .Replace("\"PageSize\": 1000", "\"PageSize\": 0", StringComparison.Ordinal)
            .Replace("(objectClass=inetOrgPerson)\"", "(objectClass=inetOrgPerson\"", StringComparison.Ordinal)
            .Replace("\"2026-04-30\"", "\"someday\"", StringComparison.Ordinal);

        var result = await PlanWithConfigAsync(config);

        result.ExitCode.Should().Be(2, result.ToString());
        result.Error.Should().Contain("Source:PageSize").And.Contain("Waves:1:Filter").And.Contain("Waves:2:Deadline");
        result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries).Should().HaveCount(3, "one line per fault");
    }

    [Fact]
    public async Task A_misspelt_key_is_an_error_not_a_silent_default()
    {
        var config = (await SampleConfigAsync()).Replace("\"MaxDeletesPerWave\"", "\"MaxDeletesPerWav\"", StringComparison.Ordinal);

        var result = await PlanWithConfigAsync(config);

        result.ExitCode.Should().Be(2, result.ToString());
        result.Error.Should().Contain("MaxDeletesPerWav");
    }

    [Fact]
    public async Task An_unknown_dialect_is_an_error()
    {
        var config = (await SampleConfigAsync()).Replace("\"OpenLdap\"", "\"Novell\"", StringComparison.Ordinal);

        var result = await PlanWithConfigAsync(config);

        result.ExitCode.Should().Be(2, result.ToString());
        result.Error.Should().Contain("Dialect");
    }

    [Fact]
    public async Task Broken_ldif_names_the_file_and_line()
    {
        const string ldif = "version: 1\n\ndn: ou=hq,dc=example,dc=jp\nobjectClass: organizationalUnit\n\ndn: uid=x,ou=hq,dc=example,dc=jp\nthis line has no colon\n";

        var result = await PlanWithConfigAsync(await SampleConfigAsync(), ldif);

        result.ExitCode.Should().Be(2, result.ToString());
        result.Error.Should().Contain("broken.ldif:7");
    }

    [Fact]
    public async Task Unknown_command_line_options_are_bad_input()
    {
        var result = await CliRunner.RunAsync("plan", "--no-such-option");

        result.ExitCode.Should().Be(2);
        result.Error.Should().Contain("--no-such-option");
    }
}
