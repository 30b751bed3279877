using System.Text.Json.Nodes;
using AuthSplit.Core.Planning.Format;
using Xunit.Abstractions;

namespace AuthSplit.Cli.EndToEndTests.Execution;

/// <summary>
/// The <c>Command</c> password-sync strategy through the real CLI: real programs (bash scripts standing for a
/// custom LDAP-to-Entra provisioner) stop each batch's sync and read it back, against slapd and the Graph
/// emulator. The hook fails for two people: exactly those two end <c>failed</c>, their legacy entries kept.
/// </summary>
public sealed class PasswordSyncCommandTests(ITestOutputHelper output)
{
    // The provisioner's "stop": every id on stdin leaves its scope (a line in stopped.txt) unless refuse.txt
    // names it; exit 1 when any was refused. It also checks that AUTHSPLIT_USER_IDS carries the same ids.
    private const string StopScript = """
        #!/bin/bash
        set -u
        stopped="$1"; refuse="$2"; batches="$3"
        ids=$(cat)
        [ "$(printf '%s\n' "$ids" | paste -sd, -)" = "$AUTHSPLIT_USER_IDS" ] || { echo "stdin and AUTHSPLIT_USER_IDS differ" >&2; exit 3; }
        printf '%s\n' "$(printf '%s\n' "$ids" | wc -l)" >> "$batches"
        failed=0
        while read -r id; do
          [ -z "$id" ] && continue
          if grep -qx "$id" "$refuse"; then echo "cannot take $id out of scope" >&2; failed=1; else echo "$id" >> "$stopped"; fi
        done <<< "$ids"
        echo "provisioner: batch done"
        exit $failed
        """;

    // The read-back: prints the asked ids that are out of scope.
    private const string StatusScript = """
        #!/bin/bash
        set -u
        stopped="$1"
        while read -r id; do
          [ -n "$id" ] && grep -qx "$id" "$stopped" && echo "$id"
        done
        exit 0
        """;

    [Fact]
    public async Task A_hook_that_fails_for_two_ids_leaves_exactly_those_two_people_failed_and_the_rest_removed()
    {
        await using var lab = await ExecutionLab.StartAsync(people: 60);
        var stop = await ScriptAsync(lab.Work, "stop.sh", StopScript);
        var status = await ScriptAsync(lab.Work, "status.sh", StatusScript);
        var stopped = Path.Combine(lab.Work, "stopped.txt");
        var refuse = Path.Combine(lab.Work, "refuse.txt");
        var batches = Path.Combine(lab.Work, "batches.txt");
        await File.WriteAllTextAsync(stopped, "");
        await File.WriteAllTextAsync(batches, "");
        await ConfigureAsync(lab, new JsonObject
        {
            ["Strategy"] = "Command",
            ["Command"] = new JsonArray("/bin/bash", stop, stopped, refuse, batches),
            ["ReadBackCommand"] = new JsonArray("/bin/bash", status, stopped),
            ["BatchSize"] = 5,
            ["TimeoutSeconds"] = 30,
        });

        var plan = await lab.PlanAsync();
        var removals = plan.Entities.Where(e => e.Wave == "hq" && e.Disposition == Disposition.Remove).ToList();
        var people = removals.Where(e => e.Kind == Core.Model.EntityKind.Person && e.Match.TargetId is not null).ToList();
        people.Should().HaveCountGreaterThan(5);
        people.Should().OnlyContain(p => p.PasswordSync!.Strategy == Core.Configuration.PasswordSyncStrategy.Command);
        plan.Settings.PasswordSyncHook!.Command.Should().Contain(stop);
        var refused = people.Take(2).ToList();
        await File.WriteAllLinesAsync(refuse, refused.Select(p => p.Match.TargetId!));
        await lab.ApproveAsync("alice");
        var before = await lab.ReadDirectoryAsync();

        var run = await lab.CliAsync(lab.Run("hq"));
        output.WriteLine(run.ToString());

        run.ExitCode.Should().Be(5, "docs/exit-codes.md: finished with failures: " + run);
        var states = await lab.ShouldAllBeFinalAsync(plan, "hq");
        states.Where(s => s.Value == "failed").Select(s => s.Key).Should().BeEquivalentTo(refused.Select(p => p.Id), "exactly the people the hook could not stop fail");
        var statusJson = await lab.StatusAsync("hq");
        foreach (var entity in statusJson["waves"]![0]!["entityList"]!.AsArray().Where(e => e!["state"]!.GetValue<string>() == "failed"))
        {
            entity!["reason"]!.GetValue<string>().Should().StartWith("sync-stop-unconfirmed:").And.Contain("exited 1");
        }

        ExecutionLab.ShouldBeTheOutcome(before, await lab.ReadDirectoryAsync(), removals.Except(refused));
        lab.Emulator.Writes.Should().NotContain(w => w.Path.Contains("onPremisesSyncBehavior", StringComparison.Ordinal), "the Command strategy never writes the Graph switch");
        var stoppedIds = (await File.ReadAllLinesAsync(stopped)).Where(l => l.Length > 0).ToList();
        stoppedIds.Should().OnlyHaveUniqueItems("each person is stopped once").And.BeEquivalentTo(people.Except(refused).Select(p => p.Match.TargetId));
        (await File.ReadAllLinesAsync(batches)).Select(int.Parse).Should().OnlyContain(n => n >= 1 && n <= 5, "PasswordSync:BatchSize is 5");

        // Fixed on the provisioner's side: the rerun runs the hook for the two only, and completes the wave.
        await File.WriteAllTextAsync(refuse, "");
        var batchesBefore = (await File.ReadAllLinesAsync(batches)).Length;
        var rerun = await lab.CliAsync(lab.Run("hq"));
        rerun.ExitCode.Should().Be(0, rerun.ToString());
        (await File.ReadAllLinesAsync(batches)).Skip(batchesBefore).Select(int.Parse).Sum().Should().Be(2, "the hook runs again only for the two who failed");
        ExecutionLab.ShouldBeTheOutcome(before, await lab.ReadDirectoryAsync(), removals);
    }

    private static async Task<string> ScriptAsync(string directory, string name, string text)
    {
        var path = Path.Combine(directory, name);
        await File.WriteAllTextAsync(path, text.Replace("\r\n", "\n", StringComparison.Ordinal) + "\n");
        return path;
    }

    private static async Task ConfigureAsync(ExecutionLab lab, JsonObject passwordSync)
    {
        var config = JsonNode.Parse(await File.ReadAllTextAsync(lab.Config))!.AsObject();
        config["PasswordSync"] = passwordSync;
        await File.WriteAllTextAsync(lab.Config, config.ToJsonString());
    }
}
