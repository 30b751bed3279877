using System.Runtime.Versioning;
using System.Text;

namespace AuthSplit.Cli.EndToEndTests;

/// <summary>Config errors tell the truth: exactly one line per real fault, with its key path, what was expected and where the value came from.</summary>
[UnsupportedOSPlatform("windows")]
public sealed class ConfigErrorTests
{
    private static readonly string SampleConfig = File.ReadAllText(Path.Combine(CliRunner.Samples, "authsplit.json"));

    private static async Task<(string Work, CliResult Result)> PlanAsync(string configJson, IReadOnlyDictionary<string, string>? environment = null, bool asProcess = false, byte[]? prefix = null)
    {
        var work = CliRunner.NewWorkDirectory();
        var config = Path.Combine(work, "config.json");
        await File.WriteAllBytesAsync(config, [.. prefix ?? [], .. Encoding.UTF8.GetBytes(configJson)]);
        string[] args =
        [
            "plan", "--config", config, "--source-ldif", Path.Combine(CliRunner.Samples, "legacy.ldif"),
            "--target-snapshot", Path.Combine(CliRunner.Samples, "target"), "--out", Path.Combine(work, "plan.json"),
        ];
        var result = asProcess || environment is not null
            ? await CliProcess.RunAsync(work, "022", environment, args)
            : await CliRunner.RunAsync(args);
        return (work, result);
    }

    private static string[] Lines(CliResult result) => result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    [Fact]
    public async Task One_unknown_key_is_one_line_and_no_false_errors_about_keys_that_are_present()
    {
        var (_, result) = await PlanAsync(SampleConfig.Replace("\"PageSize\": 1000", "\"PageSize\": 1000, \"Pasword\": \"secret.txt\"", StringComparison.Ordinal));

        result.ExitCode.Should().Be(2, result.ToString());
        Lines(result).Should().ContainSingle().Which.Should().Contain("Source:Pasword: unknown key").And.Contain("PasswordEnvVar, PasswordFile");
    }

    [Fact]
    public async Task A_misspelt_key_suggests_the_key_it_resembles()
    {
        var (_, result) = await PlanAsync(SampleConfig.Replace("\"PasswordEnvVar\"", "\"Pasword\"", StringComparison.Ordinal));

        result.ExitCode.Should().Be(2, result.ToString());
        Lines(result).Should().ContainSingle().Which.Should().Contain("Source:Pasword: unknown key; did you mean Password");
    }

    [Fact]
    public async Task A_word_where_a_number_belongs_is_one_line_naming_the_key_and_what_was_expected()
    {
        var (_, result) = await PlanAsync(SampleConfig.Replace("\"Order\": 1,", "\"Order\": \"one\",", StringComparison.Ordinal));

        result.ExitCode.Should().Be(2, result.ToString());
        Lines(result).Should().ContainSingle().Which.Should().EndWith("Waves:0:Order: expected a whole number (got \"one\")");
    }

    [Fact]
    public async Task A_list_where_a_string_belongs_is_one_line_naming_the_key()
    {
        var (_, result) = await PlanAsync(SampleConfig.Replace("\"BaseDn\": \"dc=example,dc=jp\",\n    \"Dialect\"", "\"BaseDn\": [ \"dc=example,dc=jp\" ],\n    \"Dialect\"", StringComparison.Ordinal));

        result.ExitCode.Should().Be(2, result.ToString());
        Lines(result).Should().ContainSingle().Which.Should().EndWith("Source:BaseDn: expected a string, not a list").And.NotContain("Cannot create instance");
    }

    [Fact]
    public async Task A_value_from_an_environment_variable_is_named_as_such()
    {
        var (_, wrongType) = await PlanAsync(SampleConfig, new Dictionary<string, string> { ["AUTHSPLIT__Source__PageSize"] = "many" });
        var outOfRange = await PlanAsync(SampleConfig, new Dictionary<string, string> { ["AUTHSPLIT__Safety__MaxDeletesPerWave"] = "-3" });

        wrongType.ExitCode.Should().Be(2, wrongType.ToString());
        Lines(wrongType).Should().ContainSingle().Which.Should().Be("error: environment variable AUTHSPLIT__Source__PageSize: Source:PageSize: expected a whole number (got \"many\")");
        outOfRange.Result.ExitCode.Should().Be(2, outOfRange.Result.ToString());
        Lines(outOfRange.Result).Should().ContainSingle().Which.Should().StartWith("error: environment variable AUTHSPLIT__Safety__MaxDeletesPerWave: Safety:MaxDeletesPerWave:");
    }

    [Fact]
    public async Task A_JSON_syntax_error_names_line_and_column()
    {
        var (_, result) = await PlanAsync("{\n  \"Source\": {\n    \"BaseDn\": \"dc=example,dc=jp\",,\n  }\n}\n");

        result.ExitCode.Should().Be(2, result.ToString());
        Lines(result).Should().ContainSingle().Which.Should().Contain("config.json:3:34: not valid JSON");
    }

    [Fact]
    public async Task A_matching_rule_naming_a_property_Graph_users_lack_is_refused_before_planning()
    {
        var (work, result) = await PlanAsync(SampleConfig.Replace("\"Target\": \"mail\"", "\"Target\": \"favouriteColour\"", StringComparison.Ordinal));

        result.ExitCode.Should().Be(2, result.ToString());
        Lines(result).Should().ContainSingle().Which.Should().Contain("Matching:1:Target").And.Contain("favouriteColour").And.Contain("employeeId");
        File.Exists(Path.Combine(work, "plan.json")).Should().BeFalse();
    }

    [Fact]
    public async Task A_config_with_a_byte_order_mark_is_accepted()
    {
        var (_, result) = await PlanAsync(SampleConfig, prefix: [0xEF, 0xBB, 0xBF]);

        result.ExitCode.Should().Be(0, result.ToString());
    }

    [Fact]
    public async Task A_secret_file_others_can_read_is_warned_about_on_the_console_and_in_the_log()
    {
        var work = CliRunner.NewWorkDirectory();
        var secret = Path.Combine(work, "ldap-password.txt");
        await File.WriteAllTextAsync(secret, "not really secret");
        File.SetUnixFileMode(secret, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        var config = SampleConfig.Replace("\"PasswordEnvVar\": \"AUTHSPLIT_SOURCE_PASSWORD\"", $"\"PasswordFile\": \"{secret}\"", StringComparison.Ordinal);

        var (logWork, result) = await PlanAsync(config, asProcess: true);

        result.ExitCode.Should().Be(0, result.ToString());
        result.Error.Should().Contain("Source:PasswordFile").And.Contain("can be read by users other than its owner (mode 0644)");
        LogText(logWork).Should().Contain("Source:PasswordFile").And.Contain("\"@l\":\"Warning\"");
    }

    [Fact]
    public async Task Input_errors_go_to_the_JSON_log_as_well_as_the_console()
    {
        var (work, result) = await PlanAsync(SampleConfig.Replace("\"Order\": 1,", "\"Order\": \"one\",", StringComparison.Ordinal), asProcess: true);

        result.ExitCode.Should().Be(2, result.ToString());
        LogText(work).Should().Contain("Waves:0:Order").And.Contain("\"@l\":\"Error\"");
        Lines(result).Should().ContainSingle("the console shows the fault once, in its own words");
    }

    [Fact]
    public async Task A_log_directory_that_cannot_be_created_is_a_warning_and_the_plan_is_still_made()
    {
        var work = CliRunner.NewWorkDirectory();
        var blocker = Path.Combine(work, "file");
        await File.WriteAllTextAsync(blocker, "");

        var result = await CliProcess.RunAsync(
            work,
            "022",
            new Dictionary<string, string> { ["AUTHSPLIT_LOG_DIR"] = Path.Combine(blocker, "logs") },
            "plan", "--config", Path.Combine(CliRunner.Samples, "authsplit.json"), "--source-ldif", Path.Combine(CliRunner.Samples, "legacy.ldif"),
            "--target-snapshot", Path.Combine(CliRunner.Samples, "target"), "--out", Path.Combine(work, "plan.json"));

        result.ExitCode.Should().Be(0, result.ToString());
        result.Error.Should().Contain($"warning: cannot write logs to \"{Path.Combine(blocker, "logs")}\"").And.Contain("console only");
    }

    [Fact]
    public async Task A_defect_without_a_log_file_does_not_claim_the_log_file_has_the_details()
    {
        var work = CliRunner.NewWorkDirectory();
        var blocker = Path.Combine(work, "file");
        await File.WriteAllTextAsync(blocker, "");
        var error = new StringWriter();
        var console = new CliConsole(new StringWriter(), error);

        var exitCode = await CommandExecution.RunAsync(console, Path.Combine(blocker, "logs"), verbose: false, (_, _) => throw new InvalidOperationException("a defect"), CancellationToken.None);

        exitCode.Should().Be(1);
        error.ToString().Should().Contain("warning: cannot write logs to").And.Contain("internal error: InvalidOperationException: a defect")
            .And.NotContain("the log file").And.Contain("at AuthSplit.Cli.EndToEndTests");
    }

    private static string LogText(string work) =>
        string.Concat(Directory.EnumerateFiles(Path.Combine(work, "logs")).Select(File.ReadAllText));
}
