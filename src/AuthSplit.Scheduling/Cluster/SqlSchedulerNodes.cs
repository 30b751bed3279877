using Microsoft.Data.Sqlite;
using Npgsql;

namespace AuthSplit.Scheduling.Cluster;

/// <summary>The scheduler state table in the SQLite file (one node, not clustered: Quartz writes no rows there, so the list is empty).</summary>
internal sealed class SqliteSchedulerNodes(string connectionString, string schedulerName) : ISchedulerNodes
{
    public async Task<IReadOnlyList<SchedulerNode>> ListAsync(CancellationToken cancellationToken)
    {
        await using var connection = new SqliteConnection(connectionString);
        return await SchedulerStateTable.ReadAsync(connection, schedulerName, ex => ex is SqliteException { SqliteErrorCode: 1 } && ex.Message.Contains("no such table", StringComparison.OrdinalIgnoreCase), cancellationToken);
    }

    // Not clustered: Quartz wrote no row for this node.
    public Task<bool> ForgetAsync(string instanceId, CancellationToken cancellationToken) => Task.FromResult(false);
}

/// <summary>The scheduler state table in PostgreSQL, where every clustered node checks in.</summary>
internal sealed class PostgresSchedulerNodes(string connectionString, string schedulerName) : ISchedulerNodes
{
    public async Task<IReadOnlyList<SchedulerNode>> ListAsync(CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        return await SchedulerStateTable.ReadAsync(connection, schedulerName, ex => ex is PostgresException { SqlState: PostgresErrorCodes.UndefinedTable }, cancellationToken);
    }

    public async Task<bool> ForgetAsync(string instanceId, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        return await SchedulerStateTable.ForgetAsync(connection, schedulerName, instanceId, cancellationToken);
    }
}
