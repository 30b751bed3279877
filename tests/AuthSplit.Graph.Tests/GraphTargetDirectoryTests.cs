using System.Text.Json.Nodes;
using AuthSplit.Core.Errors;
using AuthSplit.Core.Model;
using AuthSplit.Graph.Auth;
using AuthSplit.Graph.Emulator;
using AuthSplit.Graph.Resilience;
using AuthSplit.Graph.Snapshots;
using AuthSplit.Graph.Users;
using Microsoft.Extensions.Logging.Abstractions;

namespace AuthSplit.Graph.Tests;

/// <summary>The live Graph connector (the real Microsoft.Graph SDK over HTTP) against the Graph emulator.</summary>
public sealed class GraphTargetDirectoryTests
{
    private const string Token = "emulator-token-3f9c1d";
    private const string TokenVariable = "AUTHSPLIT_TEST_GRAPH_TOKEN";

    private static readonly GraphResilienceOptions FastRetries = new() { BaseDelay = TimeSpan.FromMilliseconds(5), MaxDelay = TimeSpan.FromSeconds(2), MaxRetries = 10 };

    private static List<JsonObject> Users(int count) =>
    [
        .. Enumerable.Range(0, count).Select(i => new JsonObject
        {
            ["id"] = $"{i:D8}-0000-0000-0000-000000000001",
            ["userPrincipalName"] = $"user{i}@example.jp",
            ["mail"] = i % 10 == 0 ? null : $"user{i}@example.jp",
            ["employeeId"] = $"E{i}",
            ["onPremisesImmutableId"] = null,
            ["accountEnabled"] = i % 7 != 0,
            ["displayName"] = $"ユーザー {i}",
        }),
    ];

    // The connector's retry log event (GraphResilienceHandler): one per retry made.
    private const int RetryEvent = 3101;

    private static async Task<List<TargetUser>> ReadAllAsync(GraphEmulator emulator, string token = Token, GraphResilienceOptions? resilience = null, Microsoft.Extensions.Logging.ILogger? logger = null)
    {
        using var connection = GraphConnection.Create(EmulatorConnection.StaticToken(emulator.BaseUrl.ToString(), TokenVariable), resilience ?? FastRetries, logger ?? NullLogger.Instance, name => name == TokenVariable ? token : null);
        var users = new List<TargetUser>();
        await foreach (var user in new GraphTargetDirectory(connection, []).ReadUsersAsync(CancellationToken.None))
        {
            users.Add(user);
        }

        return users;
    }

    [Fact]
    public async Task Reads_every_user_across_pages_with_exactly_the_selected_properties()
    {
        var seeded = Users(2500);
        await using var emulator = await GraphEmulator.StartAsync(new GraphEmulatorOptions { AccessToken = Token, Users = seeded }, CancellationToken.None);

        var users = await ReadAllAsync(emulator);

        users.Select(u => u.Id).Should().Equal(seeded.Select(s => s["id"]!.GetValue<string>()));
        users[0].Properties.Keys.Should().BeEquivalentTo(GraphTargetDirectory.SnapshotProperties, "displayName was not selected");
        users[0].Get("mail").Should().BeNull("Graph's null stays null");
        users[1].Get("mail").Should().Be("user1@example.jp");
        users[7].AccountEnabled.Should().BeFalse();
        users[8].AccountEnabled.Should().BeTrue();
        emulator.RequestCount.Should().Be(3, "2,500 users come in pages of 999");
    }

    [Fact]
    public async Task A_saved_read_is_a_snapshot_that_reads_back_as_the_same_users_with_the_same_hash()
    {
        var seeded = Users(2100);
        seeded[5]["displayName"] = "山田 \"太郎\" \\ <tab>\t";
        await using var emulator = await GraphEmulator.StartAsync(new GraphEmulatorOptions { AccessToken = Token, Users = seeded }, CancellationToken.None);
        using var connection = GraphConnection.Create(EmulatorConnection.StaticToken(emulator.BaseUrl.ToString(), TokenVariable), FastRetries, NullLogger.Instance, _ => Token);
        var directory = new GraphTargetDirectory(connection, ["displayName"]);
        var folder = Path.Combine(Path.GetTempPath(), "authsplit-graph-tests", Guid.NewGuid().ToString("N"), "target");
        var live = new List<TargetUser>();
        using (var writer = new GraphUserSnapshotWriter(folder))
        {
            await foreach (var page in directory.ReadPagesAsync(CancellationToken.None))
            {
                live.AddRange(page.Users);
                await writer.WriteAsync(page, CancellationToken.None);
            }

            writer.Commit();
        }

        var snapshot = new GraphUserSnapshot(folder);
        var saved = new List<TargetUser>();
        await foreach (var user in snapshot.ReadUsersAsync(CancellationToken.None))
        {
            saved.Add(user);
        }

        saved.Should().HaveCount(2100);
        saved.Select(u => u.Properties).Should().BeEquivalentTo(live.Select(u => u.Properties), o => o.WithStrictOrdering());
        saved[5].Get("displayName").Should().Be("山田 \"太郎\" \\ <tab>\t");
        snapshot.Sha256.Should().NotBeNull().And.Be(directory.Sha256);
        (await File.ReadAllTextAsync(Path.Combine(folder, "users-00001.json"))).Should().StartWith("{\"value\":[\n{\"id\":").And.Contain("山田").And.NotContain("nextLink");
    }

    [Fact]
    public async Task A_live_read_saving_its_pages_describes_exactly_what_the_saved_snapshot_describes()
    {
        var seeded = Users(1500);
        await using var emulator = await GraphEmulator.StartAsync(new GraphEmulatorOptions { AccessToken = Token, Users = seeded }, CancellationToken.None);
        using var connection = GraphConnection.Create(EmulatorConnection.StaticToken(emulator.BaseUrl.ToString(), TokenVariable), FastRetries, NullLogger.Instance, _ => Token);
        var folder = Path.Combine(Path.GetTempPath(), "authsplit-graph-tests", Guid.NewGuid().ToString("N"), "target");
        var directory = default(GraphTargetDirectory);
        using (var writer = new GraphUserSnapshotWriter(folder))
        {
            directory = new GraphTargetDirectory(connection, [], writer);
            directory.Invoking(d => d.DescribeRead()).Should().Throw<InvalidOperationException>("nothing was read yet");
            await foreach (var _ in directory.ReadUsersAsync(CancellationToken.None))
            {
            }

            writer.Commit();
        }

        var snapshot = new GraphUserSnapshot(folder);
        snapshot.Invoking(s => s.DescribeRead()).Should().Throw<InvalidOperationException>("nothing was read yet");
        await foreach (var _ in snapshot.ReadUsersAsync(CancellationToken.None))
        {
        }

        var live = directory.DescribeRead();
        var saved = snapshot.DescribeRead();
        live.Should().Be(new Core.Planning.Format.InputDescription { Kind = "graph", Location = connection.Description, Sha256 = saved.Sha256, Count = 1500 });
        saved.Should().Be(new Core.Planning.Format.InputDescription { Kind = "graph-snapshot", Location = "target", Sha256 = live.Sha256, Count = 1500 });
        Directory.GetFiles(folder, "users-*.json").Should().HaveCount(2, "1,500 users come in pages of 999 and each page was saved as it was read");
    }

    [Fact]
    public async Task A_throttling_storm_with_and_without_retry_after_loses_nothing()
    {
        var seeded = Users(3000);
        await using var emulator = await GraphEmulator.StartAsync(new GraphEmulatorOptions
        {
            AccessToken = Token,
            Users = seeded,
            Faults = new GraphFaults { ThrottleWithoutRetryAfterEvery = 2, ThrottleEvery = 5, RetryAfterSeconds = 1, ServiceUnavailableEvery = 7, GatewayTimeoutEvery = 11 },
        }, CancellationToken.None);

        var log = new CollectingLogger();

        var users = await ReadAllAsync(emulator, resilience: FastRetries with { BreakerMinimumThroughput = 1000 }, logger: log);

        users.Select(u => u.Id).Should().Equal(seeded.Select(s => s["id"]!.GetValue<string>()), "every page arrives once, in order");
        var received = emulator.Received;
        var faulted = received.Where(r => r.Status != 200).ToList();
        faulted.Where(r => r.Status == 429 && r.RetryAfter).Should().NotBeEmpty("the storm had 429s with Retry-After");
        faulted.Where(r => r.Status == 429 && !r.RetryAfter).Should().NotBeEmpty("and 429s without");
        faulted.Should().Contain(r => r.Status == 503).And.Contain(r => r.Status == 504);
        received.Count(r => r.Status == 200).Should().Be(4, "3,000 users are 4 pages of 999, each served once");
        log.Count(RetryEvent).Should().Be(faulted.Count, "every faulted answer was retried, once");
        received.Should().HaveCount(4 + faulted.Count, "nothing but the pages and their retries was sent");
    }

    [Fact]
    public async Task Dropped_connections_are_retried()
    {
        var seeded = Users(2000);
        await using var emulator = await GraphEmulator.StartAsync(new GraphEmulatorOptions { AccessToken = Token, Users = seeded, Faults = new GraphFaults { DropConnectionEvery = 2 } }, CancellationToken.None);
        var log = new CollectingLogger();

        var users = await ReadAllAsync(emulator, logger: log);

        users.Select(u => u.Id).Should().Equal(seeded.Select(s => s["id"]!.GetValue<string>()));
        var dropped = emulator.Received.Count(r => r.Status == 0);
        dropped.Should().BeGreaterThan(0, "connections were dropped");
        emulator.Received.Count(r => r.Status == 200).Should().Be(3, "2,000 users are 3 pages, each served once");
        log.Count(RetryEvent).Should().Be(dropped, "each dropped connection was retried");
    }

    [Fact]
    public async Task A_rejected_token_is_a_clear_error_that_does_not_show_the_token()
    {
        await using var emulator = await GraphEmulator.StartAsync(new GraphEmulatorOptions { AccessToken = Token, Users = Users(3) }, CancellationToken.None);
        const string wrong = "not-the-token-7c2e";

        var act = () => ReadAllAsync(emulator, wrong);

        var error = (await act.Should().ThrowAsync<ExternalSystemException>()).Which;
        error.Message.Should().Contain("401").And.Contain("InvalidAuthenticationToken").And.Contain("Target:Auth");
        error.ToString().Should().NotContain(wrong).And.NotContain(Token);
    }

    [Fact]
    public async Task A_missing_token_variable_is_bad_input_naming_the_variable()
    {
        var options = EmulatorConnection.StaticToken("http://127.0.0.1:9/", TokenVariable);

        var act = () => GraphConnection.Create(options, FastRetries, NullLogger.Instance, _ => null);

        act.Should().Throw<InputException>().Which.Message.Should().Contain(TokenVariable);
    }

    [Fact]
    public void Plain_http_to_a_remote_host_is_refused()
    {
        var options = EmulatorConnection.StaticToken("http://graph.example.com/", TokenVariable);

        var act = () => GraphConnection.Create(options, FastRetries, NullLogger.Instance, _ => Token);

        act.Should().Throw<InputException>().Which.Message.Should().Contain("https");
    }

    [Fact]
    public async Task An_unreachable_graph_is_named()
    {
        var options = EmulatorConnection.StaticToken("http://127.0.0.1:9/", TokenVariable);
        using var connection = GraphConnection.Create(options, FastRetries with { MaxRetries = 1 }, NullLogger.Instance, _ => Token);

        var act = async () =>
        {
            await foreach (var _ in new GraphTargetDirectory(connection, []).ReadUsersAsync(CancellationToken.None))
            {
            }
        };

        (await act.Should().ThrowAsync<ExternalSystemException>()).Which.Message.Should().Contain("127.0.0.1:9");
    }
}
