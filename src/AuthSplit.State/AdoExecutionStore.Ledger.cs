using System.Data.Common;
using AuthSplit.Core.Evidence;
using AuthSplit.Core.Execution;
using AuthSplit.State.Storage;

namespace AuthSplit.State;

public sealed partial class AdoExecutionStore
{
    public IAsyncEnumerable<LedgerRecord> ReadLedgerAsync(string? wave, CancellationToken cancellationToken) =>
        wave is null
            ? StreamAsync(_dialect.SelectLedger, ReadLedgerRecord, cancellationToken)
            : StreamAsync(_dialect.SelectLedgerOfWave, ReadLedgerRecord, cancellationToken, ("@wave", wave), ("@approval", Sql.Wire(LedgerKind.Approval)));

    /// <summary>
    /// Appends one record inside the caller's write transaction: its sequence and previous hash from the
    /// head as this transaction sees it (the write lock is already held), its hash over the rest.
    /// </summary>
    private async Task<LedgerRecord> AppendLedgerAsync(DbConnection connection, DbTransaction transaction, LedgerDraft draft, CancellationToken cancellationToken)
    {
        long sequence = 0;
        var previous = LedgerChain.Genesis;
        await using (var head = Sql.Command(connection, transaction, _dialect.SelectLedgerHead))
        await using (var reader = await head.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            if (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                sequence = reader.GetInt64(0);
                previous = reader.GetString(1);
            }
        }

        var record = LedgerChain.Seal(new LedgerRecord
        {
            Sequence = sequence + 1,
            At = LedgerChain.Truncate(_time.GetUtcNow()),
            Kind = draft.Kind,
            PlanId = draft.PlanId,
            Wave = draft.Wave,
            EntityId = draft.EntityId,
            Step = draft.Step,
            Outcome = draft.Outcome,
            Actor = draft.Actor,
            Node = draft.Node,
            Data = draft.Data,
            PreviousHash = previous,
            Hash = string.Empty,
        });

        await ExecuteAsync(connection, transaction, _dialect.InsertLedger, cancellationToken,
            ("@sequence", record.Sequence),
            ("@at", LedgerChain.FormatTime(record.At)),
            ("@kind", Sql.Wire(record.Kind)),
            ("@plan_id", record.PlanId),
            ("@wave", record.Wave),
            ("@entity_id", record.EntityId),
            ("@step", Sql.Wire(record.Step)),
            ("@outcome", Sql.Wire(record.Outcome)),
            ("@actor", record.Actor),
            ("@node", record.Node),
            ("@data", record.Data),
            ("@previous_hash", record.PreviousHash),
            ("@hash", record.Hash)).ConfigureAwait(false);
        return record;
    }

    private static LedgerRecord ReadLedgerRecord(DbDataReader reader) => new()
    {
        Sequence = reader.GetInt64(0),
        At = Sql.ParseTime(reader.GetString(1)),
        Kind = Sql.ParseWire<LedgerKind>(reader.GetString(2)),
        PlanId = reader.GetString(3),
        Wave = Sql.Text(reader, 4),
        EntityId = Sql.Text(reader, 5),
        Step = Sql.OptionalWire<Core.Planning.Format.StepAction>(reader, 6),
        Outcome = Sql.OptionalWire<StepOutcome>(reader, 7),
        Actor = reader.GetString(8),
        Node = reader.GetString(9),
        Data = Sql.Text(reader, 10),
        PreviousHash = reader.GetString(11),
        Hash = reader.GetString(12),
    };

    /// <summary>A ledger record before the store gives it its place in the chain.</summary>
    private sealed record LedgerDraft(LedgerKind Kind, string PlanId, string Actor, string Node)
    {
        public string? Wave { get; init; }

        public string? EntityId { get; init; }

        public Core.Planning.Format.StepAction? Step { get; init; }

        public StepOutcome? Outcome { get; init; }

        public string? Data { get; init; }
    }
}
