using System.Diagnostics;
using AuthSplit.Core.Configuration;
using AuthSplit.Core.Errors;
using AuthSplit.Core.Evidence;
using AuthSplit.Core.Execution;
using AuthSplit.Core.Planning.Format;
using AuthSplit.Lab.Servers;
using AuthSplit.State.Dialects;
using AuthSplit.State.Tests.Support;
using AuthSplit.Testing;
using Npgsql;
using Xunit.Abstractions;

namespace AuthSplit.State.Tests.Postgres;

/// <summary>
/// What only PostgreSQL has: several processes writing one database at once, a server that can be down or
/// refuse the credentials, TLS to verify, a connection string that is a secret.
/// </summary>
[Collection(PostgresFixture.Collection)]
public sealed class PostgresStoreTests(PostgresFixture fixture, ITestOutputHelper output)
{
    private const string Variable = "AUTHSPLIT_TEST_STATE_CONNECTION";
    private static CancellationToken Ct => CancellationToken.None;

    private PostgresServer Server => fixture.Server;

    [Fact]
    public async Task Writers_in_three_processes_and_this_one_at_once_lose_nothing_and_leave_one_intact_chain()
    {
        const int Processes = 3;
        const int StepsEach = 120;
        var database = await Server.CreateDatabaseAsync("writers", Ct);
        var connectionString = Server.ConnectionString(database);
        await using var here = await OpenAsync(connectionString);
        var clock = Stopwatch.StartNew();

        var children = Enumerable.Range(0, Processes).Select(p => RunWriterAsync(connectionString, $"p{p}-", StepsEach)).ToList();
        var plan = Some.PlanId();
        for (var i = 0; i < StepsEach; i++)
        {
            await here.RecordStepAsync(Some.Step(plan, "wave-1", $"here-{i}", StepAction.VerifyTargetAccount), Some.Entity(plan, "wave-1", $"here-{i}", EntityState.Done, 1), Ct);
        }

        var results = await Task.WhenAll(children);
        output.WriteLine($"{Processes} processes and this one wrote {(Processes + 1) * StepsEach} steps in {clock.ElapsedMilliseconds} ms");
        results.Should().OnlyContain(r => r.ExitCode == 0, string.Join("\n", results.Select(r => r.Error)));

        var ledger = await here.ReadLedgerAsync(null, Ct).ToListAsync(Ct);
        LedgerChain.Verify(ledger).Should().BeEquivalentTo(new { IsIntact = true, IntactRecords = (long)ledger.Count });
        ledger.Select(r => r.Sequence).Should().Equal(Enumerable.Range(1, ledger.Count).Select(i => (long)i));
        ledger.Count(r => r.Kind == LedgerKind.Step).Should().Be((Processes + 1) * StepsEach);
        ledger.Count(r => r.Kind == LedgerKind.Pause).Should().Be(Processes * StepsEach / 10);
        (await here.ReadEntitiesAsync(plan, "wave-1", Ct).CountAsync(Ct)).Should().Be((Processes + 1) * StepsEach);

        // The processes' writes interleave in the chain (they did run at once), and it is still one chain.
        var order = ledger.Where(r => r.Kind == LedgerKind.Step).Select(r => r.EntityId![..r.EntityId!.IndexOf('-', StringComparison.Ordinal)]).ToList();
        order.Zip(order.Skip(1)).Count(pair => pair.First != pair.Second).Should().BeGreaterThan(Processes);
    }

    [Fact]
    public async Task Stores_opening_a_new_database_at_once_create_the_schema_once()
    {
        var database = await Server.CreateDatabaseAsync("migrate", Ct);

        var stores = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => OpenAsync(Server.ConnectionString(database))));

        foreach (var store in stores)
        {
            await store.ApproveAsync(new Approval(Some.PlanId(), "bob", Some.Start, null), Ct);
            await store.DisposeAsync();
        }

        await using var connection = new NpgsqlConnection(Server.ConnectionString(database));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT string_agg(version::text, ',' ORDER BY version) FROM authsplit_schema_version", connection);
        (await command.ExecuteScalarAsync()).Should().Be("1,2,3,4,5");
    }

    [Fact]
    public async Task Opening_a_database_already_at_this_schema_does_not_wait_for_another_nodes_write_lock()
    {
        // `status` (and a node starting) opened the store under the write lock to check the schema, so it
        // failed with state-locked behind a node's long write transaction (found by the 100,000-person benchmark).
        var database = await Server.CreateDatabaseAsync("nolock", Ct);
        await (await OpenAsync(Server.ConnectionString(database))).DisposeAsync();

        await using var holder = new NpgsqlConnection(Server.ConnectionString(database));
        await holder.OpenAsync(Ct);
        await using var transaction = await holder.BeginTransactionAsync(Ct);
        await using (var take = new NpgsqlCommand($"SELECT pg_advisory_xact_lock({PostgresDialect.WriteLockKey})", holder, transaction))
        {
            await take.ExecuteNonQueryAsync(Ct);
        }

        var opening = OpenAsync(Server.ConnectionString(database));
        var first = await Task.WhenAny(opening, Task.Delay(TimeSpan.FromSeconds(25), Ct));
        first.Should().BeSameAs(opening, "a store at the current schema opens without the write lock, which another node holds for the whole wait");
        await using var store = await opening;
        (await store.ReadLedgerAsync(null, Ct).CountAsync(Ct)).Should().Be(0, "reads go on while the lock is held");

        await transaction.RollbackAsync(Ct);
        await store.ApproveAsync(new Approval(Some.PlanId(), "bob", Some.Start, null), Ct);
        (await store.ReadLedgerAsync(null, Ct).CountAsync(Ct)).Should().Be(1, "writes take the lock as before once it is free");
    }

    [Fact]
    public async Task A_database_with_a_newer_schema_than_this_version_knows_is_refused()
    {
        var database = await Server.CreateDatabaseAsync("newer", Ct);
        await (await OpenAsync(Server.ConnectionString(database))).DisposeAsync();
        await using (var connection = new NpgsqlConnection(Server.ConnectionString(database)))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand("INSERT INTO authsplit_schema_version (version, applied_at) VALUES (99, '2030-01-01T00:00:00.0000000Z')", connection);
            await command.ExecuteNonQueryAsync();
        }

        var act = () => OpenAsync(Server.ConnectionString(database));

        var refusal = (await act.Should().ThrowAsync<InputException>()).Which;
        refusal.Code.Should().Be("state-schema-newer");
        refusal.Message.Should().Contain("99");
        refusal.Origin.Should().Be($"PostgreSQL 127.0.0.1:{Server.Port}/{database}");
    }

    [Fact]
    public async Task A_wrong_password_is_refused_naming_the_setting_and_the_host_never_the_password_or_the_connection_string()
    {
        var database = await Server.CreateDatabaseAsync("password", Ct);
        var wrong = "Wrong-" + Guid.NewGuid().ToString("N");
        var connectionString = new NpgsqlConnectionStringBuilder(Server.ConnectionString(database)) { Password = wrong }.ConnectionString;

        var act = () => OpenAsync(connectionString);

        var refusal = (await act.Should().ThrowAsync<InputException>()).Which;
        refusal.Code.Should().Be("state-auth-failed");
        refusal.Message.Should().Contain("State:ConnectionStringEnvVar");
        refusal.Origin.Should().Contain($"127.0.0.1:{Server.Port}");
        AssertNoSecret(refusal, wrong, connectionString);
    }

    [Fact]
    public async Task A_server_that_is_down_gives_a_clear_error_naming_the_host_and_port_not_the_password()
    {
        var port = ServerProcess.FreePort();
        var connectionString = new NpgsqlConnectionStringBuilder(Server.ConnectionString("authsplit")) { Port = port, Timeout = 5 }.ConnectionString;
        var clock = Stopwatch.StartNew();

        var act = () => OpenAsync(connectionString);

        var failure = (await act.Should().ThrowAsync<ExternalSystemException>()).Which;
        clock.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(30));
        failure.System.Should().Be($"PostgreSQL 127.0.0.1:{port}/authsplit");
        failure.Message.Should().Contain("cannot use the PostgreSQL state database").And.Contain("nothing further is recorded");
        output.WriteLine(failure.Message);
        AssertNoSecret(failure, Server.AdminPassword, connectionString);
    }

    [Fact]
    public async Task A_server_whose_certificate_another_CA_signed_is_refused_as_untrusted()
    {
        var other = LabCertificateAuthority.Create(Path.Combine(TestPaths.NewWorkDirectory(), "tls"), "127.0.0.1");
        var connectionString = new NpgsqlConnectionStringBuilder(Server.ConnectionString("postgres")) { RootCertificate = other.CaFile }.ConnectionString;

        var act = () => OpenAsync(connectionString);

        var failure = (await act.Should().ThrowAsync<ExternalSystemException>()).Which;
        failure.Message.Should().Contain("certificate is not trusted");
        AssertNoSecret(failure, Server.AdminPassword, connectionString);
    }

    [Theory]
    [InlineData("Disable")]
    [InlineData("Allow")]
    [InlineData("Prefer")]
    [InlineData("Require")]
    public async Task A_connection_string_that_does_not_verify_the_server_is_refused(string sslMode)
    {
        var connectionString = Server.ConnectionString("postgres").Replace("SSL Mode=VerifyFull", $"SSL Mode={sslMode}", StringComparison.Ordinal);
        connectionString.Should().Contain($"SSL Mode={sslMode}");

        var act = () => OpenAsync(connectionString);

        var refusal = (await act.Should().ThrowAsync<InputException>()).Which;
        refusal.Code.Should().Be("state-connection-insecure");
        refusal.Message.Should().Contain("VerifyFull").And.Contain("State:AllowInsecureLoopback");
        AssertNoSecret(refusal, Server.AdminPassword, connectionString);
    }

    [Fact]
    public async Task Allowing_insecure_loopback_does_not_allow_an_unverified_connection_to_another_host()
    {
        var connectionString = $"Host=db.example.org;Database=authsplit;Username=u;Password={Server.AdminPassword};SSL Mode=Require";

        var act = () => OpenAsync(connectionString, allowInsecureLoopback: true);

        var refusal = (await act.Should().ThrowAsync<InputException>()).Which;
        refusal.Code.Should().Be("state-connection-insecure");
        refusal.Message.Should().Contain("db.example.org");
        AssertNoSecret(refusal, Server.AdminPassword, connectionString);
    }

    [Fact]
    public async Task A_connection_string_without_an_ssl_mode_is_verified_and_works()
    {
        var database = await Server.CreateDatabaseAsync("default", Ct);
        var connectionString = Server.ConnectionString(database).Replace("SSL Mode=VerifyFull;", string.Empty, StringComparison.Ordinal);
        connectionString.Should().NotContain("SSL Mode");

        await using var store = await OpenAsync(connectionString);
        await store.ApproveAsync(new Approval(Some.PlanId(), "bob", Some.Start, null), Ct);

        // Without the CA the default (VerifyFull) refuses the lab's server: the default does verify.
        var withoutCa = new NpgsqlConnectionStringBuilder(connectionString) { RootCertificate = null }.ConnectionString;
        var act = () => OpenAsync(withoutCa);
        await act.Should().ThrowAsync<ExternalSystemException>();
    }

    [Fact]
    public async Task An_unparsable_connection_string_is_refused_without_quoting_it()
    {
        var secret = "Secret-" + Guid.NewGuid().ToString("N");
        var connectionString = $"Host=127.0.0.1;Port=not-a-port-{secret};Password={secret}";

        var act = () => OpenAsync(connectionString);

        var refusal = (await act.Should().ThrowAsync<InputException>()).Which;
        refusal.Code.Should().Be("state-connection-string-invalid");
        AssertNoSecret(refusal, secret, connectionString);
    }

    [Fact]
    public async Task A_connection_string_file_others_can_read_is_refused()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        var directory = TestPaths.NewWorkDirectory();
        var file = Path.Combine(directory, "state.connection");
        await File.WriteAllTextAsync(file, Server.ConnectionString("postgres") + "\n");
        File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        var options = new StateOptions { Provider = StateProvider.Postgres, ConnectionStringFile = "state.connection" };

        var act = () => ExecutionStoreFactory.OpenStoreAsync(options, directory, TimeProvider.System, new ExecutionStoreSettings(), Ct);

        var refusal = (await act.Should().ThrowAsync<InputException>()).Which;
        refusal.Code.Should().Be("state-connection-string-exposed");
        AssertNoSecret(refusal, Server.AdminPassword, Server.ConnectionString("postgres"));

        File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        await using var store = await ExecutionStoreFactory.OpenStoreAsync(options, directory, TimeProvider.System, new ExecutionStoreSettings(), Ct);
        store.Description.Should().Be($"PostgreSQL 127.0.0.1:{Server.Port}/postgres");
    }

    private static void AssertNoSecret(Exception exception, string password, string connectionString)
    {
        for (var e = (Exception?)exception; e is not null; e = e.InnerException)
        {
            e.Message.Should().NotContain(password).And.NotContain(connectionString);
        }

        exception.ToString().Should().NotContain(password);
        (exception as InputException)?.Origin?.Should().NotContain(password);
    }

    private static Task<AdoExecutionStore> OpenAsync(string connectionString, bool allowInsecureLoopback = false) =>
        ExecutionStoreFactory.OpenStoreAsync(
            new StateOptions { Provider = StateProvider.Postgres, ConnectionStringEnvVar = Variable, AllowInsecureLoopback = allowInsecureLoopback },
            TestPaths.NewWorkDirectory(),
            TimeProvider.System,
            new ExecutionStoreSettings { Environment = name => name == Variable ? connectionString : null, BusyTimeout = TimeSpan.FromSeconds(30) },
            Ct);

    private static async Task<ProcessRunner.Result> RunWriterAsync(string connectionString, string prefix, int count) =>
        await ProcessRunner.RunAsync(
            "dotnet",
            [typeof(CrashChild.Program).Assembly.Location, "pg-writer", Variable, prefix, count.ToString(System.Globalization.CultureInfo.InvariantCulture)],
            new Dictionary<string, string> { [Variable] = connectionString },
            TimeSpan.FromMinutes(3),
            Ct);
}

/// <summary>The lab's PostgreSQL itself: a server that cannot start fails fast with why, never hangs.</summary>
public sealed class PostgresServerStartTests
{
    [Fact]
    public async Task A_server_that_cannot_start_fails_within_its_timeout_with_the_tail_of_its_log()
    {
        var clock = Stopwatch.StartNew();

        var act = () => PostgresServer.StartAsync(new PostgresServerOptions { NoSync = true, Settings = ["shared_buffers=not-a-size"], StartTimeout = TimeSpan.FromSeconds(20) }, CancellationToken.None);

        var failure = (await act.Should().ThrowAsync<LabServerException>()).Which;
        clock.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(90));
        failure.Message.Should().Contain("shared_buffers", "the message carries the server's own complaint");
    }
}

/// <summary>A database that goes away under an open store, on a server of the test's own (the shared one stays up).</summary>
public sealed class PostgresOutageTests
{
    private const string Variable = "AUTHSPLIT_TEST_STATE_CONNECTION";

    [Fact]
    public async Task While_the_server_is_down_writes_fail_naming_the_host_and_nothing_reported_done_is_lost_when_it_is_back()
    {
        await using var server = await PostgresServer.StartAsync(new PostgresServerOptions { NoSync = true }, CancellationToken.None);
        var database = await server.CreateDatabaseAsync("outage", CancellationToken.None);
        var connectionString = server.ConnectionString(database);
        await using var store = await ExecutionStoreFactory.OpenStoreAsync(
            new StateOptions { Provider = StateProvider.Postgres, ConnectionStringEnvVar = Variable },
            TestPaths.NewWorkDirectory(),
            TimeProvider.System,
            new ExecutionStoreSettings { Environment = name => name == Variable ? connectionString : null },
            CancellationToken.None);
        var plan = Some.PlanId();
        await store.RecordStepAsync(Some.Step(plan, "wave-1", "before", StepAction.VerifyTargetAccount), Some.Entity(plan, "wave-1", "before", EntityState.Done, 1), CancellationToken.None);

        await server.StopAsync();
        var write = () => store.RecordStepAsync(Some.Step(plan, "wave-1", "during", StepAction.VerifyTargetAccount), Some.Entity(plan, "wave-1", "during", EntityState.Done, 1), CancellationToken.None);
        var failure = (await write.Should().ThrowAsync<ExternalSystemException>()).Which;
        failure.System.Should().Be($"PostgreSQL 127.0.0.1:{server.Port}/{database}");
        failure.ToString().Should().NotContain(server.AdminPassword);

        await server.StartAgainAsync(CancellationToken.None);
        await store.RecordStepAsync(Some.Step(plan, "wave-1", "after", StepAction.VerifyTargetAccount), Some.Entity(plan, "wave-1", "after", EntityState.Done, 1), CancellationToken.None);

        var ledger = await store.ReadLedgerAsync(null, CancellationToken.None).ToListAsync();
        ledger.Select(r => r.EntityId).Should().Equal("before", "after");
        LedgerChain.Verify(ledger).IsIntact.Should().BeTrue();
    }
}
