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
