using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace AuthSplit.Ldap.Writing;

/// <summary>
/// Bound sessions for the writer, one per operation in flight (a session is never shared between two
/// calls, so a call given up on takes only its own connection down). A transient failure discards the
/// failed session and every idle one opened before it: after a server restart they are all dead, and
/// each would otherwise cost a caller one of its attempts.
/// </summary>
internal sealed class LdapSessionPool(LdapConnectionSettings settings, ILogger logger) : IDisposable
{
    private readonly ConcurrentBag<Lease> _idle = [];

    // Sessions are opened one at a time: libldap failed about 1 StartTLS in 200 with "operation error"
    // when 16 sessions were opened at once (connect, TLS, bind take ~10 ms; eight callers wait ~80 ms).
    private readonly SemaphoreSlim _opening = new(1, 1);
    private int _generation;
    private bool _disposed;

    public sealed record Lease(LdapSession Session, int Generation);

    public async Task<Lease> RentAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var generation = Volatile.Read(ref _generation);
        while (_idle.TryTake(out var idle))
        {
            if (idle.Generation == generation)
            {
                return idle;
            }

            idle.Session.Dispose();
        }

        await _opening.WaitAsync(cancellationToken);
        try
        {
            // Another caller may have returned a session while this one waited.
            if (_idle.TryTake(out var returned))
            {
                if (returned.Generation == Volatile.Read(ref _generation))
                {
                    return returned;
                }

                returned.Session.Dispose();
            }

            return new Lease(await LdapSession.OpenAsync(settings, logger, cancellationToken), generation);
        }
        finally
        {
            _opening.Release();
        }
    }

    public void Return(Lease lease)
    {
        if (_disposed || lease.Generation != Volatile.Read(ref _generation))
        {
            lease.Session.Dispose();
            return;
        }

        _idle.Add(lease);
        if (_disposed && _idle.TryTake(out var late))
        {
            late.Session.Dispose();
        }
    }

    /// <summary>The lease's connection failed: close it, and retire the idle ones of its generation or older.</summary>
    public void Discard(Lease lease)
    {
        lease.Session.Dispose();
        var current = Volatile.Read(ref _generation);
        if (lease.Generation == current)
        {
            Interlocked.CompareExchange(ref _generation, current + 1, current);
        }

        while (_idle.TryTake(out var idle))
        {
            idle.Session.Dispose();
        }
    }

    public void Dispose()
    {
        _disposed = true;
        _opening.Dispose();
        while (_idle.TryTake(out var idle))
        {
            idle.Session.Dispose();
        }
    }
}
