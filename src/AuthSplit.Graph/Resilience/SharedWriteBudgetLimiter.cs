using System.Threading.RateLimiting;
using AuthSplit.Core.Errors;
using AuthSplit.Core.Execution.Cluster;
using Microsoft.Extensions.Logging;

namespace AuthSplit.Graph.Resilience;

/// <summary>
/// The write limiter of a node in a cluster: its permits are writes the cluster's shared budget granted
/// (<see cref="ISharedWriteBudget"/>, decided in the state database), so all nodes together stay under
/// Graph's limit per app and tenant. A request waits in order; as soon as one waits, the limiter asks the
/// database for the writes waiting (at most one <c>$batch</c> of writes per grant), and when told to wait,
/// asks again exactly when the database said the budget frees up, while more requests queue behind.
/// </summary>
/// <remarks>
/// A grant is valid for <see cref="WriteBudgetLimit.Validity"/> from the moment the request for it was
/// sent (the database stamped it later than that): a permit not handed out by then is dropped, and a lease
/// whose validity ran out before its write was sent is not used (<see cref="IsSpendable"/>). That is what
/// <see cref="WriteBudgetArithmetic"/> needs for the limit to hold across nodes. Dropped permits are given
/// back to the database (<see cref="ISharedWriteBudget.ReturnAsync"/>), so a stalled node does not waste
/// the cluster's budget. When the database cannot
/// be asked, the waiting writes fail with the reason and nothing is sent: no grant, no write.
/// </remarks>
public sealed partial class SharedWriteBudgetLimiter : RateLimiter
{
    private readonly ISharedWriteBudget _budget;
    private readonly WriteBudgetKey _key;
    private readonly string _node;
    private readonly string _description;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly long _validity;
    private readonly object _gate = new();
    private readonly LinkedList<Waiter> _waiters = new();
    private readonly Queue<HeldPermits> _held = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly CancellationToken _stoppingToken;
    private int _queuedPermits;
    private bool _refilling;
    private bool _disposed;
    private long _successful;
    private long _failed;

    public SharedWriteBudgetLimiter(ISharedWriteBudget budget, WriteBudgetKey key, WriteBudgetLimit limit, string node, string description, WritePacingMeter meter, ILogger logger, TimeProvider? time = null)
    {
        _budget = budget;
        _key = key;
        Limit = limit;
        _node = node;
        _description = description;
        Meter = meter;
        _logger = logger;
        _time = time ?? TimeProvider.System;
        _validity = (long)(limit.Validity.TotalSeconds * _time.TimestampFrequency);
        _stoppingToken = _stopping.Token;
    }

    public WriteBudgetLimit Limit { get; }

    public WritePacingMeter Meter { get; }

    public override TimeSpan? IdleDuration => null;

    /// <summary>Whether a lease of this limiter may still be spent: a lease of another limiter always may.</summary>
    public static bool IsSpendable(RateLimitLease lease, TimeProvider time) => lease is not Granted granted || time.GetTimestamp() < granted.ValidUntil;

    public override RateLimiterStatistics? GetStatistics()
    {
        lock (_gate)
        {
            return new RateLimiterStatistics
            {
                CurrentAvailablePermits = HeldLocked(),
                CurrentQueuedCount = _queuedPermits,
                TotalSuccessfulLeases = Interlocked.Read(ref _successful),
                TotalFailedLeases = Interlocked.Read(ref _failed),
            };
        }
    }

    protected override RateLimitLease AttemptAcquireCore(int permitCount)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(permitCount, Limit.Burst);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            DropExpiredLocked();
            if (_waiters.Count == 0 && HeldLocked() >= permitCount)
            {
                return TakeLocked(permitCount);
            }
        }

        Interlocked.Increment(ref _failed);
        return Refused.Instance;
    }

    protected override ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(permitCount, Limit.Burst);
        cancellationToken.ThrowIfCancellationRequested();
        Waiter waiter;
        bool start;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            DropExpiredLocked();
            if (_waiters.Count == 0 && HeldLocked() >= permitCount)
            {
                return ValueTask.FromResult<RateLimitLease>(TakeLocked(permitCount));
            }

            waiter = new Waiter(permitCount);
            waiter.Node = _waiters.AddLast(waiter);
            _queuedPermits += permitCount;
            start = !_refilling;
            _refilling = true;
        }

        if (cancellationToken.CanBeCanceled)
        {
            waiter.Registration = cancellationToken.Register(static (state, token) => ((SharedWriteBudgetLimiter)((object[])state!)[0]).Cancel((Waiter)((object[])state!)[1], token), new object[] { this, waiter });
        }

        if (start)
        {
            _ = Task.Run(RefillAsync, CancellationToken.None);
        }

        return new ValueTask<RateLimitLease>(waiter.Completion.Task);
    }

    private void Cancel(Waiter waiter, CancellationToken token)
    {
        lock (_gate)
        {
            if (waiter.Node?.List is null)
            {
                return;
            }

            _waiters.Remove(waiter.Node);
            _queuedPermits -= waiter.Permits;
        }

        waiter.Completion.TrySetCanceled(token);
    }

    // One loop at a time, while requests wait: serve them from granted permits, else ask the database.
    private async Task RefillAsync()
    {
        while (true)
        {
            int ask;
            lock (_gate)
            {
                ServeLocked();
                ask = _disposed ? 0 : AskLocked();
                if (ask <= 0)
                {
                    _refilling = false;
                    return;
                }
            }

            var sent = _time.GetTimestamp();
            WriteGrant grant;
            try
            {
                grant = await _budget.RequestAsync(new WriteGrantRequest(_key, Limit, ask, _node), _stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (_stoppingToken.IsCancellationRequested)
            {
                FailAll(new ObjectDisposedException(nameof(SharedWriteBudgetLimiter)));
                return;
            }
            catch (Exception ex)
            {
                LogBudgetUnavailable(_logger, ex.Message);
                FailAll(new ExternalSystemException(_description,
                    $"cannot take writes from the cluster's shared Graph write budget in the state database ({ex.Message}): no write was sent, as none is without a grant; a later attempt asks the database again", ex));
                continue;
            }

            if (grant.IsGranted)
            {
                lock (_gate)
                {
                    _held.Enqueue(new HeldPermits(grant.Id, grant.Writes, sent + _validity));
                }

                continue;
            }

            Meter.RecordRefusal();
            try
            {
                await Task.Delay(grant.Wait, _time, _stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                FailAll(new ObjectDisposedException(nameof(SharedWriteBudgetLimiter)));
                return;
            }
        }
    }

    // What to ask the database for: the writes of the waiters at the head of the queue that one grant can
    // serve whole, less the permits held. A grant then leaves nothing over to expire unsent (a waiter needs
    // all its permits at once, so a part of a waiter's writes would only wait for the rest).
    private int AskLocked()
    {
        var held = HeldLocked();
        var covered = 0;
        foreach (var waiter in _waiters)
        {
            if (covered + waiter.Permits - held > Limit.Burst)
            {
                break;
            }

            covered += waiter.Permits;
        }

        return covered - held;
    }

    private void ServeLocked()
    {
        DropExpiredLocked();
        while (_waiters.First is { } first && HeldLocked() >= first.Value.Permits)
        {
            _waiters.RemoveFirst();
            var waiter = first.Value;
            _queuedPermits -= waiter.Permits;
            waiter.Registration.Dispose();
            waiter.Completion.TrySetResult(TakeLocked(waiter.Permits));
        }
    }

    private Granted TakeLocked(int permits)
    {
        var validUntil = long.MaxValue;
        var left = permits;
        var portions = new List<(long, int)>(1);
        while (left > 0)
        {
            var head = _held.Peek();
            var taken = Math.Min(left, head.Count);
            head.Count -= taken;
            left -= taken;
            portions.Add((head.GrantId, taken));
            validUntil = Math.Min(validUntil, head.ValidUntil);
            if (head.Count == 0)
            {
                _held.Dequeue();
            }
        }

        Interlocked.Increment(ref _successful);
        return new Granted(this, validUntil, portions);
    }

    private void DropExpiredLocked()
    {
        var now = _time.GetTimestamp();
        while (_held.TryPeek(out var head) && head.ValidUntil <= now)
        {
            _held.Dequeue();
            GiveBack([(head.GrantId, head.Count)]);
        }
    }

    /// <summary>
    /// A lease of this limiter that will not be sent (<see cref="IsSpendable"/> said no): its writes go back
    /// to the shared budget. A lease of another limiter is only disposed.
    /// </summary>
    public static void GiveBackUnsent(RateLimitLease lease)
    {
        ArgumentNullException.ThrowIfNull(lease);
        if (lease is Granted granted)
        {
            granted.Owner.GiveBack(granted.Portions);
        }

        lease.Dispose();
    }

    // In the background: a give-back that fails (the database is away) only leaves the budget counting
    // writes that were never sent, the safe side.
    private void GiveBack(IReadOnlyList<(long GrantId, int Writes)> portions)
    {
        foreach (var (grantId, writes) in portions)
        {
            Meter.RecordExpired(writes);
            if (grantId <= 0 || writes <= 0 || _stoppingToken.IsCancellationRequested)
            {
                continue;
            }

            _ = Task.Run(async () =>
            {
                try
                {
                    await _budget.ReturnAsync(_key, grantId, writes, _stoppingToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    LogGiveBackFailed(_logger, writes, ex.Message);
                }
                catch (OperationCanceledException)
                {
                    // Stopping: the budget keeps counting them, the safe side.
                }
            }, CancellationToken.None);
        }
    }

    private int HeldLocked()
    {
        var held = 0;
        foreach (var permits in _held)
        {
            held += permits.Count;
        }

        return held;
    }

    private void FailAll(Exception reason)
    {
        List<Waiter> failed;
        lock (_gate)
        {
            failed = [.. _waiters];
            _waiters.Clear();
            _queuedPermits = 0;
        }

        foreach (var waiter in failed)
        {
            waiter.Registration.Dispose();
            Interlocked.Increment(ref _failed);
            waiter.Completion.TrySetException(reason);
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            Stop();
        }

        base.Dispose(disposing);
    }

    protected override async ValueTask DisposeAsyncCore()
    {
        Stop();
        await base.DisposeAsyncCore().ConfigureAwait(false);
    }

    private void Stop()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
        }

        _stopping.Cancel();
        FailAll(new ObjectDisposedException(nameof(SharedWriteBudgetLimiter)));
        _stopping.Dispose();
    }

    [LoggerMessage(EventId = 3110, Level = LogLevel.Warning, Message = "The shared Graph write budget in the state database cannot be asked ({Reason}): writes wait for it and are not sent without it")]
    private static partial void LogBudgetUnavailable(ILogger logger, string reason);

    [LoggerMessage(EventId = 3111, Level = LogLevel.Debug, Message = "Could not give {Writes} unsent writes back to the shared budget ({Reason}); it counts them until they leave its window")]
    private static partial void LogGiveBackFailed(ILogger logger, int writes, string reason);

    private sealed class Waiter(int permits)
    {
        public int Permits { get; } = permits;

        public TaskCompletionSource<RateLimitLease> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public LinkedListNode<Waiter>? Node { get; set; }

        public CancellationTokenRegistration Registration { get; set; }
    }

    private sealed class HeldPermits(long grantId, int count, long validUntil)
    {
        public long GrantId { get; } = grantId;

        public int Count { get; set; } = count;

        public long ValidUntil { get; } = validUntil;
    }

    private sealed class Granted(SharedWriteBudgetLimiter owner, long validUntil, IReadOnlyList<(long GrantId, int Writes)> portions) : RateLimitLease
    {
        public SharedWriteBudgetLimiter Owner { get; } = owner;

        public long ValidUntil { get; } = validUntil;

        public IReadOnlyList<(long GrantId, int Writes)> Portions { get; } = portions;

        public override bool IsAcquired => true;

        public override IEnumerable<string> MetadataNames => [];

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            metadata = null;
            return false;
        }
    }

    private sealed class Refused : RateLimitLease
    {
        public static readonly Refused Instance = new();

        public override bool IsAcquired => false;

        public override IEnumerable<string> MetadataNames => [];

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            metadata = null;
            return false;
        }
    }
}
