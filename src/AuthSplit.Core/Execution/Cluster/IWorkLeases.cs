namespace AuthSplit.Core.Execution.Cluster;

/// <summary>
/// Claims on work, taken and renewed in the state store so that several processes (nodes of a cluster,
/// or two operators' runs on one store) never execute the same wave's steps at once. A lease runs until
/// its expiry by the <em>database's</em> clock; its holder renews it well before then. An expired lease
/// cannot be renewed, only taken again, and every new taking gets a higher <see cref="LeaseGrant.Token"/>:
/// a holder that was paused past its expiry (a GC pause, a frozen VM, SIGSTOP) finds its renewal refused
/// and stops before writing anything more.
/// </summary>
public interface IWorkLeases
{
    /// <summary>
    /// Takes the lease for <paramref name="duration"/> when it is free, released, expired, or already
    /// <paramref name="holder"/>'s; otherwise answers who holds it and until when. Atomic across processes.
    /// </summary>
    Task<LeaseAttempt> TryAcquireLeaseAsync(LeaseKey key, string holder, TimeSpan duration, CancellationToken cancellationToken);

    /// <summary>
    /// Extends the lease to <paramref name="duration"/> from now when <paramref name="grant"/> is still the
    /// lease as it stands (same holder and token) and has not expired; null when it was lost.
    /// </summary>
    Task<DateTimeOffset?> RenewLeaseAsync(LeaseGrant grant, TimeSpan duration, CancellationToken cancellationToken);

    /// <summary>
    /// Takes over a lease whose holder is known to be gone (a process of this machine that no longer runs):
    /// granted only while the lease is still <paramref name="goneHolder"/>'s and not released, with the next token.
    /// </summary>
    Task<LeaseGrant?> TakeOverLeaseAsync(LeaseKey key, string goneHolder, string holder, TimeSpan duration, CancellationToken cancellationToken);

    /// <summary>Gives the lease up (it expires now); nothing happens when it is no longer <paramref name="grant"/>'s.</summary>
    Task ReleaseLeaseAsync(LeaseGrant grant, CancellationToken cancellationToken);

    /// <summary>Every lease on record, held, expired or released: what <c>status</c> shows.</summary>
    Task<IReadOnlyList<LeaseRecord>> GetLeasesAsync(CancellationToken cancellationToken);
}

/// <summary>What a lease is on: a plan's wave, and the part of it (<see cref="WholeWave"/> for a run of the whole wave).</summary>
public sealed record LeaseKey(string PlanId, string Wave, string Part)
{
    public const string WholeWave = "wave";

    public static LeaseKey ForWave(string planId, string wave) => new(planId, wave, WholeWave);

    public override string ToString() => Part == WholeWave ? $"wave {Wave} of plan {PlanId}" : $"part {Part} of wave {Wave} of plan {PlanId}";
}

/// <summary>A lease as its holder took it: the token proves it is still the same taking when renewed.</summary>
public sealed record LeaseGrant(LeaseKey Key, string Holder, long Token, DateTimeOffset ExpiresAt);

/// <summary>The answer to an attempt to take a lease: the grant, or who holds it and until when.</summary>
public sealed record LeaseAttempt(LeaseGrant? Grant, string? HeldBy, DateTimeOffset? HeldUntil)
{
    public static LeaseAttempt Granted(LeaseGrant grant) => new(grant, null, null);

    public static LeaseAttempt Taken(string holder, DateTimeOffset until) => new(null, holder, until);
}

/// <summary>A lease as the store holds it, with the database's time of reading (to tell held from expired).</summary>
public sealed record LeaseRecord
{
    public required LeaseKey Key { get; init; }

    public required string Holder { get; init; }

    public required long Token { get; init; }

    public required DateTimeOffset AcquiredAt { get; init; }

    public required DateTimeOffset RenewedAt { get; init; }

    public required DateTimeOffset ExpiresAt { get; init; }

    public DateTimeOffset? ReleasedAt { get; init; }

    /// <summary>The database's clock when the lease was read.</summary>
    public required DateTimeOffset ReadAt { get; init; }

    public bool Held => ReleasedAt is null && ExpiresAt > ReadAt;
}

/// <summary>
/// Who this process is as a lease holder, and whether another holder is known to be gone: a process of
/// this same machine that has ended (killed, crashed) need not be waited for until its lease lapses.
/// Holders on other machines are never known to be gone; their leases lapse.
/// </summary>
public interface ILeaseHolders
{
    /// <summary>This process, unique among the processes sharing the store.</summary>
    string Me { get; }

    bool IsGone(string holder);
}

/// <summary>One holder that never knows another to be gone (tests, and a process that cannot tell).</summary>
public sealed class NamedLeaseHolder(string me) : ILeaseHolders
{
    public string Me { get; } = me;

    public bool IsGone(string holder) => false;
}

/// <summary>Thrown before a write when this process no longer holds the lease the write needs: nothing was written.</summary>
public sealed class LeaseLostException(string message) : Exception(message);
