using System.Data.Common;
using System.Text.Json;
using AuthSplit.Core.Execution;
using AuthSplit.State.Storage;

namespace AuthSplit.State;

public sealed partial class AdoExecutionStore
{
    public Task<Approval> ApproveAsync(Approval approval, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(approval);
        return WriteAsync(async (connection, transaction) =>
        {
            await using (var select = Sql.Command(connection, transaction, _dialect.SelectApproval, ("@plan_id", approval.PlanId), ("@approved_by", approval.ApprovedBy)))
            await using (var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
            {
                if (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    return ReadApproval(reader);
                }
            }

            await ExecuteAsync(connection, transaction, _dialect.InsertApproval, cancellationToken,
                ("@plan_id", approval.PlanId), ("@approved_by", approval.ApprovedBy), ("@approved_at", Sql.Time(approval.ApprovedAt)), ("@note", approval.Note)).ConfigureAwait(false);
            await AppendLedgerAsync(connection, transaction, new LedgerDraft(LedgerKind.Approval, approval.PlanId, approval.ApprovedBy, _settings.Node)
            {
                Data = Json(writer =>
                {
                    writer.WriteString("approvedAt", Sql.Time(approval.ApprovedAt));
                    writer.WriteString("note", approval.Note);
                }),
            }, cancellationToken).ConfigureAwait(false);
            return approval;
        }, cancellationToken);
    }

    public Task<LedgerRecord> RecordRestoreAsync(RestoreRecord restore, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(restore);
        return WriteAsync(
            (connection, transaction) => AppendLedgerAsync(connection, transaction, new LedgerDraft(LedgerKind.Restore, restore.PlanId, restore.Actor.Operator, restore.Actor.Node)
            {
                Wave = restore.Wave,
                EntityId = restore.EntityId,
                Data = restore.Data,
            }, cancellationToken),
            cancellationToken);
    }

    public Task<LedgerRecord> RecordRollbackAsync(RollbackRecord rollback, EntityProgress? entity, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(rollback);
        if (entity is not null && (entity.PlanId != rollback.PlanId || entity.EntityId != rollback.EntityId))
        {
            throw new ArgumentException($"the rollback is of {rollback.PlanId}/{rollback.EntityId} but the progress of {entity.PlanId}/{entity.EntityId}", nameof(entity));
        }

        return WriteAsync(async (connection, transaction) =>
        {
            var record = await AppendLedgerAsync(connection, transaction, new LedgerDraft(LedgerKind.Rollback, rollback.PlanId, rollback.Actor.Operator, rollback.Actor.Node)
            {
                Wave = rollback.Wave,
                EntityId = rollback.EntityId,
                Data = Json(writer =>
                {
                    writer.WriteString("action", rollback.Action);
                    writer.WriteString("at", Sql.Time(rollback.At));
                    WriteJsonOrString(writer, "detail", rollback.Data);
                    if (entity is not null)
                    {
                        writer.WriteString("state", Sql.Wire(entity.State));
                    }
                }),
            }, cancellationToken).ConfigureAwait(false);
            if (entity is not null)
            {
                await using var upsert = Sql.Command(connection, transaction, _dialect.UpsertEntity,
                    ("@plan_id", null), ("@entity_id", null), ("@wave", null), ("@dn", null), ("@kind", null), ("@state", null),
                    ("@last_step", null), ("@attempts", 0), ("@reason", null), ("@hold_until", null), ("@updated_at", null));
                SetEntity(upsert, entity);
                await upsert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            return record;
        }, cancellationToken);
    }

    public async Task<IReadOnlyList<Approval>> GetApprovalsAsync(string planId, CancellationToken cancellationToken) =>
        await ReadListAsync(_dialect.SelectApprovals, ReadApproval, cancellationToken, ("@plan_id", planId)).ConfigureAwait(false);

    public Task SavePlanAsync(string planId, ReadOnlyMemory<byte> planJson, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(planId);
        return WriteAsync(
            (connection, transaction) => ExecuteAsync(connection, transaction, _dialect.InsertPlan, cancellationToken,
                ("@plan_id", planId), ("@plan_json", planJson.ToArray()), ("@saved_at", Sql.Time(_time.GetUtcNow()))),
            cancellationToken);
    }

    public Task<byte[]?> GetPlanAsync(string planId, CancellationToken cancellationToken) =>
        ReadAsync(async connection =>
        {
            await using var command = Sql.Command(connection, null, _dialect.SelectPlan, ("@plan_id", planId));
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? Sql.Bytes(reader, 0) : null;
        }, cancellationToken);

    private static Approval ReadApproval(DbDataReader reader) =>
        new(reader.GetString(0), reader.GetString(1), Sql.ParseTime(reader.GetString(2)), Sql.Text(reader, 3));

    /// <summary>Compact JSON of a ledger record's <see cref="LedgerRecord.Data"/>: one object, properties in the order written.</summary>
    private static string Json(Action<Utf8JsonWriter> write)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            write(writer);
            writer.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }
}
