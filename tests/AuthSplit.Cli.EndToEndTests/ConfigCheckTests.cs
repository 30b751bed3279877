using System.Text.Json.Nodes;
using AuthSplit.Graph.Emulator;
using AuthSplit.Testing;

namespace AuthSplit.Cli.EndToEndTests;

/// <summary><c>authsplit config check</c>, run as its own process: validate only, and with <c>--connect</c> reach both systems.</summary>
[Collection(SlapdFixture.Collection)]
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class ConfigCheckTests(SlapdFixture fixture)
{
    private const string Token = "config-check-token-5e1f";

    private static async Task<string> WriteConfigAsync(string work, Action<JsonObject> change)
    {
        var config = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(CliRunner.Samples, "authsplit.json")))!.AsObject();
        change(config);
        var path = Path.Combine(work, "authsplit.json");
        await File.WriteAllTextAsync(path, config.ToJsonString());
        return path;
    }

    private void PointAtSlapd(JsonObject config)
    {
        config["Source"]!["Url"] = fixture.Server.LdapsUrl;
        config["Source"]!["CaFile"] = fixture.Server.CaFile;
    }

    private static void PointAtEmulator(JsonObject config, Uri baseUrl) => config["Target"] = new JsonObject
    {
        ["Kind"] = "Graph",
        ["BaseUrl"] = baseUrl.ToString(),
        ["Auth"] = "StaticToken",
        ["TokenEnvVar"] = "AUTHSPLIT_GRAPH_TOKEN",
        ["AllowInsecureLoopback"] = true,
        ["Limits"] = new JsonObject { ["MaxRetries"] = 1, ["RetryBaseDelaySeconds"] = 0.05 },
    };

    [Fact]
    public async Task A_valid_config_is_reported_OK_with_its_source_waves_and_target()
    {
        var result = await OperatorProcess.RunAsync(["config", "check", "--config", "config/samples/authsplit.json"], new Dictionary<string, string> { ["AUTHSPLIT_SOURCE_PASSWORD"] = "not-used" });

        result.ExitCode.Should().Be(0, result.ToString());
        result.Output.Should().Contain("config OK: config/samples/authsplit.json")
            .And.Contain("source: ldaps://ldap.example.jp:636 (OpenLdap), base dc=example,dc=jp")
            .And.Contain("waves:  3: hq (order 1, deadline 2025-04-30), domestic (order 2, deadline 2025-04-30), overseas (order 3, deadline 2026-04-30)")
            .And.Contain("target: none configured (plan with --target-snapshot)");
        result.Error.Should().BeEmpty();
    }

    [Fact]
    public async Task Every_fault_is_one_line_with_its_key_path_and_the_exit_code_is_2()
    {
        var work = CliRunner.NewWorkDirectory();
        var config = await WriteConfigAsync(work, c =>
        {
            c["Source"]!["PageSize"] = 0;
            c["Waves"]![0]!["Filter"] = "(objectClass=inetOrgPerson";
            c["Waves"]![1]!["Deadline"] = "31/03/2025";
            c["Safety"]!["ProtectedDns"]![0] = "not a dn";
        });

        var result = await OperatorProcess.RunAsync(["config", "check", "--config", config]);

        result.ExitCode.Should().Be(2, result.ToString());
        var lines = result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        lines.Should().HaveCountGreaterThanOrEqualTo(4).And.OnlyContain(l => l.StartsWith("error: ", StringComparison.Ordinal));
        result.Error.Should().Contain("Source:PageSize").And.Contain("Waves:0:Filter").And.Contain("Waves:1:Deadline").And.Contain("Safety:ProtectedDns");
        result.Output.Should().NotContain("config OK");
    }

    [Fact]
    public async Task A_Serilog_section_is_refused_now_that_nothing_reads_it()
    {
        var work = CliRunner.NewWorkDirectory();
        var config = await WriteConfigAsync(work, c => c["Serilog"] = new JsonObject { ["MinimumLevel"] = "Debug" });

        var result = await OperatorProcess.RunAsync(["config", "check", "--config", config], new Dictionary<string, string> { ["AUTHSPLIT_SOURCE_PASSWORD"] = "x" });

        result.ExitCode.Should().Be(2, result.ToString());
        result.Error.Should().Contain("Serilog").And.Contain("unknown section");
    }

    [Fact]
    public async Task A_missing_secret_is_a_warning_without_connect_and_an_error_with_it()
    {
        var offline = await OperatorProcess.RunAsync(["config", "check", "--config", "config/samples/authsplit.json"]);
        var connect = await OperatorProcess.RunAsync(["config", "check", "--config", "config/samples/authsplit.json", "--connect"]);

        offline.ExitCode.Should().Be(0, offline.ToString());
        offline.Error.Should().Contain("warning: ").And.Contain("AUTHSPLIT_SOURCE_PASSWORD").And.Contain("Source:PasswordEnvVar");
        connect.ExitCode.Should().Be(2, connect.ToString());
        connect.Error.Should().Contain("error: ").And.Contain("AUTHSPLIT_SOURCE_PASSWORD");
    }

    [Fact]
    public async Task Connect_binds_to_the_directory_and_reads_one_page_of_Graph_users()
    {
        await using var emulator = await StartEmulatorAsync();
        var result = await CheckConnectedAsync(emulator, fixture.ReaderPassword, Token);

        result.ExitCode.Should().Be(0, result.ToString());
        result.Output.Should().Contain("config OK")
            .And.Contain($"source reachable: {fixture.Server.LdapsUrl}, dc=example,dc=jp")
            .And.Contain($"target reachable: {emulator.BaseUrl.GetLeftPart(UriPartial.Authority)}, users readable");

        // The fixture's slapd has no ppolicy overlay, and the sample config disables by a ppolicy lock.
        result.Error.Should().Contain("warning: source: Removal:OpenLdapDisable is PasswordPolicyLock, but")
            .And.Contain("does not announce the password policy control (1.3.6.1.4.1.42.2.27.8.5.1)");
    }

    [Fact]
    public async Task Connect_names_each_system_that_fails_and_exits_4()
    {
        await using var emulator = await StartEmulatorAsync();
        var result = await CheckConnectedAsync(emulator, "wrong-password", "wrong-token");

        result.ExitCode.Should().Be(4, result.ToString());
        result.Error.Should().Contain($"error: source: {fixture.Server.LdapsUrl}").And.Contain("invalid credentials");
        result.Error.Should().Contain($"error: target: {emulator.BaseUrl.GetLeftPart(UriPartial.Authority)}").And.Contain("Graph refused the credential");
        result.Output.Should().NotContain("reachable");
    }

    [Fact]
    public async Task Connect_says_when_the_base_dn_does_not_exist()
    {
        var work = CliRunner.NewWorkDirectory();
        var config = await WriteConfigAsync(work, c =>
        {
            PointAtSlapd(c);
            c["Source"]!["BaseDn"] = "ou=nowhere,dc=example,dc=jp";
            foreach (var wave in c["Waves"]!.AsArray())
            {
                wave!["BaseDn"] = "ou=nowhere,dc=example,dc=jp";
            }

            c["Safety"]!["ProtectedDns"] = new JsonArray();
        });

        var result = await OperatorProcess.RunAsync(["config", "check", "--config", config, "--connect"], new Dictionary<string, string> { ["AUTHSPLIT_SOURCE_PASSWORD"] = fixture.ReaderPassword });

        result.ExitCode.Should().Be(4, result.ToString());
        result.Error.Should().Contain("Source:BaseDn ou=nowhere,dc=example,dc=jp does not exist");
    }

    // A system whose every secret is named: a legacy account's bind password in a variable, a probe's in a
    // file, the cutover's bearer token in a file, a probe header's value in a variable; and PasswordSync by
    // commands. The caller says which of them are there.
    private static void SystemsAndPasswordSync(JsonObject config, string work, bool complete)
    {
        var probeCredential = Path.Combine(work, "probe-credential");
        var cutoverToken = Path.Combine(work, "cutover-token");
        var stopSync = Path.Combine(work, "stop-sync");
        var readBack = Path.Combine(work, "read-back");
        File.WriteAllText(cutoverToken, "Bearer s3cr3t-cutover-token\n");
        File.SetUnixFileMode(cutoverToken, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.WriteAllText(readBack, "#!/bin/sh\n");
        if (complete)
        {
            File.WriteAllText(probeCredential, "s3cr3t-probe-password\n");
            File.SetUnixFileMode(probeCredential, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            File.WriteAllText(stopSync, "#!/bin/sh\n");
            File.SetUnixFileMode(stopSync, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            File.SetUnixFileMode(readBack, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        else
        {
            File.SetUnixFileMode(readBack, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        config["Systems"] = new JsonArray(new JsonObject
        {
            ["Id"] = "crm",
            ["Wave"] = "hq",
            ["Target"] = new JsonObject { ["ServicePrincipalId"] = "6b1f6c2e-3f3a-4a55-9d4e-0c7f2f1c9a11" },
            ["LegacyAccounts"] = new JsonArray(
                new JsonObject { ["Dn"] = "uid=svc-crm,ou=services,dc=example,dc=jp", ["CredentialEnvVar"] = "AUTHSPLIT_CRM_BIND" },
                new JsonObject { ["Dn"] = "uid=svc-crm-batch,ou=services,dc=example,dc=jp", ["CredentialEnvVar"] = "AUTHSPLIT_CRM_BATCH_BIND" }),
            ["Cutover"] = new JsonObject
            {
                ["Http"] = new JsonObject
                {
                    ["Url"] = "https://crm.example.jp/idp",
                    ["Headers"] = new JsonArray(new JsonObject { ["Name"] = "Authorization", ["ValueFile"] = cutoverToken }),
                },
            },
            ["Probes"] = new JsonArray(
                new JsonObject { ["Name"] = "new-bind", ["Kind"] = "LdapBind", ["Url"] = "ldaps://idp.example.jp", ["BindDn"] = "cn=crm,dc=example,dc=jp", ["CredentialFile"] = probeCredential },
                new JsonObject
                {
                    ["Name"] = "sso-login",
                    ["Kind"] = "Http",
                    ["Http"] = new JsonObject
                    {
                        ["Method"] = "GET",
                        ["Url"] = "https://crm.example.jp/health/sso",
                        ["Headers"] = new JsonArray(new JsonObject { ["Name"] = "X-Api-Key", ["ValueEnvVar"] = "AUTHSPLIT_CRM_PROBE_KEY" }),
                    },
                }),
        });
        config["PasswordSync"] = new JsonObject
        {
            ["Strategy"] = "Command",
            ["Command"] = new JsonArray(stopSync),
            ["ReadBackCommand"] = new JsonArray(readBack, "--confirm"),
        };
    }

    [Fact]
    public async Task Connect_names_each_missing_system_secret_and_password_sync_program_by_its_key_path_without_a_value()
    {
        var work = CliRunner.NewWorkDirectory();
        var config = await WriteConfigAsync(work, c => SystemsAndPasswordSync(c, work, complete: false));
        var environment = new Dictionary<string, string> { ["AUTHSPLIT_SOURCE_PASSWORD"] = "not-used", ["AUTHSPLIT_CRM_BIND"] = "s3cr3t-bind-password" };

        var connect = await OperatorProcess.RunAsync(["config", "check", "--config", config, "--connect"], environment);
        var offline = await OperatorProcess.RunAsync(["config", "check", "--config", config], environment);

        connect.ExitCode.Should().Be(2, connect.ToString());
        var errors = connect.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        errors.Should().Contain("error: Systems:0:LegacyAccounts:1:CredentialEnvVar: AUTHSPLIT_CRM_BATCH_BIND is not set (or empty); export the password of uid=svc-crm-batch,ou=services,dc=example,dc=jp in it before running");
        errors.Should().Contain($"error: Systems:0:Probes:0:CredentialFile: {Path.Combine(work, "probe-credential")} does not exist");
        errors.Should().Contain("error: Systems:0:Probes:1:Http:Headers:0:ValueEnvVar: AUTHSPLIT_CRM_PROBE_KEY is not set (or empty); export the value of header X-Api-Key in it before running");
        errors.Should().Contain($"error: PasswordSync:Command:0: {Path.Combine(work, "stop-sync")} does not exist");
        errors.Should().Contain($"error: PasswordSync:ReadBackCommand:0: {Path.Combine(work, "read-back")} is not executable (mode 0600)");
        errors.Should().HaveCount(5, "the account's variable that is set and the readable token file are fine: " + connect.Error);
        connect.Output.Should().NotContain("reachable", "nothing is reached with a secret missing");
        offline.ExitCode.Should().Be(0, offline.ToString());
        offline.Error.Should().Contain("warning: Systems:0:LegacyAccounts:1:CredentialEnvVar: AUTHSPLIT_CRM_BATCH_BIND is not set").And.Contain("--connect treats it as an error");
        foreach (var result in new[] { connect, offline })
        {
            (result.Output + result.Error).Should().NotContain("s3cr3t", "a secret is never printed");
        }
    }

    [Fact]
    public async Task Connect_passes_with_every_system_secret_and_password_sync_program_in_place()
    {
        await using var emulator = await StartEmulatorAsync();
        var work = CliRunner.NewWorkDirectory();
        var config = await WriteConfigAsync(work, c =>
        {
            PointAtSlapd(c);
            PointAtEmulator(c, emulator.BaseUrl);
            SystemsAndPasswordSync(c, work, complete: true);
        });

        var result = await OperatorProcess.RunAsync(["config", "check", "--config", config, "--connect"], new Dictionary<string, string>
        {
            ["AUTHSPLIT_SOURCE_PASSWORD"] = fixture.ReaderPassword,
            ["AUTHSPLIT_GRAPH_TOKEN"] = Token,
            ["AUTHSPLIT_CRM_BIND"] = "s3cr3t-bind-password",
            ["AUTHSPLIT_CRM_BATCH_BIND"] = "s3cr3t-batch-password",
            ["AUTHSPLIT_CRM_PROBE_KEY"] = "s3cr3t-probe-key",
        });

        result.ExitCode.Should().Be(0, result.ToString());
        result.Output.Should().Contain("source reachable").And.Contain("target reachable");
        result.Error.Should().NotContain("Systems:").And.NotContain("PasswordSync:").And.NotContain("s3cr3t");
    }

    private static Task<GraphEmulator> StartEmulatorAsync() =>
        GraphEmulator.StartAsync(new GraphEmulatorOptions { AccessToken = Token, Users = GraphEmulatorOptions.ReadPages(Path.Combine(CliRunner.Samples, "target")) }, CancellationToken.None);

    /// <summary><c>config check --connect</c> of a config pointed at the fixture's slapd and <paramref name="emulator"/>.</summary>
    private async Task<CliResult> CheckConnectedAsync(GraphEmulator emulator, string sourcePassword, string graphToken)
    {
        var config = await WriteConfigAsync(CliRunner.NewWorkDirectory(), c =>
        {
            PointAtSlapd(c);
            PointAtEmulator(c, emulator.BaseUrl);
        });
        return await OperatorProcess.RunAsync(["config", "check", "--config", config, "--connect"], new Dictionary<string, string>
        {
            ["AUTHSPLIT_SOURCE_PASSWORD"] = sourcePassword,
            ["AUTHSPLIT_GRAPH_TOKEN"] = graphToken,
        });
    }
}
