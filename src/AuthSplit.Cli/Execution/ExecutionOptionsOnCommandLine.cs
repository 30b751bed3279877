using System.CommandLine;
using AuthSplit.Core.Errors;

namespace AuthSplit.Cli.Execution;

/// <summary>The options every execution command shares, defined once.</summary>
internal static class ExecutionOptionsOnCommandLine
{
    public static Option<string> Config() => new("--config", "-c") { Description = "The AuthSplit config file (appsettings-shaped JSON); its State section names the state store.", Required = true };

    public static Option<string> Wave() => new("--wave", "-w") { Description = "The wave's name, as in the plan and the config.", Required = true };

    public static Option<string?> As() => new("--as") { Description = "Who executes (default: the OS user); must not be the plan's approver unless Execution:AllowSelfApproval is set." };

    /// <summary>A manual step's wait for what the tenant reads (the gate, a rollback): <paramref name="forWhat"/> says what is waited for.</summary>
    public static Option<int> Wait(string forWhat, string again) => new("--wait") { Description = $"Seconds to wait for {forWhat} (default {DefaultWaitSeconds}); {again}.", DefaultValueFactory = _ => DefaultWaitSeconds };

    public static Option<int> Poll() => new("--poll") { Description = $"Seconds between reads of the tenant while waiting (default {DefaultPollSeconds}).", DefaultValueFactory = _ => DefaultPollSeconds };

    /// <summary>The values of <see cref="Wait"/> and <see cref="Poll"/>, refused outside 0 s–7 days and 1 s–1 h.</summary>
    public static (TimeSpan Wait, TimeSpan Poll) WaitAndPoll(ParseResult parse, Option<int> wait, Option<int> poll)
    {
        var waitSeconds = parse.GetValue(wait);
        var pollSeconds = parse.GetValue(poll);
        if (waitSeconds is < 0 or > MaxWaitSeconds)
        {
            throw new InputException("command-line", $"--wait must be between 0 and {MaxWaitSeconds} seconds (got {waitSeconds})");
        }

        if (pollSeconds is < 1 or > 3600)
        {
            throw new InputException("command-line", $"--poll must be between 1 and 3600 seconds (got {pollSeconds})");
        }

        return (TimeSpan.FromSeconds(waitSeconds), TimeSpan.FromSeconds(pollSeconds));
    }

    private const int MaxWaitSeconds = 7 * 24 * 3600;
    private const int DefaultWaitSeconds = 3600;
    private const int DefaultPollSeconds = 30;

    public static Option<string?> LogDir() => new("--log-dir") { Description = "Directory for the structured log files (default: $AUTHSPLIT_LOG_DIR or ~/.local/state/authsplit/logs)." };
}
