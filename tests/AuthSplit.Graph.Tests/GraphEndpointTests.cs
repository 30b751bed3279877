using System.Text.Json.Nodes;
using AuthSplit.Core.Errors;
using AuthSplit.Graph.Auth;
using AuthSplit.Graph.Emulator;
using AuthSplit.Graph.Resilience;
using AuthSplit.Graph.Users;

namespace AuthSplit.Graph.Tests;

/// <summary>
/// A live read never leaves the configured Graph endpoint (scheme, host, port, API version), and the bearer
/// token only ever goes to that exact authority, whatever an <c>@odata.nextLink</c> says.
/// </summary>
public sealed class GraphEndpointTests
{
    private const string Token = "endpoint-token-91d7e2";

    private static List<JsonObject> Users(int count) =>
        [.. Enumerable.Range(0, count).Select(i => new JsonObject { ["id"] = $"{i:D8}-eeee-4000-8000-000000000000", ["userPrincipalName"] = $"u{i}@example.jp", ["accountEnabled"] = true })];

    private static GraphConnection Connect(GraphEmulator emulator) =>
        EmulatorConnection.Connect(emulator, Token, new GraphResilienceOptions { MaxRetries = 1, BaseDelay = TimeSpan.FromMilliseconds(1) });

    private static async Task ReadUsersAsync(GraphConnection connection)
    {
        await foreach (var _ in new GraphTargetDirectory(connection, []).ReadUsersAsync(CancellationToken.None))
        {
        }
    }

    // A second server that would accept the same token: anything it receives is a leak.
    private static Task<GraphEmulator> OtherServerAsync() => GraphEmulator.StartAsync(new GraphEmulatorOptions { AccessToken = Token, Users = Users(5) }, CancellationToken.None);

    [Fact]
    public async Task A_next_link_to_another_port_is_refused_and_that_port_receives_no_request_and_no_token()
    {
        await using var other = await OtherServerAsync();
        await using var emulator = await GraphEmulator.StartAsync(new GraphEmulatorOptions { AccessToken = Token, Users = Users(1500), NextLinkRoot = other.BaseUrl }, CancellationToken.None);
        emulator.BaseUrl.Host.Should().Be(other.BaseUrl.Host, "same host, another port");
        using var connection = Connect(emulator);

        var act = () => ReadUsersAsync(connection);

        var error = (await act.Should().ThrowAsync<ExternalSystemException>()).Which;
        error.Message.Should().Contain(other.BaseUrl.GetLeftPart(UriPartial.Authority) + "/v1.0").And.Contain("not the configured endpoint");
        error.ToString().Should().NotContain(Token);
        other.Received.Should().BeEmpty("the link was refused before anything was sent there");
        emulator.Received.Should().ContainSingle("the first page only").Which.Authorization.Should().Be("Bearer " + Token);
    }

    [Fact]
    public async Task A_next_link_to_another_host_is_refused_and_nothing_is_fetched_from_it()
    {
        await using var other = await OtherServerAsync();
        var otherHost = new Uri($"http://localhost:{other.BaseUrl.Port}/");
        await using var emulator = await GraphEmulator.StartAsync(new GraphEmulatorOptions { AccessToken = Token, Users = Users(1500), NextLinkRoot = otherHost }, CancellationToken.None);
        using var connection = Connect(emulator);

        var act = () => ReadUsersAsync(connection);

        (await act.Should().ThrowAsync<ExternalSystemException>()).Which.Message.Should().Contain($"http://localhost:{other.BaseUrl.Port}/v1.0");
        other.Received.Should().BeEmpty("no page from another host is merged into the plan, with or without a token");
    }

    [Fact]
    public async Task Group_paging_is_held_to_the_endpoint_too()
    {
        await using var other = await OtherServerAsync();
        var groups = Enumerable.Range(0, 1200).Select(i => new JsonObject { ["id"] = $"g{i:D5}", ["displayName"] = $"Group {i}" }).ToList();
        await using var emulator = await GraphEmulator.StartAsync(new GraphEmulatorOptions { AccessToken = Token, Groups = groups, NextLinkRoot = other.BaseUrl }, CancellationToken.None);
        using var connection = Connect(emulator);

        var act = async () => await new GraphTenant(connection).ReadGroupsAsync(CancellationToken.None).ToListAsync();

        (await act.Should().ThrowAsync<ExternalSystemException>()).Which.Message.Should().Contain("groups page").And.Contain(other.BaseUrl.GetLeftPart(UriPartial.Authority));
        other.Received.Should().BeEmpty();
    }

    [Fact]
    public async Task A_request_for_another_port_never_leaves_the_connection_even_past_the_link_check()
    {
        await using var other = await OtherServerAsync();
        await using var emulator = await GraphEmulator.StartAsync(new GraphEmulatorOptions { AccessToken = Token }, CancellationToken.None);
        using var connection = Connect(emulator);

        var act = () => connection.Client.Users.WithUrl(new Uri(other.BaseUrl, "v1.0/users").ToString()).GetAsync(cancellationToken: CancellationToken.None);

        var error = (await act.Should().ThrowAsync<ExternalSystemException>()).Which;
        error.Message.Should().Contain(other.BaseUrl.GetLeftPart(UriPartial.Authority)).And.NotContain(Token);
        other.Received.Should().BeEmpty("the guard before the network refused it: neither the request nor the token reached the other port");
    }

    [Theory]
    [InlineData("https://graph.microsoft.com/v1.0/users?$skiptoken=X1", true)]
    [InlineData("https://GRAPH.microsoft.com:443/v1.0/users?$skiptoken=X1", true)]
    [InlineData("https://graph.microsoft.com/beta/users?$skiptoken=X1", false)]
    [InlineData("http://graph.microsoft.com/v1.0/users", false)]
    [InlineData("https://graph.microsoft.com:8443/v1.0/users", false)]
    [InlineData("https://graph.microsoft.com.evil.example/v1.0/users", false)]
    [InlineData("https://graph.microsoft.com/v1.0.evil/users", false)]
    [InlineData("/v1.0/users", false)]
    public void A_link_is_followed_only_on_the_same_scheme_host_port_and_version(string link, bool followed)
    {
        var endpoint = new GraphEndpoint(new Uri("https://graph.microsoft.com/"), "v1.0");

        var act = () => endpoint.RequireOwnLink(link, "users page 1");

        if (followed)
        {
            act.Should().NotThrow();
        }
        else
        {
            act.Should().Throw<ExternalSystemException>().WithMessage("*users page 1*");
        }
    }
}
