using System.Data.Common;
using System.Globalization;
using AuthSplit.Core.Planning.Format;

namespace AuthSplit.State.Storage;

/// <summary>ADO.NET in the few shapes the store uses, and the one text form of times and enums in its columns.</summary>
internal static class Sql
{
    private const string TimeFormat = "yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'";

    public static DbCommand Command(DbConnection connection, DbTransaction? transaction, string text, params (string Name, object? Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = text;
        command.Transaction = transaction;
        foreach (var (name, value) in parameters)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            parameter.Value = value ?? DBNull.Value;
            command.Parameters.Add(parameter);
        }

        return command;
    }

    /// <summary>
    /// Runs the statements in order in the caller's transaction: as one ADO.NET batch where the provider has
    /// them (Npgsql: one round trip for all), else one after another (SQLite, in-process). The first that
    /// fails throws; PostgreSQL skips the rest of the batch, and the caller rolls the transaction back.
    /// </summary>
    public static async Task ExecuteTogetherAsync(DbConnection connection, DbTransaction transaction, IReadOnlyList<Statement> statements, CancellationToken cancellationToken)
    {
        if (!connection.CanCreateBatch)
        {
            foreach (var statement in statements)
            {
                await using var command = Command(connection, transaction, statement.Text, statement.Parameters);
                await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            return;
        }

        await using var batch = connection.CreateBatch();
        batch.Transaction = transaction;
        foreach (var statement in statements)
        {
            var command = batch.CreateBatchCommand();
            command.CommandText = statement.Text;
            foreach (var (name, value) in statement.Parameters)
            {
                var parameter = command.CreateParameter();
                parameter.ParameterName = name;
                parameter.Value = value ?? DBNull.Value;
                command.Parameters.Add(parameter);
            }

            batch.BatchCommands.Add(command);
        }

        await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>UTC, fixed width, 100 ns: sorts as text and reads back to the same instant.</summary>
    public static string Time(DateTimeOffset at) => at.UtcDateTime.ToString(TimeFormat, CultureInfo.InvariantCulture);

    public static string? Time(DateTimeOffset? at) => at is { } value ? Time(value) : null;

    public static DateTimeOffset ParseTime(string text) =>
        DateTimeOffset.ParseExact(text, ["yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'"], CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);

    public static string Wire<TEnum>(TEnum value)
        where TEnum : struct, Enum => WireName.Of(value);

    public static string? Wire<TEnum>(TEnum? value)
        where TEnum : struct, Enum => value is { } v ? WireName.Of(v) : null;

    public static TEnum ParseWire<TEnum>(string text)
        where TEnum : struct, Enum =>
        WireName.TryParse<TEnum>(text, out var value)
            ? value
            : throw new InvalidDataException($"the state database holds '{text}' where a {typeof(TEnum).Name} belongs (written by another version, or edited)");

    public static string? Text(DbDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    public static DateTimeOffset? OptionalTime(DbDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : ParseTime(reader.GetString(ordinal));

    public static TEnum? OptionalWire<TEnum>(DbDataReader reader, int ordinal)
        where TEnum : struct, Enum => reader.IsDBNull(ordinal) ? null : ParseWire<TEnum>(reader.GetString(ordinal));

    public static byte[] Bytes(DbDataReader reader, int ordinal) => (byte[])reader.GetValue(ordinal);
}

/// <summary>One SQL statement and its parameters, to be run with others (<see cref="Sql.ExecuteTogetherAsync"/>).</summary>
internal sealed record Statement(string Text, params (string Name, object? Value)[] Parameters);

