using AuthSplit.Core.Execution;
using AuthSplit.Scheduling.Jobs;
using Microsoft.Extensions.DependencyInjection;

namespace AuthSplit.Scheduling.Tests;

/// <summary>
/// A node runs at most <c>Execution:PartsPerNode</c> parts of one wave at once (a limit on the wave's parts trigger group): the node that fans a wave out
/// must not take every part before the other nodes poll (measured before: one node did all four parts).
/// </summary>
public sealed class WavePartsPerNodeTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task A_node_runs_no_more_parts_of_a_wave_at_once_than_its_limit_and_the_others_wait_for_room(int partsPerNode)
    {
        const int parts = 4;
        var running = 0;
        var mostAtOnce = 0;
        var gate = new object();
        var execution = new FakeWaveExecution
        {
            Behaviour = async (request, cancellationToken, _) =>
            {
                if (request.Partition is null)
                {
                    return Waves.Result(request, WaveResultKind.Partitioned) with { Partitions = parts };
                }

                lock (gate)
                {
                    running++;
                    mostAtOnce = Math.Max(mostAtOnce, running);
                }

                try
                {
                    // Long enough for the scheduler thread to have tried every free thread on the waiting parts.
                    await Task.Delay(TimeSpan.FromMilliseconds(700), cancellationToken);
                    return Waves.Result(request, WaveResultKind.PartEnded);
                }
                finally
                {
                    lock (gate)
                    {
                        running--;
                    }
                }
            },
        };

        using var host = Waves.Host(Waves.NewDatabase(), Waves.NewInstanceName(), services => services.AddSingleton<IWaveExecution>(execution), partsPerNode: partsPerNode);
        await host.StartAsync();
        await host.Services.GetRequiredService<IWaveScheduler>().ScheduleAsync(Waves.PlanId, Waves.Wave, Waves.Operator, TimeProvider.System.GetUtcNow(), CancellationToken.None);
        await execution.WaitForCallsAsync(1 + parts, Waves.Patience);
        await Task.Delay(800);
        await host.StopAsync();

        execution.Calls.Select(call => call.Request.Partition?.Index).Should().BeEquivalentTo(new int?[] { null, 0, 1, 2, 3 }, "the head fanned out and every part ran once");
        mostAtOnce.Should().Be(partsPerNode, "the node took parts up to its limit and no further; the rest waited for room");
    }

    [Fact]
    public void Each_wave_has_a_parts_trigger_group_of_its_own_that_fits_quartz_column()
    {
        WaveJobKeys.PartsTriggerGroup("p", "a").Should().Be(WaveJobKeys.PartsTriggerGroupPrefix + "p/a");
        WaveJobKeys.PartsTriggerGroup("p", "a").Should().NotBe(WaveJobKeys.PartsTriggerGroup("p", "b"));
        var longWave = new string('w', 250);
        var hashed = WaveJobKeys.PartsTriggerGroup("p", longWave);
        hashed.Length.Should().BeLessThanOrEqualTo(200);
        hashed.Should().StartWith(WaveJobKeys.PartsTriggerGroupPrefix).And.NotBe(WaveJobKeys.PartsTriggerGroup("p", longWave + "x"));
    }
}
