using AuthSplit.Core.Execution;
using AuthSplit.Scheduling.Hosting;
using AuthSplit.Scheduling.Jobs;
using Microsoft.Extensions.DependencyInjection;
using Quartz;

namespace AuthSplit.Scheduling.Tests;

public sealed class WaveJobTests
{
    private static readonly WaveRunRequest Run = new(Waves.PlanId, Waves.Wave, Waves.Operator);

    [Fact]
    public async Task The_job_hands_the_plan_id_wave_and_operator_to_the_execution_not_recovering()
    {
        var execution = new FakeWaveExecution();
        using var host = Waves.Host(Waves.NewDatabase(), Waves.NewInstanceName(), services => services.AddSingleton<IWaveExecution>(execution));

        await host.RunWaveAsync(Run, CancellationToken.None);

        execution.Calls.Should().ContainSingle().Which.Request.Should().Be(new WaveJobRequest(Waves.PlanId, Waves.Wave, Waves.Operator, Recovering: false));
    }

    [Fact]
    public async Task A_foreground_run_returns_the_executions_wave_result()
    {
        var expected = new WaveResult
        {
            Kind = WaveResultKind.CompletedWithFailures,
            PlanId = Waves.PlanId,
            Wave = Waves.Wave,
            Entities = new Dictionary<EntityState, int> { [EntityState.Done] = 7, [EntityState.Failed] = 2 },
            Reason = "two entities failed",
        };
        var execution = new FakeWaveExecution { Behaviour = (_, _, _) => Task.FromResult(expected) };
        using var host = Waves.Host(Waves.NewDatabase(), Waves.NewInstanceName(), services => services.AddSingleton<IWaveExecution>(execution));

        var result = await host.RunWaveAsync(Run, CancellationToken.None).WaitAsync(Waves.Patience);

        result.Should().BeSameAs(expected);
    }

    [Fact]
    public async Task A_stop_during_a_foreground_run_cancels_the_executions_token_and_the_wave_is_not_fired_again()
    {
        var database = Waves.NewDatabase();
        var instance = Waves.NewInstanceName();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var execution = new FakeWaveExecution
        {
            Behaviour = async (_, token, _) =>
            {
                started.TrySetResult();
                await Task.Delay(Timeout.InfiniteTimeSpan, token); // a step that only ends when told to stop
                throw new InvalidOperationException("not reached");
            },
        };
        using (var host = Waves.Host(database, instance, services => services.AddSingleton<IWaveExecution>(execution)))
        {
            using var stop = new CancellationTokenSource();
            var run = host.RunWaveAsync(Run, stop.Token);
            await started.Task.WaitAsync(Waves.Patience);

            await stop.CancelAsync();
            var result = await run.WaitAsync(Waves.Patience);

            result.Kind.Should().Be(WaveResultKind.Interrupted);
            execution.Calls.Should().ContainSingle().Which.Token.IsCancellationRequested.Should().BeTrue();
        }

        // A new process on the same store fires nothing: the journal, not a refire, resumes the wave.
        var later = new FakeWaveExecution();
        using var next = Waves.Host(database, instance, services => services.AddSingleton<IWaveExecution>(later));
        await next.StartAsync();
        var scheduler = await next.Services.GetRequiredService<ISchedulerFactory>().GetScheduler();
        (await scheduler.GetTriggersOfJob(WaveJobKeys.Job(Waves.PlanId, Waves.Wave))).Should().BeEmpty();
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        await next.StopAsync();
        later.Calls.Should().BeEmpty();
        execution.Calls.Should().ContainSingle();
    }

    [Fact]
    public async Task A_served_wave_stopped_by_shutdown_is_resumed_as_recovering_when_a_scheduler_starts_again()
    {
        var database = Waves.NewDatabase();
        var instance = Waves.NewInstanceName();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var execution = new FakeWaveExecution
        {
            Behaviour = async (request, token, _) =>
            {
                started.TrySetResult();
                try
                {
                    await Task.Delay(Timeout.InfiniteTimeSpan, token);
                }
                catch (OperationCanceledException)
                {
                    // The executor's way: stop between steps and say so.
                }

                return Waves.Result(request, WaveResultKind.Interrupted);
            },
        };
        using (var host = Waves.Host(database, instance, services => services.AddSingleton<IWaveExecution>(execution)))
        {
            await host.StartAsync();
            await host.Services.GetRequiredService<IWaveScheduler>().ScheduleAsync(Waves.PlanId, Waves.Wave, Waves.Operator, TimeProvider.System.GetUtcNow(), CancellationToken.None);
            await started.Task.WaitAsync(Waves.Patience);

            await host.StopAsync(); // SIGTERM under `serve`
        }

        execution.Calls.Should().ContainSingle().Which.Token.IsCancellationRequested.Should().BeTrue();
        var later = new FakeWaveExecution();
        using var next = Waves.Host(database, instance, services => services.AddSingleton<IWaveExecution>(later));
        await next.StartAsync();
        await later.WaitForCallsAsync(1, Waves.Patience);
        await next.StopAsync();

        later.Calls.Should().ContainSingle().Which.Request.Should().Be(new WaveJobRequest(Waves.PlanId, Waves.Wave, Waves.Operator, Recovering: true) { MayPartition = true });
    }

    [Fact]
    public async Task A_transient_exception_is_fired_again_and_the_run_returns_once_it_succeeds()
    {
        var execution = new FakeWaveExecution
        {
            Behaviour = (request, _, call) => call < 3
                ? throw new TransientFault("the store was busy")
                : Task.FromResult(Waves.Result(request, WaveResultKind.Completed)),
        };
        using var host = Waves.Host(Waves.NewDatabase(), Waves.NewInstanceName(), services => services.AddSingleton<IWaveExecution>(execution));

        var result = await host.RunWaveAsync(Run, CancellationToken.None).WaitAsync(Waves.Patience);

        result.Kind.Should().Be(WaveResultKind.Completed);
        execution.Calls.Should().HaveCount(3);
    }

    [Fact]
    public async Task A_transient_exception_is_fired_again_up_to_the_limit_and_then_the_run_fails()
    {
        var execution = new FakeWaveExecution { Behaviour = (_, _, _) => throw new TransientFault("the directory keeps failing") };
        using var host = Waves.Host(
            Waves.NewDatabase(), Waves.NewInstanceName(), services => services.AddSingleton<IWaveExecution>(execution),
            job => { job.MaxRefires = 2; job.RefireDelay = TimeSpan.Zero; });

        var run = () => host.RunWaveAsync(Run, CancellationToken.None).WaitAsync(Waves.Patience);

        (await run.Should().ThrowAsync<WaveJobFailedException>()).Which.InnerException.Should().BeOfType<TransientFault>();
        execution.Calls.Should().HaveCount(3, "the first firing and two refires");
    }

    [Fact]
    public async Task Without_a_wave_execution_the_wave_is_unscheduled_and_the_run_fails_naming_the_missing_service()
    {
        var database = Waves.NewDatabase();
        var instance = Waves.NewInstanceName();
        using (var host = Waves.Host(database, instance))
        {
            // A later time for the same wave, which the misconfiguration must remove too.
            await host.Services.GetRequiredService<IWaveScheduler>().ScheduleAsync(Waves.PlanId, Waves.Wave, Waves.Operator, TimeProvider.System.GetUtcNow().AddHours(2), CancellationToken.None);

            var run = () => host.RunWaveAsync(Run, CancellationToken.None).WaitAsync(Waves.Patience);

            (await run.Should().ThrowAsync<WaveJobFailedException>()).WithMessage("*IWaveExecution*");
        }

        using var next = Waves.Host(database, instance);
        var left = await next.Services.GetRequiredService<IWaveScheduler>().ListAsync(CancellationToken.None);
        string.Join(";", left).Should().BeEmpty("a wave that cannot run here is taken off the schedule");
    }

    [Fact]
    public async Task A_holding_wave_is_fired_again_when_its_first_hold_expires()
    {
        var execution = new FakeWaveExecution
        {
            Behaviour = (request, _, call) => Task.FromResult(Waves.Result(request, call == 1 ? WaveResultKind.Holding : WaveResultKind.Completed)),
        };
        var holdUntil = TimeProvider.System.GetUtcNow().AddSeconds(2);
        using var host = Waves.Host(Waves.NewDatabase(), Waves.NewInstanceName(), services =>
        {
            services.AddSingleton<IWaveExecution>(execution);
            services.AddSingleton<IWaveHolds>(new FakeWaveHolds(holdUntil));
        });
        await host.StartAsync();
        var waves = host.Services.GetRequiredService<IWaveScheduler>();
        await waves.ScheduleAsync(Waves.PlanId, Waves.Wave, Waves.Operator, TimeProvider.System.GetUtcNow(), CancellationToken.None);

        await execution.WaitForCallsAsync(1, Waves.Patience);
        await WaitUntilAsync(async () => (await waves.ListAsync(CancellationToken.None)).Any(scheduled => scheduled.Kind == ScheduledWaveKind.HoldExpiry));
        (await waves.ListAsync(CancellationToken.None)).Should().ContainSingle()
            .Which.Should().BeEquivalentTo(new { Kind = ScheduledWaveKind.HoldExpiry, At = holdUntil, Operator = Waves.Operator });
        await execution.WaitForCallsAsync(2, Waves.Patience);
        await host.StopAsync();

        execution.Calls[1].At.Should().BeOnOrAfter(holdUntil.AddMilliseconds(-50), "the held entities are finished when the hold expires, not before");
        execution.Calls[1].Request.Should().Be(new WaveJobRequest(Waves.PlanId, Waves.Wave, Waves.Operator, Recovering: false) { MayPartition = true });
    }

    internal static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        using var deadline = new CancellationTokenSource(Waves.Patience);
        while (!await condition())
        {
            await Task.Delay(50, deadline.Token);
        }
    }
}
