using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using AuthSplit.Core.Execution;
using AuthSplit.Core.Planning.Format;
using AuthSplit.Graph.Emulator;
using AuthSplit.Lab.Data;
using Xunit.Abstractions;

namespace AuthSplit.Cli.EndToEndTests.Execution;

/// <summary>
/// <c>authsplit rollback</c> through the real CLI against slapd (ppolicy) and the Graph emulator: a person held
/// before the delete is re-enabled from its backup (a real bind works again) and switched back to the
/// legacy directory's authority by Entra's sequence, the emulator playing the Global Administrator who
/// lifts the tenant's hard-match takeover block while the command waits; a person already deleted is
/// refused, naming <c>authsplit restore</c>.
/// </summary>
public sealed class RollbackTests(ITestOutputHelper output)
{
    private const string AdminToken = "e2e-delegated-global-admin-token-7c41";
    private const string Password = "Rollback-Bind-9f2e";

    [Fact]
    public async Task A_held_person_is_rolled_back_its_legacy_bind_works_again_the_tenant_reads_it_synchronised_and_the_ledger_has_each_action()
    {
        var person = GeneratedOrganization.People(12).First(p => p.Unit == "hq" && p.Dn.StartsWith("uid=", StringComparison.Ordinal));
        await using var lab = await ExecutionLab.StartAsync(
            people: 12,
            configure: config => config["Removal"]!["HoldDays"] = 7,
            seedEmulator: o => o with { AdminAccessToken = AdminToken, BlockCloudObjectTakeoverThroughHardMatchEnabled = true, Users = Synchronised(o.Users) });
        await lab.Server.ModifyAsync($"dn: {person.Dn}\nchangetype: modify\nreplace: userPassword\nuserPassword: {Password}\n\n", CancellationToken.None);
        (await BindAsync(lab, person.Dn)).ExitCode.Should().Be(0, "the person binds before the wave");
        var plan = await lab.PlanAsync();
        var entity = plan.Entities.Single(e => e.Id == person.EntryUuid);
        entity.Disposition.Should().Be(Disposition.Remove);
        var userId = entity.Match.TargetId!;
        await lab.ApproveAsync("alice");
        var run = await lab.CliAsync(lab.Run("hq"));
        run.ExitCode.Should().Be(6, "held until the hold ends: " + run);
        (await BindAsync(lab, person.Dn)).ExitCode.Should().Be(49, "the wave disabled the account (ppolicy lock)");
        lab.Emulator.IsCloudManaged(userId).Should().BeTrue();

        using (var rollback = lab.StartCli(Rollback(lab, person.EntryUuid)))
        {
            var patch = await WaitForInstructionsAsync(rollback, lab);
            rollback.OutputSoFar.Should().Contain("Global Administrator").And.Contain("{\"features\":{\"blockCloudObjectTakeoverThroughHardMatchEnabled\":false}}");
            using (var asApp = await PatchFlagAsync(patch, lab.Environment["AUTHSPLIT_E2E_GRAPH_TOKEN"], false))
            {
                asApp.StatusCode.Should().Be(HttpStatusCode.Forbidden, "an application may not write the tenant's sync features");
            }

            await Task.Delay(2500);
            rollback.HasExited.Should().BeFalse("the rollback waits while the block reads on: " + rollback.OutputSoFar);
            lab.Emulator.IsCloudManaged(userId).Should().BeTrue("nothing is switched back while the block is on");
            (await BindAsync(lab, person.Dn)).ExitCode.Should().Be(0, "the legacy account was re-enabled before the wait");
            using (var asAdmin = await PatchFlagAsync(patch, AdminToken, false))
            {
                asAdmin.StatusCode.Should().Be(HttpStatusCode.NoContent);
            }

            var done = await rollback.WaitAsync(TimeSpan.FromSeconds(60));
            output.WriteLine(done.ToString());
            done.ExitCode.Should().Be(0, done.ToString());
            done.Output.Should().Contain("Rolled back").And.Contain("(by carol)")
                .And.Contain("{\"features\":{\"blockCloudObjectTakeoverThroughHardMatchEnabled\":true}}", "the administrator is told to set the block back on");
            using var back = await PatchFlagAsync(patch, AdminToken, true);
            back.StatusCode.Should().Be(HttpStatusCode.NoContent);
        }

        (await BindAsync(lab, person.Dn)).ExitCode.Should().Be(0, "the legacy bind works again");
        lab.Emulator.IsCloudManaged(userId).Should().BeFalse("the source of authority is the legacy directory again");
        lab.Emulator.BlockCloudObjectTakeoverThroughHardMatchEnabled.Should().BeTrue();
        var store = await lab.OpenStoreAsync();
        await using (store as IAsyncDisposable)
        {
            var actions = new List<string>();
            await foreach (var record in store.ReadLedgerAsync("hq", CancellationToken.None))
            {
                if (record.Kind == LedgerKind.Rollback && record.EntityId == person.EntryUuid)
                {
                    record.Actor.Should().Be("carol");
                    record.PlanId.Should().Be(plan.PlanId);
                    actions.Add(JsonNode.Parse(record.Data!)!["action"]!.GetValue<string>());
                    record.Data.Should().NotContain(Password, "never a password in the ledger");
                }
            }

            actions.Should().Equal("begun", "re-enable-legacy-account", "flag-waiting", "flag-verified", "switch-back", "sync-verified", "completed");
            var progress = (await store.GetEntityAsync(plan.PlanId!, person.EntryUuid, CancellationToken.None))!;
            progress.State.Should().Be(EntityState.Refused);
            ReasonCodes.CodeOf(progress.Reason).Should().Be(ReasonCodes.RolledBack);
        }

        var status = await lab.StatusAsync("hq");
        status["waves"]![0]!["entityList"]!.AsArray().Single(e => e!["id"]!.GetValue<string>() == person.EntryUuid)!["state"]!.GetValue<string>().Should().Be("refused");
    }

    [Fact]
    public async Task A_person_already_deleted_is_refused_naming_authsplit_restore_and_stays_cloud_managed()
    {
        await using var lab = await ExecutionLab.StartAsync(people: 12, configure: config => config["Waves"] = new JsonArray(config["Waves"]!.AsArray()[0]!.DeepClone()));
        var plan = await lab.PlanAsync();
        var entity = plan.Entities.First(e => e.Wave == "hq" && e.Disposition == Disposition.Remove && e.Kind == Core.Model.EntityKind.Person);
        await lab.ApproveAsync("alice");
        (await lab.CliAsync(lab.Run("hq"))).ExitCode.Should().Be(0);
        var writes = lab.Emulator.Writes.Count;

        var refused = await lab.CliAsync(Rollback(lab, entity.Id));

        output.WriteLine(refused.ToString());
        refused.ExitCode.Should().Be(3, "refused: " + refused);
        refused.Error.Should().Contain("restore-first").And.Contain("authsplit restore --entity " + entity.Id);
        lab.Emulator.Writes.Should().HaveCount(writes, "nothing is written to the tenant");
        lab.Emulator.IsCloudManaged(entity.Match.TargetId!).Should().BeTrue("switched back, the next sync would delete the cloud user");
        var store = await lab.OpenStoreAsync();
        await using (store as IAsyncDisposable)
        {
            var records = new List<LedgerRecord>();
            await foreach (var record in store.ReadLedgerAsync("hq", CancellationToken.None))
            {
                if (record.Kind == LedgerKind.Rollback)
                {
                    records.Add(record);
                }
            }

            records.Should().ContainSingle().Which.Data.Should().Contain("\"action\":\"refused\"").And.Contain("restore-first");
            (await store.GetEntityAsync(plan.PlanId!, entity.Id, CancellationToken.None))!.State.Should().Be(EntityState.Done);
        }
    }

    private static string[] Rollback(ExecutionLab lab, string id) => ["rollback", "--config", lab.Config, "--entity", id, "--as", "carol", "--poll", "1", "--wait", "60"];

    // The generated snapshot carries no onPremisesSyncEnabled; these users are synchronised from the legacy directory.
    private static IReadOnlyList<JsonObject> Synchronised(IReadOnlyList<JsonObject> users) =>
        [.. users.Select(u =>
        {
            var user = u.DeepClone().AsObject();
            user["onPremisesSyncEnabled"] = true;
            return user;
        })];

    private static string TenantId => new GraphEmulatorOptions { AccessToken = "-" }.TenantId;

    /// <summary>Waits until the rollback prints what the administrator must do; returns the URL of the PATCH it names.</summary>
    private static async Task<string> WaitForInstructionsAsync(CliProcess process, ExecutionLab lab)
    {
        var expected = $"PATCH {lab.Emulator.BaseUrl}v1.0/directory/onPremisesSynchronization/{TenantId}";
        for (var i = 0; i < 600 && !process.HasExited && !process.OutputSoFar.Contains(expected, StringComparison.Ordinal); i++)
        {
            await Task.Delay(50);
        }

        process.OutputSoFar.Should().Contain(expected, "the rollback names the exact call for the administrator");
        process.HasExited.Should().BeFalse("the rollback waits for the block to be lifted");
        return expected["PATCH ".Length..];
    }

    private static async Task<HttpResponseMessage> PatchFlagAsync(string url, string token, bool value)
    {
        using var client = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Patch, url)
        {
            Content = new StringContent(JsonSerializer.Serialize(new { features = new { blockCloudObjectTakeoverThroughHardMatchEnabled = value } }), Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return await client.SendAsync(request);
    }

    /// <summary>A real simple bind as the person: <c>ldapwhoami</c> over LDAPS against the lab's slapd (49: invalidCredentials).</summary>
    private static async Task<CliResult> BindAsync(ExecutionLab lab, string dn)
    {
        var start = new ProcessStartInfo("ldapwhoami") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { "-x", "-H", lab.Server.LdapsUrl, "-D", dn, "-w", Password })
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["LDAPTLS_CACERT"] = lab.Server.CaFile;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        return new CliResult(process.ExitCode, await stdout, await stderr);
    }
}
