using System.CommandLine;

namespace AuthSplit.Cli.Configuration;

/// <summary><c>authsplit config check --config F [--connect]</c>: validate a config without planning.</summary>
public static class ConfigCheckCommand
{
    public static Command Create(CliConsole console)
    {
        var config = new Option<string>("--config", "-c") { Description = "The AuthSplit config file (appsettings-shaped JSON).", Required = true };
        var connect = new Option<bool>("--connect") { Description = "Also bind to the directory (reading Source:BaseDn) and read one page of Graph users (Target), as a plan would; a missing secret (the systems' credentials and header values included) or PasswordSync program is then an error, not a warning." };
        var logDir = new Option<string?>("--log-dir") { Description = "Directory for the structured log files (default: $AUTHSPLIT_LOG_DIR or ~/.local/state/authsplit/logs)." };
        var verbose = new Option<bool>("--verbose", "-v") { Description = "Debug logging on stderr." };

        var check = new Command("check", "Validate the config and report every fault at once (exit 2), or 'config OK' with a summary; --connect also reaches the directory and Graph (exit 4 naming the one that failed). Reads nothing else and writes nothing.")
        {
            config, connect, logDir, verbose,
        };
        check.SetAction((parse, cancellationToken) =>
        {
            var path = parse.GetRequiredValue(config);
            var live = parse.GetValue(connect);
            return CommandExecution.RunAsync(console, parse.GetValue(logDir), parse.GetValue(verbose), (log, ct) => new ConfigCheck(console, log).RunAsync(path, live, ct), cancellationToken);
        });

        return new Command("config", "Work with the AuthSplit config file.") { check };
    }
}
