using System.CommandLine;

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

    private const int DefaultWaitSeconds = 3600;
    private const int DefaultPollSeconds = 30;

    public static Option<string?> LogDir() => new("--log-dir") { Description = "Directory for the structured log files (default: $AUTHSPLIT_LOG_DIR or ~/.local/state/authsplit/logs)." };
}
