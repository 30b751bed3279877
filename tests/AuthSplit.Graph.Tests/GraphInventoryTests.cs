using System.Text.Json.Nodes;
using AuthSplit.Core.Errors;
using AuthSplit.Core.Model;
using AuthSplit.Graph.Auth;
using AuthSplit.Graph.Emulator;
using AuthSplit.Graph.Snapshots;
using AuthSplit.Graph.Users;

namespace AuthSplit.Graph.Tests;

/// <summary>
/// The target's inventory (groups with the user members of the synchronised ones, applications, service
/// principals): read live with the real SDK against the emulator, saved beside a snapshot's users and
/// read back from it.
/// </summary>
public sealed class GraphInventoryTests : IDisposable
{
    private const string Token = "emulator-token-inv-51d2";

    private readonly string _work = Directory.CreateTempSubdirectory("authsplit-inventory-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    private static string UserId(int i) => $"{i:D8}-1111-4000-8000-000000000000";

    private static string GroupId(int i) => $"{i:D8}-2222-4000-8000-000000000000";

    private const int UserCount = 2600;
    private const int GroupCount = 1200;

    // 1,200 groups (two pages of 999); every third synchronised from on-premises. Group 0 (synchronised)
    // has 2,500 user members (three pages of 999) and a nested group; group 1 (cloud) has members too,
    // which are not read; each other synchronised group has two users.
    private static GraphEmulatorOptions Tenant(GraphFaults? faults = null, Uri? nextLinkRoot = null) => new()
    {
        AccessToken = Token,
        Users = [.. Enumerable.Range(0, UserCount).Select(i => new JsonObject { ["id"] = UserId(i), ["userPrincipalName"] = $"u{i}@example.jp", ["accountEnabled"] = true, ["onPremisesSyncEnabled"] = true })],
        Groups =
        [
            .. Enumerable.Range(0, GroupCount).Select(i =>
            {
                var group = new JsonObject
                {
                    ["id"] = GroupId(i),
                    ["displayName"] = $"グループ {i}",
                    ["securityEnabled"] = true,
                    ["mailEnabled"] = false,
                    ["onPremisesSyncEnabled"] = i % 3 == 0 ? true : null,
                    ["onPremisesSecurityIdentifier"] = i % 3 == 0 ? $"S-1-5-21-1-2-3-{1000 + i}" : null,
                };
                IEnumerable<string> members = i switch
                {
                    0 => [.. Enumerable.Range(0, 2500).Select(UserId), GroupId(3)],
                    1 => [UserId(1), UserId(2)],
                    _ => [UserId(i % UserCount), UserId((i * 7) % UserCount)],
                };
                group["members"] = new JsonArray([.. members.Distinct().Select(m => (JsonNode)m)]);
                return group;
            }),
        ],
        Applications =
        [
            new JsonObject { ["id"] = "app-payroll", ["appId"] = "00000000-0000-0000-0000-00000000a001", ["displayName"] = "Payroll", ["identifierUris"] = new JsonArray("api://payroll") },
            new JsonObject { ["id"] = "app-wiki", ["appId"] = "00000000-0000-0000-0000-00000000a002", ["displayName"] = "Wiki", ["identifierUris"] = new JsonArray() },
        ],
        ServicePrincipals =
        [
            new JsonObject { ["id"] = "sp-payroll", ["appId"] = "00000000-0000-0000-0000-00000000a001", ["displayName"] = "Payroll", ["accountEnabled"] = true, ["servicePrincipalType"] = "Application" },
            new JsonObject { ["id"] = "sp-wiki", ["appId"] = "00000000-0000-0000-0000-00000000a002", ["displayName"] = "Wiki", ["accountEnabled"] = false, ["servicePrincipalType"] = "Application" },
            new JsonObject { ["id"] = "sp-o'brien", ["appId"] = "00000000-0000-0000-0000-00000000a003", ["displayName"] = "O'Brien's tool", ["accountEnabled"] = true, ["servicePrincipalType"] = "Application" },
        ],
        Faults = faults ?? GraphFaults.None,
        NextLinkRoot = nextLinkRoot,
    };

    private static GraphConnection Connect(GraphEmulator emulator) => EmulatorConnection.Connect(emulator, Token);

    private static int Synchronised => Enumerable.Range(0, GroupCount).Count(i => i % 3 == 0);

    [Fact]
    public async Task Every_group_application_and_service_principal_is_read_across_pages_with_the_user_members_of_synchronised_groups()
    {
        await using var emulator = await GraphEmulator.StartAsync(Tenant(), CancellationToken.None);
        using var connection = Connect(emulator);
        var directory = new GraphTargetDirectory(connection, []);
        directory.Invoking(d => d.DescribeInventoryRead()).Should().Throw<InvalidOperationException>("nothing was read yet");

        var inventory = await directory.ReadInventoryAsync(CancellationToken.None);

        inventory.Groups.Should().HaveCount(GroupCount);
        inventory.Groups.Select(g => g.Group.Id).Should().BeInAscendingOrder(StringComparer.Ordinal).And.OnlyHaveUniqueItems();
        var big = inventory.Groups[0];
        big.Group.Should().Be(new TargetGroup(GroupId(0), "グループ 0", true, false, true, "S-1-5-21-1-2-3-1000"));
        big.MemberIds.Should().Equal(Enumerable.Range(0, 2500).Select(UserId), "every user member over three pages, sorted; the nested group is not a user");
        inventory.Groups[1].MemberIds.Should().BeEmpty("the members of a cloud group are not read");
        inventory.Groups[3].MemberIds.Should().Equal(UserId(3), UserId(21));
        inventory.Groups.Where(g => g.Group.OnPremisesSyncEnabled == true).Should().HaveCount(Synchronised);
        inventory.Applications.Select(a => a.Id).Should().Equal("app-payroll", "app-wiki");
        inventory.ServicePrincipals.Should().ContainEquivalentOf(new TargetServicePrincipal("sp-wiki", "00000000-0000-0000-0000-00000000a002", "Wiki", false, "Application"));

        var received = emulator.Received;
        var memberReads = received.Where(r => r.PathAndQuery.Contains("/members/microsoft.graph.user", StringComparison.Ordinal)).ToList();
        memberReads.Should().HaveCount(Synchronised + 2, "one read per synchronised group, and two more pages for the group of 2,500")
            .And.OnlyContain(r => r.InBatch && r.Status == 200, "members are read in $batches");
        memberReads.Where(r => r.PathAndQuery.Contains(GroupId(1), StringComparison.Ordinal)).Should().BeEmpty();
        received.Count(r => !r.InBatch && r.PathAndQuery.StartsWith("/v1.0/$batch", StringComparison.Ordinal)).Should().Be((Synchronised + 19) / 20 + 2, "20 groups per $batch, then a round for each further page of group 0");
        received.Count(r => r.PathAndQuery.StartsWith("/v1.0/groups?", StringComparison.Ordinal)).Should().Be(2, "1,200 groups are two pages of 999");

        var read = directory.DescribeInventoryRead();
        read.Kind.Should().Be("graph-inventory");
        read.Location.Should().Be(connection.Description);
        read.Count.Should().Be(GroupCount + 2 + 3);
        read.Sha256.Should().MatchRegex("^sha256:[0-9a-f]{64}$");
    }

    [Fact]
    public async Task The_inventory_hash_is_the_same_for_the_same_tenant_and_changes_with_it()
    {
        await using var emulator = await GraphEmulator.StartAsync(Tenant(), CancellationToken.None);
        using var connection = Connect(emulator);
        var directory = new GraphTargetDirectory(connection, []);

        await directory.ReadInventoryAsync(CancellationToken.None);
        var first = directory.DescribeInventoryRead();
        await new GraphTargetDirectory(connection, []).ReadInventoryAsync(CancellationToken.None);
        await directory.ReadInventoryAsync(CancellationToken.None);
        var second = directory.DescribeInventoryRead();

        second.Should().Be(first, "two reads of one tenant state");

        // The group moves to the cloud: it no longer reads as synchronised, and its members are no longer read.
        (await new GraphTenant(connection).SetGroupSourceOfAuthorityAsync([GroupId(3)], cloudManaged: true, CancellationToken.None)).Single().Status.Should().Be(TargetWriteStatus.Verified);
        var after = await directory.ReadInventoryAsync(CancellationToken.None);

        after.Groups[3].Group.OnPremisesSyncEnabled.Should().BeNull();
        after.Groups[3].MemberIds.Should().BeEmpty();
        directory.DescribeInventoryRead().Sha256.Should().NotBe(first.Sha256);
        directory.DescribeInventoryRead().Count.Should().Be(first.Count);
    }

    [Fact]
    public async Task A_members_read_that_cannot_reach_its_last_page_fails_the_inventory_read()
    {
        // Graph's nextLinks lead to another port: group 0's second page of members cannot be read.
        await using var emulator = await GraphEmulator.StartAsync(Tenant(nextLinkRoot: new Uri("http://127.0.0.1:9/")), CancellationToken.None);
        using var connection = Connect(emulator);
        var directory = new GraphTargetDirectory(connection, []);

        var act = () => directory.ReadInventoryAsync(CancellationToken.None);

        (await act.Should().ThrowAsync<ExternalSystemException>()).Which.Message.Should().Contain("nextLink");
        directory.Invoking(d => d.DescribeInventoryRead()).Should().Throw<InvalidOperationException>("a read short of its last page is never described");
    }

    private async Task<(string Folder, GraphTargetDirectory Live, TargetInventory Inventory)> SaveAsync(GraphEmulator emulator, GraphConnection connection)
    {
        var folder = Path.Combine(_work, Guid.NewGuid().ToString("N"), "target");
        var directory = default(GraphTargetDirectory)!;
        using (var writer = new GraphUserSnapshotWriter(folder))
        {
            directory = new GraphTargetDirectory(connection, [], writer);
            await foreach (var _ in directory.ReadUsersAsync(CancellationToken.None))
            {
            }

            writer.Commit();
        }

        return (folder, directory, await directory.ReadInventoryAsync(CancellationToken.None));
    }

    [Fact]
    public async Task A_saved_snapshot_holds_the_inventory_read_with_its_users_and_reads_it_back_with_the_same_hash()
    {
        await using var emulator = await GraphEmulator.StartAsync(Tenant(), CancellationToken.None);
        using var connection = Connect(emulator);

        var (folder, live, inventory) = await SaveAsync(emulator, connection);
        var requestsAfterSave = emulator.RequestCount;
        (await live.ReadInventoryAsync(CancellationToken.None)).Should().BeSameAs(inventory, "while saving, the inventory is the one read with the users and saved");
        emulator.RequestCount.Should().Be(requestsAfterSave, "it is not read a second time");

        var snapshot = new GraphUserSnapshot(folder);
        var saved = await snapshot.ReadInventoryAsync(CancellationToken.None);

        saved.Should().BeEquivalentTo(inventory, o => o.WithStrictOrdering());
        snapshot.DescribeInventoryRead().Sha256.Should().Be(live.DescribeInventoryRead().Sha256);
        snapshot.DescribeInventoryRead().Count.Should().Be(GroupCount + 5);
        snapshot.DescribeInventoryRead().Kind.Should().Be("graph-inventory");
        snapshot.DescribeInventoryRead().Location.Should().Be("target/inventory");
        var groups = await File.ReadAllTextAsync(Path.Combine(folder, "inventory", "groups.json"));
        groups.Should().StartWith("{\"value\":[\n{\"id\":\"" + GroupId(0) + "\",\"displayName\":\"グループ 0\",\"securityEnabled\":true,\"mailEnabled\":false,\"onPremisesSyncEnabled\":true,\"onPremisesSecurityIdentifier\":\"S-1-5-21-1-2-3-1000\",\"members\":[\"" + UserId(0) + "\",");
        groups.Should().Contain("{\"id\":\"" + GroupId(1) + "\",\"displayName\":\"グループ 1\",\"securityEnabled\":true,\"mailEnabled\":false,\"onPremisesSyncEnabled\":null,\"onPremisesSecurityIdentifier\":null}", "a cloud group carries no members");
        File.Exists(Path.Combine(folder, "inventory", "applications.json")).Should().BeTrue();
        File.Exists(Path.Combine(folder, "inventory", "servicePrincipals.json")).Should().BeTrue();
        (await File.ReadAllTextAsync(Path.Combine(folder, "manifest.json"))).Should().Contain("\"inventory\"").And.Contain("groups.json");

        // The users still read as before, the inventory folder beside them not taken for a page.
        var users = 0;
        await foreach (var _ in snapshot.ReadUsersAsync(CancellationToken.None))
        {
            users++;
        }

        users.Should().Be(UserCount);
    }

    [Fact]
    public async Task An_inventory_read_before_the_users_is_the_one_saved_and_not_read_again()
    {
        await using var emulator = await GraphEmulator.StartAsync(Tenant(), CancellationToken.None);
        using var connection = Connect(emulator);
        var folder = Path.Combine(_work, "early", "target");
        GraphTargetDirectory directory;
        TargetInventory early;
        using (var writer = new GraphUserSnapshotWriter(folder))
        {
            directory = new GraphTargetDirectory(connection, [], writer);
            early = await directory.ReadInventoryAsync(CancellationToken.None);
            var groupReads = emulator.Received.Count(r => r.PathAndQuery.StartsWith("/v1.0/groups?", StringComparison.Ordinal));
            await foreach (var _ in directory.ReadUsersAsync(CancellationToken.None))
            {
            }

            emulator.Received.Count(r => r.PathAndQuery.StartsWith("/v1.0/groups?", StringComparison.Ordinal)).Should().Be(groupReads, "the inventory is read once per saved snapshot");
            writer.Commit();
        }

        var snapshot = new GraphUserSnapshot(folder);
        (await snapshot.ReadInventoryAsync(CancellationToken.None)).Should().BeEquivalentTo(early, o => o.WithStrictOrdering());
        snapshot.DescribeInventoryRead().Sha256.Should().Be(directory.DescribeInventoryRead().Sha256);
    }

    [Theory]
    [InlineData("edited")]
    [InlineData("truncated")]
    [InlineData("deleted")]
    [InlineData("unlisted")]
    public async Task An_inventory_file_changed_after_it_was_saved_is_refused(string change)
    {
        await using var emulator = await GraphEmulator.StartAsync(Tenant(), CancellationToken.None);
        using var connection = Connect(emulator);
        var (folder, _, _) = await SaveAsync(emulator, connection);
        var groups = Path.Combine(folder, "inventory", "groups.json");
        var principals = Path.Combine(folder, "inventory", "servicePrincipals.json");
        switch (change)
        {
            case "edited":
                // Still valid JSON, one member fewer: the kind of change that would hide a loss of access.
                var text = await File.ReadAllTextAsync(groups);
                await File.WriteAllTextAsync(groups, text.Replace("\"" + UserId(3) + "\",", string.Empty, StringComparison.Ordinal));
                break;
            case "truncated":
                var bytes = await File.ReadAllBytesAsync(principals);
                await File.WriteAllBytesAsync(principals, bytes[..(bytes.Length / 2)]);
                break;
            case "deleted":
                File.Delete(principals);
                break;
            case "unlisted":
                // A manifest from before inventories, beside an inventory folder.
                var manifest = Path.Combine(folder, "manifest.json");
                var node = JsonNode.Parse(await File.ReadAllTextAsync(manifest))!.AsObject();
                node.Remove("inventory");
                await File.WriteAllTextAsync(manifest, node.ToJsonString());
                break;
        }

        var snapshot = new GraphUserSnapshot(folder);
        var act = () => snapshot.ReadInventoryAsync(CancellationToken.None);

        var error = (await act.Should().ThrowAsync<InputException>()).Which;
        error.Message.Should().MatchRegex(change switch
        {
            "edited" => "groups.json differs from the file that was saved",
            "truncated" => "servicePrincipals.json differs from the file that was saved",
            "deleted" => "has no servicePrincipals.json",
            _ => "inventory/ is not in the snapshot's manifest",
        });
        snapshot.Invoking(s => s.DescribeInventoryRead()).Should().Throw<InvalidOperationException>();
    }

    [Fact]
    public async Task A_snapshot_saved_before_inventories_says_to_save_it_again()
    {
        await using var emulator = await GraphEmulator.StartAsync(Tenant(), CancellationToken.None);
        using var connection = Connect(emulator);
        var folder = Path.Combine(_work, "old", "target");
        // Saved as the previous version did: the user pages and a manifest, nothing else.
        using (var writer = new GraphUserSnapshotWriter(folder))
        {
            await foreach (var page in new GraphTargetDirectory(connection, []).ReadPagesAsync(CancellationToken.None))
            {
                await writer.WriteAsync(page, CancellationToken.None);
            }

            writer.Commit();
        }

        var single = Path.Combine(_work, "one-page.json");
        await File.WriteAllTextAsync(single, "{\"value\":[{\"id\":\"u1\"}]}");

        foreach (var path in new[] { folder, single })
        {
            var snapshot = new GraphUserSnapshot(path);
            var users = 0;
            await foreach (var _ in snapshot.ReadUsersAsync(CancellationToken.None))
            {
                users++;
            }

            users.Should().BeGreaterThan(0, "its users still read");
            var error = (await snapshot.Invoking(s => s.ReadInventoryAsync(CancellationToken.None)).Should().ThrowAsync<InputException>()).Which;
            error.Code.Should().Be("target-snapshot-no-inventory");
            error.Message.Should().Contain("--save-snapshot").And.Contain("groups");
        }
    }

    [Fact]
    public async Task A_hand_made_snapshot_directory_without_a_manifest_reads_its_inventory_as_it_is()
    {
        var folder = Path.Combine(_work, "hand-made");
        Directory.CreateDirectory(Path.Combine(folder, "inventory"));
        await File.WriteAllTextAsync(Path.Combine(folder, "users.json"), "{\"value\":[{\"id\":\"u1\"}]}");
        await File.WriteAllTextAsync(Path.Combine(folder, "inventory", "groups.json"), """
            {"value":[{"id":"g2","displayName":"Cloud","onPremisesSyncEnabled":null},
                      {"id":"g1","displayName":"Synced","onPremisesSyncEnabled":true,"onPremisesSecurityIdentifier":"S-1-5-21-9","members":["u1"]}]}
            """);
        await File.WriteAllTextAsync(Path.Combine(folder, "inventory", "applications.json"), "{\"value\":[]}");
        await File.WriteAllTextAsync(Path.Combine(folder, "inventory", "servicePrincipals.json"), "{\"value\":[{\"id\":\"sp1\",\"appId\":\"a1\",\"accountEnabled\":false}]}");

        var snapshot = new GraphUserSnapshot(folder);
        var inventory = await snapshot.ReadInventoryAsync(CancellationToken.None);

        inventory.Groups.Should().HaveCount(2);
        inventory.Groups.Single(g => g.Group.Id == "g1").MemberIds.Should().Equal("u1");
        inventory.ServicePrincipals.Single().AccountEnabled.Should().BeFalse();
        snapshot.DescribeInventoryRead().Count.Should().Be(3);

        // A synchronised group without its members is not what a read saw.
        await File.WriteAllTextAsync(Path.Combine(folder, "inventory", "groups.json"), "{\"value\":[{\"id\":\"g1\",\"onPremisesSyncEnabled\":true}]}");
        (await snapshot.Invoking(s => s.ReadInventoryAsync(CancellationToken.None)).Should().ThrowAsync<InputException>()).Which.Message.Should().Contain("no \"members\"");
    }
}
