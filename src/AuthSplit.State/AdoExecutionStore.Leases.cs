using System.Data.Common;
using AuthSplit.Core.Execution.Cluster;
using AuthSplit.State.Storage;

namespace AuthSplit.State;

// Leases are single statements, each committed by itself on a connection of its own (AutocommitAsync),
// outside the ledger's write transactions: a lease is the right to write, not a record of what was written,
// and its renewal must not queue behind a grouped commit of steps. (Acquiring is two statements: the
// conditional upsert, then, only when it took nothing, a read of who holds it.)
public sealed partial class AdoExecutionStore : IWorkLeases
{
    public Task<LeaseAttempt> TryAcquireLeaseAsync(LeaseKey key, string holder, TimeSpan duration, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentException.ThrowIfNullOrWhiteSpace(holder);
        return AutocommitAsync(async connection =>
        {
            await using (var acquire = Sql.Command(connection, null, _dialect.AcquireLease, Key(key, ("@holder", holder), ("@duration_us", Micro(duration)))))
            await using (var reader = await acquire.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
            {
                if (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    return LeaseAttempt.Granted(new LeaseGrant(key, holder, reader.GetInt64(0), FromMicro(reader.GetInt64(1))));
                }
            }

            await using var held = Sql.Command(connection, null, _dialect.SelectLeaseHolder, Key(key));
            await using var current = await held.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            return await current.ReadAsync(cancellationToken).ConfigureAwait(false)
                ? LeaseAttempt.Taken(current.GetString(0), FromMicro(current.GetInt64(1)))
                : throw new InvalidOperationException($"the lease on {key} was neither taken nor found");
        }, cancellationToken);
    }

    public Task<DateTimeOffset?> RenewLeaseAsync(LeaseGrant grant, TimeSpan duration, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(grant);
        return AutocommitAsync(async connection =>
        {
            await using var renew = Sql.Command(connection, null, _dialect.RenewLease, Key(grant.Key, ("@holder", grant.Holder), ("@token", grant.Token), ("@duration_us", Micro(duration))));
            var expires = await renew.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
            return expires is null or DBNull ? (DateTimeOffset?)null : FromMicro(Convert.ToInt64(expires, System.Globalization.CultureInfo.InvariantCulture));
        }, cancellationToken);
    }

    public Task<LeaseGrant?> TakeOverLeaseAsync(LeaseKey key, string goneHolder, string holder, TimeSpan duration, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        return AutocommitAsync(async connection =>
        {
            await using var takeOver = Sql.Command(connection, null, _dialect.TakeOverLease, Key(key, ("@holder", holder), ("@gone_holder", goneHolder), ("@duration_us", Micro(duration))));
            await using var reader = await takeOver.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            return await reader.ReadAsync(cancellationToken).ConfigureAwait(false)
                ? new LeaseGrant(key, holder, reader.GetInt64(0), FromMicro(reader.GetInt64(1)))
                : null;
        }, cancellationToken);
    }

    public Task ReleaseLeaseAsync(LeaseGrant grant, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(grant);
        return AutocommitAsync(async connection =>
        {
            await using var release = Sql.Command(connection, null, _dialect.ReleaseLease, Key(grant.Key, ("@holder", grant.Holder), ("@token", grant.Token)));
            return await release.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }, cancellationToken);
    }

    public async Task<IReadOnlyList<LeaseRecord>> GetLeasesAsync(CancellationToken cancellationToken) =>
        await ReadListAsync(_dialect.SelectLeases, ReadLease, cancellationToken).ConfigureAwait(false);

    private static LeaseRecord ReadLease(DbDataReader reader) => new()
    {
        Key = new LeaseKey(reader.GetString(0), reader.GetString(1), reader.GetString(2)),
        Holder = reader.GetString(3),
        Token = reader.GetInt64(4),
        AcquiredAt = FromMicro(reader.GetInt64(5)),
        RenewedAt = FromMicro(reader.GetInt64(6)),
        ExpiresAt = FromMicro(reader.GetInt64(7)),
        ReleasedAt = reader.IsDBNull(8) ? null : FromMicro(reader.GetInt64(8)),
        ReadAt = FromMicro(reader.GetInt64(9)),
    };

    private static (string Name, object? Value)[] Key(LeaseKey key, params (string Name, object? Value)[] more) =>
        [("@plan_id", key.PlanId), ("@wave", key.Wave), ("@part", key.Part), .. more];

    private static long Micro(TimeSpan span) => span.Ticks / TimeSpan.TicksPerMicrosecond;

    private static DateTimeOffset FromMicro(long microseconds) => DateTimeOffset.UnixEpoch.AddTicks(microseconds * TimeSpan.TicksPerMicrosecond);
}
