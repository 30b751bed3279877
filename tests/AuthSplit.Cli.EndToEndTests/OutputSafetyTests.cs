using System.Runtime.Versioning;

namespace AuthSplit.Cli.EndToEndTests;

/// <summary>An output never destroys an input, special files are never renamed over, and bad output paths are bad input.</summary>
[UnsupportedOSPlatform("windows")]
public sealed class OutputSafetyTests
{
    private static readonly string SampleLdif = Path.Combine(CliRunner.Samples, "legacy.ldif");
    private static readonly string SampleTarget = Path.Combine(CliRunner.Samples, "target");

    private static async Task<(string Work, string Config, string Ldif, string Target, string Decisions)> CopiedInputsAsync()
    {
        var work = CliRunner.NewWorkDirectory();
        var config = Path.Combine(work, "authsplit.json");
        File.Copy(Path.Combine(CliRunner.Samples, "authsplit.json"), config);
        var ldif = Path.Combine(work, "legacy.ldif");
        File.Copy(SampleLdif, ldif);
        var decisions = Path.Combine(work, "decisions.json");
        File.Copy(Path.Combine(CliRunner.Samples, "decisions.json"), decisions);
        var target = Path.Combine(work, "target");
        Directory.CreateDirectory(target);
        foreach (var page in Directory.EnumerateFiles(SampleTarget))
        {
            File.Copy(page, Path.Combine(target, Path.GetFileName(page)));
        }

        await Task.CompletedTask;
        return (work, config, ldif, target, decisions);
    }

    private static Task<CliResult> PlanAsync(string config, string ldif, string target, string output, params string[] more) =>
        CliRunner.RunAsync(["plan", "--config", config, "--source-ldif", ldif, "--target-snapshot", target, "--out", output, .. more]);

    [Theory]
    [InlineData("config")]
    [InlineData("ldif")]
    [InlineData("decisions")]
    [InlineData("previous")]
    [InlineData("target-page")]
    public async Task An_output_that_is_an_input_is_refused_and_the_input_is_untouched(string which)
    {
        var (work, config, ldif, target, decisions) = await CopiedInputsAsync();
        var previous = Path.Combine(work, "previous.json");
        (await PlanAsync(config, ldif, target, previous)).ExitCode.Should().Be(0);
        var input = which switch
        {
            "config" => config,
            "ldif" => ldif,
            "decisions" => decisions,
            "previous" => previous,
            _ => Directory.EnumerateFiles(target).First(),
        };
        var before = await File.ReadAllBytesAsync(input);

        // Named through a relative path from elsewhere, as an operator might.
        var relative = Path.GetRelativePath(Environment.CurrentDirectory, input);
        var result = await PlanAsync(config, ldif, target, relative, "--decisions", decisions, "--previous", previous);

        result.ExitCode.Should().Be(2, result.ToString());
        result.Error.Should().Contain("--out").And.Contain("an output must never overwrite an input");
        result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries).Should().ContainSingle();
        (await File.ReadAllBytesAsync(input)).Should().Equal(before);
    }

    [Fact]
    public async Task An_output_reaching_an_input_through_a_symbolic_link_or_a_hard_link_is_refused()
    {
        var (work, config, ldif, target, _) = await CopiedInputsAsync();
        var symbolic = Path.Combine(work, "plan-symlink.json");
        File.CreateSymbolicLink(symbolic, config);
        var hard = Path.Combine(work, "plan-hardlink.json");
        (await CliProcess.RunShellAsync(work, $"ln '{ldif}' '{hard}'")).Should().Be(0);
        var configBefore = await File.ReadAllBytesAsync(config);

        var viaSymlink = await PlanAsync(config, ldif, target, symbolic);
        var viaHardLink = await PlanAsync(config, ldif, target, hard);

        viaSymlink.ExitCode.Should().Be(2, viaSymlink.ToString());
        viaSymlink.Error.Should().Contain("is the same file as the input --config");
        viaHardLink.ExitCode.Should().Be(2, viaHardLink.ToString());
        viaHardLink.Error.Should().Contain("is the same file as the input --source-ldif");
        (await File.ReadAllBytesAsync(config)).Should().Equal(configBefore);
    }

    [Fact]
    public async Task An_output_inside_the_target_snapshot_directory_is_refused()
    {
        var (_, config, ldif, target, _) = await CopiedInputsAsync();

        var result = await PlanAsync(config, ldif, target, Path.Combine(target, "plan.json"));

        result.ExitCode.Should().Be(2, result.ToString());
        result.Error.Should().Contain("is inside the input --target-snapshot");
        Directory.EnumerateFiles(target).Should().HaveCount(2);
    }

    [Fact]
    public async Task A_saved_snapshot_directory_that_would_overwrite_an_input_is_refused()
    {
        var (work, config, ldif, target, _) = await CopiedInputsAsync();

        // --save-snapshot WORK writes WORK/source.ldif and replaces WORK/target: the target snapshot read here.
        var result = await CliRunner.RunAsync("plan", "--config", config, "--target-snapshot", target, "--save-snapshot", work, "--out", Path.Combine(work, "plan.json"));

        result.ExitCode.Should().Be(2, result.ToString());
        result.Error.Should().Contain("--save-snapshot").And.Contain("--target-snapshot");
        _ = ldif;
    }

    [Fact]
    public async Task A_directory_an_empty_path_and_an_unwritable_path_are_bad_input_naming_the_path()
    {
        var (work, config, ldif, target, _) = await CopiedInputsAsync();
        var blocker = Path.Combine(work, "not-a-directory");
        await File.WriteAllTextAsync(blocker, "a file where a directory should be");

        var directory = await PlanAsync(config, ldif, target, work);
        var empty = await PlanAsync(config, ldif, target, "");
        var unwritable = await PlanAsync(config, ldif, target, Path.Combine(blocker, "plan.json"));

        directory.ExitCode.Should().Be(2, directory.ToString());
        directory.Error.Should().Contain($"--out \"{work}\" is a directory");
        empty.ExitCode.Should().Be(2, empty.ToString());
        empty.Error.Should().Contain("--out: the output path is empty");
        unwritable.ExitCode.Should().Be(2, unwritable.ToString());
        unwritable.Error.Should().Contain(Path.Combine(blocker, "plan.json")).And.Contain("cannot be written").And.NotContain("internal error");
    }

    [Fact]
    public async Task A_link_to_a_special_file_is_written_as_a_stream_and_never_renamed_over()
    {
        var (work, config, ldif, target, _) = await CopiedInputsAsync();
        var device = Path.Combine(work, "device-link");
        var ownStdout = Path.Combine(work, "stdout-link");

        // Links like /dev/stdout, made here so that a regression replaces a link of this test, not the machine's /dev/stdout.
        File.CreateSymbolicLink(device, "/dev/null");
        File.CreateSymbolicLink(ownStdout, "/proc/self/fd/1");
        var toDevice = await PlanAsync(config, ldif, target, device);
        var toPipe = await CliProcess.RunAsync(work, "022", "plan", "--config", config, "--source-ldif", ldif, "--target-snapshot", target, "--out", ownStdout);

        toDevice.ExitCode.Should().Be(0, toDevice.ToString());
        new FileInfo(device).LinkTarget.Should().Be("/dev/null", "a special file is written in place, never renamed over");
        toPipe.ExitCode.Should().Be(0, toPipe.ToString());
        toPipe.Output.Should().StartWith("{").And.Contain("\"planId\"", "the plan went down the pipe that is the process's stdout");
        new FileInfo(ownStdout).LinkTarget.Should().Be("/proc/self/fd/1");
        Directory.EnumerateFiles(work, "*.tmp").Should().BeEmpty();
    }

    [Theory]
    [InlineData("/dev/stdout")]
    [InlineData("/proc/self/fd/1")]
    [InlineData("-")]
    public void Standard_output_by_any_of_its_names_is_written_through_the_process_descriptor(string name) =>
        Output.OutputTarget.ForFile("--out", name, []).Mode.Should().Be(Output.OutputMode.StandardOutput);

    [Fact]
    public async Task Out_dash_writes_the_plan_on_stdout_and_the_summary_on_stderr()
    {
        var (work, config, ldif, target, _) = await CopiedInputsAsync();

        var result = await CliProcess.RunAsync(work, "022", "plan", "--config", config, "--source-ldif", ldif, "--target-snapshot", target, "--out", "-");

        result.ExitCode.Should().Be(0, result.ToString());
        result.Output.TrimStart().Should().StartWith("{");
        result.Output.TrimEnd().Should().EndWith("}");
        result.Error.Should().Contain("AuthSplit dry-run plan").And.Contain("written to -");
    }

    [Fact]
    public async Task Plans_snapshots_logs_and_their_directories_are_owner_only_whatever_the_umask()
    {
        var (work, config, ldif, target, _) = await CopiedInputsAsync();
        var output = Path.Combine(work, "new", "plans", "plan.json");

        var result = await CliProcess.RunAsync(work, "000", "plan", "--config", config, "--source-ldif", ldif, "--target-snapshot", target, "--out", output);

        result.ExitCode.Should().Be(0, result.ToString());
        File.GetUnixFileMode(output).Should().Be(UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.GetUnixFileMode(Path.GetDirectoryName(output)!).Should().Be(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var logs = Path.Combine(work, "logs");
        File.GetUnixFileMode(logs).Should().Be(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        Directory.EnumerateFiles(logs).Should().NotBeEmpty().And.AllSatisfy(log => File.GetUnixFileMode(log).Should().Be(UnixFileMode.UserRead | UnixFileMode.UserWrite));
    }

    [Fact]
    public async Task A_plan_written_in_process_is_owner_only_even_over_a_readable_older_plan()
    {
        var (work, config, ldif, target, _) = await CopiedInputsAsync();
        var output = Path.Combine(work, "plan.json");
        await File.WriteAllTextAsync(output, "older");
        File.SetUnixFileMode(output, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

        var result = await PlanAsync(config, ldif, target, output);

        result.ExitCode.Should().Be(0, result.ToString());
        File.GetUnixFileMode(output).Should().Be(UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }
}
