using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using AuthSplit.Graph.Emulator;
using AuthSplit.Testing;

namespace AuthSplit.Cli.EndToEndTests;

/// <summary>
/// Every command block (<c>```sh</c>) of the README and the runbooks is run here, in document order, as a
/// shell would run it (<see cref="ShellCommandLine"/>), and its output is checked against what the
/// document says it prints: the <c>```text</c> block right after it (each line must appear, <c>...</c>
/// standing for any text) and <c>&lt;!-- expect: TEXT --&gt;</c> markers; <c>&lt;!-- exit: N --&gt;</c>
/// when the documented outcome is a failure. <c>authsplit</c> and <c>dotnet run --project src/AuthSplit.Cli --</c>
/// both run the CLI built with this test as its own process. A block that needs the operator's own servers
/// or that is this test run itself carries <c>&lt;!-- not-run: why, and which test covers it --&gt;</c>.
/// The variables a document may use: <c>$WORK</c> (a private folder), <c>$HOME</c>, and <c>$CONFIG</c>, a
/// config for live reads pointing at this run's private slapd and Graph emulator (seeded with the sample
/// organisation), whose secrets come from files, as an operator's would; <c>$GRAPH_URL</c>, that emulator's
/// address, and <c>$GRAPH_ADMIN_TOKEN</c>, the token with which it takes a delegated Global Administrator's
/// calls (a document plays the administrator with <c>curl</c>). A document that names
/// <c>$POSTGRES_CONNECTION_FILE</c> or <c>$CLUSTER_CONFIG</c> gets a private PostgreSQL (started for it alone):
/// an owner-only file holding the connection string of a fresh database (TLS verified against its CA), and
/// <c>$CONFIG</c> with its state store there (<c>State:Provider Postgres</c>, <c>ConnectionStringFile</c>).
/// A process that runs until stopped (<c>serve</c>, a gate that waits) is written as the command an operator
/// types in a second terminal, its block preceded by <c>&lt;!-- background: NAME --&gt;</c>: the test starts
/// it, waits until its stdout shows what the block says it prints, and goes on with the next blocks; a line
/// <c>&lt;!-- wait: NAME --&gt;</c> (it ends by itself) or <c>&lt;!-- stop: NAME --&gt;</c> (SIGTERM, as
/// <c>systemctl stop</c> or Ctrl-C sends) is followed by what it printed and its <c>&lt;!-- exit: N --&gt;</c>.
/// Whatever fails, every background process is killed at the end.
/// </summary>
[Collection(SlapdFixture.Collection)]
public sealed partial class DocumentedCommandTests(SlapdFixture fixture)
{
    private const string Token = "documented-commands-token-3b7e";

    private const string AdminToken = "documented-commands-delegated-admin-9c41";

    private static readonly string[] Utilities = ["sed", "cp", "mkdir", "cat", "grep", "head", "rm", "curl"];

    private static readonly TimeSpan BackgroundPatience = TimeSpan.FromSeconds(60);

    public static TheoryData<string> Documents() =>
    [
        "README.md",
        .. Directory.GetFiles(Path.Combine(CliRunner.RepositoryRoot, "runbooks"), "*.md").Order(StringComparer.Ordinal).Select(p => Path.GetRelativePath(CliRunner.RepositoryRoot, p)),
    ];

    [Theory]
    [MemberData(nameof(Documents))]
    public async Task Every_documented_command_runs_and_prints_what_the_document_says(string document)
    {
        var markdown = await File.ReadAllTextAsync(Path.Combine(CliRunner.RepositoryRoot, document));
        var blocks = DocumentBlocks.Read(markdown);
        var work = CliRunner.NewWorkDirectory();
        await using var emulator = await GraphEmulator.StartAsync(new GraphEmulatorOptions { AccessToken = Token, AdminAccessToken = AdminToken, Users = GraphEmulatorOptions.ReadPages(Path.Combine(CliRunner.Samples, "target")) }, CancellationToken.None);
        var variables = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["WORK"] = work, ["HOME"] = work, ["CONFIG"] = await LiveConfigAsync(work, emulator.BaseUrl),
            ["GRAPH_URL"] = emulator.BaseUrl.ToString(), ["GRAPH_ADMIN_TOKEN"] = AdminToken,
        };
        await using var postgres = UsesPostgres(markdown) ? await PrivatePostgres.StartAsync(work, variables) : null;
        var exported = new Dictionary<string, string>(StringComparer.Ordinal);
        await using var labs = new LabsStoppedAtTheEnd(work);
        await using var background = new BackgroundProcesses();
        var run = blocks.Where(b => b.NotRun is null).ToArray();
        run.Should().NotBeEmpty($"{document} documents at least one command that is run");

        foreach (var block in run)
        {
            block.Expected.Should().NotBeEmpty($"{document}:{block.Line}: a command block states what it prints (a ```text block or <!-- expect: -->), not only that it works");
            if (block.Awaited is { } awaited)
            {
                var ended = await background.EndAsync(awaited, block.Stop, $"{document}:{block.Line}");
                ended.ExitCode.Should().Be(block.ExitCode, $"{awaited} ({document}:{block.Line}) must end as documented\n{ended}");
                foreach (var expected in block.Expected)
                {
                    Matches(ended.Output + ended.Error, expected).Should().BeTrue($"{document}:{block.Line} says {awaited} prints \"{expected}\"; it printed:\n{ended}");
                }

                continue;
            }

            var output = new System.Text.StringBuilder();
            var commands = ShellCommandLine.Parse(block.Text, variables.Concat(exported).GroupBy(kv => kv.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Last().Value, StringComparer.Ordinal));
            if (block.Background is { } backgroundName)
            {
                var command = commands.Where(c => !c.Export).Should().ContainSingle($"{document}:{block.Line}: a background block is one command").Which;
                command.Words[0].Should().Be("authsplit", $"{document}:{block.Line}: only authsplit runs in the background here");
                var environment = exported.Concat(command.Environment).GroupBy(kv => kv.Key).ToDictionary(g => g.Key, g => g.Last().Value, StringComparer.Ordinal);
                await background.StartAsync(backgroundName, command.Words.Skip(1).ToArray(), environment, block.Expected, $"{document}:{block.Line}");
                continue;
            }

            for (var i = 0; i < commands.Count; i++)
            {
                var command = commands[i];
                if (command.Export)
                {
                    foreach (var (name, value) in command.Environment)
                    {
                        exported[name] = value;
                    }

                    continue;
                }

                var environment = exported.Concat(command.Environment).GroupBy(kv => kv.Key).ToDictionary(g => g.Key, g => g.Last().Value, StringComparer.Ordinal);
                var result = await RunAsync(command, environment, $"{document}:{block.Line}");
                output.Append(result.Output).Append(result.Error);
                var expectedExit = i == commands.Count - 1 ? block.ExitCode : 0;
                result.ExitCode.Should().Be(expectedExit, $"`{command.Text}` ({document}:{block.Line}) must end as documented\n{result}");
            }

            foreach (var expected in block.Expected)
            {
                Matches(output.ToString(), expected).Should().BeTrue($"{document}:{block.Line} says the block prints \"{expected}\"; it printed:\n{output}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Documents))]
    public async Task Every_block_that_is_not_run_says_why_and_every_shell_block_is_marked_sh(string document)
    {
        var blocks = DocumentBlocks.Read(await File.ReadAllTextAsync(Path.Combine(CliRunner.RepositoryRoot, document)));

        blocks.Where(b => b.NotRun is not null).Should().OnlyContain(b => b.NotRun!.Length >= 20, "a block left out of the test says why and which test covers it");
        DocumentBlocks.UnmarkedCommandLines(await File.ReadAllTextAsync(Path.Combine(CliRunner.RepositoryRoot, document)))
            .Should().BeEmpty($"commands in {document} are in ```sh blocks, so that this test runs them (usage synopses go in ```text)");
    }

    [Fact]
    public void The_shell_parser_reads_quotes_continuations_assignments_and_variables_as_a_shell_does()
    {
        var commands = ShellCommandLine.Parse(
            "export PW='p a$s'\nFOO=\"x $WORK\" authsplit plan \\\n  --out \"$WORK/plan one.json\" --note 'it''s' a\\ b # comment\n",
            new Dictionary<string, string> { ["WORK"] = "/tmp/w" });

        commands.Should().HaveCount(2);
        commands[0].Export.Should().BeTrue();
        commands[0].Environment.Should().Equal(new Dictionary<string, string> { ["PW"] = "p a$s" });
        commands[1].Environment.Should().Equal(new Dictionary<string, string> { ["FOO"] = "x /tmp/w" });
        commands[1].Words.Should().Equal("authsplit", "plan", "--out", "/tmp/w/plan one.json", "--note", "its", "a b");
        FluentActions.Invoking(() => ShellCommandLine.Parse("authsplit plan > out.txt", new Dictionary<string, string>())).Should().Throw<FormatException>();
        FluentActions.Invoking(() => ShellCommandLine.Parse("authsplit $UNDEFINED", new Dictionary<string, string>())).Should().Throw<FormatException>();
    }

    [Fact]
    public void A_background_block_and_the_lines_that_wait_for_or_stop_it_are_read_with_what_each_says_it_prints()
    {
        var blocks = DocumentBlocks.Read("""
            <!-- background: node-a -->
            ```sh
            authsplit serve --config "$CONFIG"
            ```

            ```text
            Serving scheduled waves
            ```

            ```sh
            curl -s http://127.0.0.1:19464/healthz/ready
            ```
            <!-- expect: Healthy -->

            <!-- stop: node-a -->
            ```text
            Stopped
            ```
            <!-- exit: 143 -->
            """);

        blocks.Should().HaveCount(3);
        blocks[0].Background.Should().Be("node-a");
        blocks[0].Expected.Should().Equal("Serving scheduled waves");
        blocks[1].Background.Should().BeNull();
        blocks[1].Expected.Should().Equal(["Healthy"], "the stop line's exit and text belong to the stop, not to the block before it");
        blocks[1].ExitCode.Should().Be(0);
        blocks[2].Awaited.Should().Be("node-a");
        blocks[2].Stop.Should().BeTrue();
        blocks[2].Expected.Should().Equal("Stopped");
        blocks[2].ExitCode.Should().Be(143);
    }

    // The sample config, reading live: the private slapd (bind password from a file) and the emulator (token from a file).
    private async Task<string> LiveConfigAsync(string work, Uri emulator)
    {
        var secrets = System.IO.Directory.CreateDirectory(Path.Combine(work, "secrets")).FullName;
        await File.WriteAllTextAsync(Path.Combine(secrets, "ldap-password"), fixture.ReaderPassword + "\n");
        await File.WriteAllTextAsync(Path.Combine(secrets, "graph-token"), Token + "\n");
        var config = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(CliRunner.Samples, "authsplit.json")))!.AsObject();
        var source = config["Source"]!.AsObject();
        source["Url"] = fixture.Server.LdapsUrl;
        source["CaFile"] = fixture.Server.CaFile;
        source.Remove("PasswordEnvVar");
        source["PasswordFile"] = Path.Combine(secrets, "ldap-password");
        config["Target"] = new JsonObject
        {
            ["Kind"] = "Graph",
            ["BaseUrl"] = emulator.ToString(),
            ["Auth"] = "StaticToken",
            ["TokenFile"] = Path.Combine(secrets, "graph-token"),
            ["AllowInsecureLoopback"] = true,
        };
        var path = Path.Combine(work, "authsplit.json");
        await File.WriteAllTextAsync(path, config.ToJsonString());
        return path;
    }

    private static async Task<CliResult> RunAsync(ShellCommand command, Dictionary<string, string> environment, string where)
    {
        var words = command.Words;
        if (words[0] == "authsplit")
        {
            return await OperatorProcess.RunAsync(words.Skip(1), environment);
        }

        string[] dotnetRun = ["dotnet", "run", "--project", "src/AuthSplit.Cli", "--"];
        if (words.Count > dotnetRun.Length && words.Take(dotnetRun.Length).SequenceEqual(dotnetRun))
        {
            return await OperatorProcess.RunAsync(words.Skip(dotnetRun.Length), environment);
        }

        return Utilities.Contains(words[0])
            ? await OperatorProcess.RunProgramAsync(words[0], words.Skip(1), environment)
            : throw new InvalidOperationException($"{where}: `{command.Text}` is not a command this test can run; mark its block <!-- not-run: ... --> naming the test that covers it");
    }

    private static bool UsesPostgres(string markdown) =>
        markdown.Contains("$POSTGRES_CONNECTION_FILE", StringComparison.Ordinal) || markdown.Contains("${POSTGRES_CONNECTION_FILE}", StringComparison.Ordinal)
        || markdown.Contains("$CLUSTER_CONFIG", StringComparison.Ordinal) || markdown.Contains("${CLUSTER_CONFIG}", StringComparison.Ordinal);

    /// <summary>A private PostgreSQL for one document: a fresh database, its connection string in an owner-only file, and a config on it.</summary>
    private sealed class PrivatePostgres(AuthSplit.Lab.Servers.PostgresServer server) : IAsyncDisposable
    {
        public static async Task<PrivatePostgres> StartAsync(string work, Dictionary<string, string> variables)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
            var server = await AuthSplit.Lab.Servers.PostgresServer.StartAsync(new AuthSplit.Lab.Servers.PostgresServerOptions { NoSync = true }, timeout.Token);
            try
            {
                var database = await server.CreateDatabaseAsync("runbook", timeout.Token);
                var file = Path.Combine(work, "secrets", "state-db");
                await File.WriteAllTextAsync(file, server.ConnectionString(database) + "\n", timeout.Token);
                if (!OperatingSystem.IsWindows())
                {
                    File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
                }
                var config = JsonNode.Parse(await File.ReadAllTextAsync(variables["CONFIG"], timeout.Token))!.AsObject();
                config["State"] = new JsonObject { ["Provider"] = "Postgres", ["ConnectionStringFile"] = file, ["BackupKeyFile"] = "backup.key" };
                var cluster = Path.Combine(work, "cluster.json");
                await File.WriteAllTextAsync(cluster, config.ToJsonString(), timeout.Token);
                variables["POSTGRES_CONNECTION_FILE"] = file;
                variables["CLUSTER_CONFIG"] = cluster;
                return new PrivatePostgres(server);
            }
            catch
            {
                await server.DisposeAsync();
                throw;
            }
        }

        public ValueTask DisposeAsync() => server.DisposeAsync();
    }

    /// <summary>The document's processes that run until stopped, by the name its markers give them; any left are killed at the end.</summary>
    private sealed class BackgroundProcesses : IAsyncDisposable
    {
        private readonly Dictionary<string, CliProcess> _running = new(StringComparer.Ordinal);

        public async Task StartAsync(string name, string[] args, Dictionary<string, string> environment, IReadOnlyList<string> expected, string where)
        {
            _running.Should().NotContainKey(name, $"{where}: {name} is already running");
            environment.TryAdd("AUTHSPLIT_LOG_DIR", Path.Combine(Path.GetTempPath(), "authsplit-e2e-logs"));
            var process = CliProcess.Start(CliRunner.RepositoryRoot, "077", environment, args);
            _running[name] = process;
            var deadline = DateTime.UtcNow + BackgroundPatience;
            while (!expected.All(e => Matches(process.OutputSoFar, e)))
            {
                if (process.HasExited || DateTime.UtcNow > deadline)
                {
                    var ended = process.HasExited ? (await process.WaitAsync(TimeSpan.FromSeconds(10))).ToString() : process.OutputSoFar;
                    throw new Xunit.Sdk.XunitException($"{where}: {name} was to print {string.Join(" / ", expected)} and keep running; {(process.HasExited ? "it ended" : "after " + BackgroundPatience + " it printed")}:\n{ended}");
                }

                await Task.Delay(50);
            }
        }

        public async Task<CliResult> EndAsync(string name, bool stop, string where)
        {
            _running.Should().ContainKey(name, $"{where}: {name} is started by a <!-- background: {name} --> block before");
            using var process = _running[name];
            _running.Remove(name);
            if (stop && !process.HasExited)
            {
                process.Signal(CliProcess.SigTerm);
            }

            return await process.WaitAsync(BackgroundPatience);
        }

        public ValueTask DisposeAsync()
        {
            foreach (var process in _running.Values)
            {
                process.Dispose();
            }

            _running.Clear();
            return ValueTask.CompletedTask;
        }
    }

    /// <summary>A document's `lab start` leaves servers running: whatever block fails, every lab under the work folder is stopped.</summary>
    private sealed class LabsStoppedAtTheEnd(string work) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            foreach (var runtime in Directory.GetFiles(work, "lab.json", SearchOption.AllDirectories))
            {
                await OperatorProcess.RunAsync(["lab", "stop", "--dir", Path.GetDirectoryName(runtime)!]);
            }
        }
    }

    // Each line of the expectation must appear; "..." in it stands for any text on that line.
    private static bool Matches(string output, string expected)
    {
        var pattern = string.Join(".*?", expected.Split("...").Select(Regex.Escape));
        return Regex.IsMatch(output, pattern, RegexOptions.Multiline);
    }
}

/// <summary>A fenced block of a Markdown document with the markers around it.</summary>
/// <param name="Background">The name of a process started by this block and left running (<c>&lt;!-- background: NAME --&gt;</c>).</param>
/// <param name="Awaited">For a <c>&lt;!-- wait: NAME --&gt;</c> or <c>&lt;!-- stop: NAME --&gt;</c> line (no command): the process whose end it checks.</param>
/// <param name="Stop">True for <c>stop</c>: the process is sent SIGTERM first.</param>
internal sealed record DocumentBlock(int Line, string Text, string? NotRun, IReadOnlyList<string> Expected, int ExitCode, string? Background = null, string? Awaited = null, bool Stop = false);

internal static partial class DocumentBlocks
{
    public static IReadOnlyList<DocumentBlock> Read(string markdown)
    {
        var lines = markdown.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        var blocks = new List<DocumentBlock>();
        for (var i = 0; i < lines.Length; i++)
        {
            if (Ending().Match(lines[i].Trim()) is { Success: true } ending)
            {
                var (endExpected, endExit) = Expectations(lines, i + 1);
                blocks.Add(new DocumentBlock(i + 1, string.Empty, null, endExpected, endExit, Awaited: ending.Groups["name"].Value, Stop: ending.Groups["how"].Value == "stop"));
                continue;
            }

            if (lines[i].TrimEnd() != "```sh")
            {
                if (lines[i].StartsWith("```", StringComparison.Ordinal))
                {
                    i = Close(lines, i);
                }

                continue;
            }

            var start = i;
            var end = Close(lines, i);
            var previous = Previous(lines, start);
            var notRun = previous is not null && NotRun().Match(previous) is { Success: true } m ? m.Groups["why"].Value.Trim() : null;
            var background = previous is not null && Background().Match(previous) is { Success: true } b ? b.Groups["name"].Value : null;
            var (expected, exit) = Expectations(lines, end + 1);
            blocks.Add(new DocumentBlock(start + 1, string.Join('\n', lines[(start + 1)..end]), notRun, expected, exit, background));
            i = end;
        }

        return blocks;
    }

    // What a block (or a wait/stop line) says it prints: the ```text block right after it, then the markers up to
    // the next fence, heading or wait/stop line.
    private static (List<string> Expected, int Exit) Expectations(string[] lines, int from)
    {
        var expected = new List<string>();
        var exit = 0;
        var j = from;
        while (j < lines.Length && lines[j].Trim().Length == 0)
        {
            j++;
        }

        if (j < lines.Length && lines[j].TrimEnd() == "```text")
        {
            var textEnd = Close(lines, j);
            expected.AddRange(lines[(j + 1)..textEnd].Select(l => l.Trim()).Where(l => l.Length > 0));
            j = textEnd + 1;
        }

        for (; j < lines.Length && !lines[j].StartsWith("```", StringComparison.Ordinal) && !lines[j].StartsWith('#') && !Ending().IsMatch(lines[j].Trim()); j++)
        {
            foreach (Match marker in Expect().Matches(lines[j]))
            {
                expected.Add(marker.Groups["text"].Value.Trim());
            }

            if (Exit().Match(lines[j]) is { Success: true } code)
            {
                exit = int.Parse(code.Groups["code"].Value, System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        return (expected, exit);
    }

    /// <summary>Lines that look like commands but sit outside a ```sh block (in a plain ``` or a shell-flavoured fence).</summary>
    public static IReadOnlyList<string> UnmarkedCommandLines(string markdown)
    {
        var lines = markdown.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        var found = new List<string>();
        for (var i = 0; i < lines.Length; i++)
        {
            var fence = lines[i].TrimEnd();
            if (!fence.StartsWith("```", StringComparison.Ordinal))
            {
                continue;
            }

            var end = Close(lines, i);
            var language = fence[3..].Trim();
            if (language is "" or "bash" or "shell" or "console" or "sh-session")
            {
                found.AddRange(lines[(i + 1)..end].Where(l => CommandLike().IsMatch(l)).Select(l => $"{i + 1}: {l}"));
            }

            i = end;
        }

        return found;
    }

    private static int Close(string[] lines, int open)
    {
        for (var k = open + 1; k < lines.Length; k++)
        {
            if (lines[k].TrimEnd() == "```")
            {
                return k;
            }
        }

        throw new FormatException($"the block opened at line {open + 1} is never closed");
    }

    private static string? Previous(string[] lines, int index)
    {
        for (var k = index - 1; k >= 0; k--)
        {
            if (lines[k].Trim().Length > 0)
            {
                return lines[k];
            }
        }

        return null;
    }

    [GeneratedRegex(@"<!--\s*not-run:(?<why>.*?)-->")]
    private static partial Regex NotRun();

    [GeneratedRegex(@"<!--\s*background:\s*(?<name>[A-Za-z0-9_-]+)\s*-->")]
    private static partial Regex Background();

    [GeneratedRegex(@"^<!--\s*(?<how>wait|stop):\s*(?<name>[A-Za-z0-9_-]+)\s*-->$")]
    private static partial Regex Ending();

    [GeneratedRegex(@"<!--\s*expect:(?<text>.*?)-->")]
    private static partial Regex Expect();

    [GeneratedRegex(@"<!--\s*exit:\s*(?<code>\d+)\s*-->")]
    private static partial Regex Exit();

    [GeneratedRegex(@"^\s*(authsplit|dotnet|export|sudo)\s")]
    private static partial Regex CommandLike();
}
