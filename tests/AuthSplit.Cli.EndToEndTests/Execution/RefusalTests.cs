using System.Text;
using System.Text.Json.Nodes;
using AuthSplit.Core.Planning.Format;

namespace AuthSplit.Cli.EndToEndTests.Execution;

/// <summary>Each refusal of <c>authsplit run</c>: its own exit code, a message that says why, and nothing written.</summary>
public sealed class RefusalTests
{
    [Fact]
    public async Task An_unapproved_plan_exits_10_and_an_edited_plan_exits_11_and_neither_writes_anything()
    {
        await using var lab = await ExecutionLab.StartAsync(people: 40);
        var plan = await lab.PlanAsync();
        var before = await lab.ReadDirectoryAsync();

        var unapproved = await lab.CliAsync(lab.Run("hq"));
        unapproved.ExitCode.Should().Be(10, unapproved.ToString());
        unapproved.Error.Should().Contain("approve");

        await lab.ApproveAsync("alice");
        // An operator's hand edit: one removal's DN swapped for a protected partner's, the planId left as it was.
        var partner = before.Keys.First(dn => dn.Contains("ou=partner", StringComparison.Ordinal) && dn.StartsWith("uid=", StringComparison.Ordinal));
        var victim = plan.Entities.First(e => e.Wave == "hq" && e.Disposition == Disposition.Remove && e.Dn.StartsWith("uid=", StringComparison.Ordinal));
        var edited = Path.Combine(lab.Work, "edited-plan.json");
        var text = await File.ReadAllTextAsync(lab.PlanPath);
        text.Should().Contain(victim.Dn);
        await File.WriteAllTextAsync(edited, text.Replace(victim.Dn, partner, StringComparison.Ordinal), new UTF8Encoding(false));

        var tampered = await lab.CliAsync(lab.Run("hq", plan: edited));
        tampered.ExitCode.Should().Be(11, tampered.ToString());
        tampered.Error.Should().Contain("planId");
        var approveEdited = await lab.CliAsync("approve", "--config", lab.Config, "--plan", edited, "--by", "alice");
        approveEdited.ExitCode.Should().Be(11, "an edited plan cannot be approved either: " + approveEdited);

        lab.Emulator.Writes.Should().BeEmpty();
        (await lab.ReadDirectoryAsync()).Keys.Should().BeEquivalentTo(before.Keys);
        var status = await lab.StatusAsync("hq");
        status["waves"]![0]!["status"]!.GetValue<string>().Should().Be("not-started", status.ToJsonString());
    }

    [Fact]
    public async Task Self_approval_exits_12_unless_the_config_allows_a_single_operator()
    {
        await using var lab = await ExecutionLab.StartAsync(people: 24);
        await lab.PlanAsync();
        await lab.ApproveAsync("alice");

        var self = await lab.CliAsync(lab.Run("hq", "alice"));
        self.ExitCode.Should().Be(12, self.ToString());
        self.Error.Should().Contain("alice").And.Contain("AllowSelfApproval");
        lab.Emulator.Writes.Should().BeEmpty();

        // The same directory and store (the state file sits beside the config), one operator allowed.
        var config = JsonNode.Parse(await File.ReadAllTextAsync(lab.Config))!.AsObject();
        config["Execution"]!["AllowSelfApproval"] = true;
        var single = Path.Combine(lab.Work, "single-operator.json");
        await File.WriteAllTextAsync(single, config.ToJsonString());
        var allowed = await lab.CliAsync("run", "--config", single, "--plan", lab.PlanPath, "--wave", "hq", "--as", "alice");
        allowed.ExitCode.Should().Be(0, allowed.ToString());
        lab.Emulator.Writes.Should().NotBeEmpty();
        var status = await lab.StatusAsync("hq");
        status["waves"]![0]!["selfApproved"]!.GetValue<bool>().Should().BeTrue("the journal records a waived four-eyes check: " + status.ToJsonString());
        status["waves"]![0]!["startedBy"]!.GetValue<string>().Should().Be("alice");
        var table = await lab.CliAsync("status", "--config", lab.Config);
        table.Output.Should().Contain("self-approved: alice");
    }

    [Fact]
    public async Task A_wave_whose_dependency_is_unfinished_exits_13_and_a_paused_wave_exits_14_until_resumed()
    {
        await using var lab = await ExecutionLab.StartAsync(people: 24);
        await lab.PlanAsync();
        await lab.ApproveAsync("alice");

        var early = await lab.CliAsync(lab.Run("domestic"));
        early.ExitCode.Should().Be(13, early.ToString());
        early.Error.Should().Contain("hq");

        var pause = await lab.CliAsync("pause", "--config", lab.Config, "--wave", "hq", "--as", "carol");
        pause.ExitCode.Should().Be(0, pause.ToString());
        var paused = await lab.CliAsync(lab.Run("hq"));
        paused.ExitCode.Should().Be(14, paused.ToString());
        paused.Error.Should().Contain("paused").And.Contain("resume");
        var status = await lab.StatusAsync("hq");
        status["waves"]![0]!["paused"]!["by"]!.GetValue<string>().Should().Be("carol", status.ToJsonString());
        lab.Emulator.Writes.Should().BeEmpty();

        var resume = await lab.CliAsync("resume", "--config", lab.Config, "--wave", "hq", "--as", "carol");
        resume.ExitCode.Should().Be(0, resume.ToString());
        var hq = await lab.CliAsync(lab.Run("hq"));
        hq.ExitCode.Should().Be(0, hq.ToString());
        var domestic = await lab.CliAsync(lab.Run("domestic"));
        domestic.ExitCode.Should().Be(0, "hq is complete now: " + domestic);
        var after = await lab.StatusAsync("domestic");
        after["waves"]![0]!["status"]!.GetValue<string>().Should().Be("completed", after.ToJsonString());
    }
}

/// <summary>The run-time rails: a plan re-hashed after a hand edit and approved again still cannot remove a protected entry.</summary>
public sealed class RunTimeRailTests
{
    [Fact]
    public async Task A_protected_entity_forged_into_a_rehashed_and_approved_plan_is_refused_at_run_time_and_left_untouched()
    {
        await using var lab = await ExecutionLab.StartAsync(people: 24);
        // An hq person the config protects (Safety:ProtectedFilter (employeeType=partner)).
        var guarded = "uid=user000004,ou=hq," + ExecutionLab.Suffix;
        await lab.Server.ModifyAsync($"dn: {guarded}\nchangetype: modify\nreplace: employeeType\nemployeeType: partner\n", CancellationToken.None);
        var plan = await lab.PlanAsync();
        var entity = plan.Entities.Single(e => e.Dn == guarded);
        entity.Disposition.Should().Be(Disposition.Protected);
        var template = plan.Entities.First(e => e.Wave == "hq" && e.Disposition == Disposition.Remove && e.Kind == entity.Kind);

        // The forger knows the format: the protected entry made a removal, its steps copied, the planId recomputed.
        var forged = PlanSerializer.WithPlanId(plan with
        {
            PlanId = null,
            Entities = [.. plan.Entities.Select(e => e.Dn == guarded ? e with { Disposition = Disposition.Remove, Protection = null, Blockers = [], Steps = template.Steps } : e)],
        });
        var forgedPath = Path.Combine(lab.Work, "forged-plan.json");
        await File.WriteAllBytesAsync(forgedPath, PlanSerializer.Serialize(forged));
        await lab.ApproveAsync("alice", forgedPath);
        var before = await lab.ReadDirectoryAsync();

        var run = await lab.CliAsync(lab.Run("hq", plan: forgedPath));

        run.ExitCode.Should().Be(0, "refused is a final state, not a failure: " + run);
        run.Output.Should().Contain("1 refused", run.ToString());
        var status = await lab.StatusAsync("hq");
        var row = status["waves"]![0]!["entityList"]!.AsArray().Single(e => e!["id"]!.GetValue<string>() == entity.Id)!;
        row["state"]!.GetValue<string>().Should().Be("refused", row.ToJsonString());
        row["reason"]!.GetValue<string>().Should().Contain("protect", row.ToJsonString());
        var after = await lab.ReadDirectoryAsync();
        after.Should().ContainKey(guarded.ToLowerInvariant());
        after[guarded.ToLowerInvariant()].Content().Should().Be(before[guarded.ToLowerInvariant()].Content(), "not even disabled");
        lab.Emulator.Writes.Should().NotContain(w => w.Path.Contains(entity.Match.TargetId!, StringComparison.Ordinal), "nor switched in the target");
        lab.Emulator.Writes.Should().NotBeEmpty("the wave's other people were removed");
    }
}
