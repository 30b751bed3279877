namespace AuthSplit.Cli.EndToEndTests;

/// <summary>
/// The CLI is a .NET tool: packed, installed into a tool path from the local package alone, and run as
/// <c>authsplit</c>. Slow (packing and installing take about half a minute): filter it out of quick runs
/// with <c>--filter Speed!=Slow</c>.
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

        // The build this test runs on already compiled the CLI: pack it as it is.
        var pack = await CliProcess.RunProgramAsync(CliProcess.Dotnet, ["pack", "src/AuthSplit.Cli", "-c", configuration, "--no-build", "-o", packages], timeout: TimeSpan.FromMinutes(5));
        pack.ExitCode.Should().Be(0, pack.ToString());
        Directory.GetFiles(packages, "AuthSplit.Cli.*.nupkg").Should().ContainSingle();
        var install = await CliProcess.RunProgramAsync(CliProcess.Dotnet, ["tool", "install", "--tool-path", tools, "--configfile", nugetConfig, "AuthSplit.Cli"], workingDirectory: work, timeout: TimeSpan.FromMinutes(5));
        install.ExitCode.Should().Be(0, install.ToString());

        var authsplit = Path.Combine(tools, OperatingSystem.IsWindows() ? "authsplit.exe" : "authsplit");
        var environment = new Dictionary<string, string> { ["DOTNET_ROOT"] = Path.GetDirectoryName(Path.GetFullPath(ResolveDotnet()))! };
        var help = await CliProcess.RunProgramAsync(authsplit, ["--help"], environment, work);
        help.ExitCode.Should().Be(0, help.ToString());
        help.Output.Should().Contain("plan").And.Contain("config");
        var plan = await CliProcess.RunProgramAsync(authsplit, [
            "plan", "--config", Path.Combine(CliRunner.Samples, "authsplit.json"), "--source-ldif", Path.Combine(CliRunner.Samples, "legacy.ldif"),
            "--target-snapshot", Path.Combine(CliRunner.Samples, "target"), "--decisions", Path.Combine(CliRunner.Samples, "decisions.json"), "--out", Path.Combine(work, "plan.json")], environment, work);
        plan.ExitCode.Should().Be(0, plan.ToString());
        plan.Output.Should().Contain("Plan sha256:").And.Contain("written to");
        File.Exists(Path.Combine(work, "plan.json")).Should().BeTrue();
    }

    // The dotnet host running the tests (the tool's apphost needs its folder as DOTNET_ROOT when dotnet is not in a default place).
    private static string ResolveDotnet()
    {
        var host = CliProcess.Dotnet;
        if (Path.IsPathRooted(host))
        {
            return new FileInfo(host).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? host;
        }

        var onPath = (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator).Select(d => Path.Combine(d, host)).First(File.Exists);
        return new FileInfo(onPath).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? onPath;
    }
}
