using System.Text;
using AuthSplit.Cli.Output;
using AuthSplit.Cli.Rehearsal;
using AuthSplit.Lab.Servers;

namespace AuthSplit.Cli.Demo;

/// <summary>
/// The demo's injected fault: the lab's slapd stopped under a running wave and started again a few seconds
/// later, with the same program, arguments (ports, config) and data, as a directory restart looks to its
/// clients. The new PID goes into the lab's lab.json at once, so <c>lab stop</c> (and the demo's own clean-up
/// on Ctrl+C) stops the restarted server, never a stale PID. Not cancellable once begun: a restart half done
/// would leave the lab without its directory.
/// </summary>
public static class DirectoryRestart
{
    public sealed record Outcome(int OldPid, int NewPid, int Port, TimeSpan Down);

    public static async Task<Outcome> RestartSlapdAsync(string labDirectory, TimeSpan down)
    {
        var runtime = LabRuntime.Read(labDirectory) ?? throw new InvalidOperationException($"no lab runs in {labDirectory}");
        var slapd = runtime.Servers.Single(s => s.Name == "slapd");
        var commandLine = ReadCommandLine(slapd.Pid);
        if (commandLine.Count == 0 || !slapd.Identity.IsRunning())
        {
            throw new InvalidOperationException($"slapd (pid {slapd.Pid}) is not running");
        }

        var clock = System.Diagnostics.Stopwatch.StartNew();
        await DetachedProcess.StopAsync(slapd.Identity, TimeSpan.FromSeconds(10), CancellationToken.None);
        await Task.Delay(down, CancellationToken.None);
        for (var attempt = 1; ; attempt++)
        {
            var process = ServerProcess.StartDetached(commandLine[0], commandLine.Skip(1), slapd.Log);
            var identity = ProcessIdentity.Of(process.Pid);
            if (identity is not null)
            {
                // Recorded before waiting for it to listen: whatever happens next, lab stop finds this process.
                var record = slapd with { Pid = identity.Pid, StartTicks = identity.StartTicks, BootId = identity.BootId };
                Write(labDirectory, runtime with { Servers = [.. runtime.Servers.Select(s => s.Name == "slapd" ? record : s)] });
            }

            try
            {
                await process.WaitForPortAsync(slapd.Port, TimeSpan.FromSeconds(20), $"slapd (pid {process.Pid})", CancellationToken.None);
                var pid = process.Pid;
                process.Detach();
                return new Outcome(slapd.Pid, pid, slapd.Port, clock.Elapsed);
            }
            catch (LabServerException) when (attempt < 10 && process.RecentOutput.Contains("Address already in use", StringComparison.Ordinal))
            {
                // The old server's sockets may linger a moment; the port must stay the same.
                await process.DisposeAsync();
                await Task.Delay(300, CancellationToken.None);
            }
            catch
            {
                await process.DisposeAsync();
                throw;
            }
        }
    }

    private static List<string> ReadCommandLine(int pid)
    {
        try
        {
            var bytes = File.ReadAllBytes($"/proc/{pid}/cmdline");
            return [.. Encoding.UTF8.GetString(bytes).Split('\0', StringSplitOptions.RemoveEmptyEntries)];
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    private static void Write(string labDirectory, LabRuntime runtime)
    {
        var path = LabRuntime.PathIn(labDirectory);
        var temporary = AtomicFile.TemporaryFor(path);
        try
        {
            using (var stream = AtomicFile.CreateTemporary(temporary))
            {
                stream.Write(runtime.ToBytes());
                stream.Flush(flushToDisk: true);
            }

            File.Move(temporary, path, overwrite: true);
        }
        finally
        {
            AtomicFile.Discard(temporary);
        }
    }
}
