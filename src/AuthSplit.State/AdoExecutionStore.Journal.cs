using System.Data.Common;
using System.Text.Json;
using AuthSplit.Core.Execution;
using AuthSplit.Core.Model;
using AuthSplit.Core.Planning.Format;
using AuthSplit.State.Storage;

namespace AuthSplit.State;

public sealed partial class AdoExecutionStore
{
    /// <summary>Pauses are by wave name, whatever plan runs it: their ledger records carry this plan id.</summary>
    public const string AnyPlan = "";

    public Task<WaveRun?> GetWaveAsync(string planId, string wave, CancellationToken cancellationToken) =>
        ReadSingleAsync(_dialect.SelectWave, ReadWave, cancellationToken, ("@plan_id", planId), ("@wave", wave));

    public async Task<IReadOnlyList<WaveRun>> GetWaveRunsAsync(string wave, CancellationToken cancellationToken) =>
        await ReadListAsync(_dialect.SelectWaveRuns, ReadWave, cancellationToken, ("@wave", wave)).ConfigureAwait(false);

    public async Task<IReadOnlyList<WaveRun>> GetRunningWavesAsync(CancellationToken cancellationToken) =>
        await ReadListAsync(_dialect.SelectRunningWaves, ReadWave, cancellationToken).ConfigureAwait(false);

    public Task SaveWaveAsync(WaveRun run, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(run);
        return WriteAsync(async (connection, transaction) =>
        {
            await ExecuteAsync(connection, transaction, _dialect.UpsertWave, cancellationToken,
                ("@plan_id", run.PlanId), ("@wave", run.Wave), ("@status", Sql.Wire(run.Status)),
                ("@started_by", run.StartedBy.Operator), ("@started_node", run.StartedBy.Node), ("@started_at", Sql.Time(run.StartedAt)),
                ("@completed_at", Sql.Time(run.CompletedAt)), ("@reason", run.Reason), ("@self_approved", run.SelfApproved ? 1 : 0)).ConfigureAwait(false);
            var kind = run.Status switch
            {
                WaveStatus.Running => LedgerKind.WaveStarted,
                WaveStatus.Completed => LedgerKind.WaveCompleted,
                _ => LedgerKind.WaveStopped,
            };
            return await AppendLedgerAsync(connection, transaction, new LedgerDraft(kind, run.PlanId, run.StartedBy.Operator, run.StartedBy.Node)
            {
                Wave = run.Wave,
                Data = Json(writer =>
                {
                    writer.WriteString("status", Sql.Wire(run.Status));
                    writer.WriteString("startedAt", Sql.Time(run.StartedAt));
                    writer.WriteString("completedAt", Sql.Time(run.CompletedAt));
                    writer.WriteString("reason", run.Reason);
                    if (run.SelfApproved)
                    {
                        writer.WriteBoolean("selfApproved", true);
                    }
                }),
            }, cancellationToken).ConfigureAwait(false);
        }, cancellationToken);
    }

    /// <summary>
    /// Registration is idempotent (insert if missing), so a wave's entities go in chunks, each its own short
    /// transaction: a wave of 100,000 in one transaction held the cluster's write lock for minutes on
    /// PostgreSQL (a round trip per row), and every other node's writes failed with state-locked behind it.
    /// A registration cut off half-way is completed by the next run's.
    /// </summary>
    public async Task RegisterEntitiesAsync(IReadOnlyList<EntityProgress> entities, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entities);
        foreach (var chunk in entities.Chunk(RegistrationChunk))
        {
            await WriteAsync(async (connection, transaction) =>
            {
                await using var command = Sql.Command(connection, transaction, _dialect.InsertEntityIfMissing,
                    ("@plan_id", null), ("@entity_id", null), ("@wave", null), ("@dn", null), ("@kind", null), ("@state", null),
                    ("@last_step", null), ("@attempts", 0), ("@reason", null), ("@hold_until", null), ("@updated_at", null));
                foreach (var entity in chunk)
                {
                    // The state the executor registers is kept: pending for a removal, excluded (with the plan's reason) for the others.
                    SetEntity(command, entity with { LastStep = null, Attempts = 0, HoldUntil = null });
                    await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }

                return chunk.Length;
            }, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Entities registered per transaction: about half a second of the write lock over TLS.</summary>
    private const int RegistrationChunk = 500;

    public IAsyncEnumerable<EntityProgress> ReadEntitiesAsync(string planId, string wave, CancellationToken cancellationToken) =>
        StreamAsync(_dialect.SelectEntities, ReadEntity, cancellationToken, ("@plan_id", planId), ("@wave", wave));

    public Task<EntityProgress?> GetEntityAsync(string planId, string entityId, CancellationToken cancellationToken) =>
        ReadSingleAsync(_dialect.SelectEntity, ReadEntity, cancellationToken, ("@plan_id", planId), ("@entity_id", entityId));

    public async Task<IReadOnlyList<StepRecord>> GetStepsAsync(string planId, string entityId, CancellationToken cancellationToken) =>
        await ReadListAsync(_dialect.SelectSteps, ReadStep, cancellationToken, ("@plan_id", planId), ("@entity_id", entityId)).ConfigureAwait(false);

    public async Task<IReadOnlyList<StepRecord>> GetDoneStepsOfOtherPlansAsync(string wave, string exceptPlanId, CancellationToken cancellationToken) =>
        await ReadListAsync(
            _dialect.SelectDoneStepsOfOtherPlans,
            ReadStep,
            cancellationToken,
            ("@wave", wave),
            ("@plan_id", exceptPlanId),
            ("@done", Sql.Wire(StepOutcome.Done)),
            ("@already_done", Sql.Wire(StepOutcome.AlreadyDone))).ConfigureAwait(false);

    public Task RecordStepAsync(StepRecord step, EntityProgress entity, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(step);
        ArgumentNullException.ThrowIfNull(entity);
        if (step.PlanId != entity.PlanId || step.EntityId != entity.EntityId)
        {
            throw new ArgumentException($"the step is of {step.PlanId}/{step.EntityId} but the progress of {entity.PlanId}/{entity.EntityId}", nameof(entity));
        }

        return WriteAsync(async (connection, transaction) =>
        {
            // The ledger record first: its sequence keys the journal row. The three statements in one round trip.
            var (record, appendLedger) = await SealLedgerAsync(connection, transaction, new LedgerDraft(LedgerKind.Step, step.PlanId, step.Actor.Operator, step.Actor.Node)
            {
                Wave = step.Wave,
                EntityId = step.EntityId,
                Step = step.Step,
                Outcome = step.Outcome,
                Data = Json(writer =>
                {
                    writer.WriteNumber("attempt", step.Attempt);
                    writer.WriteString("at", Sql.Time(step.At));
                    WriteJsonOrString(writer, "before", step.Before);
                    WriteJsonOrString(writer, "after", step.After);
                    writer.WriteString("reason", step.Reason);
                    writer.WriteString("state", Sql.Wire(entity.State));
                }),
            }, cancellationToken).ConfigureAwait(false);

            var insertStep = new Statement(_dialect.InsertStep,
                ("@ledger_sequence", record.Sequence), ("@plan_id", step.PlanId), ("@wave", step.Wave), ("@entity_id", step.EntityId),
                ("@step", Sql.Wire(step.Step)), ("@outcome", Sql.Wire(step.Outcome)), ("@attempt", step.Attempt),
                ("@before_json", step.Before), ("@after_json", step.After), ("@reason", step.Reason),
                ("@operator", step.Actor.Operator), ("@node", step.Actor.Node), ("@at", Sql.Time(step.At)));
            await Sql.ExecuteTogetherAsync(connection, transaction, [appendLedger, insertStep, new Statement(_dialect.UpsertEntity, EntityParameters(entity))], cancellationToken).ConfigureAwait(false);
            return record.Sequence;
        }, cancellationToken);
    }

    public Task<int> CountDeletesAsync(string planId, string wave, CancellationToken cancellationToken) =>
        ReadAsync(async connection =>
        {
            await using var command = Sql.Command(connection, null, _dialect.CountDeletes,
                ("@plan_id", planId), ("@wave", wave), ("@step", Sql.Wire(StepAction.DeleteLegacyEntry)),
                ("@done", Sql.Wire(StepOutcome.Done)), ("@already_done", Sql.Wire(StepOutcome.AlreadyDone)));
            return Convert.ToInt32(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture);
        }, cancellationToken);

    public Task<WavePause?> GetPauseAsync(string wave, CancellationToken cancellationToken) =>
        ReadSingleAsync(_dialect.SelectPause, reader => new WavePause(reader.GetString(0), reader.GetBoolean(1), reader.GetString(2), Sql.ParseTime(reader.GetString(3))),
            cancellationToken, ("@wave", wave));

    public Task RecordRefusalAsync(WaveRefusal refusal, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(refusal);
        return WriteAsync((connection, transaction) => AppendLedgerAsync(connection, transaction, new LedgerDraft(LedgerKind.WaveRefused, refusal.PlanId, refusal.Actor.Operator, refusal.Actor.Node)
        {
            Wave = refusal.Wave,
            Data = Json(writer =>
            {
                writer.WriteString("code", Sql.Wire(refusal.Code));
                writer.WriteString("reason", refusal.Reason);
                writer.WriteString("at", Sql.Time(refusal.At));
            }),
        }, cancellationToken), cancellationToken);
    }

    public Task RecordGateEventAsync(GateEvent gateEvent, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(gateEvent);
        return WriteAsync((connection, transaction) => AppendLedgerAsync(connection, transaction, new LedgerDraft(LedgerKind.Gate, AnyPlan, gateEvent.Actor.Operator, gateEvent.Actor.Node)
        {
            Wave = gateEvent.Wave,
            EntityId = GateEntityId(gateEvent.Gate),
            Data = Json(writer =>
            {
                writer.WriteString("gate", gateEvent.Gate);
                writer.WriteString("event", Sql.Wire(gateEvent.Kind));
                writer.WriteString("at", Sql.Time(gateEvent.At));
                if (gateEvent.TenantId is not null)
                {
                    writer.WriteString("tenantId", gateEvent.TenantId);
                }

                if (gateEvent.PasswordSyncEnabled is { } enabled)
                {
                    writer.WriteBoolean("passwordSyncEnabled", enabled);
                }

                if (gateEvent.Reason is not null)
                {
                    writer.WriteString("reason", gateEvent.Reason);
                }
            }),
        }, cancellationToken), cancellationToken);
    }

    public async Task<IReadOnlyList<GateEvent>> GetGateEventsAsync(string gate, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(gate);
        var events = new List<GateEvent>();
        await foreach (var record in StreamAsync(_dialect.SelectGateEvents, ReadLedgerRecord, cancellationToken, ("@kind", Sql.Wire(LedgerKind.Gate)), ("@entity_id", GateEntityId(gate))).ConfigureAwait(false))
        {
            using var data = System.Text.Json.JsonDocument.Parse(record.Data ?? "{}");
            var root = data.RootElement;
            events.Add(new GateEvent
            {
                Gate = gate,
                Kind = Sql.ParseWire<GateEventKind>(root.GetProperty("event").GetString()!),
                Wave = record.Wave ?? string.Empty,
                Actor = new ExecutionActor(record.Actor, record.Node),
                At = Sql.ParseTime(root.GetProperty("at").GetString()!),
                TenantId = root.TryGetProperty("tenantId", out var tenant) ? tenant.GetString() : null,
                PasswordSyncEnabled = root.TryGetProperty("passwordSyncEnabled", out var enabled) ? enabled.GetBoolean() : null,
                Reason = root.TryGetProperty("reason", out var reason) ? reason.GetString() : null,
            });
        }

        return events;
    }

    private static string GateEntityId(string gate) => "gate:" + gate;

    public Task SetPauseAsync(WavePause pause, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pause);
        return WriteAsync(async (connection, transaction) =>
        {
            await ExecuteAsync(connection, transaction, _dialect.UpsertPause, cancellationToken,
                ("@wave", pause.Wave), ("@paused", pause.Paused), ("@paused_by", pause.By), ("@at", Sql.Time(pause.At))).ConfigureAwait(false);
            return await AppendLedgerAsync(connection, transaction, new LedgerDraft(LedgerKind.Pause, AnyPlan, pause.By, _settings.Node)
            {
                Wave = pause.Wave,
                Data = Json(writer =>
                {
                    writer.WriteBoolean("paused", pause.Paused);
                    writer.WriteString("at", Sql.Time(pause.At));
                }),
            }, cancellationToken).ConfigureAwait(false);
        }, cancellationToken);
    }

    private Task<T?> ReadSingleAsync<T>(string sql, Func<DbDataReader, T> map, CancellationToken cancellationToken, params (string Name, object? Value)[] parameters)
        where T : class =>
        ReadAsync<T?>(async connection =>
        {
            await using var command = Sql.Command(connection, null, sql, parameters);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? map(reader) : null;
        }, cancellationToken);

    /// <summary>Before/after are compact JSON by contract: kept as JSON in the ledger's data when they are, as a string when not.</summary>
    private static void WriteJsonOrString(Utf8JsonWriter writer, string name, string? value)
    {
        if (value is null)
        {
            writer.WriteNull(name);
            return;
        }

        try
        {
            using var parsed = JsonDocument.Parse(value);
            writer.WritePropertyName(name);
            parsed.RootElement.WriteTo(writer);
        }
        catch (JsonException)
        {
            writer.WriteString(name, value);
        }
    }

    private static void SetEntity(DbCommand command, EntityProgress entity)
    {
        var p = command.Parameters;
        p["@plan_id"].Value = entity.PlanId;
        p["@entity_id"].Value = entity.EntityId;
        p["@wave"].Value = entity.Wave;
        p["@dn"].Value = entity.Dn;
        p["@kind"].Value = Sql.Wire(entity.Kind);
        p["@state"].Value = Sql.Wire(entity.State);
        p["@last_step"].Value = (object?)Sql.Wire(entity.LastStep) ?? DBNull.Value;
        p["@attempts"].Value = entity.Attempts;
        p["@reason"].Value = (object?)entity.Reason ?? DBNull.Value;
        p["@hold_until"].Value = (object?)Sql.Time(entity.HoldUntil) ?? DBNull.Value;
        p["@updated_at"].Value = Sql.Time(entity.UpdatedAt);
    }

    private static (string Name, object? Value)[] EntityParameters(EntityProgress entity) =>
    [
        ("@plan_id", entity.PlanId), ("@entity_id", entity.EntityId), ("@wave", entity.Wave), ("@dn", entity.Dn), ("@kind", Sql.Wire(entity.Kind)),
        ("@state", Sql.Wire(entity.State)), ("@last_step", Sql.Wire(entity.LastStep)), ("@attempts", entity.Attempts), ("@reason", entity.Reason),
        ("@hold_until", Sql.Time(entity.HoldUntil)), ("@updated_at", Sql.Time(entity.UpdatedAt)),
    ];

    private static WaveRun ReadWave(DbDataReader reader) => new()
    {
        PlanId = reader.GetString(0),
        Wave = reader.GetString(1),
        Status = Sql.ParseWire<WaveStatus>(reader.GetString(2)),
        StartedBy = new ExecutionActor(reader.GetString(3), reader.GetString(4)),
        StartedAt = Sql.ParseTime(reader.GetString(5)),
        CompletedAt = Sql.OptionalTime(reader, 6),
        Reason = Sql.Text(reader, 7),
        SelfApproved = reader.GetInt64(8) != 0,
    };

    private static EntityProgress ReadEntity(DbDataReader reader) => new()
    {
        PlanId = reader.GetString(0),
        EntityId = reader.GetString(1),
        Wave = reader.GetString(2),
        Dn = reader.GetString(3),
        Kind = Sql.ParseWire<EntityKind>(reader.GetString(4)),
        State = Sql.ParseWire<EntityState>(reader.GetString(5)),
        LastStep = Sql.OptionalWire<StepAction>(reader, 6),
        Attempts = reader.GetInt32(7),
        Reason = Sql.Text(reader, 8),
        HoldUntil = Sql.OptionalTime(reader, 9),
        UpdatedAt = Sql.ParseTime(reader.GetString(10)),
    };

    private static StepRecord ReadStep(DbDataReader reader) => new()
    {
        PlanId = reader.GetString(1),
        Wave = reader.GetString(2),
        EntityId = reader.GetString(3),
        Step = Sql.ParseWire<StepAction>(reader.GetString(4)),
        Outcome = Sql.ParseWire<StepOutcome>(reader.GetString(5)),
        Attempt = reader.GetInt32(6),
        Before = Sql.Text(reader, 7),
        After = Sql.Text(reader, 8),
        Reason = Sql.Text(reader, 9),
        Actor = new ExecutionActor(reader.GetString(10), reader.GetString(11)),
        At = Sql.ParseTime(reader.GetString(12)),
    };
}
