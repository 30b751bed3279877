using System.CommandLine;

namespace AuthSplit.Cli.Demo;

/// <summary><c>authsplit demo</c>: the whole tool, end to end, on a synthetic company in a private lab.</summary>
public static class DemoCommand
{
    public static Command Create(CliConsole console)
    {
        var size = new Option<int>("--size") { Description = "About how many people the company has (at least 60).", DefaultValueFactory = _ => 5000 };
        var seed = new Option<int>("--seed") { Description = "The company's seed: the same size and seed give the same company, byte for byte.", DefaultValueFactory = _ => 2024 };
        var dir = new Option<string?>("--dir") { Description = "A new or empty directory for the exports, the lab, the plans, the evidence and the logs (default: a fresh one under the system's temporary directory, printed)." };
        var keep = new Option<bool>("--keep") { Description = "Leave the lab running after a successful demo (authsplit lab stop --dir DIR/lab stops it)." };
        var logDir = new Option<string?>("--log-dir") { Description = "Directory for the demo's own structured log files (default: $AUTHSPLIT_LOG_DIR or ~/.local/state/authsplit/logs); the commands it runs log under DIR/logs." };
        var command = new Command("demo", "Generate a group company that shares its directory with a former partner, start a lab with it, and run the whole separation: dry-run plan, decisions, approval, the three waves (surviving a directory restart and an interrupted run), systems cut over, the password-sync gate, evidence verified three ways. Exit 0 only if every check held (17 otherwise); everything it started is stopped, also on Ctrl+C.")
        {
            size, seed, dir, keep, logDir,
        };
        command.SetAction((parse, cancellationToken) =>
        {
            var request = new DemoRequest(parse.GetValue(size), parse.GetValue(seed), parse.GetValue(dir), parse.GetValue(keep));
            return CommandExecution.RunAsync(console, parse.GetValue(logDir), false, (log, ct) =>
            {
                if (request.Size < 60)
                {
                    throw new Core.Errors.InputException("demo-size", $"--size {request.Size}: the company needs at least 60 people (three waves with their administrators, systems and blocked cases)");
                }

                return new DemoRun(console, log).RunAsync(request, ct);
            }, cancellationToken, () => "the lab the demo started is stopped; what it wrote stays in its directory");
        });
        return command;
    }
}
