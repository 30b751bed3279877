using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using AuthSplit.Core.Model;
using AuthSplit.Graph.Auth;
using AuthSplit.Graph.Emulator;
using AuthSplit.Graph.Users;

namespace AuthSplit.Graph.Tests;

/// <summary>
/// What the executor's group and system steps and the password-sync gate ask of the tenant, against the
/// emulator: groups' source of authority written and read back, service principals, the tenant's sync
/// state (writable only by a delegated administrator), users already cloud-only.
/// </summary>
public sealed class GraphTenantGroupTests
{
    private const string Token = "emulator-token-grp-8e31";
    private const string AdminToken = "emulator-admin-token-4b07";
    private const string TenantId = "11111111-2222-3333-4444-555555555555";

    private static string GroupId(int i) => $"{i:D8}-3333-4000-8000-000000000000";

    private static GraphEmulatorOptions Tenant(GraphFaults? faults = null) => new()
    {
        AccessToken = Token,
        AdminAccessToken = AdminToken,
        TenantId = TenantId,
        Users =
        [
            new JsonObject { ["id"] = "u-synced", ["userPrincipalName"] = "synced@example.jp", ["onPremisesSyncEnabled"] = true },
            new JsonObject { ["id"] = "u-cloud", ["userPrincipalName"] = "cloud@example.jp", ["onPremisesSyncEnabled"] = null, ["onPremisesSyncBehavior"] = new JsonObject { ["isCloudManaged"] = true } },
        ],
        Groups = [.. Enumerable.Range(0, 25).Select(i => new JsonObject { ["id"] = GroupId(i), ["displayName"] = $"G{i}", ["onPremisesSyncEnabled"] = true, ["members"] = new JsonArray("u-synced", GroupId((i + 1) % 25)) })],
        ServicePrincipals =
        [
            new JsonObject { ["id"] = "sp-payroll", ["appId"] = "00000000-0000-0000-0000-00000000a001", ["displayName"] = "Payroll", ["accountEnabled"] = true, ["servicePrincipalType"] = "Application" },
            new JsonObject { ["id"] = "sp-wiki", ["appId"] = "00000000-0000-0000-0000-00000000a002", ["displayName"] = "O'Wiki", ["accountEnabled"] = false, ["servicePrincipalType"] = "Application" },
        ],
        Faults = faults ?? GraphFaults.None,
    };

    private static GraphConnection Connect(GraphEmulator emulator) => EmulatorConnection.Connect(emulator, Token);

    [Fact]
    public async Task Groups_are_switched_to_cloud_managed_in_batches_and_read_back()
    {
        await using var emulator = await GraphEmulator.StartAsync(Tenant(), CancellationToken.None);
        using var connection = Connect(emulator);
        var tenant = new GraphTenant(connection);
        var ids = Enumerable.Range(0, 25).Select(GroupId).ToList();

        var before = await tenant.GetGroupSourceOfAuthorityAsync(ids, CancellationToken.None);
        var outcomes = await tenant.SetGroupSourceOfAuthorityAsync(ids, cloudManaged: true, CancellationToken.None);
        var after = await tenant.GetGroupSourceOfAuthorityAsync(ids, CancellationToken.None);

        before.Should().OnlyContain(s => s.IsCloudManaged == false && s.Status == TargetWriteStatus.Verified);
        outcomes.Select(o => o.UserId).Should().Equal(ids, "one outcome per group, in the order asked");
        outcomes.Should().OnlyContain(o => o.Status == TargetWriteStatus.Verified);
        after.Should().OnlyContain(s => s.IsCloudManaged == true);
        ids.Should().OnlyContain(id => emulator.IsGroupCloudManaged(id));
        emulator.Group(GroupId(0))!["onPremisesSyncEnabled"].Should().BeNull("a cloud-managed group no longer reads as synchronised");
        emulator.Writes.Select(w => w.Path).Should().BeEquivalentTo(ids.Select(id => $"/v1.0/groups/{id}/onPremisesSyncBehavior"), "each group written once");
        emulator.Writes.Should().OnlyContain(w => w.Body == "{\"isCloudManaged\":true}");
        emulator.Received.Where(r => r.PathAndQuery.Contains("/onPremisesSyncBehavior", StringComparison.Ordinal)).Should().OnlyContain(r => r.InBatch, "batched like the users' switches");

        // And back: the next sync takes the group again.
        (await tenant.SetGroupSourceOfAuthorityAsync([GroupId(0)], cloudManaged: false, CancellationToken.None)).Single().Status.Should().Be(TargetWriteStatus.Verified);
        emulator.Group(GroupId(0))!["onPremisesSyncEnabled"]!.GetValue<bool>().Should().BeTrue();
    }

    [Fact]
    public async Task A_refused_group_switch_is_rejected_without_hiding_the_others()
    {
        await using var emulator = await GraphEmulator.StartAsync(Tenant(new GraphFaults { RefuseGroupSyncBehavior = [GroupId(1)] }), CancellationToken.None);
        using var connection = Connect(emulator);
        var tenant = new GraphTenant(connection);

        var outcomes = await tenant.SetGroupSourceOfAuthorityAsync([GroupId(0), GroupId(1), "no-such-group"], cloudManaged: true, CancellationToken.None);

        outcomes[0].Status.Should().Be(TargetWriteStatus.Verified);
        outcomes[1].Status.Should().Be(TargetWriteStatus.Rejected);
        outcomes[1].Problem.Should().Contain("403").And.Contain("Authorization_RequestDenied");
        outcomes[2].Status.Should().Be(TargetWriteStatus.NotFound);
        emulator.IsGroupCloudManaged(GroupId(1)).Should().BeFalse();
        emulator.Group(GroupId(1))!["onPremisesSyncEnabled"]!.GetValue<bool>().Should().BeTrue("the refused group is still synchronised");
        (await tenant.GetGroupSourceOfAuthorityAsync(["no-such-group"], CancellationToken.None)).Single().Status.Should().Be(TargetWriteStatus.NotFound);
    }

    [Fact]
    public async Task A_service_principal_is_read_by_object_id_or_by_application_id()
    {
        await using var emulator = await GraphEmulator.StartAsync(Tenant(), CancellationToken.None);
        using var connection = Connect(emulator);
        var tenant = new GraphTenant(connection);

        var byId = await tenant.GetServicePrincipalAsync("sp-payroll", null, CancellationToken.None);
        var byAppId = await tenant.GetServicePrincipalAsync(null, "00000000-0000-0000-0000-00000000a002", CancellationToken.None);

        byId.Should().Be(new TargetServicePrincipal("sp-payroll", "00000000-0000-0000-0000-00000000a001", "Payroll", true, "Application"));
        byAppId.Should().Be(new TargetServicePrincipal("sp-wiki", "00000000-0000-0000-0000-00000000a002", "O'Wiki", false, "Application"), "a disabled service principal is found, and reads disabled");
        (await tenant.GetServicePrincipalAsync("sp-missing", null, CancellationToken.None)).Should().BeNull();
        (await tenant.GetServicePrincipalAsync(null, "0000'; drop", CancellationToken.None)).Should().BeNull("a quote in the id is escaped, not an error");
        emulator.Received.Should().Contain(r => r.PathAndQuery.Contains("$filter=appId%20eq%20%2700000000-0000-0000-0000-00000000a002%27", StringComparison.Ordinal) || r.PathAndQuery.Contains("%24filter=appId%20eq%20%2700000000-0000-0000-0000-00000000a002%27", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_user_already_cloud_only_reads_as_cloud_managed()
    {
        await using var emulator = await GraphEmulator.StartAsync(Tenant(), CancellationToken.None);
        using var connection = Connect(emulator);

        var states = await new GraphTenant(connection).GetSourceOfAuthorityAsync(["u-synced", "u-cloud"], CancellationToken.None);
        var users = await new GraphTenant(connection).GetUsersAsync(["u-cloud"], CancellationToken.None);

        states.Select(s => s.IsCloudManaged).Should().Equal(false, true);
        emulator.User("u-cloud")!.ContainsKey("onPremisesSyncBehavior").Should().BeFalse("a relationship, served at its own URL");
        users.Should().ContainSingle().Which.Id.Should().Be("u-cloud");
        users[0].Properties.Should().NotContainKey("onPremisesSyncBehavior");
    }

    [Fact]
    public async Task A_user_switched_to_cloud_managed_no_longer_reads_as_synchronised_until_switched_back()
    {
        await using var emulator = await GraphEmulator.StartAsync(Tenant(), CancellationToken.None);
        using var connection = Connect(emulator);
        var tenant = new GraphTenant(connection);

        (await tenant.SetSourceOfAuthorityAsync(["u-synced"], cloudManaged: true, CancellationToken.None)).Single().Verified.Should().BeTrue();
        emulator.User("u-synced")!["onPremisesSyncEnabled"].Should().BeNull();

        (await tenant.SetSourceOfAuthorityAsync(["u-synced"], cloudManaged: false, CancellationToken.None)).Single().Verified.Should().BeTrue();
        emulator.User("u-synced")!["onPremisesSyncEnabled"]!.GetValue<bool>().Should().BeTrue();
    }

    [Fact]
    public async Task The_tenant_password_sync_is_written_only_with_a_delegated_admin_token()
    {
        await using var emulator = await GraphEmulator.StartAsync(Tenant(), CancellationToken.None);
        using var connection = Connect(emulator);
        using var http = new HttpClient { BaseAddress = emulator.BaseUrl };

        async Task<HttpResponseMessage> PatchAsync(string token)
        {
            using var request = new HttpRequestMessage(HttpMethod.Patch, $"v1.0/directory/onPremisesSynchronization/{TenantId}")
            {
                Content = new StringContent("{\"features\":{\"passwordSyncEnabled\":false}}", Encoding.UTF8, "application/json"),
            };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            return await http.SendAsync(request);
        }

        using var appOnly = await PatchAsync(Token);
        appOnly.StatusCode.Should().Be(HttpStatusCode.Forbidden);
        (await appOnly.Content.ReadAsStringAsync()).Should().Contain("Authorization_RequestDenied");
        (await new GraphTenant(connection).GetTenantSyncStateAsync(CancellationToken.None)).PasswordSyncEnabled.Should().BeTrue("the app's write was refused");
        emulator.Writes.Should().BeEmpty();

        using var admin = await PatchAsync(AdminToken);
        admin.StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await new GraphTenant(connection).GetTenantSyncStateAsync(CancellationToken.None)).Should().Be(new TenantSyncState(TenantId, false), "the tool reads what the administrator wrote");
        emulator.PasswordSyncEnabled.Should().BeFalse();

        using var wrong = await PatchAsync("not-a-token");
        wrong.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task The_hard_match_takeover_block_is_read_written_only_by_the_delegated_admin_and_keeps_a_user_switched_back_unsynchronised_until_lifted()
    {
        await using var emulator = await GraphEmulator.StartAsync(Tenant() with { BlockCloudObjectTakeoverThroughHardMatchEnabled = true }, CancellationToken.None);
        using var connection = Connect(emulator);
        var tenant = new GraphTenant(connection);
        using var http = new HttpClient { BaseAddress = emulator.BaseUrl };

        async Task<HttpResponseMessage> PatchAsync(string token, bool block)
        {
            using var request = new HttpRequestMessage(HttpMethod.Patch, $"v1.0/directory/onPremisesSynchronization/{TenantId}")
            {
                Content = new StringContent($"{{\"features\":{{\"blockCloudObjectTakeoverThroughHardMatchEnabled\":{(block ? "true" : "false")}}}}}", Encoding.UTF8, "application/json"),
            };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            return await http.SendAsync(request);
        }

        (await tenant.GetTenantSyncStateAsync(CancellationToken.None)).Should().Be(new TenantSyncState(TenantId, true, BlockCloudObjectTakeoverThroughHardMatchEnabled: true));
        (await tenant.SetSourceOfAuthorityAsync(["u-synced"], cloudManaged: true, CancellationToken.None)).Single().Verified.Should().BeTrue();
        (await tenant.SetSourceOfAuthorityAsync(["u-synced"], cloudManaged: false, CancellationToken.None)).Single().Verified.Should().BeTrue();
        emulator.User("u-synced")!["onPremisesSyncEnabled"].Should().BeNull("the sync engine may not take the cloud object back while the block is on");

        using (var appOnly = await PatchAsync(Token, block: false))
        {
            appOnly.StatusCode.Should().Be(HttpStatusCode.Forbidden);
        }

        emulator.BlockCloudObjectTakeoverThroughHardMatchEnabled.Should().BeTrue();
        using (var admin = await PatchAsync(AdminToken, block: false))
        {
            admin.StatusCode.Should().Be(HttpStatusCode.NoContent);
        }

        (await tenant.GetTenantSyncStateAsync(CancellationToken.None)).BlockCloudObjectTakeoverThroughHardMatchEnabled.Should().BeFalse();
        emulator.User("u-synced")!["onPremisesSyncEnabled"]!.GetValue<bool>().Should().BeTrue("the next sync cycle took it back");
        emulator.PasswordSyncEnabled.Should().BeTrue("writing one feature leaves the other as it was");
    }

    [Fact]
    public async Task A_tenant_without_a_delegated_admin_token_refuses_every_sync_write()
    {
        await using var emulator = await GraphEmulator.StartAsync(Tenant() with { AdminAccessToken = null }, CancellationToken.None);
        using var http = new HttpClient { BaseAddress = emulator.BaseUrl };
        using var request = new HttpRequestMessage(HttpMethod.Patch, $"v1.0/directory/onPremisesSynchronization/{TenantId}") { Content = new StringContent("{\"features\":{\"passwordSyncEnabled\":false}}", Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Token);

        using var response = await http.SendAsync(request);

        response.StatusCode.Should().Be(HttpStatusCode.Forbidden);
        emulator.PasswordSyncEnabled.Should().BeTrue();
    }

    [Fact]
    public async Task Group_members_are_served_paged_all_of_them_or_the_users_only()
    {
        await using var emulator = await GraphEmulator.StartAsync(Tenant(), CancellationToken.None);
        using var http = new HttpClient { BaseAddress = emulator.BaseUrl };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);

        var all = JsonNode.Parse(await http.GetStringAsync($"v1.0/groups/{GroupId(0)}/members?$top=1"))!;
        var next = JsonNode.Parse(await http.GetStringAsync(new Uri(all["@odata.nextLink"]!.GetValue<string>())))!;
        var users = JsonNode.Parse(await http.GetStringAsync($"v1.0/groups/{GroupId(0)}/members/microsoft.graph.user?$select=id"))!;

        var members = all["value"]!.AsArray().Concat(next["value"]!.AsArray()).ToList();
        members.Select(m => m!["@odata.type"]!.GetValue<string>()).Should().BeEquivalentTo(["#microsoft.graph.user", "#microsoft.graph.group"]);
        next["@odata.nextLink"].Should().BeNull();
        users["value"]!.AsArray().Select(m => m!["id"]!.GetValue<string>()).Should().Equal("u-synced");
        (await http.GetAsync("v1.0/groups/nope/members")).StatusCode.Should().Be(HttpStatusCode.NotFound);
    }
}
