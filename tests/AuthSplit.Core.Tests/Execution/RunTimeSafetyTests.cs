using AuthSplit.Core.Directory;
using AuthSplit.Core.Execution;
using AuthSplit.Core.Model;
using AuthSplit.Core.Planning;
using AuthSplit.Core.Planning.Format;
using AuthSplit.Core.Planning.Preconditions;

namespace AuthSplit.Core.Tests.Execution;

public sealed class RunTimeSafetyTests
{
    [Fact]
    public async Task A_protected_entity_in_an_edited_re_approved_plan_is_refused_by_the_run_time_rails()
    {
        var scenario = new ExecutionScenario().Person("akira").Person("partner", employeeType: "partner");
        scenario.Plan.Entities.Single(e => e.Id == ExecutionScenario.IdFor("partner")).Disposition.Should().Be(Disposition.Protected);
        scenario.EditPlan(plan => plan with
        {
            Entities = [.. plan.Entities.Select(e => e.Id != ExecutionScenario.IdFor("partner") ? e : e with
            {
                Disposition = Disposition.Remove,
                Protection = null,
                Steps = StepCatalog.For(EntityKind.Person, hasTarget: true, plan.Settings.Removal),
            })],
        });

        var result = await scenario.ApproveAndRunAsync();

        scenario.Entity("partner").State.Should().Be(EntityState.Refused);
        scenario.Entity("partner").Reason.Should().StartWith("protected: protected-filter");
        scenario.Journal("partner").Should().ContainSingle().Which.Outcome.Should().Be(StepOutcome.Refused);
        scenario.Tenant.Changes.Should().NotContain(c => c.UserId == "t-partner");
        scenario.Directory.Get(ExecutionScenario.DnOf("partner")).Should().NotBeNull();
        result.Entities[EntityState.Done].Should().Be(1);
    }

    [Fact]
    public async Task A_protection_the_running_configuration_adds_after_approval_is_refused_at_run_time()
    {
        var scenario = new ExecutionScenario().Person("akira").Person("yuki", country: "JP");
        scenario.Plan.Entities.Where(e => e.Disposition == Disposition.Remove).Should().HaveCount(2, "the plan was made without this protection");
        scenario.Settings = scenario.Settings with { ConfiguredSafety = new ConfiguredSafety("(c=JP)", []) };

        var result = await scenario.ApproveAndRunAsync();

        scenario.Entity("yuki").State.Should().Be(EntityState.Refused);
        scenario.Entity("yuki").Reason.Should().StartWith("protected: protected-filter").And.Contain("running configuration");
        scenario.Tenant.Changes.Should().NotContain(c => c.UserId == "t-yuki");
        scenario.Directory.Get(ExecutionScenario.DnOf("yuki")).Should().NotBeNull();
        scenario.Entity("akira").State.Should().Be(EntityState.Done);
        result.Entities[EntityState.Done].Should().Be(1);
    }

    [Fact]
    public async Task The_account_the_tool_binds_with_is_refused_even_when_the_plan_removes_it()
    {
        var scenario = new ExecutionScenario().Person("akira").Person("yuki");
        scenario.Settings = scenario.Settings with { BindDn = DistinguishedName.Parse(ExecutionScenario.DnOf("akira")) };

        await scenario.ApproveAndRunAsync();

        scenario.Entity("akira").State.Should().Be(EntityState.Refused);
        scenario.Entity("akira").Reason.Should().Contain("builtin-bind-account");
        scenario.Directory.Get(ExecutionScenario.DnOf("akira")).Should().NotBeNull();
        scenario.Entity("yuki").State.Should().Be(EntityState.Done);
    }

    [Fact]
    public async Task An_entity_planned_outside_its_waves_base_DN_is_refused_and_nothing_of_it_is_touched()
    {
        var scenario = new ExecutionScenario().Person("akira");
        var salesDn = ExecutionScenario.DnOf("min", "ou=sales," + ExecutionScenario.Base);
        var min = DirectoryEntry.FromStrings(salesDn, new Dictionary<string, string[]>
        {
            ["objectClass"] = ["top", "person", "organizationalPerson", "inetOrgPerson"],
            ["uid"] = ["min"],
            ["cn"] = ["min"],
            ["sn"] = ["min"],
            ["entryUUID"] = [ExecutionScenario.IdFor("min")],
            ["employeeNumber"] = ["E-min"],
        });
        scenario.DirectoryOnly(min);
        scenario.Tenant.AddUser("t-min", "min@example.com");
        scenario.EditPlan(plan =>
        {
            var akira = plan.Entities.Single();
            var smuggled = akira with
            {
                Id = ExecutionScenario.IdFor("min"),
                Dn = salesDn,
                Match = akira.Match with { TargetId = "t-min", TargetUserPrincipalName = "min@example.com" },
                Precondition = EntityPrecondition.Compute(min, plan.Settings.FingerprintAttributes),
            };
            return plan with { Entities = [akira, smuggled] };
        });

        var result = await scenario.ApproveAndRunAsync();

        scenario.Entity("min").State.Should().Be(EntityState.Refused);
        scenario.Entity("min").Reason.Should().StartWith(ReasonCodes.OutsideWave + ":");
        scenario.Tenant.Changes.Should().NotContain(c => c.UserId == "t-min");
        scenario.Directory.Writes.Should().NotContain(w => w.Dn.Contains("min", StringComparison.Ordinal));
        scenario.Directory.Get(salesDn).Should().NotBeNull();
        result.Entities[EntityState.Done].Should().Be(1);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    public async Task The_delete_budget_stops_the_wave_when_reached_and_leaves_the_rest_untouched(int concurrency)
    {
        var scenario = new ExecutionScenario();
        foreach (var name in new[] { "a1", "a2", "a3", "a4", "a5" })
        {
            scenario.Person(name);
        }

        scenario.Planning.Options.Safety.MaxDeletesPerWave = 2;
        scenario.Settings = scenario.Settings with { Concurrency = concurrency };

        var result = await scenario.ApproveAndRunAsync();

        scenario.Directory.Writes.Count(w => w.Operation == "delete").Should().Be(2);
        result.Entities[EntityState.Done].Should().Be(2);
        result.Entities[EntityState.Refused].Should().Be(3);
        result.Reason.Should().Contain("Safety:MaxDeletesPerWave 2");
        var refused = scenario.Plan.Entities.Where(e => scenario.EntityById(e.Id).State == EntityState.Refused).ToArray();
        refused.Should().HaveCount(3);
        foreach (var entity in refused)
        {
            scenario.EntityById(entity.Id).Reason.Should().StartWith(ReasonCodes.DeleteBudget + ":");
            scenario.Directory.Get(entity.Dn).Should().NotBeNull();
            scenario.Directory.Get(entity.Dn)!.Has("pwdAccountLockedTime").Should().BeFalse("an entity beyond the budget is not touched at all");
            scenario.Tenant.IsCloudManaged(entity.Match.TargetId!).Should().BeFalse();
        }

        (await scenario.RunAsync()).NothingToDo.Should().BeTrue("raising the budget needs a new plan and a new approval");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    public async Task With_a_hold_the_delete_budget_admits_only_its_number_of_people_and_they_keep_their_slots_across_runs(int concurrency)
    {
        var scenario = new ExecutionScenario();
        foreach (var name in new[] { "a1", "a2", "a3", "a4", "a5" })
        {
            scenario.Person(name);
        }

        scenario.Planning.Options.Safety.MaxDeletesPerWave = 2;
        scenario.Planning.Options.Removal.HoldDays = 3;
        scenario.Settings = scenario.Settings with { Concurrency = concurrency };

        var first = await scenario.ApproveAndRunAsync();

        first.Entities[EntityState.Held].Should().Be(2, "a held person keeps the slot it reserved: its delete is still to come");
        first.Entities[EntityState.Refused].Should().Be(3);
        var beyond = scenario.Plan.Entities.Where(e => scenario.EntityById(e.Id).State == EntityState.Refused).ToArray();
        foreach (var entity in beyond)
        {
            scenario.Directory.Get(entity.Dn)!.Has("pwdAccountLockedTime").Should().BeFalse("a person beyond the budget is not disabled");
            scenario.Tenant.IsCloudManaged(entity.Match.TargetId!).Should().BeFalse("a person beyond the budget is not switched");
        }

        // A run during the hold counts the held people as begun: nothing new is admitted.
        var during = await scenario.RunAsync();
        during.Entities[EntityState.Held].Should().Be(2);
        scenario.Tenant.Changes.Should().HaveCount(2);

        scenario.Clock.Advance(TimeSpan.FromDays(3));
        var after = await scenario.RunAsync();

        after.Entities[EntityState.Done].Should().Be(2);
        scenario.Directory.Writes.Count(w => w.Operation == "delete").Should().Be(2);
        scenario.Tenant.Changes.Should().HaveCount(2, "only the admitted people were ever switched");
        foreach (var entity in beyond)
        {
            scenario.Directory.Get(entity.Dn).Should().NotBeNull();
        }
    }
}
