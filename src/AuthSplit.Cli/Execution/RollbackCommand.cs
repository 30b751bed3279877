using System.CommandLine;
using AuthSplit.Cli.Configuration;
using AuthSplit.Cli.Planning;
using AuthSplit.Core.Errors;
using AuthSplit.Core.Execution.Rollback;
using AuthSplit.Core.Planning.Format;

namespace AuthSplit.Cli.Execution;

/// <summary>
/// <c>authsplit rollback --config F --entity ID [--as NAME] [--wait S] [--poll S]</c>: undoes a wave's work on a
/// person whose legacy entry still exists (account re-enabled from its backup, moved back from quarantine,
/// source of authority switched back by Entra's sequence), or on a system (<c>--entity system:ID</c>: its
/// legacy accounts re-enabled from their backups); every action recorded in the ledger (<see cref="EntityRollback"/>).
/// </summary>
public static class RollbackCommand
{
    public static Command Create(CliConsole console)
    {
        var config = ExecutionOptionsOnCommandLine.Config();
        var entity = new Option<string>("--entity", "-e") { Description = "The person's id as the plan and status give it (entryUUID or objectGUID), or system:ID for a system.", Required = true };
        var @as = ExecutionOptionsOnCommandLine.As();
        var logDir = ExecutionOptionsOnCommandLine.LogDir();
        var wait = ExecutionOptionsOnCommandLine.Wait("the administrator's switch of the tenant's hard-match takeover block and for the sync cycle", "running the rollback again keeps going");
        var poll = ExecutionOptionsOnCommandLine.Poll();
        var command = new Command("rollback", "Undo a wave's work on a person before its legacy delete (re-enable from the backup, move back, switch the source of authority back), or on a system (system:ID: re-enable its legacy accounts); recorded in the ledger.") { config, entity, @as, wait, poll, logDir };
        command.SetAction((parse, cancellationToken) => CommandExecution.RunAsync(console, parse.GetValue(logDir), false, async (log, ct) =>
        {
            var configPath = parse.GetRequiredValue(config);
            var (waitFor, pollEvery) = ExecutionOptionsOnCommandLine.WaitAndPoll(parse, wait, poll);

            var entityId = parse.GetRequiredValue(entity).Trim();
            if (entityId.Length == 0 || entityId == EntityRollback.SystemPrefix)
            {
                throw new InputException("command-line", "--entity needs a person's id or system:ID");
            }

            var options = ConfigLoader.Load(configPath, requireLiveSource: true, log);
            var who = OperatorName.Resolve(parse.GetValue(@as), "--as");
            var waves = options.Waves.OrderBy(w => w.Order).Select(w => w.Name!).ToArray();
            await using var state = await StateComposition.OpenAsync(options, configPath, ct);
            using var adapters = new AdapterFactory(log) { SharedWriteBudget = state.SharedWriteBudgetFor(options) };
            var writer = adapters.OpenLegacyWriter(options.Source, options.Execution);
            var tenant = options.Target is { } target ? adapters.OpenTargetTenant(target) : null;
            var rollback = new EntityRollback(state.Store, writer, tenant, options.Source.Dialect, TimeProvider.System, Environment.MachineName);
            var request = new RollbackRequest(entityId, who, waves, waitFor, pollEvery, new Uri(options.Target?.BaseUrl ?? "https://graph.microsoft.com/"));
            var result = await rollback.RunAsync(request, new SynchronousProgress(console.Output), ct);
            log.Information("Rollback of {EntityId}: {Outcome} {Code} ({Message}), run by {Operator}", entityId, result.Outcome, result.Code, result.Message, who);
            switch (result.Outcome)
            {
                case RollbackOutcome.RolledBack:
                    await console.Output.WriteLineAsync($"Rolled back: {result.Message} (by {who}).");
                    return ExitCodes.Success;
                case RollbackOutcome.Refused:
                    await console.Error.WriteLineAsync($"refused: {result.Code}: {PrintableText.Escape(result.Message)}");
                    return result.Code == Core.Execution.ReasonCodes.NoBackup ? ExitCodes.BadInput : ExitCodes.Refused;
                case RollbackOutcome.Waiting:
                    await console.Error.WriteLineAsync($"not yet: {result.Code}: {result.Message}");
                    return ExitCodes.WaveUnfinished;
                default:
                    await console.Error.WriteLineAsync($"failed: {result.Code}: {result.Message}");
                    return ExitCodes.ExternalFailure;
            }
        }, cancellationToken, () => "what the rollback did is on record; run the same command again to continue"));
        return command;
    }

    // Progress<T> posts to the thread pool: lines could interleave with the result line. This writes at once.
    private sealed class SynchronousProgress(TextWriter output) : IProgress<string>
    {
        public void Report(string value) => output.WriteLine(value);
    }
}
