using AuthSplit.Core.Planning.Format;

namespace AuthSplit.Cli.EndToEndTests.Execution;

/// <summary>What the plan relied on changed before the run; and a deleted person brought back.</summary>
public sealed class StaleAndRestoreTests
{
    [Fact]
    public async Task An_entry_changed_after_planning_ends_stale_with_the_difference_and_is_left_alone()
    {
        await using var lab = await ExecutionLab.StartAsync(people: 24);
        var plan = await lab.PlanAsync();
        plan.Settings.FingerprintAttributes.Should().Contain(a => string.Equals(a, "employeeNumber", StringComparison.OrdinalIgnoreCase));
        await lab.ApproveAsync("alice");
        var changed = plan.Entities.First(e => e.Wave == "hq" && e.Disposition == Disposition.Remove && e.Dn.StartsWith("uid=", StringComparison.Ordinal));
        await lab.Server.ModifyAsync($"dn: {changed.Dn}\nchangetype: modify\nreplace: employeeNumber\nemployeeNumber: X999999\n", CancellationToken.None);
        var before = await lab.ReadDirectoryAsync();

        var run = await lab.CliAsync(lab.Run("hq"));

        run.ExitCode.Should().Be(0, "stale is a final state, not a failure: " + run);
        run.Output.Should().Contain("1 stale");
        var states = await lab.ShouldAllBeFinalAsync(plan, "hq");
        states[changed.Id].Should().Be("stale");
        states.Values.Count(s => s == "done").Should().Be(states.Count - 1);
        var status = await lab.StatusAsync("hq");
        var entity = status["waves"]![0]!["entityList"]!.AsArray().Single(e => e!["id"]!.GetValue<string>() == changed.Id)!;
        entity["reason"]!.GetValue<string>().Should().StartWith("stale-changed").And.Contain(changed.Dn).And.Contain(changed.Precondition.Sha256, "the reason names the planned fingerprint beside the live one");
        var store = await lab.OpenStoreAsync();
        await using (store as IAsyncDisposable)
        {
            var steps = await store.GetStepsAsync(plan.PlanId!, changed.Id, CancellationToken.None);
            steps.Should().Contain(s => s.Before != null && s.Before.Contains("X999999", StringComparison.Ordinal), "the journal keeps the live values the run saw");
        }

        var after = await lab.ReadDirectoryAsync();
        after.Should().ContainKey(changed.Dn.ToLowerInvariant());
        after[changed.Dn.ToLowerInvariant()].Content().Should().Be(before[changed.Dn.ToLowerInvariant()].Content(), "a stale entry is not touched");
        lab.Emulator.Writes.Should().NotContain(w => w.Path.Contains(changed.Match.TargetId!, StringComparison.Ordinal), "nothing is done for a stale entity, in the target either");
    }

    [Fact]
    public async Task Restore_brings_back_a_deleted_person_with_its_memberships_as_the_directory_had_it()
    {
        await using var lab = await ExecutionLab.StartAsync(people: 24, groupSize: 4);
        var plan = await lab.PlanAsync();
        await lab.ApproveAsync("alice");
        var before = await lab.ReadDirectoryAsync();
        var person = plan.Entities.First(e => e.Wave == "hq" && e.Disposition == Disposition.Remove && e.Dn.StartsWith("uid=", StringComparison.Ordinal));
        var dn = person.Dn.ToLowerInvariant();
        var groups = before.Where(e => e.Value.Values("member").Any(m => m.Equals(person.Dn, StringComparison.OrdinalIgnoreCase))).Select(e => e.Key).ToList();
        groups.Should().NotBeEmpty("the person is a member of a group");
        var run = await lab.CliAsync(lab.Run("hq"));
        run.ExitCode.Should().Be(0, run.ToString());
        (await lab.ReadDirectoryAsync()).Should().NotContainKey(dn);

        var restore = await lab.CliAsync("restore", "--config", lab.Config, "--entity", person.Id, "--as", "carol");

        restore.ExitCode.Should().Be(0, restore.ToString());
        restore.Output.Should().Contain("Restored");
        var after = await lab.ReadDirectoryAsync();
        after.Should().ContainKey(dn);
        after[dn].Content().Should().Be(before[dn].Content(), "the entry is as it was before the delete (its entryUUID included), change stamps aside");
        foreach (var group in groups)
        {
            after[group].Values("member").Should().Contain(m => m.Equals(person.Dn, StringComparison.OrdinalIgnoreCase), $"{group} lists the person again");
        }

        var again = await lab.CliAsync("restore", "--config", lab.Config, "--entity", person.Id, "--as", "carol");
        again.ExitCode.Should().Be(0, "a second restore finds it back and changes nothing: " + again);
        (await lab.ReadDirectoryAsync())[dn].Content().Should().Be(after[dn].Content());
    }
}
