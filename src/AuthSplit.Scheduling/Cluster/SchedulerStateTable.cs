using System.Data.Common;

namespace AuthSplit.Scheduling.Cluster;

/// <summary>
/// Reads Quartz's scheduler state table with plain ADO.NET, the same query on both stores: Quartz keeps
/// <c>LAST_CHECKIN_TIME</c> as UTC ticks and <c>CHECKIN_INTERVAL</c> in milliseconds (its
/// <c>StdAdoDelegate</c>). Until the scheduler first starts, the table may not exist yet: no nodes then.
/// </summary>
internal static class SchedulerStateTable
{
    // Unquoted: PostgreSQL folds it to qrtz_scheduler_state (Quartz's script), SQLite ignores case.
    private const string Query = "SELECT INSTANCE_NAME, LAST_CHECKIN_TIME, CHECKIN_INTERVAL FROM QRTZ_SCHEDULER_STATE WHERE SCHED_NAME = @name ORDER BY INSTANCE_NAME";

    /// <summary>
    /// Takes a node that stopped cleanly off the table, as Quartz's own cluster recovery does for a node it found
    /// dead: <c>status</c> then stops listing it at once rather than showing it overdue 30 s later. Called only once
    /// the node's scheduler has shut down (its check-in would otherwise put the row back). Firings of the node left
    /// in Quartz's fired-triggers table are then orphans, which the other nodes recover at their next check-in.
    /// </summary>
    public static async Task<bool> ForgetAsync(DbConnection connection, string schedulerName, string instanceId, CancellationToken cancellationToken)
    {
        await connection.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "DELETE FROM QRTZ_SCHEDULER_STATE WHERE SCHED_NAME = @name AND INSTANCE_NAME = @instance";
        var name = command.CreateParameter();
        name.ParameterName = "name";
        name.Value = schedulerName;
        command.Parameters.Add(name);
        var instance = command.CreateParameter();
        instance.ParameterName = "instance";
        instance.Value = instanceId;
        command.Parameters.Add(instance);
        return await command.ExecuteNonQueryAsync(cancellationToken) > 0;
    }

    public static async Task<IReadOnlyList<SchedulerNode>> ReadAsync(DbConnection connection, string schedulerName, Func<DbException, bool> isMissingTable, CancellationToken cancellationToken)
    {
        await connection.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = Query;
        var name = command.CreateParameter();
        name.ParameterName = "name";
        name.Value = schedulerName;
        command.Parameters.Add(name);
        var nodes = new List<SchedulerNode>();
        try
        {
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                nodes.Add(new SchedulerNode(
                    reader.GetString(0),
                    new DateTimeOffset(reader.GetInt64(1), TimeSpan.Zero),
                    TimeSpan.FromMilliseconds(reader.GetInt64(2))));
            }
        }
        catch (DbException ex) when (isMissingTable(ex))
        {
            return [];
        }

        return nodes;
    }
}
