using System.Data.Common;
using AuthSplit.Core.Evidence;
using AuthSplit.Core.Execution;
using AuthSplit.State.Storage;

namespace AuthSplit.State;

public sealed partial class AdoExecutionStore
{
    // The chain's head as the writer's current transaction left it (see SealLedgerAsync); only writes, which
    // run one at a time on the writer's loop, read and set it.
    private (long Transaction, long Sequence, string Hash)? _ledgerHead;

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
        var (record, insert) = await SealLedgerAsync(connection, transaction, draft, cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(connection, transaction, insert.Text, cancellationToken, insert.Parameters).ConfigureAwait(false);
        return record;
    }

    /// <summary>
    /// The next record of the chain and the statement that appends it, which the caller runs in this
    /// transaction before its next record (alone or with its other statements, one round trip).
    /// </summary>
    private async Task<(LedgerRecord Record, Statement Insert)> SealLedgerAsync(DbConnection connection, DbTransaction transaction, LedgerDraft draft, CancellationToken cancellationToken)
    {
        long sequence = 0;
        var previous = LedgerChain.Genesis;
        if (_ledgerHead is { } known && known.Transaction == _writer.TransactionNumber)
        {
            // Appended earlier in this transaction under the lock held since its start: no one else has
            // appended since. A failed write rolls the whole transaction back, and the next starts afresh.
            (sequence, previous) = (known.Sequence, known.Hash);
        }
        else
        {
            await using var head = Sql.Command(connection, transaction, _dialect.SelectLedgerHead);
            await using var reader = await head.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
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
        _ledgerHead = (_writer.TransactionNumber, record.Sequence, record.Hash);

        return (record, new Statement(_dialect.InsertLedger,
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
            ("@hash", record.Hash)));
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
