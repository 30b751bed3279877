using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using AuthSplit.Core.Configuration;
using AuthSplit.Core.Execution.Systems;
using AuthSplit.Core.Secrets;
using AuthSplit.Hooks.Commands;
using AuthSplit.Hooks.Output;
using AuthSplit.Testing;

namespace AuthSplit.Hooks.Tests.Commands;

/// <summary>The command runner with real programs: /bin/sh scripts written to temporary files, true, false and sleepers.</summary>
public sealed class ProcessCommandRunnerTests
{
    private static readonly Dictionary<string, string> NoEnvironment = [];
    private static readonly TimeSpan Minute = TimeSpan.FromMinutes(1);
    private readonly string _work = TestPaths.NewWorkDirectory();

    private static ProcessCommandRunner Runner(HookSecrets? secrets = null) => new(secrets ?? HookSecrets.None, TimeProvider.System);

    private string Script(string body)
    {
        var path = Path.Combine(_work, Guid.NewGuid().ToString("N")[..8] + ".sh");
        File.WriteAllText(path, "#!/bin/sh\n" + body + "\n");
        return path;
    }

    private static string Sha256(byte[] bytes) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(bytes));

    [Fact]
    public async Task A_program_that_exits_0_succeeded_and_one_that_exits_1_was_refused()
    {
        var succeeded = await Runner().RunAsync(["true"], NoEnvironment, null, Minute, CancellationToken.None);
        var refused = await Runner().RunAsync(["false"], NoEnvironment, null, Minute, CancellationToken.None);

        succeeded.Status.Should().Be(HookStatus.Succeeded);
        succeeded.ExitCode.Should().Be(0);
        succeeded.OutputSha256.Should().Be(Sha256([]));
        succeeded.OutputExcerpt.Should().BeEmpty();
        succeeded.Detail.Should().StartWith("true exited 0");
        refused.Status.Should().Be(HookStatus.Refused);
        refused.ExitCode.Should().Be(1);
        refused.Detail.Should().StartWith("false exited 1");
    }

    [Fact]
    public async Task The_exit_code_and_stdout_then_stderr_are_recorded_and_arguments_reach_the_program_uninterpreted()
    {
        var marker = Path.Combine(_work, "created-by-a-shell");
        var script = Script("printf 'argument: %s\\n' \"$1\"\nprintf 'to stderr\\n' >&2\nexit 3");

        var outcome = await Runner().RunAsync(["/bin/sh", script, $"$(touch {marker}); *"], NoEnvironment, null, Minute, CancellationToken.None);

        var expected = $"argument: $(touch {marker}); *\nto stderr\n";
        outcome.Status.Should().Be(HookStatus.Refused);
        outcome.ExitCode.Should().Be(3);
        outcome.OutputExcerpt.Should().Be(expected);
        outcome.OutputSha256.Should().Be(Sha256(Encoding.UTF8.GetBytes(expected)));
        File.Exists(marker).Should().BeFalse("no shell ever sees the argument");
        outcome.Detail.Should().Contain("exited 3");
    }

    [Fact]
    public async Task Standard_input_and_the_extra_environment_reach_the_program()
    {
        var script = Script("printf 'system=%s\\n' \"$AUTHSPLIT_SYSTEM_ID\"\ncat");
        var input = "id-1\nid-2\n" + new string('x', 200_000) + "\n";

        var outcome = await Runner().RunAsync(["/bin/sh", script], new Dictionary<string, string> { ["AUTHSPLIT_SYSTEM_ID"] = "crm" }, input, Minute, CancellationToken.None);

        outcome.Status.Should().Be(HookStatus.Succeeded);
        outcome.OutputExcerpt.Should().StartWith("system=crm\nid-1\nid-2\nxxx");
        outcome.OutputSha256.Should().Be(Sha256(Encoding.UTF8.GetBytes("system=crm\n" + input)), "all 200 kB of input came back through cat");
    }

    [Fact]
    public async Task A_secret_from_an_environment_variable_or_a_file_is_masked_in_the_excerpt_but_hashed_as_printed()
    {
        var variable = "AUTHSPLIT_TEST_SECRET_" + Guid.NewGuid().ToString("N")[..8].ToUpperInvariant();
        var fromVariable = "env-secret-" + Guid.NewGuid().ToString("N");
        var fromFile = "file-secret-" + Guid.NewGuid().ToString("N");
        var file = Path.Combine(_work, "token");
        await File.WriteAllTextAsync(file, fromFile + "\n");
        Environment.SetEnvironmentVariable(variable, fromVariable);
        try
        {
            var secrets = new HookSecrets([new SecretSource(variable, null, "k", "k", "a test secret"), new SecretSource(null, file, "k", "k", "a test secret")]);
            var script = Script($"printf 'token=%s\\n' \"${variable}\"\ncat '{file}' >&2");

            var outcome = await Runner(secrets).RunAsync(["/bin/sh", script, fromVariable], NoEnvironment, null, Minute, CancellationToken.None);

            outcome.Status.Should().Be(HookStatus.Succeeded);
            outcome.OutputExcerpt.Should().Be("token=***\n***\n");
            outcome.Detail.Should().NotContain(fromVariable).And.Contain("***", "an argument equal to a secret is masked in the detail too");
            outcome.OutputSha256.Should().Be(Sha256(Encoding.UTF8.GetBytes($"token={fromVariable}\n{fromFile}\n")), "the hash is of what was printed, so it can be checked against the hook's own log");
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, null);
        }
    }

    [Fact]
    public async Task A_secret_that_starts_just_before_the_end_of_the_excerpt_leaves_no_prefix_of_itself()
    {
        var variable = "AUTHSPLIT_TEST_SECRET_" + Guid.NewGuid().ToString("N")[..8].ToUpperInvariant();
        var secret = "straddling-" + Guid.NewGuid().ToString("N");
        Environment.SetEnvironmentVariable(variable, secret);
        try
        {
            var padding = SystemDefaults.OutputExcerptBytes - 10;
            var script = Script($"head -c {padding} /dev/zero | tr '\\0' a\nprintf '%s' \"${variable}\"");

            var outcome = await Runner(new HookSecrets([new SecretSource(variable, null, "k", "k", "a test secret")])).RunAsync(["/bin/sh", script], NoEnvironment, null, Minute, CancellationToken.None);

            outcome.OutputExcerpt.Should().Be(new string('a', padding) + "***");
            outcome.OutputSha256.Should().Be(Sha256(Encoding.UTF8.GetBytes(new string('a', padding) + secret)));
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, null);
        }
    }

    [Fact]
    public async Task Output_larger_than_the_excerpt_is_hashed_whole_and_its_excerpt_is_bounded()
    {
        // 3 MB on stdout and 1 MB on stderr (past the in-memory spool, so it goes through the temporary file).
        // yes itself complains on stderr when head closes the pipe (SIGPIPE is ignored in processes .NET starts): that is silenced.
        var script = Script("yes stdout-line 2>/dev/null | head -c 3000000\nyes stderr-line 2>/dev/null | head -c 1000000 >&2");

        var outcome = await Runner().RunAsync(["/bin/sh", script], NoEnvironment, null, Minute, CancellationToken.None);

        var stdout = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("stdout-line\n", 3_000_000 / 12 + 1)))[..3_000_000];
        var stderr = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("stderr-line\n", 1_000_000 / 12 + 1)))[..1_000_000];
        outcome.Status.Should().Be(HookStatus.Succeeded);
        outcome.Detail.Should().Contain("printed 4,000,000 bytes");
        outcome.OutputSha256.Should().Be(Sha256([.. stdout, .. stderr]));
        outcome.OutputExcerpt.Should().Be(Encoding.ASCII.GetString(stdout, 0, SystemDefaults.OutputExcerptBytes));
        outcome.Detail.Should().Contain("printed 4,000,000 bytes");
    }

    [Fact]
    public async Task At_the_timeout_the_program_and_its_child_are_killed()
    {
        var pids = Path.Combine(_work, "pids");
        var script = Script($"sleep 300 &\necho \"$$ $!\" > '{pids}'\nprintf 'started\\n'\nwait");
        var watch = Stopwatch.StartNew();

        var outcome = await Runner().RunAsync(["/bin/sh", script], NoEnvironment, null, TimeSpan.FromSeconds(2), CancellationToken.None);

        watch.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(15));
        outcome.Status.Should().Be(HookStatus.TimedOut);
        outcome.ExitCode.Should().BeNull();
        outcome.OutputExcerpt.Should().Be("started\n");
        outcome.Detail.Should().Contain("did not finish within 2 s");
        await ShouldBeGoneAsync(pids);
    }

    [Fact]
    public async Task On_cancellation_the_program_and_its_child_are_killed_and_the_cancellation_is_thrown()
    {
        var pids = Path.Combine(_work, "pids");
        var script = Script($"sleep 300 &\necho \"$$ $!\" > '{pids}'\nwait");
        using var cancellation = new CancellationTokenSource();
        var run = Runner().RunAsync(["/bin/sh", script], NoEnvironment, null, TimeSpan.FromMinutes(5), cancellation.Token);
        await WaitForFileAsync(pids);

        await cancellation.CancelAsync();

        await FluentActions.Awaiting(() => run).Should().ThrowAsync<OperationCanceledException>();
        await ShouldBeGoneAsync(pids);
    }

    [Fact]
    public async Task A_missing_program_or_one_that_is_not_executable_is_unavailable_and_named()
    {
        var missing = Path.Combine(_work, "no-such-hook");
        var notExecutable = Path.Combine(_work, "not-executable.sh");
        await File.WriteAllTextAsync(notExecutable, "#!/bin/sh\ntrue\n");
        var environment = new Dictionary<string, string> { ["HOOK_TOKEN"] = "value-" + Guid.NewGuid().ToString("N") };

        var absent = await Runner().RunAsync([missing, "--flag"], environment, null, Minute, CancellationToken.None);
        var onPath = await Runner().RunAsync(["authsplit-no-such-program-on-path"], environment, null, Minute, CancellationToken.None);
        var denied = await Runner().RunAsync([notExecutable], environment, null, Minute, CancellationToken.None);

        absent.Status.Should().Be(HookStatus.Unavailable);
        absent.Detail.Should().Contain(missing).And.Contain("no such program").And.NotContain(environment["HOOK_TOKEN"]).And.NotContain("/usr/bin");
        onPath.Status.Should().Be(HookStatus.Unavailable);
        onPath.Detail.Should().Contain("authsplit-no-such-program-on-path");
        denied.Status.Should().Be(HookStatus.Unavailable);
        denied.Detail.Should().Contain(notExecutable).And.Contain("not executable");
        absent.ExitCode.Should().BeNull();
    }

    private static async Task WaitForFileAsync(string path)
    {
        for (var i = 0; i < 200 && (!File.Exists(path) || new FileInfo(path).Length == 0); i++)
        {
            await Task.Delay(50);
        }
    }

    /// <summary>Both PIDs the script wrote (its own and its background child's) no longer run: absent, or a zombie no one has reaped yet.</summary>
    private static async Task ShouldBeGoneAsync(string pidFile)
    {
        var pids = (await File.ReadAllTextAsync(pidFile)).Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(p => int.Parse(p, CultureInfo.InvariantCulture)).ToArray();
        pids.Should().HaveCount(2);
        for (var i = 0; i < 100 && pids.Any(Running); i++)
        {
            await Task.Delay(50);
        }

        pids.Where(Running).Should().BeEmpty("the timeout kills the whole tree, the child included");
    }

    private static bool Running(int pid)
    {
        try
        {
            // /proc/<pid>/stat: "pid (comm) state ..."; Z is a zombie (dead, not yet reaped).
            var stat = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..][0] != 'Z';
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException or IOException)
        {
            return false;
        }
    }
}
