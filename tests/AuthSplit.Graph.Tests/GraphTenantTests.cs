using System.Text.Json.Nodes;
using AuthSplit.Core.Configuration;
using AuthSplit.Core.Errors;
using AuthSplit.Core.Model;
using AuthSplit.Graph.Auth;
using AuthSplit.Graph.Emulator;
using AuthSplit.Graph.Resilience;
using AuthSplit.Graph.Users;

namespace AuthSplit.Graph.Tests;

/// <summary>The executor's Graph operations (writes read back, <c>$batch</c>, pacing) against the Graph emulator.</summary>
public sealed class GraphTenantTests
{
    private const string Token = "emulator-token-77ab10";

    // Writes unpaced (but for the pacing test): these tests are about batching and retries.
    private static readonly GraphResilienceOptions FastRetries = EmulatorConnection.FastRetries;

    private static List<JsonObject> Users(int count) =>
    [
        .. Enumerable.Range(0, count).Select(i => new JsonObject
        {
            ["id"] = UserId(i),
            ["userPrincipalName"] = $"user{i}@example.jp",
            ["mail"] = $"user{i}@example.jp",
            ["employeeId"] = $"E{i}",
            ["onPremisesImmutableId"] = $"imm{i}",
            ["accountEnabled"] = true,
        }),
    ];

    private static string UserId(int i) => $"{i:D8}-aaaa-4000-8000-000000000000";

    private static GraphConnection Connect(GraphEmulator emulator, GraphResilienceOptions? resilience = null) => EmulatorConnection.Connect(emulator, Token, resilience);

    private static void EachWrittenOnce(GraphEmulator emulator, IEnumerable<string> ids, string version, string pathSuffix)
    {
        var paths = emulator.Writes.Select(w => w.Path).ToList();
        paths.Should().OnlyHaveUniqueItems("no write is applied twice");
        paths.Should().BeEquivalentTo(ids.Select(id => $"/{version}/users/{id}{pathSuffix}"), "every write is applied");
    }

    private static List<EmulatorRequest> SyncBehaviorRequests(GraphEmulator emulator, string version) =>
        [.. emulator.Received.Where(r => r.InBatch && r.PathAndQuery.StartsWith($"/{version}/users/", StringComparison.Ordinal) && r.PathAndQuery.Contains("/onPremisesSyncBehavior", StringComparison.Ordinal))];

    [Fact]
    public async Task Switching_the_source_of_authority_writes_each_user_once_and_reads_it_back()
    {
        await using var emulator = await GraphEmulator.StartAsync(new GraphEmulatorOptions { AccessToken = Token, Users = Users(45) }, CancellationToken.None);
        using var connection = Connect(emulator);
        var tenant = new GraphTenant(connection);
        var ids = Enumerable.Range(0, 45).Select(UserId).ToList();

        var before = await tenant.GetSourceOfAuthorityAsync(ids, CancellationToken.None);
        var outcomes = await tenant.SetSourceOfAuthorityAsync(ids, cloudManaged: true, CancellationToken.None);

        before.Should().OnlyContain(s => s.IsCloudManaged == false);
        outcomes.Select(o => o.UserId).Should().Equal(ids, "one outcome per user, in the order asked");
        outcomes.Should().OnlyContain(o => o.Status == TargetWriteStatus.Verified);
        ids.Should().OnlyContain(id => emulator.IsCloudManaged(id));
        EachWrittenOnce(emulator, ids, "v1.0", "/onPremisesSyncBehavior");
        emulator.Writes.Should().OnlyContain(w => w.Body == "{\"isCloudManaged\":true}", "the SDK's typed model serialises exactly the documented body");
        SyncBehaviorRequests(emulator, "beta").Should().BeEmpty("v1.0 serves onPremisesSyncBehavior: beta is never asked");
        SyncBehaviorRequests(emulator, "v1.0").Where(r => r.Method == "GET").Should().HaveCount(90)
            .And.OnlyContain(r => r.PathAndQuery.EndsWith("/onPremisesSyncBehavior?%24select=isCloudManaged", StringComparison.Ordinal), "the builder's $select=isCloudManaged");
        emulator.RequestCount.Should().Be(3 + 45 + 3 + 45 + 3 + 45, "reads and writes go in batches of 20: 3 envelopes and 45 sub-requests each for the read, the write and the read-back");
    }

    [Fact]
    public async Task Sub_requests_failing_with_429_and_5xx_are_retried_alone_and_applied_once()
    {
        await using var emulator = await GraphEmulator.StartAsync(new GraphEmulatorOptions
        {
            AccessToken = Token,
            Users = Users(200),
            // A third of all requests and sub-requests fail; a Retry-After (1 s) now and then.
            Faults = new GraphFaults { ThrottleWithoutRetryAfterEvery = 5, ServiceUnavailableEvery = 9, GatewayTimeoutEvery = 13, ThrottleEvery = 31, RetryAfterSeconds = 1 },
        }, CancellationToken.None);
        using var connection = Connect(emulator, FastRetries with { MaxRetries = 20 });
        var tenant = new GraphTenant(connection);
        var ids = Enumerable.Range(0, 200).Select(UserId).ToList();

        var outcomes = await tenant.SetSourceOfAuthorityAsync(ids, cloudManaged: true, CancellationToken.None);

        outcomes.Where(o => !o.Verified).Select(o => $"{o.UserId} {o.Status} {o.Problem}").Should().BeEmpty("the storm is ridden out");
        EachWrittenOnce(emulator, ids, "v1.0", "/onPremisesSyncBehavior");
        emulator.ThrottledCount.Should().BeGreaterThan(50, "the storm happened");
    }

    [Fact]
    public async Task An_unknown_user_is_reported_not_found_without_holding_back_the_others()
    {
        await using var emulator = await GraphEmulator.StartAsync(new GraphEmulatorOptions { AccessToken = Token, Users = Users(3) }, CancellationToken.None);
        using var connection = Connect(emulator);
        var tenant = new GraphTenant(connection);
        var missing = "ffffffff-0000-4000-8000-000000000000";

        var outcomes = await tenant.SetSourceOfAuthorityAsync([UserId(0), missing, UserId(2)], cloudManaged: true, CancellationToken.None);

        outcomes.Select(o => o.Status).Should().Equal(TargetWriteStatus.Verified, TargetWriteStatus.NotFound, TargetWriteStatus.Verified);
        outcomes[1].Problem.Should().Contain("404").And.Contain("Request_ResourceNotFound");
        emulator.IsCloudManaged(UserId(1)).Should().BeFalse("it was not asked for");
        SyncBehaviorRequests(emulator, "beta").Should().BeEmpty("v1.0 answered the others, so its 404 means an unknown user, not an older tenant");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_write_acknowledged_but_not_applied_is_caught_by_the_read_back(bool sourceOfAuthority)
    {
        await using var emulator = await GraphEmulator.StartAsync(new GraphEmulatorOptions { AccessToken = Token, Users = Users(9), Faults = new GraphFaults { LoseWriteEvery = 3 } }, CancellationToken.None);
        using var connection = Connect(emulator);
        var tenant = new GraphTenant(connection);
        var ids = Enumerable.Range(0, 9).Select(UserId).ToList();

        var outcomes = sourceOfAuthority
            ? await tenant.SetSourceOfAuthorityAsync(ids, cloudManaged: true, CancellationToken.None)
            : await tenant.SetAccountEnabledAsync(ids, enabled: false, CancellationToken.None);

        outcomes.Count(o => o.Status == TargetWriteStatus.Verified).Should().Be(6);
        var lost = outcomes.Where(o => o.Status == TargetWriteStatus.Mismatch).ToList();
        lost.Should().HaveCount(3, "every third write was answered 204 and dropped");
        lost.Should().OnlyContain(o => o.Problem!.Contains(sourceOfAuthority ? "written isCloudManaged=true, read back false" : "written accountEnabled=false, read back true", StringComparison.Ordinal));
        emulator.Writes.Should().HaveCount(6, "the emulator recorded only what it applied");
    }

    [Fact]
    public async Task A_read_back_that_lags_behind_the_write_is_read_again_until_it_shows_the_write()
    {
        // Graph replicates writes: for 300 ms after a write, reading the user returns the old state.
        await using var emulator = await GraphEmulator.StartAsync(new GraphEmulatorOptions { AccessToken = Token, Users = Users(25), Faults = new GraphFaults { ReadLagAfterWrite = TimeSpan.FromMilliseconds(300) } }, CancellationToken.None);
        using var connection = Connect(emulator, FastRetries with { ReadBackDelay = TimeSpan.FromMilliseconds(150), ReadBackAttempts = 5 });
        var tenant = new GraphTenant(connection);
        var ids = Enumerable.Range(0, 25).Select(UserId).ToList();

        var outcomes = await tenant.SetSourceOfAuthorityAsync(ids, cloudManaged: true, CancellationToken.None);

        outcomes.Should().OnlyContain(o => o.Status == TargetWriteStatus.Verified, "the reads waited out the lag");
        emulator.Writes.Should().HaveCount(25, "waiting for replication never writes again");
        emulator.RequestCount.Should().BeGreaterThan(2 + 25 + 2 + 25, "the first read-back saw the old value and was repeated");
    }

    [Fact]
    public async Task A_read_back_that_never_shows_the_write_is_a_mismatch_after_the_configured_reads()
    {
        await using var emulator = await GraphEmulator.StartAsync(new GraphEmulatorOptions { AccessToken = Token, Users = Users(3), Faults = new GraphFaults { ReadLagAfterWrite = TimeSpan.FromHours(1) } }, CancellationToken.None);
        using var connection = Connect(emulator, FastRetries with { ReadBackAttempts = 3 });
        var tenant = new GraphTenant(connection);
        var ids = Enumerable.Range(0, 3).Select(UserId).ToList();

        var outcomes = await tenant.SetAccountEnabledAsync(ids, enabled: false, CancellationToken.None);

        outcomes.Should().OnlyContain(o => o.Status == TargetWriteStatus.Mismatch);
        outcomes[0].Problem.Should().Contain("written accountEnabled=false, read back true 3 time(s)");
        emulator.Writes.Should().HaveCount(3);
        emulator.RequestCount.Should().Be(1 + 3 + (3 * (1 + 3)), "one write batch, then three read-back batches");
    }

    [Fact]
    public async Task Switching_back_to_on_premises_is_the_undo_and_is_verified_too()
    {
        await using var emulator = await GraphEmulator.StartAsync(new GraphEmulatorOptions { AccessToken = Token, Users = Users(5) }, CancellationToken.None);
        using var connection = Connect(emulator);
        var tenant = new GraphTenant(connection);
        var ids = Enumerable.Range(0, 5).Select(UserId).ToList();

        await tenant.SetSourceOfAuthorityAsync(ids, cloudManaged: true, CancellationToken.None);
        var undo = await tenant.SetSourceOfAuthorityAsync(ids, cloudManaged: false, CancellationToken.None);

        undo.Should().OnlyContain(o => o.Verified);
        (await tenant.GetSourceOfAuthorityAsync(ids, CancellationToken.None)).Should().OnlyContain(s => s.IsCloudManaged == false);
    }

    [Fact]
    public async Task Disabling_accounts_is_verified_by_reading_them_back()
    {
        await using var emulator = await GraphEmulator.StartAsync(new GraphEmulatorOptions { AccessToken = Token, Users = Users(30), Faults = new GraphFaults { ServiceUnavailableEvery = 4 } }, CancellationToken.None);
        using var connection = Connect(emulator);
        var tenant = new GraphTenant(connection);
        var ids = Enumerable.Range(0, 30).Select(UserId).ToList();

        var outcomes = await tenant.SetAccountEnabledAsync(ids, enabled: false, CancellationToken.None);
        var users = await tenant.GetUsersAsync(ids, CancellationToken.None);

        outcomes.Should().OnlyContain(o => o.Verified);
        users.Should().HaveCount(30).And.OnlyContain(u => u.AccountEnabled == false);
        users[3].Get("onPremisesImmutableId").Should().Be("imm3");
        emulator.Writes.Select(w => w.Path).Should().OnlyHaveUniqueItems().And.HaveCount(30);
    }

    [Fact]
    public async Task A_tenant_whose_v1_refuses_sync_behavior_falls_back_to_beta_once_for_the_connection()
    {
        await using var emulator = await GraphEmulator.StartAsync(new GraphEmulatorOptions { AccessToken = Token, Users = Users(45), SyncBehaviorOnV1 = false }, CancellationToken.None);
        using var connection = Connect(emulator);
        var tenant = new GraphTenant(connection);
        var ids = Enumerable.Range(0, 45).Select(UserId).ToList();

        var before = await tenant.GetSourceOfAuthorityAsync(ids, CancellationToken.None);
        var outcomes = await tenant.SetSourceOfAuthorityAsync(ids, cloudManaged: true, CancellationToken.None);
        var after = await tenant.GetSourceOfAuthorityAsync(ids, CancellationToken.None);

        before.Should().OnlyContain(s => s.IsCloudManaged == false && s.Status == TargetWriteStatus.Verified);
        outcomes.Should().OnlyContain(o => o.Status == TargetWriteStatus.Verified);
        after.Should().OnlyContain(s => s.IsCloudManaged == true);
        EachWrittenOnce(emulator, ids, "beta", "/onPremisesSyncBehavior");
        SyncBehaviorRequests(emulator, "v1.0").Should().HaveCount(45, "v1.0 was asked once, by the first read, and refused; the connection then remembered beta")
            .And.OnlyContain(r => r.Status == 400 && r.Method == "GET");
    }

    [Theory]
    [InlineData(4)]
    [InlineData(0)]
    public async Task A_permanently_throttled_write_is_sent_exactly_as_often_as_the_retry_budget_allows(int maxRetries)
    {
        // The write is always throttled, and every third request besides (so its $batch too, now and then):
        // the batch rounds and the HTTP pipeline's retries must share one budget, not multiply.
        await using var emulator = await GraphEmulator.StartAsync(new GraphEmulatorOptions
        {
            AccessToken = Token,
            Users = Users(1),
            Faults = new GraphFaults { ThrottleWrites = true, ThrottleEvery = 3, RetryAfterSeconds = 0 },
        }, CancellationToken.None);
        using var connection = Connect(emulator, FastRetries with { MaxRetries = maxRetries, BaseDelay = TimeSpan.FromMilliseconds(1) });

        var outcomes = await new GraphTenant(connection).SetAccountEnabledAsync([UserId(0)], enabled: false, CancellationToken.None);

        outcomes.Should().ContainSingle().Which.Status.Should().Be(TargetWriteStatus.Failed);
        outcomes[0].Problem.Should().Contain("429");
        var batches = emulator.Received.Where(r => !r.InBatch).ToList();
        batches.Should().HaveCount(1 + maxRetries, "each attempt of the write is one $batch, throttled whole or in its sub-request, and the budget is 1 + MaxRetries attempts")
            .And.OnlyContain(r => r.Method == "POST" && r.PathAndQuery == "/v1.0/$batch");
        batches.Count(r => r.Status == 429).Should().Be(maxRetries / 2, "every second attempt was throttled as a whole batch");
        emulator.Received.Count(r => r.InBatch && r.Method == "PATCH").Should().Be(batches.Count(r => r.Status == 200)).And.BeGreaterThan(0);
        emulator.Writes.Should().BeEmpty();
    }

    [Theory]
    [InlineData(3)]
    [InlineData(0)]
    public async Task A_permanently_throttled_read_is_sent_exactly_as_often_as_the_retry_budget_allows(int maxRetries)
    {
        await using var emulator = await GraphEmulator.StartAsync(new GraphEmulatorOptions { AccessToken = Token, Faults = new GraphFaults { ThrottleEvery = 1, RetryAfterSeconds = 0 } }, CancellationToken.None);
        using var connection = Connect(emulator, FastRetries with { MaxRetries = maxRetries, BaseDelay = TimeSpan.FromMilliseconds(1) });

        var act = () => new GraphTenant(connection).GetTenantSyncStateAsync(CancellationToken.None);

        (await act.Should().ThrowAsync<ExternalSystemException>()).Which.Message.Should().Contain("429");
        emulator.Received.Should().HaveCount(1 + maxRetries).And.OnlyContain(r => r.Status == 429);
    }

    [Fact]
    public async Task The_read_back_waits_the_configured_delay_doubling_on_the_connections_clock()
    {
        // Graph's replication lags 5 s; Target:Limits reads back after 0, 2 and 2+4 s: the third read sees the write.
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.Parse("2026-01-05T09:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        await using var emulator = await GraphEmulator.StartAsync(new GraphEmulatorOptions { AccessToken = Token, Users = Users(3), Time = clock, Faults = new GraphFaults { ReadLagAfterWrite = TimeSpan.FromSeconds(5) } }, CancellationToken.None);
        var limits = GraphResilienceOptions.From(new GraphLimitsOptions { ReadBackAttempts = 4, ReadBackDelaySeconds = 2 });
        var log = new CollectingLogger();
        using var connection = GraphConnection.Create(
            EmulatorConnection.StaticToken(emulator.BaseUrl.ToString()),
            limits with { BreakerMinimumThroughput = 10_000 },
            log,
            _ => Token,
            clock);
        var ids = Enumerable.Range(0, 3).Select(UserId).ToList();

        var switching = new GraphTenant(connection).SetSourceOfAuthorityAsync(ids, cloudManaged: true, CancellationToken.None);
        while (!switching.IsCompleted)
        {
            await Task.Delay(5);
            clock.Advance(TimeSpan.FromMilliseconds(100));
        }

        (await switching).Should().OnlyContain(o => o.Status == TargetWriteStatus.Verified);
        emulator.Received.Count(r => r.InBatch && r.Method == "GET").Should().Be(3 * 3, "three reads of the three users: two saw the old value");
        log.Events.Where(e => e.Id.Id == 3110).Select(e => e.Message).Should().Equal(
            "3 users still read back the old isCloudManaged after the write (Graph replicates writes); reading them again in 2.0 s",
            "3 users still read back the old isCloudManaged after the write (Graph replicates writes); reading them again in 4.0 s");
    }

    [Fact]
    public void Read_back_attempts_and_delay_come_from_target_limits()
    {
        var options = GraphResilienceOptions.From(new GraphLimitsOptions { ReadBackAttempts = 7, ReadBackDelaySeconds = 0.25, MaxRetries = 3 });

        (options.ReadBackAttempts, options.ReadBackDelay, options.MaxRetries).Should().Be((7, TimeSpan.FromMilliseconds(250), 3));
    }

    [Fact]
    public async Task Writes_are_paced_under_the_write_limit_so_normal_running_sees_no_429()
    {
        // The documented limit scaled down (60 writes per 3 s instead of 3,000 per 150 s): same shape, a quick test.
        var limit = new GraphFaults { WriteQuota = 60, WriteQuotaWindow = TimeSpan.FromSeconds(3) };
        await using var emulator = await GraphEmulator.StartAsync(new GraphEmulatorOptions { AccessToken = Token, Users = Users(150), Faults = limit }, CancellationToken.None);
        using var connection = Connect(emulator, FastRetries with { WritesPerWindow = 60, WriteWindow = TimeSpan.FromSeconds(3) });
        var tenant = new GraphTenant(connection);
        var ids = Enumerable.Range(0, 150).Select(UserId).ToList();

        var outcomes = await tenant.SetSourceOfAuthorityAsync(ids, cloudManaged: true, CancellationToken.None);

        outcomes.Should().OnlyContain(o => o.Verified);
        emulator.ThrottledCount.Should().Be(0, "the client paced itself under the quota");
        var times = emulator.Writes.Select(w => w.At).Order().ToList();
        for (var i = 60; i < times.Count; i++)
        {
            (times[i] - times[i - 60]).Should().BeGreaterThanOrEqualTo(TimeSpan.FromSeconds(3), "no 3 s window holds more than 60 writes");
        }
    }

    [Theory]
    [InlineData(3000, 150)]
    [InlineData(60, 3)]
    [InlineData(20, 150)]
    [InlineData(500, 60)]
    [InlineData(1234, 7)]
    [InlineData(100_000, 1)]
    public void The_write_pacing_keeps_every_window_under_the_limit_in_whole_millisecond_ticks(int limit, int windowSeconds)
    {
        var window = TimeSpan.FromSeconds(windowSeconds);
        var pacing = WritePacing.For(new GraphResilienceOptions { WritesPerWindow = limit, WriteWindow = window });

        pacing.Tick.Ticks.Should().BeGreaterThan(0).And.Match(t => t % TimeSpan.TicksPerMillisecond == 0, "the limiter's timer counts whole milliseconds");
        // The most a window can see: a full bucket, then every tick inside it (one more at the edge).
        var ticksInWindow = (long)Math.Floor(window / pacing.Tick) + 1;
        (pacing.Bucket + (ticksInWindow * pacing.TokensPerTick)).Should().BeLessThanOrEqualTo(limit);
        pacing.MaxWritesPerRequest.Should().BeLessThanOrEqualTo(pacing.Bucket);
        pacing.Rate.Should().BeGreaterThanOrEqualTo(0.9 * (limit - pacing.Bucket) / (windowSeconds + 1), "the pace loses at most a few per cent to rounding");
    }

    [Fact]
    public void Graphs_documented_limit_is_paced_at_four_writes_every_203_ms()
    {
        var pacing = WritePacing.For(new GraphResilienceOptions());

        pacing.Should().Be(new WritePacing(Bucket: 20, TokensPerTick: 4, Tick: TimeSpan.FromMilliseconds(203)));
        pacing.Rate.Should().BeApproximately(19.70, 0.01).And.BeLessThan(2980.0 / 151);
    }

    [Fact]
    public void A_write_limit_below_two_is_refused()
    {
        var act = () => WritePacing.For(new GraphResilienceOptions { WritesPerWindow = 1 });

        act.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("WritesPerWindow");
    }

    [Fact]
    public async Task The_tenant_password_sync_state_is_read()
    {
        await using var on = await GraphEmulator.StartAsync(new GraphEmulatorOptions { AccessToken = Token, PasswordSyncEnabled = true, TenantId = "11111111-2222-3333-4444-555555555555" }, CancellationToken.None);
        await using var off = await GraphEmulator.StartAsync(new GraphEmulatorOptions { AccessToken = Token, PasswordSyncEnabled = false }, CancellationToken.None);
        using var onConnection = Connect(on);
        using var offConnection = Connect(off);

        (await new GraphTenant(onConnection).GetTenantSyncStateAsync(CancellationToken.None)).Should().Be(new TenantSyncState("11111111-2222-3333-4444-555555555555", true));
        (await new GraphTenant(offConnection).GetTenantSyncStateAsync(CancellationToken.None)).PasswordSyncEnabled.Should().BeFalse();
    }

    [Fact]
    public async Task Groups_applications_and_service_principals_are_read_across_pages()
    {
        var groups = Enumerable.Range(0, 1500).Select(i => new JsonObject { ["id"] = $"g{i:D5}", ["displayName"] = $"Group {i}", ["securityEnabled"] = true, ["mailEnabled"] = false, ["onPremisesSyncEnabled"] = i % 2 == 0 ? true : null }).ToList();
        var applications = new List<JsonObject> { new() { ["id"] = "app-1", ["appId"] = "00000000-0000-0000-0000-00000000a001", ["displayName"] = "Payroll", ["identifierUris"] = new JsonArray("api://payroll") } };
        var principals = new List<JsonObject> { new() { ["id"] = "sp-1", ["appId"] = "00000000-0000-0000-0000-00000000a001", ["displayName"] = "Payroll", ["accountEnabled"] = true, ["servicePrincipalType"] = "Application" } };
        await using var emulator = await GraphEmulator.StartAsync(new GraphEmulatorOptions { AccessToken = Token, Groups = groups, Applications = applications, ServicePrincipals = principals }, CancellationToken.None);
        using var connection = Connect(emulator);
        var tenant = new GraphTenant(connection);

        var readGroups = await tenant.ReadGroupsAsync(CancellationToken.None).ToListAsync();
        var readApplications = await tenant.ReadApplicationsAsync(CancellationToken.None).ToListAsync();
        var readPrincipals = await tenant.ReadServicePrincipalsAsync(CancellationToken.None).ToListAsync();

        readGroups.Should().HaveCount(1500);
        readGroups.Select(g => g.Id).Should().OnlyHaveUniqueItems();
        readGroups[0].Should().Be(new TargetGroup("g00000", "Group 0", true, false, true, null));
        readGroups[1].OnPremisesSyncEnabled.Should().BeNull();
        readApplications.Should().ContainSingle().Which.IdentifierUris.Should().Equal("api://payroll");
        readPrincipals.Should().ContainSingle().Which.Should().Be(new TargetServicePrincipal("sp-1", "00000000-0000-0000-0000-00000000a001", "Payroll", true, "Application"));
    }

    [Fact]
    public async Task A_token_without_rights_is_a_clear_error_for_the_whole_batch()
    {
        await using var emulator = await GraphEmulator.StartAsync(new GraphEmulatorOptions { AccessToken = Token, Users = Users(2) }, CancellationToken.None);
        using var connection = EmulatorConnection.Connect(emulator, "stale-token-0c1d");

        var act = () => new GraphTenant(connection).SetSourceOfAuthorityAsync([UserId(0)], cloudManaged: true, CancellationToken.None);

        var error = (await act.Should().ThrowAsync<ExternalSystemException>()).Which;
        error.Message.Should().Contain("401").And.Contain("Target:Auth");
        error.ToString().Should().NotContain("stale-token-0c1d");
        emulator.Writes.Should().BeEmpty();
    }
}
