using System.Data.Common;
using System.Net;
using AuthSplit.Core.Configuration;
using AuthSplit.Core.Errors;
using AuthSplit.Core.Secrets;
using Npgsql;

namespace AuthSplit.State.Postgres;

/// <summary>
/// The PostgreSQL connection string: read through <see cref="SecretLoader"/> from
/// <c>State:ConnectionStringEnvVar</c> or <c>State:ConnectionStringFile</c> (a file others can read is
/// refused: it holds a password), parsed, and held to verified TLS. Every message names the setting and at
/// most the host, port and database, never the string or its password. <see cref="Description"/> is what
/// the store calls the database in its errors.
/// </summary>
internal sealed record PostgresConnection(string ConnectionString, string Description)
{
    public const string Invalid = "state-connection-string-invalid";

    public const string Insecure = "state-connection-insecure";
    public const string Exposed = "state-connection-string-exposed";

    private const UnixFileMode GroupOrOthers =
        UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    public static PostgresConnection Resolve(StateOptions options, string? connectionStringFile, Func<string, string?>? environment)
    {
        var source = new SecretSource(options.ConnectionStringEnvVar, connectionStringFile, "State:ConnectionStringEnvVar", "State:ConnectionStringFile", "the PostgreSQL connection string");
        var setting = string.IsNullOrWhiteSpace(options.ConnectionStringEnvVar) ? "State:ConnectionStringFile" : "State:ConnectionStringEnvVar";
        if (string.IsNullOrWhiteSpace(options.ConnectionStringEnvVar) && !string.IsNullOrWhiteSpace(connectionStringFile)
            && !OperatingSystem.IsWindows() && File.Exists(connectionStringFile) && (File.GetUnixFileMode(connectionStringFile) & GroupOrOthers) != 0)
        {
            throw new InputException(Exposed, "the file holding the PostgreSQL connection string (and its password) can be read by others: chmod 600 it", connectionStringFile);
        }

        var raw = SecretLoader.Load(source, environment).Reveal();
        NpgsqlConnectionStringBuilder builder;
        bool sslModeGiven;
        try
        {
            builder = new NpgsqlConnectionStringBuilder(raw);

            // Npgsql's default (Prefer) neither requires TLS nor verifies the server: unless the string says, VerifyFull.
            var generic = new DbConnectionStringBuilder { ConnectionString = raw };
            sslModeGiven = generic.Keys.Cast<string>().Any(k => string.Equals(k.Replace(" ", string.Empty, StringComparison.Ordinal), "sslmode", StringComparison.OrdinalIgnoreCase));
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or InvalidCastException or OverflowException)
        {
            // Not the parser's message: it can quote the value it stumbled on.
            throw new InputException(Invalid, $"the PostgreSQL connection string named by {setting} cannot be parsed: it is key=value pairs separated by ';' (Host, Port, Database, Username, Password, SSL Mode, Root Certificate)");
        }

        if (string.IsNullOrWhiteSpace(builder.Host))
        {
            throw new InputException(Invalid, $"the PostgreSQL connection string named by {setting} has no Host");
        }

        if (string.IsNullOrWhiteSpace(builder.Database))
        {
            throw new InputException(Invalid, $"the PostgreSQL connection string named by {setting} has no Database: name the database AuthSplit keeps its state in");
        }

        var description = $"PostgreSQL {builder.Host}:{builder.Port}/{builder.Database}";
        if (!sslModeGiven)
        {
            builder.SslMode = SslMode.VerifyFull;
        }
        else if (builder.SslMode != SslMode.VerifyFull)
        {
            if (!options.AllowInsecureLoopback)
            {
                throw new InputException(Insecure,
                    $"the connection string named by {setting} says SSL Mode={builder.SslMode}, which does not verify the server: the state database holds personal data and the ledger, so AuthSplit talks to it only over TLS with the server's certificate verified (SSL Mode=VerifyFull, the default when the string names none; give the CA in Root Certificate). For a database on this machine without TLS set State:AllowInsecureLoopback: true",
                    description);
            }

            if (!IsLoopback(builder.Host))
            {
                throw new InputException(Insecure,
                    $"State:AllowInsecureLoopback allows SSL Mode={builder.SslMode} only for a database on this machine (127.0.0.1, ::1, localhost or a Unix socket); {builder.Host} is not: use SSL Mode=VerifyFull",
                    description);
            }
        }

        // The application name shows in pg_stat_activity, so a DBA sees which sessions are AuthSplit's.
        if (string.IsNullOrWhiteSpace(builder.ApplicationName))
        {
            builder.ApplicationName = "authsplit";
        }

        return new PostgresConnection(builder.ConnectionString, description);
    }

    /// <summary>Never the connection string: a record would print it.</summary>
    public override string ToString() => Description;

    private static bool IsLoopback(string hosts) =>
        hosts.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).All(host =>
        {
            var name = host.Split(':')[0];
            return host.StartsWith('/')
                || string.Equals(name, "localhost", StringComparison.OrdinalIgnoreCase)
                || (IPAddress.TryParse(host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address))
                || (IPAddress.TryParse(name, out var v4) && IPAddress.IsLoopback(v4));
        });
}
