using System.Data.Common;
using System.Threading.Channels;
using AuthSplit.State.Dialects;

namespace AuthSplit.State.Storage;

/// <summary>
/// Every write of one store goes through one writer, which commits whatever writes are waiting in one
/// transaction: with synchronous=FULL a commit costs an fsync, so concurrent callers (the executor works on
/// several entities at once) share it instead of queueing for one each (docs/benchmarks.md: 8 concurrent
/// writers with FULL went from ~145 to 420-1,660 steps/s on the shared 2-core test machine); on PostgreSQL
/// the lock and the commit are round trips that the batch shares. One write that fails is rolled back alone
/// (the others are committed without it); a caller's task completes only after the commit that made its
/// write durable.
/// </summary>
internal sealed class GroupCommitWriter : IAsyncDisposable
{
    /// <summary>Writes per transaction at most: bounds how long one transaction holds the database's write lock.</summary>
    private const int MaxBatch = 64;

    private readonly Channel<PendingWrite> _queue = Channel.CreateUnbounded<PendingWrite>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Func<CancellationToken, Task<DbConnection>> _open;
    private readonly IStoreDialect _dialect;
    private readonly Func<DbException, Exception> _translate;
    private readonly Task _loop;

    // The writer's own connection, kept between commits (opening one runs the dialect's set-up each time);
    // dropped after any failure, so the next commit starts on a fresh one.
    private DbConnection? _connection;

    /// <summary>
    /// Counts the writer's transactions: a write may keep what it read under the lock (the ledger's head)
    /// for later writes of the same transaction, and knows by this number when that transaction has ended.
    /// Read only by writes, which run on the writer's loop.
    /// </summary>
    public long TransactionNumber { get; private set; }

    public GroupCommitWriter(Func<CancellationToken, Task<DbConnection>> open, IStoreDialect dialect, Func<DbException, Exception> translate)
    {
        _open = open;
        _dialect = dialect;
        _translate = translate;
        _loop = Task.Run(RunAsync);
    }

    public Task<T> WriteAsync<T>(Func<DbConnection, DbTransaction, Task<T>> work, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var pending = new PendingWrite<T>(work, cancellationToken);
        return _queue.Writer.TryWrite(pending) ? pending.Task : throw new ObjectDisposedException(nameof(AdoExecutionStore));
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _loop.ConfigureAwait(false);
        await DropConnectionAsync().ConfigureAwait(false);
    }

    private async Task DropConnectionAsync()
    {
        if (_connection is { } connection)
        {
            _connection = null;
            await connection.DisposeAsync().ConfigureAwait(false);
        }
    }

    private async Task RunAsync()
    {
        var batch = new List<PendingWrite>(MaxBatch);
        while (await _queue.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            batch.Clear();
            while (batch.Count < MaxBatch && _queue.Reader.TryRead(out var pending))
            {
                if (pending.CancellationToken.IsCancellationRequested)
                {
                    pending.Cancel();
                }
                else
                {
                    batch.Add(pending);
                }
            }

            if (batch.Count > 0)
            {
                await CommitAsync(batch).ConfigureAwait(false);
            }
        }
    }

    private async Task CommitAsync(List<PendingWrite> batch)
    {
        // Without savepoints: on PostgreSQL each costs two round trips (SAVEPOINT, RELEASE) per write. A write
        // that fails alone (a constraint, a bad statement, its caller's cancellation) rolls the whole
        // transaction back instead; it is failed and the others run again in a new transaction, under the
        // lock again, so each reads the ledger's head afresh. Every retry drops one write, so a batch ends.
        var remaining = batch;
        while (remaining.Count > 0)
        {
            var failedAlone = await TryCommitAsync(remaining).ConfigureAwait(false);
            if (failedAlone is null)
            {
                return;
            }

            remaining = remaining.Where(pending => !ReferenceEquals(pending, failedAlone)).ToList();
        }
    }

    /// <summary>
    /// Runs the writes in one transaction and commits it: null when all are committed (their tasks completed)
    /// or the transaction failed as a whole (all failed); else the one write that failed alone, already
    /// failed, the transaction rolled back and the others not completed.
    /// </summary>
    private async Task<PendingWrite?> TryCommitAsync(List<PendingWrite> batch)
    {
        try
        {
            // Not the callers' tokens: the transaction serves all of them; each write's own statements take its token.
            var connection = _connection ??= await _open(CancellationToken.None).ConfigureAwait(false);
            await using var transaction = await _dialect.BeginWriteAsync(connection, CancellationToken.None).ConfigureAwait(false);
            TransactionNumber++;
            foreach (var pending in batch)
            {
                try
                {
                    await pending.RunAsync(connection, transaction).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not DbException db || !_dialect.SpoilsTransaction(db))
                {
                    await transaction.RollbackAsync(CancellationToken.None).ConfigureAwait(false);
                    pending.Fail(ex is DbException statement ? _translate(statement) : ex);
                    return pending;
                }
            }

            await transaction.CommitAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // The transaction failed as a whole (the lock, the session, the commit): every write fails with it.
            var failure = ex is DbException db ? _translate(db) : ex;
            await DropConnectionAsync().ConfigureAwait(false);
            foreach (var pending in batch)
            {
                pending.Fail(failure);
            }

            return null;
        }

        foreach (var pending in batch)
        {
            pending.Complete();
        }

        return null;
    }

    private abstract class PendingWrite(CancellationToken cancellationToken)
    {
        public CancellationToken CancellationToken { get; } = cancellationToken;

        public abstract Task RunAsync(DbConnection connection, DbTransaction transaction);

        public abstract void Complete();

        public abstract void Fail(Exception exception);

        public abstract void Cancel();
    }

    private sealed class PendingWrite<T>(Func<DbConnection, DbTransaction, Task<T>> work, CancellationToken cancellationToken) : PendingWrite(cancellationToken)
    {
        private readonly TaskCompletionSource<T> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private T _result = default!;

        public Task<T> Task => _completion.Task;

        public override async Task RunAsync(DbConnection connection, DbTransaction transaction) =>
            _result = await work(connection, transaction).ConfigureAwait(false);

        public override void Complete() => _completion.TrySetResult(_result);

        public override void Fail(Exception exception)
        {
            if (exception is OperationCanceledException)
            {
                _completion.TrySetCanceled(CancellationToken);
            }
            else
            {
                _completion.TrySetException(exception);
            }
        }

        public override void Cancel() => _completion.TrySetCanceled(CancellationToken);
    }
}
