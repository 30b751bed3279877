using AuthSplit.Core.Execution;
using AuthSplit.Core.Execution.Gates;
using Microsoft.Extensions.Time.Testing;

namespace AuthSplit.Core.Tests.Execution.Gates;

public sealed class PasswordSyncGateTests
{
    private static readonly string[] Waves = ["hq", "overseas"];
    private static readonly TimeSpan Poll = TimeSpan.FromSeconds(30);

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 3, 0, 0, TimeSpan.Zero));

    private static async Task<ExecutionScenario> AllWavesCompleteAsync()
    {
        var scenario = new ExecutionScenario().Person("akira").Person("min", parent: "ou=sales," + ExecutionScenario.Base, country: "KR");
        await scenario.ApproveAsync();
        foreach (var wave in Waves)
        {
            (await scenario.RunAsync(wave)).Kind.Should().Be(WaveResultKind.Completed);
        }

        return scenario;
    }

    private PasswordSyncGate Gate(ExecutionScenario scenario) => new(scenario.Store, scenario.Tenant, _time, "node-1");

    private static PasswordSyncGateRequest Request(TimeSpan wait, string? despite = null) =>
        new(Waves, "carol", despite, wait, Poll, new Uri("https://graph.microsoft.com/"));

    // Runs the gate while moving the fake clock a poll at a time, as the real one would.
    private async Task<PasswordSyncGateResult> RunAsync(PasswordSyncGate gate, PasswordSyncGateRequest request, List<string> lines, CancellationToken cancellationToken = default)
    {
        var run = gate.RunAsync(request, new Lines(lines), cancellationToken);
        for (var i = 0; i < 10_000 && !run.IsCompleted; i++)
        {
            await Task.Delay(1, CancellationToken.None);
            _time.Advance(TimeSpan.FromSeconds(1));
        }

        return await run;
    }

    [Fact]
    public async Task The_gate_refuses_while_a_wave_is_unfinished_and_records_the_refusal_without_reading_the_tenant()
    {
        var scenario = new ExecutionScenario().Person("akira").Person("min", parent: "ou=sales," + ExecutionScenario.Base, country: "KR");
        await scenario.ApproveAndRunAsync("hq");
        var lines = new List<string>();

        var result = await RunAsync(Gate(scenario), Request(TimeSpan.FromMinutes(5)), lines);

        result.Outcome.Should().Be(PasswordSyncGateOutcome.Refused);
        result.Unfinished.Should().ContainSingle().Which.Should().Contain("overseas").And.Contain("never run");
        scenario.Tenant.TenantSyncReads.Should().Be(0, "nothing is asked of the administrator before every wave is complete");
        var events = await scenario.Store.GetGateEventsAsync(GateNames.PasswordSync, CancellationToken.None);
        events.Should().ContainSingle().Which.Should().Match<GateEvent>(e => e.Kind == GateEventKind.Refused && e.Actor.Operator == "carol" && e.Wave == "overseas" && e.Reason!.Contains("overseas"));
        scenario.Store.Ledger.Should().Contain(r => r.Kind == LedgerKind.Gate && r.EntityId == "gate:password-sync");
    }

    [Fact]
    public async Task A_wave_with_a_failed_entity_keeps_the_gate_shut()
    {
        var scenario = new ExecutionScenario().Person("akira").Person("min", parent: "ou=sales," + ExecutionScenario.Base, country: "KR");
        scenario.Tenant.Reject(ExecutionScenario.TargetIdOf("akira"));
        await scenario.ApproveAsync();
        (await scenario.RunAsync("hq")).Kind.Should().Be(WaveResultKind.CompletedWithFailures);
        (await scenario.RunAsync("overseas")).Kind.Should().Be(WaveResultKind.Completed);

        var unfinished = await Gate(scenario).UnfinishedWavesAsync(Waves, CancellationToken.None);

        unfinished.Should().ContainSingle().Which.Should().Contain("wave hq has 1 failed");
    }

    [Fact]
    public async Task A_recorded_decision_opens_the_gate_despite_unfinished_waves_and_names_them()
    {
        var scenario = new ExecutionScenario().Person("akira");
        scenario.Tenant.PasswordSyncEnabled = false;
        var lines = new List<string>();

        var result = await RunAsync(Gate(scenario), Request(TimeSpan.FromMinutes(5), despite: "overseas staff leave with the partner; approved by the CISO"), lines);

        result.Outcome.Should().Be(PasswordSyncGateOutcome.Verified);
        var events = await scenario.Store.GetGateEventsAsync(GateNames.PasswordSync, CancellationToken.None);
        events.Select(e => e.Kind).Should().Equal(GateEventKind.Overridden, GateEventKind.Verified);
        events[0].Reason.Should().Contain("approved by the CISO").And.Contain("wave hq has never run");
    }

    [Fact]
    public async Task Sync_already_off_is_verified_at_once_with_what_was_read()
    {
        var scenario = await AllWavesCompleteAsync();
        scenario.Tenant.PasswordSyncEnabled = false;
        var lines = new List<string>();

        var result = await RunAsync(Gate(scenario), Request(TimeSpan.FromMinutes(5)), lines);

        result.Outcome.Should().Be(PasswordSyncGateOutcome.Verified);
        scenario.Tenant.TenantSyncReads.Should().Be(1);
        var verified = (await scenario.Store.GetGateEventsAsync(GateNames.PasswordSync, CancellationToken.None)).Should().ContainSingle().Subject;
        verified.Should().Match<GateEvent>(e => e.Kind == GateEventKind.Verified && e.TenantId == "fake-tenant" && e.PasswordSyncEnabled == false && e.Actor.Operator == "carol");
    }

    [Fact]
    public async Task The_gate_tells_what_the_administrator_must_do_then_waits_until_the_read_shows_it_off()
    {
        var scenario = await AllWavesCompleteAsync();
        scenario.Tenant.BeforeTenantSyncRead = read => scenario.Tenant.PasswordSyncEnabled = read < 4;
        var lines = new List<string>();

        var result = await RunAsync(Gate(scenario), Request(TimeSpan.FromMinutes(10)), lines);

        result.Outcome.Should().Be(PasswordSyncGateOutcome.Verified);
        scenario.Tenant.TenantSyncReads.Should().Be(4);
        var text = string.Join('\n', lines);
        text.Should().Contain("PATCH https://graph.microsoft.com/v1.0/directory/onPremisesSynchronization/fake-tenant")
            .And.Contain("{\"features\":{\"passwordSyncEnabled\":false}}")
            .And.Contain("Global Administrator")
            .And.Contain("Entra Connect");
        var events = await scenario.Store.GetGateEventsAsync(GateNames.PasswordSync, CancellationToken.None);
        events.Select(e => e.Kind).Should().Equal(GateEventKind.Waiting, GateEventKind.Verified);
        events[0].PasswordSyncEnabled.Should().BeTrue();
        events[1].At.Should().BeOnOrAfter(events[0].At + (3 * Poll), "three polls passed before the fourth read showed it off");
    }

    [Fact]
    public async Task A_wait_that_runs_out_is_resumed_by_the_next_run_without_a_second_waiting_record()
    {
        var scenario = await AllWavesCompleteAsync();
        var lines = new List<string>();

        var first = await RunAsync(Gate(scenario), Request(TimeSpan.FromMinutes(2)), lines);

        first.Outcome.Should().Be(PasswordSyncGateOutcome.StillOn);
        first.Message.Should().Contain("running the gate again keeps waiting");
        scenario.Tenant.TenantSyncReads.Should().Be(5, "one read at the start and one per 30 s poll in 2 minutes");

        scenario.Tenant.PasswordSyncEnabled = false;
        var second = await RunAsync(Gate(scenario), Request(TimeSpan.FromMinutes(2)), lines);

        second.Outcome.Should().Be(PasswordSyncGateOutcome.Verified);
        var events = await scenario.Store.GetGateEventsAsync(GateNames.PasswordSync, CancellationToken.None);
        events.Select(e => e.Kind).Should().Equal(GateEventKind.Waiting, GateEventKind.Verified);
        events[1].Reason.Should().Contain("waited for since");
    }

    [Fact]
    public async Task A_gate_cancelled_while_waiting_keeps_its_waiting_on_record_and_resumes()
    {
        var scenario = await AllWavesCompleteAsync();
        using var cancel = new CancellationTokenSource();
        scenario.Tenant.BeforeTenantSyncRead = read =>
        {
            if (read == 2)
            {
                cancel.Cancel();
            }
        };
        var lines = new List<string>();

        var act = async () => await RunAsync(Gate(scenario), Request(TimeSpan.FromMinutes(10)), lines, cancel.Token);

        await act.Should().ThrowAsync<OperationCanceledException>();
        (await scenario.Store.GetGateEventsAsync(GateNames.PasswordSync, CancellationToken.None)).Select(e => e.Kind).Should().Equal(GateEventKind.Waiting);

        scenario.Tenant.BeforeTenantSyncRead = null;
        lines.Clear();
        scenario.Tenant.PasswordSyncEnabled = true;
        var resumed = Gate(scenario).RunAsync(Request(TimeSpan.FromMinutes(10)), new Lines(lines), CancellationToken.None);
        for (var i = 0; i < 1000 && lines.Count == 0; i++)
        {
            await Task.Delay(1, CancellationToken.None);
        }

        lines.Should().Contain(l => l.StartsWith("Still waiting since", StringComparison.Ordinal));
        scenario.Tenant.PasswordSyncEnabled = false;
        for (var i = 0; i < 10_000 && !resumed.IsCompleted; i++)
        {
            await Task.Delay(1, CancellationToken.None);
            _time.Advance(TimeSpan.FromSeconds(1));
        }

        (await resumed).Outcome.Should().Be(PasswordSyncGateOutcome.Verified);
    }

    private sealed class Lines(List<string> lines) : IProgress<string>
    {
        public void Report(string value)
        {
            lock (lines)
            {
                lines.Add(value);
            }
        }
    }
}
