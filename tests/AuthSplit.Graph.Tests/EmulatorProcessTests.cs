using System.Diagnostics;
using System.Text.Json.Nodes;
using AuthSplit.Core.Configuration;
using AuthSplit.Graph.Auth;
using AuthSplit.Graph.Resilience;
using AuthSplit.Graph.Users;
using Microsoft.Extensions.Logging.Abstractions;

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

    [Fact]
    public async Task Seeded_from_snapshot_files_it_serves_the_connector_and_stops_cleanly_on_sigterm()
    {
        var users = new JsonArray([.. Enumerable.Range(0, 1500).Select(i => (JsonNode)new JsonObject { ["id"] = $"{i:D8}-cccc-4000-8000-000000000000", ["userPrincipalName"] = $"p{i}@example.jp", ["accountEnabled"] = true })]);
        await File.WriteAllTextAsync(Path.Combine(_work, "users-1.json"), new JsonObject { ["value"] = users }.ToJsonString());
        using var process = Process.Start(Emulator("--users", _work, "--port", "0", "--documented-write-limit", "--password-sync", "off"))!;
        try
        {
            var banner = await process.StandardOutput.ReadLineAsync() ?? throw new InvalidOperationException(await process.StandardError.ReadToEndAsync());
            banner.Should().Contain("a stand-in, not Microsoft Graph");
            var url = banner[(banner.LastIndexOf(' ') + 1)..];
            (await process.StandardOutput.ReadLineAsync()).Should().Contain("1500 users").And.Contain("WriteQuota = 3000");

            using var connection = GraphConnection.Create(
                new TargetOptions { BaseUrl = url, Auth = "StaticToken", TokenEnvVar = "T", AllowInsecureLoopback = true },
                new GraphResilienceOptions(),
                NullLogger.Instance,
                _ => Token);
            var read = 0;
            await foreach (var user in new GraphTargetDirectory(connection, []).ReadUsersAsync(CancellationToken.None))
            {
                read += user.Id.EndsWith("-cccc-4000-8000-000000000000", StringComparison.Ordinal) ? 1 : 0;
            }

            read.Should().Be(1500);
            (await new GraphTenant(connection).GetTenantSyncStateAsync(CancellationToken.None)).PasswordSyncEnabled.Should().BeFalse();
        }
        finally
        {
            using var kill = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            await kill.WaitForExitAsync();
        }

        using var exited = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        await process.WaitForExitAsync(exited.Token);
        process.ExitCode.Should().Be(0);
        (await process.StandardOutput.ReadToEndAsync()).Should().Contain("stopped after");
    }

    [Fact]
    public async Task An_older_tenant_and_a_write_storm_are_chosen_on_the_command_line()
    {
        using var process = Process.Start(Emulator("--port", "0", "--no-v1-sync-behavior", "--throttle-writes"))!;
        try
        {
            var banner = await process.StandardOutput.ReadLineAsync() ?? throw new InvalidOperationException(await process.StandardError.ReadToEndAsync());
            banner.Should().Contain("a stand-in, not Microsoft Graph");
            (await process.StandardOutput.ReadLineAsync()).Should().Contain("onPremisesSyncBehavior on v1.0: no (beta only)").And.Contain("ThrottleWrites = True");
        }
        finally
        {
            using var kill = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            await kill.WaitForExitAsync();
        }

        using var exited = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        await process.WaitForExitAsync(exited.Token);
        process.ExitCode.Should().Be(0);
    }

    [Theory]
    [InlineData("--throttle-every", "often", "whole number")]
    [InlineData("--unknown-fault", "1", "unknown argument")]
    [InlineData("--password-sync", "maybe", "on or off")]
    public async Task A_bad_argument_is_exit_2_with_the_usage(string flag, string value, string message)
    {
        using var process = Process.Start(Emulator(flag, value))!;
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();

        process.ExitCode.Should().Be(2);
        error.Should().Contain(message).And.Contain("usage: authsplit-graph-emulator");
    }

    [Fact]
    public async Task A_missing_seed_directory_is_exit_2_naming_it()
    {
        using var process = Process.Start(Emulator("--users", Path.Combine(_work, "no-such-dir")))!;
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();

        process.ExitCode.Should().Be(2);
        error.Should().Contain("no-such-dir");
    }
}
