using System.Data.Common;
using System.Globalization;
using AuthSplit.Core.Errors;
using AuthSplit.State.Dialects;
using AuthSplit.State.Storage;

namespace AuthSplit.State.Schema;

/// <summary>
/// Brings the store's tables to this version's schema when it opens: the embedded scripts
/// <c>Schema/&lt;Provider&gt;/NNN-name.sql</c> not yet recorded in <c>authsplit_schema_version</c> run in
/// order, in one write transaction with their version rows. Forward only: a database written by a newer
/// AuthSplit is refused rather than guessed at.
/// </summary>
internal static class SchemaMigrator
{
    public const string NewerSchema = "state-schema-newer";

    public static IReadOnlyList<(int Version, string Script)> Scripts(IStoreDialect dialect)
    {
        var assembly = typeof(SchemaMigrator).Assembly;
        var prefix = $"AuthSplit.State.Schema.{dialect.SchemaFolder}/";
        var scripts = new List<(int, string)>();
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith(prefix, StringComparison.Ordinal) && n.EndsWith(".sql", StringComparison.Ordinal)))
        {
            var file = name[prefix.Length..];
            var version = int.Parse(file[..file.IndexOf('-', StringComparison.Ordinal)], NumberStyles.None, CultureInfo.InvariantCulture);
            using var reader = new StreamReader(assembly.GetManifestResourceStream(name)!);
            scripts.Add((version, reader.ReadToEnd()));
        }

        scripts.Sort((a, b) => a.Item1.CompareTo(b.Item1));
        return scripts;
    }

    /// <summary>The schema version after migrating.</summary>
    public static async Task<int> MigrateAsync(DbConnection connection, IStoreDialect dialect, string description, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var scripts = Scripts(dialect);
        var known = scripts.Count == 0 ? 0 : scripts[^1].Version;

        // A database already at this version needs no write lock: `status`, and a node starting, must not wait
        // behind another node's long write transaction only to learn there is nothing to migrate.
        if (await CurrentVersionWithoutLockAsync(connection, dialect, cancellationToken).ConfigureAwait(false) == known)
        {
            return known;
        }

        await using var transaction = await dialect.BeginWriteAsync(connection, cancellationToken).ConfigureAwait(false);
        await Execute(connection, transaction, dialect.CreateSchemaVersionTable, cancellationToken).ConfigureAwait(false);
        await using (var select = Sql.Command(connection, transaction, dialect.SelectSchemaVersion))
        {
            var value = await select.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
            var current = value is null or DBNull ? 0 : Convert.ToInt32(value, CultureInfo.InvariantCulture);
            if (current > known)
            {
                throw new InputException(NewerSchema,
                    $"the state database has schema version {current}, written by a newer AuthSplit; this version knows up to {known}: run the newer version (a database is never migrated backwards)",
                    description);
            }

            foreach (var (version, script) in scripts.Where(s => s.Version > current))
            {
                await Execute(connection, transaction, script, cancellationToken).ConfigureAwait(false);
                await using var insert = Sql.Command(connection, transaction, dialect.InsertSchemaVersion, ("@version", version), ("@applied_at", Sql.Time(now)));
                await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
        }

        await transaction.CommitAsync(CancellationToken.None).ConfigureAwait(false);
        return known;
    }

    private static async Task<int?> CurrentVersionWithoutLockAsync(DbConnection connection, IStoreDialect dialect, CancellationToken cancellationToken)
    {
        try
        {
            await using var select = connection.CreateCommand();
            select.CommandText = dialect.SelectSchemaVersion;
            var value = await select.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
            return value is null or DBNull ? null : Convert.ToInt32(value, CultureInfo.InvariantCulture);
        }
        catch (DbException)
        {
            // No version table yet (a new database), or the read failed: the locked path below creates it or says why.
            return null;
        }
    }

    private static async Task Execute(DbConnection connection, DbTransaction transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = Sql.Command(connection, transaction, sql);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}
