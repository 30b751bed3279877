using AuthSplit.Core.Execution;
using AuthSplit.Core.Planning.Format;

namespace AuthSplit.Core.Tests.Execution;

/// <summary>
/// <c>Execution:RetryRounds</c>: entities a round leaves unfinished after a transient failure, or that met an
/// unreachable system, get further rounds in the same run; what outlasts them stops the run, resumable.
/// </summary>
public sealed class RetryRoundTests
{
    private static ExecutionScenario Three() => new ExecutionScenario().Person("akira").Person("yuki").Person("ken");

    [Fact]
    public async Task Throttling_that_outlasts_the_connectors_retries_is_finished_by_a_later_round_of_the_same_run()
    {
        var scenario = Three();
        scenario.Tenant.ThrottleNext(2);
        var progress = new Recorder();

        await scenario.ApproveAsync();
        var result = await scenario.RunAsync(progress: progress);

        result.Kind.Should().Be(WaveResultKind.Completed, result.Reason);
        scenario.Tenant.Changes.Should().HaveCount(3, "each person's source of authority changed once");
        scenario.Directory.Writes.Count(w => w.Operation == "delete").Should().Be(3);
        var akira = scenario.Journal("akira").Where(s => s.Step == StepAction.StopPasswordSync).ToArray();
        akira.Select(s => s.Outcome).Should().Equal(StepOutcome.Failed, StepOutcome.Done);
        akira.Select(s => s.Attempt).Should().Equal(1, 2);
        progress.Rounds.Should().Equal(1);
        progress.Retrying[0].Entities.Should().BeGreaterThan(0);
        progress.Retrying[0].Cause.Should().Contain("transient");
    }

    [Fact]
    public async Task A_tenant_unreachable_for_a_while_is_ridden_out_by_the_rounds_and_no_write_is_applied_twice()
    {
        var scenario = Three();
        scenario.Settings = scenario.Settings with { Concurrency = 2 };
        scenario.Tenant.UnreachableFor(2);
        var progress = new Recorder();

        await scenario.ApproveAsync();
        var result = await scenario.RunAsync(progress: progress);

        result.Kind.Should().Be(WaveResultKind.Completed, result.Reason);
        scenario.Directory.Entries.Where(e => e.Dn.EndsWith(ExecutionScenario.Hq, StringComparison.Ordinal) && e.Dn.StartsWith("uid=", StringComparison.Ordinal)).Should().BeEmpty();
        scenario.Directory.Writes.GroupBy(w => (w.Operation, w.Dn)).Should().OnlyContain(g => g.Count() == 1, "no write is applied twice");
        progress.Retrying.Should().NotBeEmpty().And.OnlyContain(r => r.Cause.StartsWith("unreachable:"));
    }

    [Fact]
    public async Task A_directory_that_stays_away_stops_the_run_after_its_last_round_saying_so()
    {
        var scenario = Three();
        scenario.Directory.Unreachable = true;
        var progress = new Recorder();

        await scenario.ApproveAsync();
        var result = await scenario.RunAsync(progress: progress);

        result.Kind.Should().Be(WaveResultKind.Interrupted);
        result.Reason.Should().StartWith("unreachable:").And.Contain("after 4 rounds");
        progress.Rounds.Should().Equal(1, 2, 3);
        result.Entities.GetValueOrDefault(EntityState.Failed).Should().Be(0, "an unreachable system fails no entity");
        scenario.Directory.Unreachable = false;

        var resumed = await scenario.RunAsync();

        resumed.Kind.Should().Be(WaveResultKind.Completed, resumed.Reason);
    }

    [Fact]
    public async Task An_entity_that_met_an_unreachable_tenant_before_its_first_record_does_not_take_two_delete_slots()
    {
        // Three deletes allowed, three people: a slot reserved by a turn that journalled nothing goes back,
        // or the third person would be refused by the budget in the next round.
        var scenario = Three();
        scenario.Planning.Options.Safety.MaxDeletesPerWave = 3;
        scenario.Tenant.UnreachableFor(1);

        var result = await scenario.ApproveAndRunAsync();

        result.Kind.Should().Be(WaveResultKind.Completed, result.Reason);
        result.Entities[EntityState.Done].Should().Be(3);
    }

    [Fact]
    public async Task No_round_is_given_when_retry_rounds_are_off()
    {
        var scenario = Three();
        scenario.Settings = scenario.Settings with { RetryRounds = 0 };
        scenario.Tenant.UnreachableFor(1);

        var result = await scenario.ApproveAndRunAsync();

        result.Kind.Should().Be(WaveResultKind.Interrupted);
        result.Reason.Should().StartWith("unreachable:").And.Contain("after 1 round of the run");
    }

    [Fact]
    public async Task Ctrl_C_during_the_wait_before_a_round_stops_the_run_as_interrupted_at_once()
    {
        var scenario = Three();
        scenario.Settings = scenario.Settings with { RetryRoundDelay = TimeSpan.FromMinutes(10) };
        scenario.Tenant.ThrottleNext(1);
        using var cancel = new CancellationTokenSource();
        var progress = new Recorder { OnRetrying = () => cancel.Cancel() };

        await scenario.ApproveAsync();
        var started = DateTime.UtcNow;
        var result = await scenario.RunAsync(progress: progress, cancellationToken: cancel.Token);

        (DateTime.UtcNow - started).Should().BeLessThan(TimeSpan.FromMinutes(5), "the ten-minute wait is cut short");
        result.Kind.Should().Be(WaveResultKind.Interrupted);
        result.Reason.Should().StartWith("cancelled:");
    }

    private sealed class Recorder : IProgress<WaveProgress>
    {
        private readonly List<RetryRound> _retrying = [];

        public Action? OnRetrying { get; init; }

        public IReadOnlyList<RetryRound> Retrying
        {
            get
            {
                lock (_retrying)
                {
                    return [.. _retrying];
                }
            }
        }

        public IReadOnlyList<int> Rounds => [.. Retrying.Select(r => r.Round)];

        public void Report(WaveProgress value)
        {
            if (value.Retrying is { } round)
            {
                lock (_retrying)
                {
                    if (_retrying.Count > 0 && _retrying[^1] == round)
                    {
                        return;
                    }

                    _retrying.Add(round);
                }

                OnRetrying?.Invoke();
            }
        }
    }
}
