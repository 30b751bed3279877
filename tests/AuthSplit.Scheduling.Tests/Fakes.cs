using System.Collections.Concurrent;
using AuthSplit.Core.Execution;
using AuthSplit.Scheduling.Hosting;
using AuthSplit.Scheduling.Jobs;
using AuthSplit.Scheduling.Store;
using AuthSplit.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace AuthSplit.Scheduling.Tests;

/// <summary>The wave execution port, answering what each test tells it and recording every call.</summary>
internal sealed class FakeWaveExecution : IWaveExecution
{
    private readonly ConcurrentQueue<(WaveJobRequest Request, CancellationToken Token, DateTimeOffset At)> calls = new();

    public Func<WaveJobRequest, CancellationToken, int, Task<WaveResult>> Behaviour { get; set; } =
        (request, _, _) => Task.FromResult(Waves.Result(request, WaveResultKind.Completed));

    public IReadOnlyList<(WaveJobRequest Request, CancellationToken Token, DateTimeOffset At)> Calls => [.. calls];

    public async Task<WaveResult> ExecuteAsync(WaveJobRequest request, CancellationToken cancellationToken)
    {
        calls.Enqueue((request, cancellationToken, TimeProvider.System.GetUtcNow()));
        var call = calls.Count;
        return await Behaviour(request, cancellationToken, call);
    }

    /// <summary>Waits until the execution has been called <paramref name="count"/> times in all.</summary>
    public async Task WaitForCallsAsync(int count, TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        while (calls.Count < count)
        {
            await Task.Delay(20, deadline.Token);
        }
    }
}

internal sealed class FakeUnfinishedWaves(params UnfinishedWave[] waves) : IUnfinishedWaves
{
    public Task<IReadOnlyList<UnfinishedWave>> ListAsync(CancellationToken cancellationToken) => Task.FromResult<IReadOnlyList<UnfinishedWave>>(waves);
}

internal sealed class FakeWaveHolds(DateTimeOffset? until) : IWaveHolds
{
    public Task<DateTimeOffset?> EarliestHoldUntilAsync(string planId, string wave, CancellationToken cancellationToken) => Task.FromResult(until);
}

internal sealed class TransientFault(string message) : Exception(message);

internal static class Waves
{
    public const string PlanId = "sha256:0f0e0d0c0b0a";
    public const string Wave = "wave-1";
    public const string Operator = "ops-night";

    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    public static WaveResult Result(WaveJobRequest request, WaveResultKind kind, int done = 3) => new()
    {
        Kind = kind,
        PlanId = request.PlanId,
        Wave = request.Wave,
        Entities = new Dictionary<EntityState, int> { [EntityState.Done] = done },
    };

    public static string NewDatabase() => Path.Combine(TestPaths.NewWorkDirectory(), "authsplit-state.db");

    /// <summary>
    /// A host as the CLI builds one for <c>run</c>/<c>serve</c>. Each test gets a scheduler name of its
    /// own (Quartz keeps schedulers by name per process); a restart in the same test reuses it.
    /// </summary>
    public static IHost Host(string database, string instanceName, Action<IServiceCollection>? services = null, Action<WaveJobOptions>? job = null, int partsPerNode = SchedulerStoreDefaults.PartsPerNode)
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddWaveScheduling(
            new SchedulerStoreOptions { SqlitePath = database, InstanceName = instanceName, PartsPerNode = partsPerNode },
            job ?? (options => options.RefireDelay = TimeSpan.Zero));
        builder.Services.AddWaveSchedulerHost();
        services?.Invoke(builder.Services);
        return builder.Build();
    }

    public static string NewInstanceName() => "authsplit-test-" + Guid.NewGuid().ToString("N")[..8];
}
