using System.CommandLine;
using AuthSplit.Cli.Configuration;
using AuthSplit.Cli.Planning;
using AuthSplit.Core.Errors;
using AuthSplit.Core.Execution.Gates;

namespace AuthSplit.Cli.Execution;

/// <summary>
/// <c>authsplit gate password-sync --config F [--as NAME] [--wait S] [--poll S] [--despite-unfinished REASON]</c>:
/// the tenant-wide switch-off of password hash sync after the last wave, a manual gate the tool verifies
/// (<see cref="PasswordSyncGate"/>).
/// </summary>
public static class GateCommand
{
    public static Command Create(CliConsole console)
    {
        var config = ExecutionOptionsOnCommandLine.Config();
        var @as = ExecutionOptionsOnCommandLine.As();
        var logDir = ExecutionOptionsOnCommandLine.LogDir();
        var wait = ExecutionOptionsOnCommandLine.Wait("the switch-off to read back", "running the gate again keeps waiting");
        var poll = ExecutionOptionsOnCommandLine.Poll();
        var despite = new Option<string?>("--despite-unfinished") { Description = "Open the gate although waves are unfinished, for this recorded reason (who: --as)." };
        var passwordSync = new Command("password-sync", "After the last wave: tell the administrator how to switch the tenant's password hash sync off, then wait until Graph reads it off, and record it.") { config, @as, wait, poll, despite, logDir };
        passwordSync.SetAction((parse, cancellationToken) => CommandExecution.RunAsync(console, parse.GetValue(logDir), false, async (log, ct) =>
        {
            var configPath = parse.GetRequiredValue(config);
            var (waitFor, pollEvery) = ExecutionOptionsOnCommandLine.WaitAndPoll(parse, wait, poll);

            var reason = parse.GetValue(despite);
            if (reason is not null && string.IsNullOrWhiteSpace(reason))
            {
                throw new InputException("command-line", "--despite-unfinished needs the reason the gate must open anyway");
            }

            var options = ConfigLoader.Load(configPath, requireLiveSource: false, log);
            var target = options.Target
                ?? throw new InputException("target-missing", "the password-sync gate reads the tenant's synchronisation settings, and the config has no Target section: configure Target (the Graph connector)", configPath);
            var who = OperatorName.Resolve(parse.GetValue(@as), "--as");
            var waves = options.Waves.OrderBy(w => w.Order).Select(w => w.Name!).ToArray();
            await using var state = await StateComposition.OpenAsync(options, configPath, ct);
            using var adapters = new AdapterFactory(log) { SharedWriteBudget = state.SharedWriteBudgetFor(options) };
            var tenant = adapters.OpenTargetTenant(target);
            var gate = new PasswordSyncGate(state.Store, tenant, TimeProvider.System, Environment.MachineName);
            var request = new PasswordSyncGateRequest(waves, who, reason?.Trim(), waitFor, pollEvery, new Uri(target.BaseUrl ?? "https://graph.microsoft.com/"));
            var result = await gate.RunAsync(request, new SynchronousProgress(console.Output), ct);
            log.Information("Password-sync gate: {Outcome} ({Message}), run by {Operator}", result.Outcome, result.Message, who);
            switch (result.Outcome)
            {
                case PasswordSyncGateOutcome.Verified:
                    await console.Output.WriteLineAsync($"Gate password-sync: {result.Message} (by {who}).");
                    return ExitCodes.Success;
                case PasswordSyncGateOutcome.Refused:
                    await console.Error.WriteLineAsync($"refused: gate-refused: {result.Message}");
                    return ExitCodes.DependencyIncomplete;
                default:
                    await console.Error.WriteLineAsync($"not yet: gate-waiting: {result.Message}");
                    return ExitCodes.WaveUnfinished;
            }
        }, cancellationToken, () => "the gate's waiting is on record; run the same command again to keep waiting"));
        return new Command("gate", "Manual gates the tool verifies and records (a step only an administrator may take).") { passwordSync };
    }

    // Progress<T> posts to the thread pool: lines could interleave with the result line. This writes at once.
    private sealed class SynchronousProgress(TextWriter output) : IProgress<string>
    {
        public void Report(string value) => output.WriteLine(value);
    }
}
