using System.CommandLine;
using AuthSplit.Cli.Configuration;
using AuthSplit.Core.Execution;

namespace AuthSplit.Cli.Execution;

/// <summary><c>authsplit pause|resume --config F --wave W</c>: a running wave stops between steps; a paused wave does not start.</summary>
public static class PauseCommands
{
    public static Command Pause(CliConsole console) => Create(console, "pause", paused: true,
        "Pause a wave: a run stops after the step in progress is journalled, and no run starts until resume.");

    public static Command Resume(CliConsole console) => Create(console, "resume", paused: false,
        "Lift a wave's pause (run it again, or let its schedule fire, to continue).");

    private static Command Create(CliConsole console, string name, bool paused, string description)
    {
        var config = ExecutionOptionsOnCommandLine.Config();
        var wave = ExecutionOptionsOnCommandLine.Wave();
        var by = ExecutionOptionsOnCommandLine.As();
        var logDir = ExecutionOptionsOnCommandLine.LogDir();
        var command = new Command(name, description) { config, wave, by, logDir };
        command.SetAction((parse, cancellationToken) => CommandExecution.RunAsync(console, parse.GetValue(logDir), false, async (log, ct) =>
        {
            var configPath = parse.GetRequiredValue(config);
            var options = ConfigLoader.Load(configPath, requireLiveSource: false, log);
            var waveName = parse.GetRequiredValue(wave);
            if (options.Waves.All(w => w.Name != waveName))
            {
                throw UnknownWave.Error(waveName, options.Waves.Select(w => w.Name), "config", configPath);
            }

            var who = OperatorName.Resolve(parse.GetValue(by), "--as");
            await using var state = await StateComposition.OpenAsync(options, configPath, ct);
            var current = await state.Store.GetPauseAsync(waveName, ct);
            if ((current?.Paused ?? false) == paused)
            {
                await console.Output.WriteLineAsync($"Wave {waveName} is already {(paused ? "paused" : "not paused")}; nothing changed.");
                return ExitCodes.Success;
            }

            await state.Store.SetPauseAsync(new WavePause(waveName, paused, who, TimeProvider.System.GetUtcNow()), ct);
            log.Information("Wave {Wave} {Action} by {Operator}", waveName, paused ? "paused" : "resumed", who);
            await console.Output.WriteLineAsync(paused
                ? $"Wave {waveName} paused by {who}: a run in progress stops after its current step; authsplit resume --config {configPath} --wave {waveName} lifts it."
                : $"Wave {waveName} resumed by {who}: run it again (authsplit run ... --wave {waveName}) or let its schedule fire.");
            return ExitCodes.Success;
        }, cancellationToken));
        return command;
    }
}
