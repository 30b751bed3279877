using System.Data.Common;
using System.Globalization;
using AuthSplit.Core.Execution.Cluster;
using AuthSplit.State.Storage;

namespace AuthSplit.State;

/// <summary>
/// The Graph write budget the nodes on one database share (<see cref="ISharedWriteBudget"/>): each decision
/// is one short transaction that locks the budget's row, reads the database's clock and the grants of the
/// last span, decides by <see cref="WriteBudgetArithmetic"/>, records a grant and prunes old ones.
/// </summary>
public sealed partial class AdoExecutionStore : ISharedWriteBudget
{
    public async Task<WriteGrant> RequestAsync(WriteGrantRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var tenant = ("@tenant", (object?)request.Key.Tenant);
        var app = ("@app", (object?)request.Key.App);
        try
        {
            await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
            await using var transaction = await _dialect.BeginWriteBudgetAsync(connection, cancellationToken).ConfigureAwait(false);
            if (await LockAndCompareAsync(connection, transaction, request.Key, request.Limit, cancellationToken).ConfigureAwait(false) is { } mismatch)
            {
                await transaction.RollbackAsync(CancellationToken.None).ConfigureAwait(false);
                throw new WriteBudgetMismatchException(mismatch);
            }

            // The clock is read after the lock: the stamp falls between the node's request and its answer.
            long now;
            await using (var clock = Sql.Command(connection, transaction, _dialect.SelectDatabaseMicroseconds))
            {
                now = Convert.ToInt64(await clock.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture);
            }

            var keep = WriteBudgetArithmetic.KeepFor(request.Limit).Ticks / 10;
            var grants = new List<PastGrant>();
            await using (var select = Sql.Command(connection, transaction, _dialect.SelectWriteGrants, tenant, app, ("@after", now - keep)))
            await using (var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    grants.Add(new PastGrant(reader.GetInt64(0), reader.GetInt32(1)));
                }
            }

            var grant = WriteBudgetArithmetic.Decide(grants, now, request.Writes, request.Limit);
            if (grant.IsGranted)
            {
                await using (var insert = Sql.Command(connection, transaction, _dialect.InsertWriteGrant,
                    tenant, app, ("@granted_at", now), ("@writes", grant.Writes), ("@node", request.Node)))
                {
                    grant = grant with { Id = Convert.ToInt64(await insert.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture) };
                }

                // Twice the span back: a grant stamped by a clock that since stepped back a little is still kept.
                await ExecuteAsync(connection, transaction, _dialect.DeleteWriteGrants, cancellationToken, tenant, app, ("@before", now - (2 * keep))).ConfigureAwait(false);
            }

            await transaction.CommitAsync(CancellationToken.None).ConfigureAwait(false);
            return grant;
        }
        catch (DbException ex)
        {
            throw _dialect.Translate(ex, Description);
        }
    }

    public async Task<WriteBudgetMismatch?> AgreeAsync(WriteBudgetKey key, WriteBudgetLimit limit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(limit);
        try
        {
            await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
            await using var transaction = await _dialect.BeginWriteBudgetAsync(connection, cancellationToken).ConfigureAwait(false);
            var mismatch = await LockAndCompareAsync(connection, transaction, key, limit, cancellationToken).ConfigureAwait(false);
            await transaction.CommitAsync(CancellationToken.None).ConfigureAwait(false);
            return mismatch;
        }
        catch (DbException ex)
        {
            throw _dialect.Translate(ex, Description);
        }
    }

    // Creates the budget's row with this limit if it is missing, locks it and compares its limit with this one;
    // a row made before the limit was kept takes this one.
    private async Task<WriteBudgetMismatch?> LockAndCompareAsync(DbConnection connection, DbTransaction transaction, WriteBudgetKey key, WriteBudgetLimit limit, CancellationToken cancellationToken)
    {
        var parameters = new (string, object?)[]
        {
            ("@tenant", key.Tenant), ("@app", key.App), ("@writes_per_window", limit.Writes), ("@window_ms", (long)limit.Window.TotalMilliseconds),
        };
        await ExecuteAsync(connection, transaction, _dialect.InsertWriteBudget, cancellationToken, parameters).ConfigureAwait(false);
        int? writes = null;
        long? windowMs = null;
        await using (var select = Sql.Command(connection, transaction, _dialect.LockWriteBudget, parameters[0], parameters[1]))
        await using (var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            if (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                writes = reader.IsDBNull(0) ? null : Convert.ToInt32(reader.GetValue(0), CultureInfo.InvariantCulture);
                windowMs = reader.IsDBNull(1) ? null : Convert.ToInt64(reader.GetValue(1), CultureInfo.InvariantCulture);
            }
        }

        if (writes is null || windowMs is null)
        {
            await ExecuteAsync(connection, transaction, _dialect.SetWriteBudgetLimit, cancellationToken, parameters).ConfigureAwait(false);
            return null;
        }

        var window = TimeSpan.FromMilliseconds(windowMs.Value);
        return writes == limit.Writes && windowMs == (long)limit.Window.TotalMilliseconds
            ? null
            : new WriteBudgetMismatch(key, writes.Value, window, limit.Writes, limit.Window);
    }

    // One statement, without the budget's lock: a decision that read the grant before it shrank counted more
    // writes than were sent, which only errs on the safe side.
    public async Task ReturnAsync(WriteBudgetKey key, long grantId, int writes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentOutOfRangeException.ThrowIfLessThan(writes, 1);
        try
        {
            await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
            await ExecuteAsync(connection, null, _dialect.ReturnWriteGrant, cancellationToken,
                ("@id", grantId), ("@tenant", key.Tenant), ("@app", key.App), ("@writes", writes)).ConfigureAwait(false);
        }
        catch (DbException ex)
        {
            throw _dialect.Translate(ex, Description);
        }
    }
}
