using AuthSplit.Lab.Data;

namespace AuthSplit.Cli.EndToEndTests;

/// <summary>A large organisation written once: big enough that reading and writing its plan take a while.</summary>
public sealed class LargeOrganisationFixture : IAsyncLifetime
{
    public const int People = 100_000;

    public string Directory { get; } = CliRunner.NewWorkDirectory();

    public string Ldif => Path.Combine(Directory, "legacy.ldif");

    public string Target => Path.Combine(Directory, "target");

    public string Config => Path.Combine(Directory, "authsplit.json");

    public async Task InitializeAsync()
    {
        await GeneratedOrganization.WriteLdifAsync(Ldif, People, groupSize: 50, CancellationToken.None);
        await GeneratedOrganization.WriteTargetSnapshotAsync(Target, People, pageSize: 999, cloudOnly: 0, CancellationToken.None);
        var config = (await File.ReadAllTextAsync(Path.Combine(CliRunner.Samples, "authsplit.json")))
            .Replace("\"MaxDeletesPerWave\": 500", "\"MaxDeletesPerWave\": 1000000", StringComparison.Ordinal);
        await File.WriteAllTextAsync(Config, config);
    }

    public Task DisposeAsync()
    {
        System.IO.Directory.Delete(Directory, recursive: true);
        return Task.CompletedTask;
    }
}

/// <summary>
/// Ctrl+C and SIGTERM sent to the CLI process at several moments of a large plan: the exit code says which
/// signal, a line says what was kept, and nothing half-written (no temporary file, no partial plan) is left.
/// </summary>
public sealed class InterruptTests(LargeOrganisationFixture organisation) : IClassFixture<LargeOrganisationFixture>
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(2);

    private string[] PlanArgs(string output) =>
        ["plan", "--config", organisation.Config, "--source-ldif", organisation.Ldif, "--target-snapshot", organisation.Target, "--out", output];

    [Fact]
    public async Task Ctrl_C_while_the_source_is_read_exits_130_and_writes_no_plan()
    {
        var work = CliRunner.NewWorkDirectory();
        var output = Path.Combine(work, "plan.json");
        using var cli = CliProcess.Start(work, "022", PlanArgs(output));

        // The target snapshot is read first; once the log says so, the LDIF is being read.
        await WaitUntilAsync(cli, () => LogText(work).Contains("target users", StringComparison.Ordinal));
        cli.Signal(CliProcess.SigInt);
        var result = await cli.WaitAsync(Patience);

        result.ExitCode.Should().Be(130, result.ToString());
        result.Error.Should().Contain("interrupted (SIGINT): no plan was written", result.ToString());
        File.Exists(output).Should().BeFalse();
        TemporaryFiles(work).Should().BeEmpty();
    }

    [Fact]
    public async Task Ctrl_C_while_the_plan_is_written_leaves_the_previous_plan_unchanged_and_no_temporary_file()
    {
        var work = CliRunner.NewWorkDirectory();
        var output = Path.Combine(work, "plan.json");
        await File.WriteAllTextAsync(output, "the previous plan");
        using var cli = CliProcess.Start(work, "022", PlanArgs(output));

        await WaitUntilAsync(cli, () => TemporaryFiles(work).Count > 0);
        cli.Signal(CliProcess.SigInt);
        var result = await cli.WaitAsync(Patience);

        result.ExitCode.Should().Be(130, result.ToString());
        result.Error.Should().Contain($"the previous file at {output} is unchanged");
        (await File.ReadAllTextAsync(output)).Should().Be("the previous plan");
        TemporaryFiles(work).Should().BeEmpty();
    }

    [Fact]
    public async Task SIGTERM_while_the_plan_is_written_exits_143_and_leaves_nothing()
    {
        var work = CliRunner.NewWorkDirectory();
        var output = Path.Combine(work, "plan.json");
        using var cli = CliProcess.Start(work, "022", PlanArgs(output));

        await WaitUntilAsync(cli, () => TemporaryFiles(work).Count > 0);
        cli.Signal(CliProcess.SigTerm);
        var result = await cli.WaitAsync(Patience);

        result.ExitCode.Should().Be(143, result.ToString());
        result.Error.Should().Contain("interrupted (SIGTERM): no plan was written");
        Directory.EnumerateFileSystemEntries(work).Select(Path.GetFileName).Should().BeEquivalentTo(["logs"], "neither a plan nor a temporary file stays");
    }

    [Fact]
    public async Task A_second_Ctrl_C_ends_the_process_at_once_and_still_leaves_no_temporary_file()
    {
        var work = CliRunner.NewWorkDirectory();
        var output = Path.Combine(work, "plan.json");
        using var cli = CliProcess.Start(work, "022", PlanArgs(output));

        await WaitUntilAsync(cli, () => TemporaryFiles(work).Count > 0);
        cli.Signal(CliProcess.SigInt);
        cli.Signal(CliProcess.SigInt);
        var result = await cli.WaitAsync(Patience);

        result.ExitCode.Should().BeOneOf([130, 128 + CliProcess.SigInt], result.ToString());
        File.Exists(output).Should().BeFalse();
        TemporaryFiles(work).Should().BeEmpty();
    }

    private static async Task WaitUntilAsync(CliProcess cli, Func<bool> condition)
    {
        var deadline = DateTimeOffset.UtcNow + Patience;
        while (!condition())
        {
            if (cli.HasExited)
            {
                var result = await cli.WaitAsync(Patience);
                throw new InvalidOperationException($"authsplit exited before the moment to interrupt it came:\n{result}");
            }

            if (DateTimeOffset.UtcNow > deadline)
            {
                throw new TimeoutException("the moment to interrupt authsplit never came");
            }

            await Task.Delay(2);
        }
    }

    private static List<string> TemporaryFiles(string work) =>
        [.. Directory.EnumerateFiles(work, "*.tmp", SearchOption.AllDirectories).Concat(Directory.EnumerateDirectories(work, "*.tmp", SearchOption.AllDirectories))];

    private static string LogText(string work)
    {
        var logs = Path.Combine(work, "logs");
        if (!Directory.Exists(logs))
        {
            return "";
        }

        return string.Concat(Directory.EnumerateFiles(logs).Select(path =>
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var reader = new StreamReader(stream);
            return reader.ReadToEnd();
        }));
    }
}
