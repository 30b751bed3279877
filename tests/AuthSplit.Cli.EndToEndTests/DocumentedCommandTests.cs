using System.Text.RegularExpressions;

namespace AuthSplit.Cli.EndToEndTests;

/// <summary>
/// Every `dotnet run --project src/AuthSplit.Cli -- ...` line in the README and the runbooks is run
/// here, in order, so documentation cannot drift from the tool.
/// </summary>
public sealed partial class DocumentedCommandTests
{
    public static TheoryData<string> Documents() => new() { "README.md", "runbooks/01-make-and-review-a-plan.md" };

    [Theory]
    [MemberData(nameof(Documents))]
    public async Task Every_documented_command_runs_and_succeeds(string document)
    {
        var text = await File.ReadAllTextAsync(Path.Combine(CliRunner.RepositoryRoot, document));
        var commands = Command().Matches(text).Select(m => m.Groups["args"].Value.Trim()).ToArray();
        commands.Should().NotBeEmpty($"{document} documents at least one command");
        var work = CliRunner.NewWorkDirectory();

        foreach (var command in commands)
        {
            var args = command.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(a => Resolve(a, work)).ToArray();

            var result = await CliRunner.RunAsync(args);

            result.ExitCode.Should().Be(0, $"`{command}` from {document} must work as documented\n{result}");
        }
    }

    // Repository paths resolve against the checkout; files the commands create go to a private folder.
    private static string Resolve(string argument, string work) =>
        argument.StartsWith("config/", StringComparison.Ordinal) ? Path.Combine(CliRunner.RepositoryRoot, argument)
        : argument.EndsWith(".json", StringComparison.Ordinal) ? Path.Combine(work, argument)
        : argument;

    [GeneratedRegex(@"^dotnet run --project src/AuthSplit\.Cli -- (?<args>.+)$", RegexOptions.Multiline)]
    private static partial Regex Command();
}
