using System.Text.Json.Nodes;
using AuthSplit.Core.Configuration;
using AuthSplit.Core.Errors;
using AuthSplit.Core.Secrets;
using AuthSplit.Graph.Emulator;
using AuthSplit.Graph.Auth;
using AuthSplit.Graph.Resilience;
using AuthSplit.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace AuthSplit.Graph.Tests;

/// <summary>The Graph connector reads its secrets and tokens through the core's one loader: same rule, same code as the LDAP adapter.</summary>
public sealed class GraphSecretLoadingTests
{
    private const string Token = "graph-secret-loading-token";

    private static GraphConnection Create(TargetOptions target, Func<string, string?> environment) =>
        GraphConnection.Create(target, new GraphResilienceOptions(), NullLogger.Instance, environment);

    [Theory]
    [InlineData("StaticToken", "TokenEnvVar")]
    [InlineData("ClientSecret", "SecretEnvVar")]
    public void A_variable_that_is_not_set_is_the_one_secret_code_naming_the_variable(string auth, string key)
    {
        var target = new TargetOptions
        {
            Auth = auth,
            TenantId = "00000000-0000-0000-0000-0000000000aa",
            ClientId = "00000000-0000-0000-0000-0000000000bb",
            TokenEnvVar = key == "TokenEnvVar" ? "AUTHSPLIT_UNSET_TOKEN" : null,
            SecretEnvVar = key == "SecretEnvVar" ? "AUTHSPLIT_UNSET_TOKEN" : null,
        };

        var act = () => Create(target, _ => null);

        act.Should().Throw<InputException>()
            .Where(e => e.Code == SecretLoader.ErrorCode && e.Message.Contains("AUTHSPLIT_UNSET_TOKEN", StringComparison.Ordinal) && e.Message.Contains($"Target:{key}", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_token_file_with_CRLF_and_a_second_line_sends_only_its_first_line()
    {
        var file = Path.Combine(TestPaths.NewWorkDirectory(), "token");
        await File.WriteAllTextAsync(file, Token + "\r\nnot part of the token\r\n");
        await using var emulator = await GraphEmulator.StartAsync(new GraphEmulatorOptions { AccessToken = Token, Users = [new JsonObject { ["id"] = "u1", ["userPrincipalName"] = "a@example.jp" }] }, CancellationToken.None);
        var target = new TargetOptions { Auth = "StaticToken", TokenFile = file, BaseUrl = emulator.BaseUrl.ToString(), AllowInsecureLoopback = true };
        using var connection = Create(target, _ => null);

        var reached = await GraphConnectionCheck.ReadOneUserAsync(connection, CancellationToken.None);

        reached.Should().Be($"{emulator.BaseUrl.GetLeftPart(UriPartial.Authority)}, users readable");
    }
}
