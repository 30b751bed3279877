using AuthSplit.Core.Errors;
using AuthSplit.Core.Execution;
using AuthSplit.Core.Execution.Cluster;
using AuthSplit.Testing.Execution;

namespace AuthSplit.Core.Tests.Execution.Cluster;

/// <summary>
/// The wave's lease as the executor uses it: taken before anything is registered or written, asked before
/// every write, given back at the end; a run that finds it lost writes nothing more.
/// </summary>
public sealed class WaveLeaseTests
{
    private static ExecutionScenario Three() => new ExecutionScenario().Person("akira").Person("yuki").Person("ken");

    [Fact]
    public async Task A_wave_another_process_holds_is_refused_on_record_and_nothing_is_written()
    {
        var scenario = Three();
        var planId = await scenario.ApproveAsync();
        var other = await scenario.Store.TryAcquireLeaseAsync(LeaseKey.ForWave(planId, "hq"), "node-b/4242", TimeSpan.FromMinutes(5), CancellationToken.None);

        var result = await scenario.RunAsync();

        result.Kind.Should().Be(WaveResultKind.Refused);
        result.Refusal!.Code.Should().Be(ExecutionRefusalCode.WaveHeldElsewhere);
        result.Refusal.Message.Should().Contain("node-b/4242").And.Contain("nothing was written");
        result.LeaseHeldUntil.Should().Be(other.Grant!.ExpiresAt);
        scenario.Directory.Writes.Should().BeEmpty();
        scenario.Tenant.Changes.Should().BeEmpty();
        scenario.Store.Steps.Should().BeEmpty();
        (await scenario.Store.GetWaveAsync(planId, "hq", CancellationToken.None)).Should().BeNull("the refused run did not start the wave");
        scenario.Store.Ledger.Should().Contain(r => r.Kind == LedgerKind.WaveRefused && r.Data!.Contains("node-b/4242", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_lease_is_given_back_at_the_end_so_another_process_may_run_the_wave_at_once()
    {
        var scenario = Three();
        var planId = await scenario.ApproveAsync();

        var result = await scenario.RunAsync();

        result.Kind.Should().Be(WaveResultKind.Completed, result.Reason);
        var lease = (await scenario.Store.GetLeasesAsync(CancellationToken.None)).Should().ContainSingle().Subject;
        lease.Holder.Should().Be(scenario.Settings.LeaseHolder);
        lease.ReleasedAt.Should().NotBeNull();
        (await scenario.Store.TryAcquireLeaseAsync(LeaseKey.ForWave(planId, "hq"), "node-b/1", TimeSpan.FromMinutes(1), CancellationToken.None)).Grant.Should().NotBeNull();
    }

    [Fact]
    public async Task A_run_paused_past_its_lease_writes_nothing_after_waking_and_leaves_the_wave_to_the_holder()
    {
        var scenario = Three();
        var planId = await scenario.ApproveAsync();
        var paused = false;
        scenario.Directory.BeforeOperation = (operation, _) =>
        {
            if (operation == "delete" && !paused)
            {
                // The process froze in the middle of its first delete for longer than the lease is trusted.
                paused = true;
                scenario.Clock.Advance(scenario.Settings.Lease.TrustedFor + TimeSpan.FromSeconds(1));
            }
        };

        var result = await scenario.RunAsync();

        result.Kind.Should().Be(WaveResultKind.Interrupted);
        result.Reason.Should().Contain("ran out before this node").And.Contain("stops writing");
        scenario.Directory.Writes.Count(w => w.Operation == "delete").Should().Be(1, "the delete in flight when it froze went out; nothing after it");
        var writesAfterWaking = scenario.Directory.Writes.SkipWhile(w => w.Operation != "delete").Skip(1);
        writesAfterWaking.Should().BeEmpty();
        scenario.Entity("ken").State.Should().Be(EntityState.Pending);
        (await scenario.Store.GetWaveAsync(planId, "hq", CancellationToken.None))!.Status.Should().Be(WaveStatus.Running, "the status belongs to whoever holds the wave now");
    }

    [Fact]
    public async Task A_lease_taken_over_is_noticed_at_the_next_renewal_and_a_lost_lease_is_not_given_back()
    {
        var store = new InMemoryExecutionStore();
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        var key = LeaseKey.ForWave("sha256:p", "hq");
        var timing = new LeaseTiming(TimeSpan.FromMilliseconds(300));
        var (lease, _) = await WorkLease.TryAcquireAsync(store, key, "node-a/1", timing, clock, CancellationToken.None);
        string? lost = null;
        lease!.Lost += reason => lost = reason;

        // The state store says the lease expired and node-b took it (the database's clock moved on).
        store.LeaseClock = new ManualClock(DateTimeOffset.UtcNow.AddMinutes(1));
        (await store.TryAcquireLeaseAsync(key, "node-b/2", TimeSpan.FromMinutes(1), CancellationToken.None)).Grant.Should().NotBeNull();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (lease.IsHeld && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        lease.IsHeld.Should().BeFalse("the renewal after the takeover was refused");
        lost.Should().Contain("taken over or had expired");
        lease.Invoking(l => l.ThrowIfNotHeld()).Should().Throw<LeaseLostException>();
        await lease.DisposeAsync();
        (await store.GetLeasesAsync(CancellationToken.None)).Should().ContainSingle(l => l.Holder == "node-b/2" && l.ReleasedAt == null, "a lost lease is not released by its old holder");
    }

    [Fact]
    public async Task With_the_state_store_out_of_reach_the_lease_is_trusted_until_its_time_and_then_writes_stop_saying_why()
    {
        var store = new InMemoryExecutionStore();
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        var timing = new LeaseTiming(TimeSpan.FromMilliseconds(300));
        var (lease, _) = await WorkLease.TryAcquireAsync(store, LeaseKey.ForWave("sha256:p", "hq"), "node-a/1", timing, clock, CancellationToken.None);
        store.LeaseFault = new ExternalSystemException("postgres://db", "the server did not answer");

        // Renewals fail in the background; by this process's clock the lease is still within its trusted time.
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (store.FailedLeaseCalls < 2 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        store.FailedLeaseCalls.Should().BeGreaterThanOrEqualTo(2, "the renewals were tried, and tried again soon after failing");
        lease!.IsHeld.Should().BeTrue();

        clock.Advance(timing.TrustedFor);
        lease.IsHeld.Should().BeFalse();
        lease.LostReason.Should().Contain("state store could not be reached").And.Contain("the server did not answer").And.Contain("nothing is lost");
        await lease.DisposeAsync();
    }

    [Fact]
    public async Task A_pause_between_two_writes_of_one_step_stops_the_second_write_itself()
    {
        // The delete step first takes the person out of their group, then deletes the entry: two writes, no
        // step boundary between them where the run looks at its stop signal.
        var scenario = new ExecutionScenario().Person("akira").Person("kept", parent: "ou=other," + ExecutionScenario.Base).GroupUnder("ou=other," + ExecutionScenario.Base, "staff", "akira", "uid=kept,ou=other," + ExecutionScenario.Base);
        await scenario.ApproveAsync();
        var groupDn = "cn=staff,ou=other," + ExecutionScenario.Base;
        scenario.Directory.BeforeOperation = (operation, dn) =>
        {
            if (operation == "modify" && dn == groupDn)
            {
                scenario.Clock.Advance(scenario.Settings.Lease.TrustedFor + TimeSpan.FromSeconds(1));
            }
        };

        var result = await scenario.RunAsync();

        result.Kind.Should().Be(WaveResultKind.Interrupted, result.Reason);
        scenario.Directory.Writes.Should().Contain(w => w.Operation == "modify" && w.Dn == groupDn);
        scenario.Directory.Writes.Should().NotContain(w => w.Operation == "delete", "the delete after the frozen group edit asked the lease and was not sent");
    }
}
