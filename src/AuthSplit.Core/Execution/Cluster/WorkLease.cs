namespace AuthSplit.Core.Execution.Cluster;

/// <summary>
/// How long a lease runs and when its holder renews it (<c>Execution:LeaseSeconds</c>). The holder renews
/// every third of the duration and trusts the lease, by its own monotonic clock, for two thirds of the
/// duration from the moment it <em>sent</em> its last successful renewal: the database's expiry is at
/// least a full duration from that moment, so the holder always stops a third of a lease before another
/// node may take over. That third absorbs a write already on its way and clocks that run at slightly
/// different rates.
/// </summary>
public sealed record LeaseTiming(TimeSpan Duration)
{
    public static LeaseTiming Default { get; } = new(TimeSpan.FromSeconds(Configuration.ExecutionDefaults.LeaseSeconds));

    public TimeSpan RenewEvery => Duration / 3;

    public TimeSpan TrustedFor => Duration * 2 / 3;

    /// <summary>After a renewal that did not reach the database, how soon it is tried again.</summary>
    public TimeSpan RetryEvery => TimeSpan.FromTicks(Math.Min(TimeSpan.FromSeconds(1).Ticks, Math.Max(1, RenewEvery.Ticks / 4)));
}

/// <summary>
/// A lease this process holds while it works, renewed in the background. Every write the work makes asks
/// <see cref="ThrowIfNotHeld"/> first (see <see cref="LeaseGuardedLegacyWriter"/> and
/// <see cref="LeaseGuardedTargetTenant"/>): once the lease is past its trusted time by this process's own
/// monotonic clock, or the database refused a renewal, no write goes out. That is what stops a process
/// that was frozen (SIGSTOP, a GC pause, a VM freeze) and woke after another node took its work: its
/// clock says the lease ran out while it slept, whatever its threads were about to do.
/// </summary>
/// <remarks>
/// What is left is the moment between the check and the bytes leaving the process: a freeze exactly there
/// lets one write out late. Every step is an ensure (it reads first and acts only if needed), so such a
/// write repeats what the other node does rather than undoing it; the journal records what each did.
/// </remarks>
public sealed class WorkLease : IAsyncDisposable
{
    private readonly IWorkLeases _store;
    private readonly TimeProvider _time;
    private readonly LeaseTiming _timing;
    private readonly CancellationTokenSource _stop = new();
    private readonly object _gate = new();
    private LeaseGrant _grant;
    private long _trustedUntil;
    private string? _lostReason;
    private string? _lastRenewalError;
    private Task? _renewing;
    private int _counted = 1;
    private int _disposed;

    private WorkLease(IWorkLeases store, TimeProvider time, LeaseTiming timing, LeaseGrant grant, long sentAt)
    {
        _store = store;
        _time = time;
        _timing = timing;
        _grant = grant;
        _trustedUntil = sentAt + ToTimestamp(timing.TrustedFor);
    }

    /// <summary>Raised once, when the lease is found lost (refused renewal, or trusted time passed).</summary>
    public event Action<string>? Lost;

    public LeaseGrant Grant
    {
        get
        {
            lock (_gate)
            {
                return _grant;
            }
        }
    }

    /// <summary>Why the lease is lost, or null while it is held.</summary>
    public string? LostReason
    {
        get
        {
            CheckTrusted();
            lock (_gate)
            {
                return _lostReason;
            }
        }
    }

    public bool IsHeld => LostReason is null;

    /// <summary>Takes the lease and starts renewing it; the attempt says who holds it when it was not granted.</summary>
    public static Task<(WorkLease? Lease, LeaseAttempt Attempt)> TryAcquireAsync(IWorkLeases store, LeaseKey key, string holder, LeaseTiming timing, TimeProvider time, CancellationToken cancellationToken) =>
        TryAcquireAsync(store, key, new NamedLeaseHolder(holder), timing, time, cancellationToken);

    /// <summary>Takes the lease, or takes it over at once from a holder <paramref name="holders"/> knows to be gone.</summary>
    public static async Task<(WorkLease? Lease, LeaseAttempt Attempt)> TryAcquireAsync(IWorkLeases store, LeaseKey key, ILeaseHolders holders, LeaseTiming timing, TimeProvider time, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(holders);
        ArgumentNullException.ThrowIfNull(time);
        var sentAt = time.GetTimestamp();
        var attempt = await store.TryAcquireLeaseAsync(key, holders.Me, timing.Duration, cancellationToken);
        if (attempt.Grant is null && attempt.HeldBy is { } other && holders.IsGone(other))
        {
            sentAt = time.GetTimestamp();
            if (await store.TakeOverLeaseAsync(key, other, holders.Me, timing.Duration, cancellationToken) is { } takenOver)
            {
                attempt = LeaseAttempt.Granted(takenOver);
            }
        }

        if (attempt.Grant is null)
        {
            return (null, attempt);
        }

        var lease = new WorkLease(store, time, timing, attempt.Grant, sentAt);
        Observability.AuthSplitMetrics.LeasesHeld.Add(1, new KeyValuePair<string, object?>("wave", key.Wave));
        lease._renewing = Task.Run(lease.RenewAsync, CancellationToken.None);
        return (lease, attempt);
    }

    /// <summary>Before a write: throws <see cref="LeaseLostException"/> when this process may no longer write under the lease.</summary>
    public void ThrowIfNotHeld()
    {
        if (LostReason is { } reason)
        {
            throw new LeaseLostException(reason);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await _stop.CancelAsync();
        if (_renewing is not null)
        {
            await _renewing;
        }

        if (IsHeld)
        {
            StopCounting();
            try
            {
                await _store.ReleaseLeaseAsync(Grant, CancellationToken.None);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // Not released: it expires on its own at its time, and nothing is lost meanwhile.
            }
        }

        _stop.Dispose();
    }

    private async Task RenewAsync()
    {
        var wait = _timing.RenewEvery;
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(wait, _time, _stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            if (!IsHeld)
            {
                return;
            }

            var sentAt = _time.GetTimestamp();
            DateTimeOffset? renewed;
            try
            {
                renewed = await _store.RenewLeaseAsync(Grant, _timing.Duration, _stop.Token);
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // The database did not answer: the lease is still trusted until its time; try again soon.
                lock (_gate)
                {
                    _lastRenewalError = ex.Message;
                }

                wait = _timing.RetryEvery;
                continue;
            }

            if (renewed is null)
            {
                MarkLost($"the lease on {Grant.Key} was taken over or had expired when this node ({Grant.Holder}) tried to renew it; this node stops writing and leaves the work to the lease's holder");
                return;
            }

            lock (_gate)
            {
                _grant = _grant with { ExpiresAt = renewed.Value };
                _trustedUntil = sentAt + ToTimestamp(_timing.TrustedFor);
                _lastRenewalError = null;
            }

            wait = _timing.RenewEvery;
        }
    }

    private void CheckTrusted()
    {
        string? error;
        lock (_gate)
        {
            if (_lostReason is not null || _time.GetTimestamp() < _trustedUntil)
            {
                return;
            }

            error = _lastRenewalError;
        }

        MarkLost(error is null
            ? $"the lease on {Grant.Key} ran out before this node ({Grant.Holder}) could renew it (was the process paused?); this node stops writing: another node may have taken the work"
            : $"the lease on {Grant.Key} ran out while the state store could not be reached to renew it ({error}); this node stops writing, nothing is lost: the work resumes from the journal");
    }

    private void MarkLost(string reason)
    {
        lock (_gate)
        {
            if (_lostReason is not null)
            {
                return;
            }

            _lostReason = reason;
        }

        StopCounting();
        Observability.AuthSplitMetrics.LeasesLost.Add(1, new KeyValuePair<string, object?>("wave", Grant.Key.Wave));
        Lost?.Invoke(reason);
    }

    // The lease leaves the held count once: at its release or when it is found lost.
    private void StopCounting()
    {
        if (Interlocked.Exchange(ref _counted, 0) == 1)
        {
            Observability.AuthSplitMetrics.LeasesHeld.Add(-1, new KeyValuePair<string, object?>("wave", Grant.Key.Wave));
        }
    }

    private long ToTimestamp(TimeSpan span) => (long)(span.TotalSeconds * _time.TimestampFrequency);
}
