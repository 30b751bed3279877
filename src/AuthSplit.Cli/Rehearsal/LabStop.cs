using AuthSplit.Core.Errors;
using AuthSplit.Lab.Servers;
using Serilog;

namespace AuthSplit.Cli.Rehearsal;

/// <summary>
/// <c>authsplit lab stop</c> and <c>lab status</c>. Stop signals only the processes lab.json names, and
/// each only while its PID still has the start time recorded (a PID the kernel gave to another program
/// since is left alone), then removes the runtime files; the config, state store, backup key and logs
/// stay unless <c>--purge</c>. Stopping a stopped lab is not an error.
/// </summary>
public sealed class LabStop(CliConsole console, ILogger log)
{
    public async Task<int> StopAsync(string directory, bool purge, CancellationToken cancellationToken)
    {
        var layout = new LabLayout(Path.GetFullPath(directory));
        if (File.Exists(layout.Directory))
        {
            throw new InputException("lab-dir", "is a file, not a lab's directory", layout.Directory);
        }

        if (!Directory.Exists(layout.Directory))
        {
            await console.Output.WriteLineAsync($"no lab in {layout.Directory}: nothing to stop");
            return ExitCodes.Success;
        }

        var runtime = LabRuntime.Read(layout.Directory);
        foreach (var server in runtime?.Servers ?? [])
        {
            var stopped = await DetachedProcess.StopAsync(server.Identity, TimeSpan.FromSeconds(10), cancellationToken);
            log.Information("Lab server {Name} pid {Pid}: {Outcome}", server.Name, server.Pid, stopped ? "stopped" : "was not running");
            await console.Output.WriteLineAsync(stopped ? $"stopped {server.Name} (pid {server.Pid})" : $"{server.Name} (pid {server.Pid}) was not running");
        }

        if (runtime is null)
        {
            await console.Output.WriteLineAsync($"no lab running in {layout.Directory}");
        }

        foreach (var runtimeDirectory in layout.RuntimeDirectories.Where(Directory.Exists))
        {
            Directory.Delete(runtimeDirectory, recursive: true);
        }

        foreach (var file in layout.RuntimeFiles.Where(File.Exists))
        {
            File.Delete(file);
        }

        if (purge)
        {
            foreach (var file in new[] { layout.Config, layout.BackupKeyFile, layout.StateStore, layout.StateStore + "-wal", layout.StateStore + "-shm", layout.StateStore + "-journal" }.Where(File.Exists))
            {
                File.Delete(file);
            }

            foreach (var folder in new[] { layout.Logs, layout.Secrets }.Where(Directory.Exists))
            {
                Directory.Delete(folder, recursive: true);
            }

            if (!Directory.EnumerateFileSystemEntries(layout.Directory).Any())
            {
                Directory.Delete(layout.Directory);
                await console.Output.WriteLineAsync($"purged: removed {layout.Directory}");
            }
            else
            {
                await console.Output.WriteLineAsync($"purged the lab's files; {layout.Directory} holds other files of yours, so it stays");
            }
        }
        else
        {
            await console.Output.WriteLineAsync($"kept in {layout.Directory}: the config, the state store, the backup key and the logs (lab stop --purge removes them)");
        }

        return ExitCodes.Success;
    }

    public async Task<int> StatusAsync(string directory)
    {
        var layout = new LabLayout(Path.GetFullPath(directory));
        var runtime = LabRuntime.Read(layout.Directory);
        if (runtime is null)
        {
            await console.Output.WriteLineAsync($"no lab running in {layout.Directory} (start one with: authsplit lab start)");
            return ExitCodes.ExternalFailure;
        }

        await console.Output.WriteLineAsync($"lab in {layout.Directory}, started {runtime.StartedAt:u}; config {layout.Config}");
        var allRunning = true;
        foreach (var server in runtime.Servers)
        {
            var running = server.Identity.IsRunning();
            var listening = running && ServerProcess.IsListening(server.Port);
            allRunning &= listening;
            var state = running ? listening ? "running" : "running, not answering on its port" : "not running";
            await console.Output.WriteLineAsync($"{server.Name,-15} pid {server.Pid,-8} port {server.Port,-6} {server.Url,-32} {state}");
        }

        if (!allRunning)
        {
            await console.Output.WriteLineAsync($"not every server runs: see the logs in {layout.Logs}; authsplit lab stop --dir {layout.Directory} and start again");
        }

        return allRunning ? ExitCodes.Success : ExitCodes.ExternalFailure;
    }
}
