using AuthSplit.Core.Execution;
using AuthSplit.Scheduling;
using AuthSplit.Scheduling.Hosting;
using AuthSplit.Scheduling.Jobs;
using AuthSplit.Scheduling.Store;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

// The process the SIGKILL test kills: hosts the scheduler on a SQLite file and runs one wave whose
// execution writes "start" and "step N" lines to a file, slowly.
//   schedule <db> <log> <plan> <wave>   schedules the wave now and serves
//   serve <db> <log> <plan> <wave>      serves (after a kill: what Quartz recovers)
//   serve-journal <db> <log> <plan> <wave>   serves, and answers IUnfinishedWaves from the log file (the journal's stand-in)
//   run <db> <log> <plan> <wave>        a foreground run (`authsplit run`): exits when its own firing ends
//   schedule-only <db> <log> <plan> <wave>   schedules the wave a second from now and exits without starting a scheduler (`authsplit schedule`)
// Otherwise it exits 0 once the wave has run to its end.
if (args.Length != 5)
{
    Console.Error.WriteLine("usage: schedule|serve|serve-journal|run|schedule-only <db> <log> <plan> <wave>");
    return 2;
}

var (mode, db, log, plan, wave) = (args[0], args[1], args[2], args[3], args[4]);
var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
builder.Services.AddWaveScheduling(new SchedulerStoreOptions { SqlitePath = db }, job => job.RefireDelay = TimeSpan.Zero);
builder.Services.AddWaveSchedulerHost();
builder.Services.AddSingleton(new SlowWave(log));
builder.Services.AddSingleton<IWaveExecution>(provider => provider.GetRequiredService<SlowWave>());
if (mode == "serve-journal")
{
    builder.Services.AddSingleton<IUnfinishedWaves>(new LogFileJournal(log, plan, wave));
}

using var host = builder.Build();
if (mode == "schedule-only")
{
    await host.Services.GetRequiredService<IWaveScheduler>().ScheduleAsync(plan, wave, "crash-test", TimeProvider.System.GetUtcNow().AddSeconds(1), CancellationToken.None);
    return 0;
}

var slow = host.Services.GetRequiredService<SlowWave>();
if (mode == "run")
{
    var result = await host.RunWaveAsync(new WaveRunRequest(plan, wave, "crash-test"), CancellationToken.None);
    Console.WriteLine($"run ended {result.Kind}");
    return result.Kind == WaveResultKind.Completed ? 0 : 1;
}

if (mode == "schedule")
{
    await host.Services.GetRequiredService<IWaveScheduler>().ScheduleAsync(plan, wave, "crash-test", TimeProvider.System.GetUtcNow(), CancellationToken.None);
}

await host.StartAsync();
await host.Services.GetRequiredService<UnfinishedWaveCheck>().ResumeAsync(CancellationToken.None);
await slow.Finished.WaitAsync(TimeSpan.FromSeconds(60));
await host.StopAsync();
return 0;

internal sealed class SlowWave(string log) : IWaveExecution
{
    private readonly TaskCompletionSource finished = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task Finished => finished.Task;

    public async Task<WaveResult> ExecuteAsync(WaveJobRequest request, CancellationToken cancellationToken)
    {
        Append($"start recovering={request.Recovering} operator={request.Operator} pid={Environment.ProcessId}");
        for (var step = 1; step <= 10; step++)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(150), cancellationToken);
            Append($"step {step}");
        }

        Append("done");
        finished.TrySetResult();
        return new WaveResult { Kind = WaveResultKind.Completed, PlanId = request.PlanId, Wave = request.Wave, Entities = new Dictionary<EntityState, int> { [EntityState.Done] = 10 } };
    }

    private void Append(string line)
    {
        using var stream = new FileStream(log, FileMode.Append, FileAccess.Write, FileShare.ReadWrite);
        using var writer = new StreamWriter(stream);
        writer.WriteLine(line);
        writer.Flush();
        stream.Flush(flushToDisk: true);
    }
}

/// <summary>The journal's stand-in: a run that logged "start" and no "done" after it was left running.</summary>
internal sealed class LogFileJournal(string log, string plan, string wave) : IUnfinishedWaves
{
    public Task<IReadOnlyList<UnfinishedWave>> ListAsync(CancellationToken cancellationToken)
    {
        var lines = File.Exists(log) ? File.ReadAllLines(log) : [];
        var running = lines.Length > 0 && Array.FindLastIndex(lines, line => line.StartsWith("start", StringComparison.Ordinal)) > Array.FindLastIndex(lines, line => line == "done");
        return Task.FromResult<IReadOnlyList<UnfinishedWave>>(running ? [new UnfinishedWave(plan, wave, "crash-test")] : []);
    }
}
