namespace AuthSplit.Cli.EndToEndTests;

/// <summary>
/// The CLI is a .NET tool: the README's install block is run here (parsed as a shell parses it), packed,
/// installed from the local package alone, and run as <c>authsplit</c>. Three things differ from an
/// operator's run, so that a test leaves nothing behind and needs no registry: the package folder and the
/// tool folder are private (<c>--tool-path</c> instead of <c>--global</c>), the pack reuses this test
/// run's build (<c>-c &lt;configuration&gt; --no-build</c>), and the only package source is the local folder.
/// Slow (about half a minute): filter it out of quick runs with <c>--filter Speed!=Slow</c>.
/// </summary>
public sealed class ToolPackagingTests
{
    [Fact]
    [Trait("Speed", "Slow")]
    public async Task The_packed_tool_installs_as_authsplit_and_plans_the_sample()
    {
        var work = CliRunner.NewWorkDirectory();
        var packages = Path.Combine(work, "artifacts");
        var tools = Path.Combine(work, "tools");
        var configuration = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;
        // Only the local folder as a source: the install must need nothing from a registry.
        var nugetConfig = Path.Combine(work, "nuget.config");
        await File.WriteAllTextAsync(nugetConfig, $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration><packageSources><clear /><add key="local" value="{packages}" /></packageSources></configuration>
            """);

        var readme = DocumentBlocks.Read(await File.ReadAllTextAsync(Path.Combine(CliRunner.RepositoryRoot, "README.md")))
            .Single(b => b.Text.Contains("dotnet tool install", StringComparison.Ordinal));
        var commands = ShellCommandLine.Parse(readme.Text, new Dictionary<string, string>()).Select(c => c.Words).ToArray();
        commands.Should().HaveCount(3, "the README's install block packs, installs and runs the tool");
        commands[0].Should().Equal("dotnet", "pack", "src/AuthSplit.Cli", "-o", "./artifacts");
        commands[1].Should().Equal("dotnet", "tool", "install", "--global", "--add-source", "./artifacts", "AuthSplit.Cli");
        commands[2].Should().Equal("authsplit", "--help");

        string[] pack = [.. commands[0].Skip(1).Select(w => w == "./artifacts" ? packages : w), "-c", configuration, "--no-build"];
        var packed = await OperatorProcess.RunProgramAsync(OperatorProcess.Dotnet, pack, timeout: TimeSpan.FromMinutes(5));
        packed.ExitCode.Should().Be(0, packed.ToString());
        Directory.GetFiles(packages, "AuthSplit.Cli.*.nupkg").Should().ContainSingle();
        string[] install = [.. commands[1].Skip(1).SelectMany(w => w == "--global" ? ["--tool-path", tools] : w == "./artifacts" ? [packages] : new[] { w }), "--configfile", nugetConfig];
        var installed = await OperatorProcess.RunProgramAsync(OperatorProcess.Dotnet, install, workingDirectory: work, timeout: TimeSpan.FromMinutes(5));
        installed.ExitCode.Should().Be(0, installed.ToString());

        var authsplit = Path.Combine(tools, OperatingSystem.IsWindows() ? "authsplit.exe" : "authsplit");
        var environment = new Dictionary<string, string> { ["DOTNET_ROOT"] = Path.GetDirectoryName(Path.GetFullPath(ResolveDotnet()))! };
        var help = await OperatorProcess.RunProgramAsync(authsplit, commands[2].Skip(1), environment, work);
        help.ExitCode.Should().Be(0, help.ToString());
        help.Output.Should().Contain("plan").And.Contain("config");
        var plan = await OperatorProcess.RunProgramAsync(authsplit, [
            "plan", "--config", Path.Combine(CliRunner.Samples, "authsplit.json"), "--source-ldif", Path.Combine(CliRunner.Samples, "legacy.ldif"),
            "--target-snapshot", Path.Combine(CliRunner.Samples, "target"), "--decisions", Path.Combine(CliRunner.Samples, "decisions.json"), "--out", Path.Combine(work, "plan.json")], environment, work);
        plan.ExitCode.Should().Be(0, plan.ToString());
        plan.Output.Should().Contain("Plan sha256:").And.Contain("written to");
        File.Exists(Path.Combine(work, "plan.json")).Should().BeTrue();

        // The installed tool carries the Graph emulator (graph-emulator/ beside authsplit.dll) and starts it for the lab.
        var lab = Path.Combine(work, "lab");
        var started = await OperatorProcess.RunProgramAsync(authsplit, ["lab", "start", "--legacy-ldif", Path.Combine(CliRunner.Samples, "legacy.ldif"), "--target", Path.Combine(CliRunner.Samples, "target"), "--dir", lab], environment, work);
        try
        {
            started.ExitCode.Should().Be(0, started.ToString());
            started.Output.Should().Contain("Graph emulator (a stand-in for Microsoft Graph) pid");
        }
        finally
        {
            var stopped = await OperatorProcess.RunProgramAsync(authsplit, ["lab", "stop", "--dir", lab], environment, work);
            stopped.ExitCode.Should().Be(0, stopped.ToString());
        }

        LabCommandTests.RunningProcessesMentioning(lab).Should().BeEmpty();
    }

    // The dotnet host running the tests (the tool's apphost needs its folder as DOTNET_ROOT when dotnet is not in a default place).
    private static string ResolveDotnet()
    {
        var host = OperatorProcess.Dotnet;
        if (Path.IsPathRooted(host))
        {
            return new FileInfo(host).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? host;
        }

        var onPath = (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator).Select(d => Path.Combine(d, host)).First(File.Exists);
        return new FileInfo(onPath).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? onPath;
    }
}
