using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using AuthSplit.Core.Execution;
using AuthSplit.Graph.Emulator;
using Xunit.Abstractions;

namespace AuthSplit.Cli.EndToEndTests.Execution;

/// <summary>
/// <c>authsplit gate password-sync</c> through the real CLI against slapd and the Graph emulator: refused while
/// a wave is unfinished, verified once a delegated administrator switches the tenant's password hash sync
/// off while it waits (the app's own token may not), resumed after a SIGKILL while waiting, and opened
/// despite unfinished waves only with a reason that lands on the ledger.
/// </summary>
public sealed class PasswordSyncGateTests(ITestOutputHelper output)
{
    private const string AdminToken = "e2e-delegated-global-admin-token-5d2a";
    private const int SigKill = 9;

    [Fact]
    public async Task The_gate_is_refused_while_a_wave_is_unfinished_and_verifies_once_an_administrator_switches_password_sync_off_while_it_waits()
    {
        await using var lab = await ExecutionLab.StartAsync(people: 12, seedEmulator: o => o with { AdminAccessToken = AdminToken });
        await lab.PlanAsync();
        await lab.ApproveAsync("alice");

        var refused = await lab.CliAsync(Gate(lab));
        refused.ExitCode.Should().Be(13, refused.ToString());
        refused.Error.Should().Contain("gate-refused").And.Contain("wave hq has never run").And.Contain("wave domestic has never run");
        (await lab.CliAsync(lab.Run("hq"))).ExitCode.Should().Be(0);
        var stillRefused = await lab.CliAsync(Gate(lab));
        stillRefused.ExitCode.Should().Be(13, stillRefused.ToString());
        stillRefused.Error.Should().Contain("wave domestic has never run").And.NotContain("wave hq", "hq is complete now");
        (await lab.CliAsync(lab.Run("domestic"))).ExitCode.Should().Be(0);
        await ShouldHaveEventsAsync(lab, GateEventKind.Refused, GateEventKind.Refused);

        using (var gate = lab.StartCli(Gate(lab)))
        {
            var patch = await WaitForInstructionsAsync(gate, lab);
            gate.OutputSoFar.Should().Contain("Global Administrator").And.Contain("{\"features\":{\"passwordSyncEnabled\":false}}");

            // The app's own token may not do it (Graph: application permissions are not supported).
            using (var asApp = await PatchSynchronizationAsync(patch, lab.Environment["AUTHSPLIT_E2E_GRAPH_TOKEN"]))
            {
                asApp.StatusCode.Should().Be(HttpStatusCode.Forbidden);
            }

            lab.Emulator.PasswordSyncEnabled.Should().BeTrue();
            await Task.Delay(2500);
            gate.HasExited.Should().BeFalse("the gate keeps waiting while the tenant reads password sync on: " + gate.OutputSoFar);

            using (var asAdmin = await PatchSynchronizationAsync(patch, AdminToken))
            {
                asAdmin.StatusCode.Should().Be(HttpStatusCode.NoContent);
            }

            var verified = await gate.WaitAsync(TimeSpan.FromSeconds(30));
            output.WriteLine(verified.ToString());
            verified.ExitCode.Should().Be(0, verified.ToString());
            verified.Output.Should().Contain("password hash sync is off for tenant " + TenantId).And.Contain("verified").And.Contain("(by carol)");
            verified.Output.Should().Contain("passwordSyncEnabled is still true", "it polled (every second) before the administrator's switch-off");
        }

        var events = await ShouldHaveEventsAsync(lab, GateEventKind.Refused, GateEventKind.Refused, GateEventKind.Waiting, GateEventKind.Verified);
        var waiting = events[2];
        waiting.Actor.Operator.Should().Be("carol");
        waiting.PasswordSyncEnabled.Should().BeTrue();
        waiting.TenantId.Should().Be(TenantId);
        var done = events[3];
        done.Actor.Operator.Should().Be("carol");
        done.Wave.Should().Be("domestic", "the gate belongs to the last wave's evidence");
        done.PasswordSyncEnabled.Should().BeFalse();
        done.TenantId.Should().Be(TenantId);
        done.Reason.Should().Contain("passwordSyncEnabled=false").And.Contain("confirmed by carol");

        var again = await lab.CliAsync(Gate(lab));
        again.ExitCode.Should().Be(0, "a verified gate verifies again at once: " + again);
        again.Output.Should().NotContain("PATCH", "nothing is asked of the administrator any more");
    }

    [Fact]
    public async Task The_gate_killed_while_waiting_resumes_with_the_wait_on_record_and_verifies_after_the_switch_off()
    {
        await using var lab = await ExecutionLab.StartAsync(
            people: 12,
            configure: OnlyTheHqWave,
            seedEmulator: o => o with { AdminAccessToken = AdminToken });
        await lab.PlanAsync();
        await lab.ApproveAsync("alice");
        (await lab.CliAsync(lab.Run("hq"))).ExitCode.Should().Be(0);

        string patch;
        using (var gate = lab.StartCli(Gate(lab)))
        {
            patch = await WaitForInstructionsAsync(gate, lab);
            gate.Signal(SigKill);
            (await gate.WaitAsync(TimeSpan.FromSeconds(30))).ExitCode.Should().Be(128 + SigKill);
        }

        var waitingSince = (await ShouldHaveEventsAsync(lab, GateEventKind.Waiting)).Single().At;
        using (var resumed = lab.StartCli(Gate(lab)))
        {
            (await WaitForInstructionsAsync(resumed, lab)).Should().Be(patch);
            resumed.OutputSoFar.Should().Contain($"Still waiting since {Stamp(waitingSince)} (first asked by carol)");
            using (var asAdmin = await PatchSynchronizationAsync(patch, AdminToken))
            {
                asAdmin.StatusCode.Should().Be(HttpStatusCode.NoContent);
            }

            var verified = await resumed.WaitAsync(TimeSpan.FromSeconds(30));
            output.WriteLine(verified.ToString());
            verified.ExitCode.Should().Be(0, verified.ToString());
            verified.Output.Should().Contain("verified");
        }

        var events = await ShouldHaveEventsAsync(lab, GateEventKind.Waiting, GateEventKind.Verified);
        events[1].Reason.Should().Contain("waited for since " + Stamp(waitingSince), "the resumed run knows when the waiting began");
        events[1].PasswordSyncEnabled.Should().BeFalse();
    }

    [Fact]
    public async Task Despite_unfinished_waves_the_gate_opens_only_with_a_reason_and_the_reason_is_on_the_ledger()
    {
        await using var lab = await ExecutionLab.StartAsync(people: 12, seedEmulator: o => o with { AdminAccessToken = AdminToken });
        await lab.PlanAsync();
        await lab.ApproveAsync("alice");
        (await lab.CliAsync(lab.Run("hq"))).ExitCode.Should().Be(0);
        const string Reason = "domestic is retired with its legacy directory by contract CR-2291";

        var blank = await lab.CliAsync([.. Gate(lab), "--despite-unfinished", "  "]);
        blank.ExitCode.Should().Be(2, "a decision without its reason is bad input: " + blank);

        using (var gate = lab.StartCli([.. Gate(lab), "--despite-unfinished", Reason]))
        {
            var patch = await WaitForInstructionsAsync(gate, lab);
            gate.OutputSoFar.Should().Contain("Opening the gate although waves are unfinished, as carol decided: " + Reason);
            using (var asAdmin = await PatchSynchronizationAsync(patch, AdminToken))
            {
                asAdmin.StatusCode.Should().Be(HttpStatusCode.NoContent);
            }

            var opened = await gate.WaitAsync(TimeSpan.FromSeconds(30));
            opened.ExitCode.Should().Be(0, opened.ToString());
        }

        var events = await ShouldHaveEventsAsync(lab, GateEventKind.Overridden, GateEventKind.Waiting, GateEventKind.Verified);
        events[0].Actor.Operator.Should().Be("carol");
        events[0].Reason.Should().Contain(Reason).And.Contain("wave domestic has never run").And.NotContain("wave hq");
    }

    private static void OnlyTheHqWave(JsonObject config) =>
        config["Waves"] = new JsonArray(config["Waves"]!.AsArray().Where(w => w!["Name"]!.GetValue<string>() == "hq").Select(w => w!.DeepClone()).ToArray());

    private static string Stamp(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);

    private static string TenantId => new GraphEmulatorOptions { AccessToken = "-" }.TenantId;

    private static string[] Gate(ExecutionLab lab) => ["gate", "password-sync", "--config", lab.Config, "--as", "carol", "--poll", "1", "--wait", "60"];

    /// <summary>Waits until the gate prints what the administrator must do; returns the URL of the PATCH it names.</summary>
    private static async Task<string> WaitForInstructionsAsync(CliProcess gate, ExecutionLab lab)
    {
        var expected = $"PATCH {lab.Emulator.BaseUrl}v1.0/directory/onPremisesSynchronization/{TenantId}";
        for (var i = 0; i < 600 && !gate.HasExited && !gate.OutputSoFar.Contains(expected, StringComparison.Ordinal); i++)
        {
            await Task.Delay(50);
        }

        gate.OutputSoFar.Should().Contain(expected, "the gate names the exact call for the administrator");
        gate.HasExited.Should().BeFalse("the gate waits for the switch-off");
        return expected["PATCH ".Length..];
    }

    private static async Task<HttpResponseMessage> PatchSynchronizationAsync(string url, string token)
    {
        using var client = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Patch, url)
        {
            Content = new StringContent("{\"features\":{\"passwordSyncEnabled\":false}}", Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return await client.SendAsync(request);
    }

    private static async Task<IReadOnlyList<GateEvent>> ShouldHaveEventsAsync(ExecutionLab lab, params GateEventKind[] kinds)
    {
        var store = await lab.OpenStoreAsync();
        await using (store as IAsyncDisposable)
        {
            var events = await store.GetGateEventsAsync(GateNames.PasswordSync, CancellationToken.None);
            events.Select(e => e.Kind).Should().Equal(kinds, "the ledger holds each outcome of the gate, in order");
            return events;
        }
    }
}
