using System.Security.Cryptography;
using System.Text;
using AuthSplit.Core.Errors;
using AuthSplit.Core.Evidence;
using AuthSplit.Core.Execution;
using AuthSplit.Core.Planning.Format;
using AuthSplit.State.Tests.Support;
using AuthSplit.Testing;
using Microsoft.Extensions.Time.Testing;

namespace AuthSplit.State.Tests;

/// <summary>
/// What every provider of <see cref="IExecutionStore"/> must do, run against each (SQLite here; the
/// PostgreSQL subclass supplies a database and raw SQL access the same way). Tampering is done with raw
/// SQL, as an attacker with the database file would.
/// </summary>
public abstract partial class ExecutionStoreContractTests : IAsyncLifetime
{
    private readonly List<IExecutionStore> _opened = [];

    protected ExecutionStoreContractTests()
    {
        WorkDirectory = TestPaths.NewWorkDirectory();
        KeyFile = WriteKeyFile("backup.key");
    }

    protected string WorkDirectory { get; }

    protected string KeyFile { get; }

    protected FakeTimeProvider Time { get; } = new(Some.Start);

    protected IExecutionStore Store { get; private set; } = null!;

    protected static CancellationToken Ct => CancellationToken.None;

    public async Task InitializeAsync() => Store = await OpenAsync();

    public async Task DisposeAsync()
    {
        foreach (var store in _opened)
        {
            if (store is IAsyncDisposable disposable)
            {
                await disposable.DisposeAsync();
            }
        }

    }

    /// <summary>Opens the store under test (the same database every time); <paramref name="keyFile"/> null means no key configured.</summary>
    protected abstract Task<IExecutionStore> OpenStoreAsync(string? keyFile, TimeProvider time);

    /// <summary>Opens the store with the named statement of the dialect replaced by one that fails.</summary>
    protected abstract Task<IExecutionStore> OpenWithFailingStatementAsync(string statement);

    protected abstract Task ExecuteRawAsync(string sql);

    protected abstract Task<IReadOnlyList<byte[]>> ReadRawBlobsAsync(string sql);

    protected abstract Task<long> CountRawAsync(string table);

    protected async Task<IExecutionStore> OpenAsync(string? keyFile = "", TimeProvider? time = null)
    {
        var store = await OpenStoreAsync(keyFile == string.Empty ? KeyFile : keyFile, time ?? Time);
        _opened.Add(store);
        return store;
    }

    protected string WriteKeyFile(string name)
    {
        var path = Path.Combine(WorkDirectory, name);
        File.WriteAllText(path, Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)) + "\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        return path;
    }

    protected async Task<List<LedgerRecord>> LedgerAsync(IExecutionStore? store = null, string? wave = null) =>
        await (store ?? Store).ReadLedgerAsync(wave, Ct).ToListAsync(Ct);

    /// <summary>A few records of each kind: approval, wave start, steps, a pause, completion.</summary>
    protected async Task WriteSomeHistoryAsync(int steps = 6)
    {
        var plan = Some.PlanId();
        await Store.ApproveAsync(new Approval(plan, "bob", Some.Start, "ok"), Ct);
        await Store.SaveWaveAsync(Some.Wave(plan, "wave-1", WaveStatus.Running), Ct);
        for (var i = 0; i < steps; i++)
        {
            var entity = $"e{i}";
            await Store.RecordStepAsync(Some.Step(plan, "wave-1", entity, StepAction.VerifyTargetAccount), Some.Entity(plan, "wave-1", entity, EntityState.InProgress, 1, StepAction.VerifyTargetAccount), Ct);
        }

        await Store.SetPauseAsync(new WavePause("wave-1", true, "carol", Some.Start), Ct);
        await Store.SaveWaveAsync(Some.Wave(plan, "wave-1", WaveStatus.Completed), Ct);
    }

    // ---- approvals and plans

    [Fact]
    public async Task An_approval_is_recorded_with_its_ledger_record()
    {
        var approval = new Approval(Some.PlanId(), "bob", Some.Start, "reviewed with the DPO");

        var returned = await Store.ApproveAsync(approval, Ct);

        returned.Should().Be(approval);
        (await Store.GetApprovalsAsync(Some.PlanId(), Ct)).Should().Equal(approval);
        var ledger = await LedgerAsync();
        ledger.Should().ContainSingle().Which.Should().BeEquivalentTo(new { Sequence = 1L, Kind = LedgerKind.Approval, PlanId = Some.PlanId(), Actor = "bob", PreviousHash = LedgerChain.Genesis });
        ledger[0].Data.Should().Contain("reviewed with the DPO");
    }

    [Fact]
    public async Task Approving_the_same_plan_again_by_the_same_person_returns_the_first_approval_and_records_nothing()
    {
        var first = new Approval(Some.PlanId(), "bob", Some.Start, "first");
        await Store.ApproveAsync(first, Ct);

        var again = await Store.ApproveAsync(first with { ApprovedAt = Some.Start.AddHours(1), Note = "second" }, Ct);
        await Store.ApproveAsync(new Approval(Some.PlanId(), "dave", Some.Start.AddHours(2), null), Ct);

        again.Should().Be(first);
        (await Store.GetApprovalsAsync(Some.PlanId(), Ct)).Select(a => a.ApprovedBy).Should().Equal("bob", "dave");
        (await LedgerAsync()).Should().HaveCount(2);
        (await Store.GetApprovalsAsync(Some.PlanId(2), Ct)).Should().BeEmpty();
    }

    [Fact]
    public async Task A_saved_plan_is_read_back_byte_for_byte_and_saving_its_id_again_changes_nothing()
    {
        byte[] bytes = [.. "{\n  \"planId\": \"x\",\r\n  \"name\": \"Müller\" }\n"u8, 0xFF, 0x00, 0xC3];

        await Store.SavePlanAsync(Some.PlanId(), bytes, Ct);
        await Store.SavePlanAsync(Some.PlanId(), "{}"u8.ToArray(), Ct);

        (await Store.GetPlanAsync(Some.PlanId(), Ct)).Should().Equal(bytes);
        (await Store.GetPlanAsync(Some.PlanId(2), Ct)).Should().BeNull();
    }

    // ---- waves, entities, steps, pauses

    [Fact]
    public async Task A_wave_is_read_back_as_saved_and_each_status_appends_its_ledger_record()
    {
        var plan = Some.PlanId();
        (await Store.GetWaveAsync(plan, "wave-1", Ct)).Should().BeNull();

        await Store.SaveWaveAsync(Some.Wave(plan, "wave-1", WaveStatus.Running), Ct);
        await Store.SaveWaveAsync(Some.Wave(plan, "wave-1", WaveStatus.Interrupted), Ct);
        await Store.SaveWaveAsync(Some.Wave(plan, "wave-1", WaveStatus.Completed), Ct);

        (await Store.GetWaveAsync(plan, "wave-1", Ct)).Should().Be(Some.Wave(plan, "wave-1", WaveStatus.Completed));
        (await LedgerAsync()).Select(r => (r.Kind, r.Wave, r.Actor, r.Node)).Should().Equal(
            (LedgerKind.WaveStarted, "wave-1", "alice", "node-1"),
            (LedgerKind.WaveStopped, "wave-1", "alice", "node-1"),
            (LedgerKind.WaveCompleted, "wave-1", "alice", "node-1"));
    }

    [Fact]
    public async Task The_runs_of_a_wave_by_name_come_newest_first_across_plans()
    {
        await Store.SaveWaveAsync(Some.Wave(Some.PlanId(1), "wave-1", WaveStatus.Completed, Some.Start), Ct);
        await Store.SaveWaveAsync(Some.Wave(Some.PlanId(3), "wave-1", WaveStatus.Running, Some.Start.AddDays(2)), Ct);
        await Store.SaveWaveAsync(Some.Wave(Some.PlanId(2), "wave-1", WaveStatus.Interrupted, Some.Start.AddDays(1)), Ct);
        await Store.SaveWaveAsync(Some.Wave(Some.PlanId(1), "wave-2", WaveStatus.Running, Some.Start.AddDays(5)), Ct);

        var runs = await Store.GetWaveRunsAsync("wave-1", Ct);

        runs.Select(r => r.PlanId).Should().Equal(Some.PlanId(3), Some.PlanId(2), Some.PlanId(1));
        (await Store.GetWaveRunsAsync("wave-9", Ct)).Should().BeEmpty();
    }

    [Fact]
    public async Task The_running_waves_are_those_started_and_never_recorded_as_stopped_or_complete()
    {
        await Store.SaveWaveAsync(Some.Wave(Some.PlanId(1), "wave-1", WaveStatus.Completed, Some.Start), Ct);
        await Store.SaveWaveAsync(Some.Wave(Some.PlanId(2), "wave-1", WaveStatus.Running, Some.Start.AddDays(1)), Ct);
        await Store.SaveWaveAsync(Some.Wave(Some.PlanId(1), "wave-2", WaveStatus.Interrupted, Some.Start.AddDays(2)), Ct);
        await Store.SaveWaveAsync(Some.Wave(Some.PlanId(1), "wave-3", WaveStatus.Running, Some.Start.AddDays(3)), Ct);

        var running = await Store.GetRunningWavesAsync(Ct);

        running.Select(r => (r.PlanId, r.Wave)).Should().Equal((Some.PlanId(2), "wave-1"), (Some.PlanId(1), "wave-3"));
    }

    [Fact]
    public async Task A_restore_is_a_ledger_record_of_its_wave_chained_to_the_rest()
    {
        var plan = Some.PlanId();
        await Store.SaveWaveAsync(Some.Wave(plan, "wave-1", WaveStatus.Completed, Some.Start), Ct);

        var record = await Store.RecordRestoreAsync(new RestoreRecord(plan, "wave-1", "entity-a", new ExecutionActor("carol", "node-1"), Some.Start.AddDays(1), "{\"dn\":\"uid=a,ou=hq,dc=example,dc=com\"}"), Ct);

        record.Kind.Should().Be(LedgerKind.Restore);
        var ledger = await Store.ReadLedgerAsync("wave-1", Ct).ToListAsync(Ct);
        ledger[^1].Should().Be(record);
        record.EntityId.Should().Be("entity-a");
        record.Actor.Should().Be("carol");
        LedgerChain.Verify(await Store.ReadLedgerAsync(null, Ct).ToListAsync(Ct)).IsIntact.Should().BeTrue();
    }

    [Fact]
    public async Task A_rollback_action_is_a_ledger_record_of_its_wave_and_sets_the_entitys_state_in_the_same_write()
    {
        var plan = Some.PlanId();
        await Store.SaveWaveAsync(Some.Wave(plan, "wave-1", WaveStatus.Holding, Some.Start), Ct);
        var held = Some.Entity(plan, "wave-1", "entity-a", EntityState.Held, 6, StepAction.Hold);
        await Store.RecordStepAsync(Some.Step(plan, "wave-1", "entity-a", StepAction.Hold), held, Ct);
        var actor = new ExecutionActor("carol", "node-1");
        var rolledBack = held with { State = EntityState.Refused, Reason = "rolled-back: rollback begun by carol", UpdatedAt = Some.Start.AddDays(1) };

        var begun = await Store.RecordRollbackAsync(new RollbackRecord(plan, "wave-1", "entity-a", "begun", actor, Some.Start.AddDays(1), "{\"stateBefore\":\"held\"}"), rolledBack, Ct);
        var action = await Store.RecordRollbackAsync(new RollbackRecord(plan, "wave-1", "entity-a", "re-enable-legacy-account", actor, Some.Start.AddDays(1), "{\"outcome\":\"done\"}"), null, Ct);

        begun.Kind.Should().Be(LedgerKind.Rollback);
        begun.EntityId.Should().Be("entity-a");
        begun.Actor.Should().Be("carol");
        begun.Data.Should().Contain("\"action\":\"begun\"").And.Contain("\"detail\":{\"stateBefore\":\"held\"}").And.Contain("\"state\":\"refused\"");
        action.Data.Should().Contain("\"action\":\"re-enable-legacy-account\"").And.NotContain("\"state\"", "an action that leaves the state as it is says none");
        (await Store.GetEntityAsync(plan, "entity-a", Ct)).Should().Be(rolledBack);
        (await Store.ReadLedgerAsync("wave-1", Ct).ToListAsync(Ct))[^2..].Should().Equal(begun, action);
        LedgerChain.Verify(await Store.ReadLedgerAsync(null, Ct).ToListAsync(Ct)).IsIntact.Should().BeTrue();
        await FluentActions.Invoking(() => Store.RecordRollbackAsync(new RollbackRecord(plan, "wave-1", "entity-b", "begun", actor, Some.Start, "{}"), rolledBack, Ct))
            .Should().ThrowAsync<ArgumentException>("the progress must be the rolled-back entity's");
    }

    [Fact]
    public async Task A_self_approved_run_is_kept_as_such_and_said_in_its_ledger_record()
    {
        var run = Some.Wave(Some.PlanId(), "wave-1", WaveStatus.Running, Some.Start) with { SelfApproved = true };

        await Store.SaveWaveAsync(run, Ct);

        (await Store.GetWaveAsync(run.PlanId, "wave-1", Ct))!.SelfApproved.Should().BeTrue();
        var record = await Store.ReadLedgerAsync("wave-1", Ct).LastAsync(Ct);
        record.Data.Should().Contain("\"selfApproved\":true");
    }

    [Fact]
    public async Task Registering_entities_again_keeps_the_state_of_those_already_registered()
    {
        var plan = Some.PlanId();
        await Store.RegisterEntitiesAsync([Some.Entity(plan, "wave-1", "a"), Some.Entity(plan, "wave-1", "b")], Ct);
        var done = Some.Entity(plan, "wave-1", "a", EntityState.Done, 3, StepAction.VerifyLegacyAbsent);
        await Store.RecordStepAsync(Some.Step(plan, "wave-1", "a", StepAction.VerifyLegacyAbsent), done, Ct);

        await Store.RegisterEntitiesAsync([Some.Entity(plan, "wave-1", "a"), Some.Entity(plan, "wave-1", "b"), Some.Entity(plan, "wave-1", "c")], Ct);

        var entities = await Store.ReadEntitiesAsync(plan, "wave-1", Ct).ToListAsync(Ct);
        entities.Should().Equal(done, Some.Entity(plan, "wave-1", "b"), Some.Entity(plan, "wave-1", "c"));
    }

    [Fact]
    public async Task An_entity_registered_as_excluded_stays_excluded_with_the_plans_reason()
    {
        var plan = Some.PlanId();
        var excluded = Some.Entity(plan, "wave-1", "partner", EntityState.Excluded) with { Reason = "excluded-protected: ProtectedFilter: (employeeType=partner)" };

        await Store.RegisterEntitiesAsync([Some.Entity(plan, "wave-1", "a"), excluded], Ct);

        var entities = await Store.ReadEntitiesAsync(plan, "wave-1", Ct).ToListAsync(Ct);
        entities.Should().Equal(Some.Entity(plan, "wave-1", "a"), excluded);
    }

    [Fact]
    public async Task Entities_are_read_per_plan_and_wave_and_one_by_id()
    {
        await Store.RegisterEntitiesAsync([Some.Entity(Some.PlanId(), "wave-1", "a"), Some.Entity(Some.PlanId(), "wave-2", "b"), Some.Entity(Some.PlanId(2), "wave-1", "c")], Ct);

        (await Store.ReadEntitiesAsync(Some.PlanId(), "wave-1", Ct).ToListAsync(Ct)).Select(e => e.EntityId).Should().Equal("a");
        (await Store.GetEntityAsync(Some.PlanId(), "b", Ct)).Should().Be(Some.Entity(Some.PlanId(), "wave-2", "b"));
        (await Store.GetEntityAsync(Some.PlanId(2), "a", Ct)).Should().BeNull();
    }

    [Fact]
    public async Task Recording_a_step_writes_the_journal_row_the_entity_progress_and_a_ledger_record()
    {
        var plan = Some.PlanId();
        var held = Some.Entity(plan, "wave-1", "a", EntityState.Held, 2, StepAction.Hold) with { HoldUntil = Some.Start.AddDays(14), Reason = "hold: 14 days" };
        var step = Some.Step(plan, "wave-1", "a", StepAction.Hold, StepOutcome.Waiting, attempt: 2);

        await Store.RecordStepAsync(step, held, Ct);

        (await Store.GetStepsAsync(plan, "a", Ct)).Should().Equal(step);
        (await Store.GetEntityAsync(plan, "a", Ct)).Should().Be(held);
        var record = (await LedgerAsync()).Should().ContainSingle().Subject;
        record.Should().BeEquivalentTo(new { Kind = LedgerKind.Step, PlanId = plan, Wave = "wave-1", EntityId = "a", Step = (StepAction?)StepAction.Hold, Outcome = (StepOutcome?)StepOutcome.Waiting, Actor = "alice", Node = "node-1" });
        record.Data.Should().Contain("\"attempt\":2").And.Contain("\"before\":{\"dn\":").And.Contain("stale-moved");
    }

    [Fact]
    public async Task The_done_steps_of_other_plans_of_a_wave_are_read_oldest_first_without_this_plans_or_other_waves_or_failures()
    {
        var (first, second, third) = (Some.PlanId(1), Some.PlanId(2), Some.PlanId(3));
        async Task Record(string plan, string wave, string entity, StepAction action, StepOutcome outcome) =>
            await Store.RecordStepAsync(Some.Step(plan, wave, entity, action, outcome), Some.Entity(plan, wave, entity, EntityState.InProgress, 1, action), Ct);
        await Record(first, "wave-1", "a", StepAction.VerifyTargetAccount, StepOutcome.Done);
        await Record(first, "wave-1", "a", StepAction.StopPasswordSync, StepOutcome.AlreadyDone);
        await Record(first, "wave-1", "a", StepAction.VerifyCloudManaged, StepOutcome.Failed);
        await Record(first, "wave-2", "b", StepAction.VerifyTargetAccount, StepOutcome.Done);
        await Record(second, "wave-1", "a", StepAction.VerifyTargetAccount, StepOutcome.Done);
        await Record(third, "wave-1", "a", StepAction.BackupLegacyEntry, StepOutcome.Done);

        var done = await Store.GetDoneStepsOfOtherPlansAsync("wave-1", third, Ct);

        done.Select(s => (s.PlanId, s.EntityId, s.Step, s.Outcome)).Should().Equal(
            (first, "a", StepAction.VerifyTargetAccount, StepOutcome.Done),
            (first, "a", StepAction.StopPasswordSync, StepOutcome.AlreadyDone),
            (second, "a", StepAction.VerifyTargetAccount, StepOutcome.Done));
        (await Store.GetDoneStepsOfOtherPlansAsync("wave-3", third, Ct)).Should().BeEmpty();
    }

    [Fact]
    public async Task The_steps_of_an_entity_come_oldest_first()
    {
        var plan = Some.PlanId();
        StepAction[] order = [StepAction.VerifyTargetAccount, StepAction.StopPasswordSync, StepAction.VerifyCloudManaged, StepAction.BackupLegacyEntry];
        foreach (var action in order)
        {
            await Store.RecordStepAsync(Some.Step(plan, "wave-1", "a", action), Some.Entity(plan, "wave-1", "a", EntityState.InProgress, 1, action), Ct);
            await Store.RecordStepAsync(Some.Step(plan, "wave-1", "b", action), Some.Entity(plan, "wave-1", "b", EntityState.InProgress, 1, action), Ct);
        }

        (await Store.GetStepsAsync(plan, "a", Ct)).Select(s => s.Step).Should().Equal(order);
        (await Store.GetStepsAsync(Some.PlanId(2), "a", Ct)).Should().BeEmpty();
    }

    [Fact]
    public async Task Deletes_are_counted_per_plan_and_wave_from_done_delete_steps_once_per_entity()
    {
        var plan = Some.PlanId();
        async Task Record(string planId, string wave, string entity, StepAction action, StepOutcome outcome, int attempt = 1) =>
            await Store.RecordStepAsync(Some.Step(planId, wave, entity, action, outcome, attempt), Some.Entity(planId, wave, entity, EntityState.InProgress, attempt, action), Ct);

        await Record(plan, "wave-1", "a", StepAction.DeleteLegacyEntry, StepOutcome.Done);
        await Record(plan, "wave-1", "b", StepAction.DeleteLegacyEntry, StepOutcome.Failed);
        await Record(plan, "wave-1", "b", StepAction.DeleteLegacyEntry, StepOutcome.Done, attempt: 2);
        await Record(plan, "wave-1", "c", StepAction.DeleteLegacyEntry, StepOutcome.AlreadyDone);
        await Record(plan, "wave-1", "c", StepAction.DeleteLegacyEntry, StepOutcome.AlreadyDone, attempt: 2);
        await Record(plan, "wave-1", "d", StepAction.DisableLegacyAccount, StepOutcome.Done);
        await Record(plan, "wave-1", "e", StepAction.DeleteLegacyEntry, StepOutcome.Refused);
        await Record(plan, "wave-2", "f", StepAction.DeleteLegacyEntry, StepOutcome.Done);
        await Record(Some.PlanId(2), "wave-1", "g", StepAction.DeleteLegacyEntry, StepOutcome.Done);

        (await Store.CountDeletesAsync(plan, "wave-1", Ct)).Should().Be(3);
        (await Store.CountDeletesAsync(plan, "wave-3", Ct)).Should().Be(0);
    }

    [Fact]
    public async Task A_pause_is_kept_by_wave_name_and_recorded_in_the_ledger()
    {
        (await Store.GetPauseAsync("wave-1", Ct)).Should().BeNull();

        await Store.SetPauseAsync(new WavePause("wave-1", true, "carol", Some.Start), Ct);
        await Store.SetPauseAsync(new WavePause("wave-1", false, "dave", Some.Start.AddMinutes(3)), Ct);
        await Store.SetPauseAsync(new WavePause("wave-2", true, "carol", Some.Start), Ct);

        (await Store.GetPauseAsync("wave-1", Ct)).Should().Be(new WavePause("wave-1", false, "dave", Some.Start.AddMinutes(3)));
        (await Store.GetPauseAsync("wave-2", Ct)).Should().Be(new WavePause("wave-2", true, "carol", Some.Start));
        (await LedgerAsync()).Select(r => (r.Kind, r.Wave, r.Actor)).Should().Equal((LedgerKind.Pause, "wave-1", "carol"), (LedgerKind.Pause, "wave-1", "dave"), (LedgerKind.Pause, "wave-2", "carol"));
    }

    [Fact]
    public async Task A_refused_run_is_a_chained_ledger_record_with_who_tried_and_why()
    {
        var plan = Some.PlanId();
        await Store.ApproveAsync(new Approval(plan, "alice", Some.Start, null), Ct);

        await Store.RecordRefusalAsync(new WaveRefusal(plan, "wave-1", ExecutionRefusalCode.SelfApproval, "alice approved the plan and may not execute it", new ExecutionActor("alice", "node-a"), Some.Start.AddMinutes(1)), Ct);

        var ledger = await LedgerAsync();
        ledger.Should().HaveCount(2);
        var refusal = ledger[1];
        (refusal.Kind, refusal.PlanId, refusal.Wave, refusal.Actor, refusal.Node).Should().Be((LedgerKind.WaveRefused, plan, "wave-1", "alice", "node-a"));
        refusal.PreviousHash.Should().Be(ledger[0].Hash);
        using var data = System.Text.Json.JsonDocument.Parse(refusal.Data!);
        data.RootElement.GetProperty("code").GetString().Should().Be("self-approval");
        data.RootElement.GetProperty("reason").GetString().Should().Contain("may not execute");
        (await Store.GetWaveAsync(plan, "wave-1", Ct)).Should().BeNull("a refusal starts nothing");
    }

    [Fact]
    public async Task Gate_events_are_chained_ledger_records_in_the_last_waves_evidence_and_read_back_in_order()
    {
        var plan = Some.PlanId();
        await Store.ApproveAsync(new Approval(plan, "alice", Some.Start, null), Ct);
        var carol = new ExecutionActor("carol", "node-a");
        await Store.RecordGateEventAsync(new GateEvent { Gate = GateNames.PasswordSync, Kind = GateEventKind.Refused, Wave = "wave-2", Actor = carol, At = Some.Start.AddMinutes(1), Reason = "wave wave-2 has never run" }, Ct);
        await Store.RecordGateEventAsync(new GateEvent { Gate = GateNames.PasswordSync, Kind = GateEventKind.Waiting, Wave = "wave-2", Actor = carol, At = Some.Start.AddMinutes(2), TenantId = "tenant-1", PasswordSyncEnabled = true, Reason = "asked" }, Ct);
        await Store.RecordGateEventAsync(new GateEvent { Gate = "another-gate", Kind = GateEventKind.Verified, Wave = "wave-2", Actor = carol, At = Some.Start.AddMinutes(3) }, Ct);
        await Store.RecordGateEventAsync(new GateEvent { Gate = GateNames.PasswordSync, Kind = GateEventKind.Verified, Wave = "wave-2", Actor = new ExecutionActor("dave", "node-b"), At = Some.Start.AddMinutes(4), TenantId = "tenant-1", PasswordSyncEnabled = false, Reason = "read false" }, Ct);

        var events = await Store.GetGateEventsAsync(GateNames.PasswordSync, Ct);

        events.Select(e => (e.Kind, e.Actor.Operator, e.PasswordSyncEnabled, e.TenantId)).Should().Equal(
            (GateEventKind.Refused, "carol", (bool?)null, (string?)null),
            (GateEventKind.Waiting, "carol", true, "tenant-1"),
            (GateEventKind.Verified, "dave", false, "tenant-1"));
        events[2].At.Should().Be(Some.Start.AddMinutes(4));
        events[2].Actor.Node.Should().Be("node-b");
        var ledger = await LedgerAsync();
        ledger.Where(r => r.Kind == LedgerKind.Gate).Should().HaveCount(4).And.OnlyContain(r => r.Wave == "wave-2");
        LedgerChain.Verify(ledger).IsIntact.Should().BeTrue();
        (await Store.ReadLedgerAsync("wave-2", Ct).ToListAsync(Ct)).Where(r => r.Kind == LedgerKind.Gate).Should().HaveCount(4, "the gate belongs to the last wave's evidence");
    }

    // ---- transactions and concurrency

    [Theory]
    [InlineData("InsertStep")]
    [InlineData("UpsertEntity")]
    public async Task A_step_whose_transaction_fails_half_way_leaves_no_journal_row_no_progress_and_no_ledger_record(string failing)
    {
        var plan = Some.PlanId();
        await Store.RegisterEntitiesAsync([Some.Entity(plan, "wave-1", "a")], Ct);
        await Store.RecordStepAsync(Some.Step(plan, "wave-1", "a", StepAction.VerifyTargetAccount), Some.Entity(plan, "wave-1", "a", EntityState.InProgress, 1, StepAction.VerifyTargetAccount), Ct);
        var broken = await OpenWithFailingStatementAsync(failing);

        var act = () => broken.RecordStepAsync(Some.Step(plan, "wave-1", "a", StepAction.StopPasswordSync), Some.Entity(plan, "wave-1", "a", EntityState.Failed, 2, StepAction.StopPasswordSync), Ct);

        await act.Should().ThrowAsync<Exception>();
        (await Store.GetStepsAsync(plan, "a", Ct)).Select(s => s.Step).Should().Equal(StepAction.VerifyTargetAccount);
        (await Store.GetEntityAsync(plan, "a", Ct))!.State.Should().Be(EntityState.InProgress);
        (await LedgerAsync()).Should().ContainSingle();
        (await CountRawAsync("authsplit_steps")).Should().Be(1);
    }

    [Fact]
    public async Task A_failing_write_committed_together_with_others_fails_alone()
    {
        var plan = Some.PlanId();
        var broken = await OpenWithFailingStatementAsync("UpsertEntity");

        var writes = Enumerable.Range(0, 40).Select(i => i % 4 == 0
            ? broken.RecordStepAsync(Some.Step(plan, "wave-1", $"e{i}", StepAction.VerifyTargetAccount), Some.Entity(plan, "wave-1", $"e{i}", EntityState.Done, 1), Ct)
            : broken.SetPauseAsync(new WavePause($"wave-{i}", true, "carol", Some.Start), Ct)).ToArray();
        try
        {
            await Task.WhenAll(writes);
        }
        catch (Exception)
        {
            // Looked at one by one below.
        }

        writes.Where((_, i) => i % 4 == 0).Should().OnlyContain(t => t.IsFaulted);
        writes.Where((_, i) => i % 4 != 0).Should().OnlyContain(t => t.IsCompletedSuccessfully);
        var ledger = await LedgerAsync();
        ledger.Should().HaveCount(30).And.OnlyContain(r => r.Kind == LedgerKind.Pause);
        LedgerChain.Verify(ledger).IsIntact.Should().BeTrue();
        (await CountRawAsync("authsplit_steps")).Should().Be(0);
    }

    [Fact]
    public async Task Eight_concurrent_writers_lose_no_row_and_leave_an_intact_chain()
    {
        const int Writers = 8;
        const int StepsEach = 25;
        var plan = Some.PlanId();
        var second = await OpenAsync();

        await Task.WhenAll(Enumerable.Range(0, Writers).Select(w => Task.Run(async () =>
        {
            var store = w % 2 == 0 ? Store : second;
            for (var i = 0; i < StepsEach; i++)
            {
                var entity = $"w{w}-e{i}";
                await store.RecordStepAsync(Some.Step(plan, "wave-1", entity, StepAction.VerifyTargetAccount), Some.Entity(plan, "wave-1", entity, EntityState.Done, 1), Ct);
                if (i % 10 == 0)
                {
                    await store.SetPauseAsync(new WavePause($"wave-{w}", i % 20 == 0, $"writer-{w}", Some.Start), Ct);
                }
            }
        }, Ct)));

        var ledger = await LedgerAsync();
        LedgerChain.Verify(ledger).Should().BeEquivalentTo(new { IsIntact = true, IntactRecords = (long)ledger.Count });
        ledger.Count(r => r.Kind == LedgerKind.Step).Should().Be(Writers * StepsEach);
        ledger.Select(r => r.Sequence).Should().Equal(Enumerable.Range(1, Writers * (StepsEach + 3)).Select(i => (long)i));
        (await Store.ReadEntitiesAsync(plan, "wave-1", Ct).CountAsync(Ct)).Should().Be(Writers * StepsEach);
        (await CountRawAsync("authsplit_steps")).Should().Be(Writers * StepsEach);
    }

    // ---- durability

    [Fact]
    public async Task Everything_written_is_there_after_the_store_is_opened_again()
    {
        await WriteSomeHistoryAsync();
        await Store.SavePlanAsync(Some.PlanId(), "{\"plan\":1}"u8.ToArray(), Ct);
        await Store.StoreBackupAsync(Some.Backup(Some.PlanId(), "e1"), Ct);
        var before = await LedgerAsync();
        if (Store is IAsyncDisposable disposable)
        {
            await disposable.DisposeAsync();
        }

        var reopened = await OpenAsync();

        (await LedgerAsync(reopened)).Should().BeEquivalentTo(before, o => o.WithStrictOrdering());
        LedgerChain.Verify(await LedgerAsync(reopened)).IsIntact.Should().BeTrue();
        (await reopened.GetPlanAsync(Some.PlanId(), Ct)).Should().Equal("{\"plan\":1}"u8.ToArray());
        (await reopened.GetWaveAsync(Some.PlanId(), "wave-1", Ct))!.Status.Should().Be(WaveStatus.Completed);
        (await reopened.GetBackupAsync("e1", Ct))!.Entry.Dn.Should().Be(Some.Backup(Some.PlanId(), "e1").Entry.Dn);
        (await reopened.GetPauseAsync("wave-1", Ct))!.Paused.Should().BeTrue();
        (await reopened.GetStepsAsync(Some.PlanId(), "e5", Ct)).Should().ContainSingle();
    }

    // ---- ledger

    [Fact]
    public async Task The_ledger_is_one_unbroken_chain_from_the_genesis_hash()
    {
        await WriteSomeHistoryAsync();

        var ledger = await LedgerAsync();

        ledger.Select(r => r.Kind).Should().Equal(
            [LedgerKind.Approval, LedgerKind.WaveStarted, .. Enumerable.Repeat(LedgerKind.Step, 6), LedgerKind.Pause, LedgerKind.WaveCompleted]);
        ledger[0].PreviousHash.Should().Be(LedgerChain.Genesis);
        ledger.Should().OnlyContain(r => r.Hash == LedgerChain.ComputeHash(r));
        LedgerChain.Verify(ledger).Should().BeEquivalentTo(new { IsIntact = true, IntactRecords = 10L, LastHash = ledger[^1].Hash });
    }

    [Fact]
    public async Task The_ledger_of_a_wave_holds_its_records_and_the_approvals_of_its_plans()
    {
        await WriteSomeHistoryAsync(steps: 2);
        await Store.ApproveAsync(new Approval(Some.PlanId(2), "bob", Some.Start, null), Ct);
        await Store.SaveWaveAsync(Some.Wave(Some.PlanId(2), "wave-2", WaveStatus.Running), Ct);

        var wave1 = await LedgerAsync(wave: "wave-1");
        var wave2 = await LedgerAsync(wave: "wave-2");

        wave1.Select(r => (r.Kind, r.PlanId)).Should().Equal(
            (LedgerKind.Approval, Some.PlanId()), (LedgerKind.WaveStarted, Some.PlanId()), (LedgerKind.Step, Some.PlanId()), (LedgerKind.Step, Some.PlanId()),
            (LedgerKind.Pause, string.Empty), (LedgerKind.WaveCompleted, Some.PlanId()));
        wave2.Select(r => (r.Kind, r.PlanId)).Should().Equal((LedgerKind.Approval, Some.PlanId(2)), (LedgerKind.WaveStarted, Some.PlanId(2)));
    }

    [Fact]
    public async Task An_edited_field_is_found_and_the_edited_record_named()
    {
        await WriteSomeHistoryAsync();

        await ExecuteRawAsync("UPDATE authsplit_ledger SET actor = 'mallory' WHERE sequence = 5");

        var fault = LedgerChain.Verify(await LedgerAsync()).Fault;
        fault.Should().BeEquivalentTo(new { Sequence = 5L, Kind = LedgerFaultKind.Edited });
        fault!.Record!.Actor.Should().Be("mallory");
    }

    [Fact]
    public async Task An_edit_with_its_hash_recomputed_is_found_at_the_edited_record()
    {
        await WriteSomeHistoryAsync();
        var original = (await LedgerAsync())[4];
        var forged = LedgerChain.Seal(original with { Outcome = StepOutcome.Refused });

        await ExecuteRawAsync($"UPDATE authsplit_ledger SET outcome = 'refused', hash = '{forged.Hash}' WHERE sequence = 5");

        LedgerChain.Verify(await LedgerAsync()).Fault.Should().BeEquivalentTo(new { Sequence = 5L, Kind = LedgerFaultKind.Edited });
    }

    [Fact]
    public async Task A_deleted_record_is_found_by_its_sequence()
    {
        await WriteSomeHistoryAsync();

        await ExecuteRawAsync("DELETE FROM authsplit_ledger WHERE sequence = 4");

        var verification = LedgerChain.Verify(await LedgerAsync());
        verification.Fault.Should().BeEquivalentTo(new { Sequence = 4L, Kind = LedgerFaultKind.Removed, Record = (LedgerRecord?)null });
        verification.IntactRecords.Should().Be(3);
    }

    [Fact]
    public async Task Two_swapped_records_are_found_as_reordered()
    {
        await WriteSomeHistoryAsync();

        await ExecuteRawAsync("UPDATE authsplit_ledger SET sequence = -6 WHERE sequence = 6");
        await ExecuteRawAsync("UPDATE authsplit_ledger SET sequence = 6 WHERE sequence = 7");
        await ExecuteRawAsync("UPDATE authsplit_ledger SET sequence = 7 WHERE sequence = -6");

        var fault = LedgerChain.Verify(await LedgerAsync()).Fault;
        fault.Should().BeEquivalentTo(new { Sequence = 6L, Kind = LedgerFaultKind.Reordered });
        fault!.Record!.EntityId.Should().Be("e4", "the record now at position 6 is the one that was 7th (e4: after the approval and the wave start)");
    }

    [Fact]
    public async Task An_inserted_record_is_found_even_when_its_own_hash_and_link_are_right()
    {
        await WriteSomeHistoryAsync();
        var third = (await LedgerAsync())[2];
        var forged = LedgerChain.Seal(third with { Sequence = 4, EntityId = "forged", PreviousHash = third.Hash });

        await ExecuteRawAsync("UPDATE authsplit_ledger SET sequence = sequence + 1000 WHERE sequence >= 4");
        await ExecuteRawAsync("UPDATE authsplit_ledger SET sequence = sequence - 999 WHERE sequence >= 1000");
        await ExecuteRawAsync(
            "INSERT INTO authsplit_ledger (sequence, at, kind, plan_id, wave, entity_id, step, outcome, actor, node, data, previous_hash, hash) "
            + $"SELECT 4, at, kind, plan_id, wave, 'forged', step, outcome, actor, node, data, '{third.Hash}', '{forged.Hash}' FROM authsplit_ledger WHERE sequence = 3");

        var ledger = await LedgerAsync();
        ledger[3].Hash.Should().Be(LedgerChain.ComputeHash(ledger[3]), "the forger got the inserted record's own hash right");
        var fault = LedgerChain.Verify(ledger).Fault;
        fault.Should().BeEquivalentTo(new { Sequence = 4L, Kind = LedgerFaultKind.Inserted });
        fault!.Record!.EntityId.Should().Be("forged");
    }

    // ---- backups

    [Fact]
    public async Task A_backup_is_read_back_whole_with_binary_values_and_groups()
    {
        var backup = Some.Backup(Some.PlanId(), "e1");

        var stored = await Store.StoreBackupAsync(backup, Ct);
        var read = await Store.GetBackupAsync("e1", Ct);

        read.Should().NotBeNull();
        read!.Sha256.Should().MatchRegex("^sha256:[0-9a-f]{64}$").And.Be(stored.Sha256);
        read.Should().BeEquivalentTo(backup, o => o.Excluding(b => b.Sha256).Excluding(b => b.Entry));
        read.Entry.Dn.Should().Be(backup.Entry.Dn);
        read.Entry.Attributes.Keys.Should().BeEquivalentTo(backup.Entry.Attributes.Keys);
        foreach (var (name, values) in backup.Entry.Attributes)
        {
            read.Entry.GetValues(name).Should().BeEquivalentTo(values, o => o.WithStrictOrdering(), name);
        }

        read.Entry.GetValues("objectguid")[0].Should().Equal(backup.Entry.GetValues("objectGUID")[0]);
        (await Store.GetBackupAsync("e2", Ct)).Should().BeNull();
        (await LedgerAsync()).Should().BeEmpty("a backup reaches the ledger through the step that took it");
    }

    [Fact]
    public async Task Storing_a_backup_again_for_the_same_plan_and_entity_keeps_and_returns_the_first()
    {
        var first = await Store.StoreBackupAsync(Some.Backup(Some.PlanId(), "e1", marker: "First"), Ct);

        var second = await Store.StoreBackupAsync(Some.Backup(Some.PlanId(), "e1", marker: "Second"), Ct);

        second.Entry.Dn.Should().Contain("First");
        second.Sha256.Should().Be(first.Sha256);
        (await Store.GetBackupAsync("e1", Ct))!.Entry.Dn.Should().Contain("First");
        (await CountRawAsync("authsplit_backups")).Should().Be(1);
    }

    [Fact]
    public async Task The_newest_backup_of_an_entity_is_the_one_read()
    {
        await Store.StoreBackupAsync(Some.Backup(Some.PlanId(1), "e1", marker: "Older"), Ct);
        Time.Advance(TimeSpan.FromDays(1));
        await Store.StoreBackupAsync(Some.Backup(Some.PlanId(2), "e1", marker: "Newer"), Ct);

        (await Store.GetBackupAsync("e1", Ct))!.Entry.Dn.Should().Contain("Newer");
    }

    [Fact]
    public async Task A_stored_backup_holds_no_dn_or_attribute_bytes_at_rest()
    {
        var backup = Some.Backup(Some.PlanId(), "e1", marker: "Zyxwvut-Marker");
        await Store.StoreBackupAsync(backup, Ct);

        var blobs = await ReadRawBlobsAsync("SELECT ciphertext FROM authsplit_backups");

        var blob = blobs.Should().ContainSingle().Subject;
        byte[][] secrets =
        [
            Encoding.UTF8.GetBytes("Zyxwvut-Marker"), Encoding.UTF8.GetBytes("zyxwvut-marker@example.org"), Encoding.UTF8.GetBytes("Müller"),
            Encoding.UTF8.GetBytes(Convert.ToBase64String(backup.Entry.GetValues("objectGUID")[0])), backup.Entry.GetValues("objectGUID")[0], Encoding.UTF8.GetBytes("cn=staff"),
        ];
        foreach (var secret in secrets)
        {
            blob.AsSpan().IndexOf(secret).Should().Be(-1);
        }

        blob.Length.Should().BeGreaterThan(200, "the whole entry is in it, encrypted");
    }

    [Fact]
    public async Task Storing_a_backup_without_a_key_is_refused_with_how_to_create_one()
    {
        var keyless = await OpenAsync(keyFile: null);

        var act = () => keyless.StoreBackupAsync(Some.Backup(Some.PlanId(), "e1"), Ct);

        (await act.Should().ThrowAsync<InputException>()).Which.Should().BeEquivalentTo(new { Code = "backup-key-missing" });
        (await act.Should().ThrowAsync<InputException>()).WithMessage("*head -c 32 /dev/urandom | base64 > *chmod 600*");
        (await CountRawAsync("authsplit_backups")).Should().Be(0);
    }

    [Fact]
    public async Task A_backup_read_with_another_key_is_refused_naming_the_key_it_needs()
    {
        await Store.StoreBackupAsync(Some.Backup(Some.PlanId(), "e1"), Ct);
        var fingerprint = (await ReadRawTextAsync("SELECT key_fingerprint FROM authsplit_backups")).Single();
        var other = await OpenAsync(keyFile: WriteKeyFile("other.key"));

        var act = () => other.GetBackupAsync("e1", Ct);

        var thrown = (await act.Should().ThrowAsync<InputException>()).Which;
        thrown.Code.Should().Be("backup-key-mismatch");
        thrown.Message.Should().Contain(fingerprint).And.MatchRegex("sha256:[0-9a-f]{16}");
    }

    [Fact]
    public async Task A_backup_moved_to_another_entity_row_does_not_decrypt()
    {
        await Store.StoreBackupAsync(Some.Backup(Some.PlanId(), "e1", marker: "One"), Ct);
        await Store.StoreBackupAsync(Some.Backup(Some.PlanId(), "e2", marker: "Two"), Ct);

        await ExecuteRawAsync(
            "UPDATE authsplit_backups SET nonce = (SELECT nonce FROM authsplit_backups WHERE entity_id = 'e1'), ciphertext = (SELECT ciphertext FROM authsplit_backups WHERE entity_id = 'e1'), "
            + "tag = (SELECT tag FROM authsplit_backups WHERE entity_id = 'e1'), sha256 = (SELECT sha256 FROM authsplit_backups WHERE entity_id = 'e1') WHERE entity_id = 'e2'");

        var act = () => Store.GetBackupAsync("e2", Ct);
        (await act.Should().ThrowAsync<ExternalSystemException>()).WithMessage("*backup-tampered*");
        (await Store.GetBackupAsync("e1", Ct))!.Entry.Dn.Should().Contain("One");
    }

    protected abstract Task<IReadOnlyList<string>> ReadRawTextAsync(string sql);
}
