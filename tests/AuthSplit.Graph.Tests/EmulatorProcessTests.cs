using System.Diagnostics;
using System.Text.Json.Nodes;
using AuthSplit.Graph.Resilience;
using AuthSplit.Graph.Users;

namespace AuthSplit.Graph.Tests;

/// <summary><c>authsplit-graph-emulator</c> as a process, as rehearsals and the lab run it.</summary>
public sealed class EmulatorProcessTests : IDisposable
{
    private const string Token = "process-token-c41e";
    private readonly string _work = Directory.CreateTempSubdirectory("authsplit-emulator-process-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    private static ProcessStartInfo Emulator(params string[] arguments)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "authsplit-graph-emulator.dll"));
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment["AUTHSPLIT_EMULATOR_TOKEN"] = Token;
        return info;
    }

    /// <summary>
    /// Starts the emulator, hands <paramref name="serve"/> its banner line (the URL is its last word) while
    /// it runs, stops it with SIGTERM however that ends, and requires a clean exit within a minute; returns
    /// what it printed after the lines <paramref name="serve"/> read.
    /// </summary>
    private static async Task<string> ServeAsync(ProcessStartInfo info, Func<Process, string, Task> serve)
    {
        using var process = Process.Start(info)!;
        try
        {
            var banner = await process.StandardOutput.ReadLineAsync() ?? throw new InvalidOperationException(await process.StandardError.ReadToEndAsync());
            await serve(process, banner);
        }
        finally
        {
            using var kill = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            await kill.WaitForExitAsync();
        }

        using var exited = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        await process.WaitForExitAsync(exited.Token);
        process.ExitCode.Should().Be(0);
        return await process.StandardOutput.ReadToEndAsync();
    }

    /// <summary>Runs the emulator with arguments it refuses: its exit code and what it printed on stderr.</summary>
    private static async Task<(int ExitCode, string Error)> RefusedAsync(params string[] arguments)
    {
        using var process = Process.Start(Emulator(arguments))!;
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, error);
    }

    private static string UrlOf(string banner) => banner[(banner.LastIndexOf(' ') + 1)..];

    [Fact]
    public async Task Seeded_from_snapshot_files_it_serves_the_connector_and_stops_cleanly_on_sigterm()
    {
        var users = new JsonArray([.. Enumerable.Range(0, 1500).Select(i => (JsonNode)new JsonObject { ["id"] = $"{i:D8}-cccc-4000-8000-000000000000", ["userPrincipalName"] = $"p{i}@example.jp", ["accountEnabled"] = true })]);
        await File.WriteAllTextAsync(Path.Combine(_work, "users-1.json"), new JsonObject { ["value"] = users }.ToJsonString());
        var rest = await ServeAsync(Emulator("--users", _work, "--port", "0", "--documented-write-limit", "--password-sync", "off", "--block-hard-match-takeover", "on"), async (process, banner) =>
        {
            banner.Should().Contain("a stand-in, not Microsoft Graph");
            (await process.StandardOutput.ReadLineAsync()).Should().Contain("1500 users").And.Contain("WriteQuota = 3000");

            using var connection = EmulatorConnection.Connect(UrlOf(banner), Token, new GraphResilienceOptions());
            var read = 0;
            await foreach (var user in new GraphTargetDirectory(connection, []).ReadUsersAsync(CancellationToken.None))
            {
                read += user.Id.EndsWith("-cccc-4000-8000-000000000000", StringComparison.Ordinal) ? 1 : 0;
            }

            read.Should().Be(1500);
            var sync = await new GraphTenant(connection).GetTenantSyncStateAsync(CancellationToken.None);
            sync.PasswordSyncEnabled.Should().BeFalse();
            sync.BlockCloudObjectTakeoverThroughHardMatchEnabled.Should().BeTrue();
        });

        rest.Should().Contain("stopped after");
    }

    [Fact]
    public async Task An_older_tenant_and_a_write_storm_are_chosen_on_the_command_line()
    {
        await ServeAsync(Emulator("--port", "0", "--no-v1-sync-behavior", "--throttle-writes"), async (process, banner) =>
        {
            banner.Should().Contain("a stand-in, not Microsoft Graph");
            (await process.StandardOutput.ReadLineAsync()).Should().Contain("onPremisesSyncBehavior on v1.0: no (beta only)").And.Contain("ThrottleWrites = True");
        });
    }

    [Fact]
    public async Task Groups_with_members_a_delegated_admin_token_and_refused_group_switches_are_given_on_the_command_line()
    {
        var groups = new JsonObject
        {
            ["value"] = new JsonArray(
                new JsonObject { ["id"] = "g-sync", ["displayName"] = "Synced", ["onPremisesSyncEnabled"] = true, ["members"] = new JsonArray("u1") },
                new JsonObject { ["id"] = "g-refused", ["displayName"] = "Refused", ["onPremisesSyncEnabled"] = true, ["members"] = new JsonArray("u1") }),
        };
        var users = new JsonObject { ["value"] = new JsonArray(new JsonObject { ["id"] = "u1", ["userPrincipalName"] = "u1@example.jp", ["onPremisesSyncEnabled"] = true }) };
        var principals = new JsonObject { ["value"] = new JsonArray(new JsonObject { ["id"] = "sp1", ["appId"] = "a1", ["accountEnabled"] = false }) };
        await File.WriteAllTextAsync(Path.Combine(_work, "groups.json"), groups.ToJsonString());
        await File.WriteAllTextAsync(Path.Combine(_work, "users.json"), users.ToJsonString());
        await File.WriteAllTextAsync(Path.Combine(_work, "sps.json"), principals.ToJsonString());
        var info = Emulator("--users", Path.Combine(_work, "users.json"), "--groups", Path.Combine(_work, "groups.json"), "--service-principals", Path.Combine(_work, "sps.json"), "--port", "0", "--admin-token-env", "ADMIN_TOKEN_FOR_TEST", "--refuse-group-sync-behavior", "g-refused");
        info.Environment["ADMIN_TOKEN_FOR_TEST"] = "admin-token-9a1f";
        await ServeAsync(info, async (process, banner) =>
        {
            var url = UrlOf(banner);
            var seeded = await process.StandardOutput.ReadLineAsync();
            seeded.Should().Contain("2 groups").And.Contain("1 service principals").And.Contain("delegated-admin token: accepted").And.Contain("refusing the switch of groups g-refused").And.NotContain("admin-token-9a1f");

            using var connection = EmulatorConnection.Connect(url, Token, new GraphResilienceOptions());
            var inventory = await new GraphTargetDirectory(connection, []).ReadInventoryAsync(CancellationToken.None);
            inventory.Groups.Should().OnlyContain(g => g.MemberIds.SequenceEqual(new[] { "u1" }));
            inventory.ServicePrincipals.Single().AccountEnabled.Should().BeFalse();
            var outcomes = await new GraphTenant(connection).SetGroupSourceOfAuthorityAsync(["g-sync", "g-refused"], cloudManaged: true, CancellationToken.None);
            outcomes.Select(o => o.Status).Should().Equal(Core.Model.TargetWriteStatus.Verified, Core.Model.TargetWriteStatus.Rejected);

            using var http = new HttpClient { BaseAddress = new Uri(url) };
            using var request = new HttpRequestMessage(HttpMethod.Patch, "v1.0/directory/onPremisesSynchronization/00000000-0000-0000-0000-0000000000aa") { Content = new StringContent("{\"features\":{\"passwordSyncEnabled\":false}}", System.Text.Encoding.UTF8, "application/json") };
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "admin-token-9a1f");
            using var response = await http.SendAsync(request);
            response.StatusCode.Should().Be(System.Net.HttpStatusCode.NoContent);
            (await new GraphTenant(connection).GetTenantSyncStateAsync(CancellationToken.None)).PasswordSyncEnabled.Should().BeFalse();
        });
    }

    [Fact]
    public async Task An_admin_token_variable_that_is_unset_is_exit_2_naming_it()
    {
        var (exitCode, error) = await RefusedAsync("--admin-token-env", "AUTHSPLIT_UNSET_ADMIN_TOKEN_VAR");

        exitCode.Should().Be(2);
        error.Should().Contain("AUTHSPLIT_UNSET_ADMIN_TOKEN_VAR");
    }

    [Theory]
    [InlineData("--throttle-every", "often", "whole number")]
    [InlineData("--unknown-fault", "1", "unknown argument")]
    [InlineData("--password-sync", "maybe", "on or off")]
    [InlineData("--block-hard-match-takeover", "yes", "on or off")]
    public async Task A_bad_argument_is_exit_2_with_the_usage(string flag, string value, string message)
    {
        var (exitCode, error) = await RefusedAsync(flag, value);

        exitCode.Should().Be(2);
        error.Should().Contain(message).And.Contain("usage: authsplit-graph-emulator");
    }

    [Fact]
    public async Task A_missing_seed_directory_is_exit_2_naming_it()
    {
        var (exitCode, error) = await RefusedAsync("--users", Path.Combine(_work, "no-such-dir"));

        exitCode.Should().Be(2);
        error.Should().Contain("no-such-dir");
    }
}
