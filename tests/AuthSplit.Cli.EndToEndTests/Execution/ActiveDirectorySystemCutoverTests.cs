using System.Diagnostics;
using System.Globalization;
using System.Runtime.Versioning;
using System.Text;
using System.Text.Json.Nodes;
using AuthSplit.Core.Execution;
using AuthSplit.Core.Planning.Format;
using AuthSplit.Lab.Servers;
using AuthSplit.Testing;
using Xunit.Abstractions;

namespace AuthSplit.Cli.EndToEndTests.Execution;

/// <summary>
/// Issue 11's system cutover on a real Active Directory (Samba AD DC) through the CLI: a system's bind
/// account, used before the cutover, is disabled through userAccountControl after it, and a real bind as
/// it is then refused by the DC as disabled (data 533). Needs root, as every Samba AD test does.
/// </summary>
[Collection(SambaAdFixture.Collection)]
[UnsupportedOSPlatform("windows")]
public sealed class ActiveDirectorySystemCutoverTests(SambaAdFixture fixture, ITestOutputHelper output)
{
    private const int AccountDisable = 0x2;
    private const string CrmPrincipal = "6b1f6c2e-3f3a-4a55-9d4e-0c7f2f1c9a11";

    [Fact]
    public async Task A_systems_bind_account_on_Active_Directory_is_disabled_after_its_cutover_and_a_real_bind_is_refused_as_disabled()
    {
        var password = "Aa1!" + Guid.NewGuid().ToString("N");
        var work = CliRunner.NewWorkDirectory();
        var calls = Path.Combine(work, "cutover-calls.txt");
        var script = Path.Combine(work, "cutover.sh");
        await File.WriteAllTextAsync(script, $"#!/bin/sh\nset -e\necho \"$AUTHSPLIT_SYSTEM_ID\" >> '{calls}'\necho \"$AUTHSPLIT_SYSTEM_ID switched to Entra ID\"\n");
        File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        string Services(ActiveDirectoryLab l) => $"OU=exec-{l.Tag}-services,{l.Domain}";
        string Account(ActiveDirectoryLab l) => ActiveDirectoryLab.Dn("svc-crm-" + l.Tag, Services(l));

        await using var lab = await ActiveDirectoryLab.StartAsync(
            fixture,
            // The service account lives outside the wave's OU, as service accounts do; it is added disabled and enabled with its password below.
            l => ActiveDirectoryLab.User(ActiveDirectoryLab.Dn("Ann Abe", l.Ou), $"x{l.Tag}p0", 512, $"E-{l.Tag}-0", $"p0.{l.Tag}@corp.example")
                + $"dn: {Services(l)}\nobjectClass: organizationalUnit\n\n"
                + ActiveDirectoryLab.User(Account(l), $"x{l.Tag}crm", 514, null, null),
            l => [($"E-{l.Tag}-0", $"p0.{l.Tag}@corp.example")],
            configure: (l, config) => config["Systems"] = new JsonArray(new JsonObject
            {
                ["Id"] = "crm", ["Name"] = "CRM", ["Wave"] = "staff",
                ["LegacyAccounts"] = new JsonArray(new JsonObject { ["Dn"] = Account(l), ["CredentialEnvVar"] = "AUTHSPLIT_E2E_AD_CRM_PW" }),
                ["Target"] = new JsonObject { ["ServicePrincipalId"] = CrmPrincipal },
                ["Cutover"] = new JsonObject { ["Command"] = new JsonArray(script), ["TimeoutSeconds"] = 30 },
            }),
            servicePrincipals: [new JsonObject { ["id"] = CrmPrincipal, ["appId"] = "2c4e6a80-1a2b-4c3d-8e9f-0a1b2c3d4e5f", ["displayName"] = "CRM", ["accountEnabled"] = true, ["servicePrincipalType"] = "Application" }]);
        lab.SetEnvironment("AUTHSPLIT_E2E_AD_CRM_PW", password);
        var account = Account(lab);
        var encoded = Convert.ToBase64String(Encoding.Unicode.GetBytes($"\"{password}\""));
        await lab.Server.ModifyAsync($"dn: {account}\nchangetype: modify\nreplace: unicodePwd\nunicodePwd:: {encoded}\n-\nreplace: userAccountControl\nuserAccountControl: 512\n", CancellationToken.None);
        var before = await BindAsync(lab, account, password);
        before.ExitCode.Should().Be(0, "the system binds as its account before the cutover: " + before);

        var plan = await lab.PlanAsync();
        var system = plan.Systems!.Should().ContainSingle().Subject;
        system.Disposition.Should().Be(Disposition.Remove, string.Join("; ", system.Blockers.Select(b => b.Message)));
        system.LegacyAccounts.Single().LastAuthenticationAttribute.Should().Be("lastLogonTimestamp");
        await lab.ApproveAsync("alice");
        var clock = Stopwatch.StartNew();
        var run = await lab.CliAsync(lab.Run("staff"));
        output.WriteLine($"run {clock.Elapsed.TotalSeconds:F1} s\n{run}");

        run.ExitCode.Should().Be(0, run + (await lab.StatusAsync("staff")).ToJsonString());
        var states = await lab.EntityStatesAsync("staff");
        states["system:crm"].State.Should().Be("done", states["system:crm"].Reason);
        states.Values.Select(s => s.State).Should().AllBe("done");
        (await lab.ReadEntryAsync(ActiveDirectoryLab.Dn("Ann Abe", lab.Ou))).Should().BeNull("the wave's person is deleted after the system's cutover");
        var disabled = (await lab.ReadEntryAsync(account))!;
        (int.Parse(disabled.String("userAccountControl")!, CultureInfo.InvariantCulture) & AccountDisable).Should().Be(AccountDisable, "ACCOUNTDISABLE is set on the bind account");
        var after = await BindAsync(lab, account, password);
        after.ExitCode.Should().Be(49, "a real bind as the disabled account is refused: " + after);
        after.Error.Should().Contain("data 533", "the DC says the account is disabled");
        File.ReadAllLines(calls).Should().Equal(["crm"]);

        var store = await lab.OpenStoreAsync();
        await using (store as IAsyncDisposable)
        {
            var journal = await store.GetStepsAsync(plan.PlanId!, "system:crm", CancellationToken.None);
            var refused = journal.Single(s => s.Step == StepAction.ProbeLegacyRefused && s.Outcome == StepOutcome.Done);
            output.WriteLine("probe-legacy-refused: " + refused.After);
            refused.After.Should().Contain("the account is disabled (AD data 533)").And.Contain("\"ldapResultCode\":49");
            var quiet = journal.Single(s => s.Step == StepAction.VerifyLegacyQuiet);
            output.WriteLine("verify-legacy-quiet: " + quiet.After);
            quiet.Outcome.Should().Be(StepOutcome.Done);
            var objectGuid = disabled.Values("objectGUID").Single();
            (await store.GetBackupAsync(new Guid(objectGuid).ToString("D"), CancellationToken.None)).Should().NotBeNull("the account was backed up before its disable");
        }
    }

    private static async Task<CliResult> BindAsync(ActiveDirectoryLab lab, string dn, string password)
    {
        // A simple bind, then a read of the root DSE (Samba does not implement the whoami extended operation).
        var start = new ProcessStartInfo("ldapsearch") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { "-x", "-H", SambaAdDc.LdapsUrl, "-D", dn, "-w", password, "-LLL", "-b", "", "-s", "base", "(objectClass=*)", "dnsHostName" })
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["LDAPTLS_CACERT"] = lab.Server.CaFile;
        start.Environment["LDAPTLS_REQCERT"] = "demand";
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        return new CliResult(process.ExitCode, await stdout, await stderr);
    }
}
