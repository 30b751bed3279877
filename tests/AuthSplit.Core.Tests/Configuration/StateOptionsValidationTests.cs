using AuthSplit.Core.Configuration;

namespace AuthSplit.Core.Tests.Configuration;

/// <summary><c>State</c>: SQLite takes a path; PostgreSQL a connection string from the environment or a file, never the config.</summary>
public sealed class StateOptionsValidationTests
{
    private static IEnumerable<string> Keys(StateOptions state) => AuthSplitOptionsValidator.Validate(
        new AuthSplitOptions
        {
            Source = new SourceOptions { Url = "ldaps://127.0.0.1:6360", BaseDn = "dc=example,dc=com", BindDn = "cn=reader,dc=example,dc=com", PasswordEnvVar = "LDAP_PASSWORD" },
            Waves = { new WaveOptions { Name = "hq", Order = 1, Deadline = "2025-04-30", BaseDn = "ou=hq,dc=example,dc=com", Filter = "(objectClass=inetOrgPerson)" } },
            Matching = { new MatchingRuleOptions { Source = "mail", Target = "mail" } },
            State = state,
        },
        requireLiveSource: false).Select(e => e.Key);

    [Fact]
    public void Postgres_with_a_connection_string_from_the_environment_or_a_file_is_valid()
    {
        Keys(new StateOptions { Provider = StateProvider.Postgres, ConnectionStringEnvVar = "AUTHSPLIT_STATE_DB" }).Should().BeEmpty();
        Keys(new StateOptions { Provider = StateProvider.Postgres, ConnectionStringFile = "/run/credentials/authsplit/state-db" }).Should().BeEmpty();
        Keys(new StateOptions { Provider = StateProvider.Postgres, ConnectionStringEnvVar = "AUTHSPLIT_STATE_DB", AllowInsecureLoopback = true }).Should().BeEmpty();
    }

    [Fact]
    public void Postgres_needs_exactly_one_place_for_the_connection_string()
    {
        Keys(new StateOptions { Provider = StateProvider.Postgres }).Should().Equal("State:ConnectionStringEnvVar");
        Keys(new StateOptions { Provider = StateProvider.Postgres, ConnectionStringEnvVar = "A", ConnectionStringFile = "f" }).Should().Equal("State:ConnectionStringEnvVar");
    }

    [Fact]
    public void Postgres_settings_on_a_sqlite_store_are_named()
    {
        Keys(new StateOptions { Provider = StateProvider.Sqlite, ConnectionStringFile = "f" }).Should().Equal("State:ConnectionStringFile");
        Keys(new StateOptions { Provider = StateProvider.Sqlite, ConnectionStringEnvVar = "A" }).Should().Equal("State:ConnectionStringEnvVar");
        Keys(new StateOptions { Provider = StateProvider.Sqlite, AllowInsecureLoopback = true }).Should().Equal("State:AllowInsecureLoopback");
    }

    [Fact]
    public void A_path_on_a_postgres_store_and_a_bad_variable_name_are_named()
    {
        Keys(new StateOptions { Provider = StateProvider.Postgres, ConnectionStringEnvVar = "A", Path = "x.db" }).Should().Equal("State:Path");
        Keys(new StateOptions { Provider = StateProvider.Postgres, ConnectionStringEnvVar = "not a name" }).Should().Equal("State:ConnectionStringEnvVar");
        Keys(new StateOptions { Provider = StateProvider.Postgres, ConnectionStringFile = " " }).Should().Equal("State:ConnectionStringFile");
    }
}
