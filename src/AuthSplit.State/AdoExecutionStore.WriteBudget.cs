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
            await ExecuteAsync(connection, transaction, _dialect.InsertWriteBudget, cancellationToken, tenant, app).ConfigureAwait(false);
            await ExecuteAsync(connection, transaction, _dialect.LockWriteBudget, cancellationToken, tenant, app).ConfigureAwait(false);

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
