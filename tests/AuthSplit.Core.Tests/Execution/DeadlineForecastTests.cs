using AuthSplit.Core.Configuration;
using AuthSplit.Core.Execution;
using AuthSplit.Core.Execution.Forecast;
using AuthSplit.Core.Model;
using AuthSplit.Core.Planning;
using AuthSplit.Core.Planning.Format;
using AuthSplit.Core.Tests.Execution.Systems;

namespace AuthSplit.Core.Tests.Execution;

public sealed class DeadlineForecastTests
{
    // Graph's documented identity write limit: 3,000 writes per 150 s = 20 per second.
    private static readonly ForecastRates GraphDefault = new(3000, TimeSpan.FromSeconds(150), LdapOperationsPerSecond: 200);

    private static PlanDocument People(int count, int holdDays = 0)
    {
        var scenario = new ExecutionScenario();
        for (var i = 0; i < count; i++)
        {
            scenario.Person($"p{i:0000}");
        }

        scenario.Planning.Options.Removal.HoldDays = holdDays;
        return scenario.Plan;
    }

    private static DateTimeOffset Days(int beforeDeadline) =>
        new DateTimeOffset(2025, 5, 1, 0, 0, 0, TimeSpan.Zero).AddDays(-beforeDeadline); // hq's deadline is 2025-04-30, to the end of that day

    [Fact]
    public void A_fresh_wave_counts_every_planned_step_and_takes_the_slower_of_Graph_pacing_and_the_LDAP_rate()
    {
        var plan = People(1000);

        var forecast = DeadlineForecast.Compute(plan, "hq", [], GraphDefault, Days(41));

        forecast.Entities.Should().Be(1000);
        forecast.GraphWrites.Should().Be(1000, "one source-of-authority switch per person");
        forecast.GraphReads.Should().Be(4000, "verify the account, read before the switch, the connector's read-back, verify cloud-managed");
        forecast.LdapOperations.Should().Be(10000, "opening read 1, backup 3 (read, two group searches), disable 2 (modify, read back), delete 2 (delete, read back), verify absent 2");
        forecast.Execution.Should().Be(TimeSpan.FromSeconds(50), "10,000 LDAP operations at 200/s take as long as 1,000 writes at 20/s");
        forecast.FitsDeadline.Should().BeTrue();
        forecast.Describe().Should().Be("needs ~50 s of execution; deadline in 41 days");
    }

    [Fact]
    public void Graph_pacing_decides_when_the_directory_is_fast()
    {
        var plan = People(1000);

        var forecast = DeadlineForecast.Compute(plan, "hq", [], GraphDefault with { LdapOperationsPerSecond = 5000 }, Days(41));

        forecast.Execution.Should().Be(TimeSpan.FromSeconds(50));
    }

    [Fact]
    public void Steps_the_journal_shows_done_cost_nothing()
    {
        var plan = People(4);
        var ids = plan.Entities.Select(e => e.Id).ToArray();
        EntityProgress Progress(string id, EntityState state, StepAction? last, string? reason = null) => new()
        {
            PlanId = plan.PlanId!,
            Wave = "hq",
            EntityId = id,
            Dn = "x",
            Kind = Model.EntityKind.Person,
            State = state,
            LastStep = last,
            Attempts = 1,
            Reason = reason,
            UpdatedAt = Days(41),
        };

        var forecast = DeadlineForecast.Compute(
            plan,
            "hq",
            [
                Progress(ids[0], EntityState.Done, StepAction.VerifyLegacyAbsent),
                Progress(ids[1], EntityState.Stale, StepAction.VerifyTargetAccount, "stale-moved: x"),
                Progress(ids[2], EntityState.InProgress, StepAction.DisableLegacyAccount),
                Progress(ids[3], EntityState.Pending, null),
            ],
            GraphDefault,
            Days(41));

        forecast.Entities.Should().Be(2);
        forecast.GraphWrites.Should().Be(1, "only the pending person still needs its switch");
        forecast.LdapOperations.Should().Be(10 + 7, "the pending person, and for the one disabled a new run: its opening read, the group listing again (2), delete and read back, verify 2");
    }

    [Fact]
    public void A_wave_that_cannot_finish_before_its_deadline_is_flagged()
    {
        var plan = People(1000);

        var forecast = DeadlineForecast.Compute(plan, "hq", [], GraphDefault with { GraphWritesPerWindow = 1, LdapOperationsPerSecond = 200 }, Days(1));

        forecast.Execution.Should().Be(TimeSpan.FromSeconds(150000), "1,000 writes at one per 150 s");
        forecast.FitsDeadline.Should().BeFalse();
        forecast.Describe().Should().Be("needs ~41 h 40 min of execution; deadline in 24 h; CANNOT FINISH BEFORE THE DEADLINE");
    }

    [Fact]
    public void A_hold_ahead_counts_against_the_deadline()
    {
        var plan = People(10, holdDays: 30);

        var fits = DeadlineForecast.Compute(plan, "hq", [], GraphDefault, Days(41));
        var late = DeadlineForecast.Compute(plan, "hq", [], GraphDefault, Days(20));

        fits.Hold.Should().Be(TimeSpan.FromDays(30));
        fits.FitsDeadline.Should().BeTrue();
        late.FitsDeadline.Should().BeFalse();
        late.Describe().Should().Contain("and a hold of 30 day(s)");
    }

    [Fact]
    public void A_passed_deadline_is_said_so()
    {
        var forecast = DeadlineForecast.Compute(People(1), "hq", [], GraphDefault, Days(-3));

        forecast.FitsDeadline.Should().BeFalse();
        forecast.Describe().Should().Contain("deadline passed 3 days ago");
    }

    [Fact]
    public void A_plan_forecasts_every_wave_with_the_whole_wave_ahead()
    {
        var scenario = new ExecutionScenario().Person("p1").Person("p2").Person("abroad", parent: "ou=abroad," + ExecutionScenario.Base, country: "US");

        var forecasts = DeadlineForecast.ForPlan(scenario.Plan, GraphDefault, new DateTimeOffset(2026, 3, 1, 0, 0, 0, TimeSpan.Zero));

        forecasts.Select(f => f.Wave).Should().Equal("hq", "overseas");
        forecasts[0].Entities.Should().Be(2);
        forecasts[0].LdapOperations.Should().Be(20, "10 LDAP operations per person, none done yet");
        forecasts[0].Flag.Should().Be("DEADLINE PASSED", "hq's deadline was 2025-04-30");
        forecasts[1].Entities.Should().Be(1);
        forecasts[1].GraphWrites.Should().Be(1);
        forecasts[1].Flag.Should().BeNull("overseas has until 2026-04-30 and needs seconds");
    }

    [Fact]
    public void The_flag_tells_a_passed_deadline_from_one_the_wave_cannot_make()
    {
        var plan = People(1000);
        var slow = GraphDefault with { GraphWritesPerWindow = 1 };

        DeadlineForecast.Compute(plan, "hq", [], GraphDefault, Days(41)).Flag.Should().BeNull();
        DeadlineForecast.Compute(plan, "hq", [], slow, Days(1)).Flag.Should().Be("CANNOT FINISH BEFORE THE DEADLINE");
        DeadlineForecast.Compute(plan, "hq", [], slow, Days(-1)).Flag.Should().Be("DEADLINE PASSED");
        DeadlineForecast.Compute(plan, "hq", [], slow, Days(-1)).DeadlinePassed.Should().BeTrue();
        DeadlineForecast.Compute(plan, "hq", [], slow, Days(1)).DeadlinePassed.Should().BeFalse();
    }

    [Fact]
    public void The_work_ahead_is_said_in_words()
    {
        DeadlineForecast.Compute(People(1000), "hq", [], GraphDefault, Days(41)).DescribeWork()
            .Should().Be("1,000 Graph writes, 4,000 Graph reads, 10,000 LDAP operations for 1,000 entities");
        DeadlineForecast.Compute(People(1), "hq", [], GraphDefault, Days(41)).DescribeWork()
            .Should().Be("1 Graph write, 4 Graph reads, 10 LDAP operations for 1 entity");
    }

    // What the in-memory executor asks of the legacy directory, counted as its server answers it: a group
    // listing is one search per membership attribute (OpenLDAP: member and uniqueMember).
    private sealed class ServerOperations(ILegacyDirectoryWriter inner) : ILegacyDirectoryWriter
    {
        private long _count;

        public long Count => Interlocked.Read(ref _count);

        public string Description => inner.Description;

        public DirectoryDialect Dialect => inner.Dialect;

        public Task<DirectoryEntry?> ReadEntryAsync(string dn, CancellationToken cancellationToken) => Counted(1, inner.ReadEntryAsync(dn, cancellationToken));

        public Task<IReadOnlyList<DirectoryEntry>> FindByIdentityAsync(string entityId, CancellationToken cancellationToken) => Counted(1, inner.FindByIdentityAsync(entityId, cancellationToken));

        public Task<IReadOnlyList<GroupListing>> FindGroupsListingAsync(string memberDn, CancellationToken cancellationToken) =>
            Counted(Dialect == DirectoryDialect.ActiveDirectory ? 1 : 2, inner.FindGroupsListingAsync(memberDn, cancellationToken));

        public Task<LegacyWriteResult> ModifyAsync(string dn, IReadOnlyList<AttributeChange> changes, CancellationToken cancellationToken) => Counted(1, inner.ModifyAsync(dn, changes, cancellationToken));

        public Task<LegacyWriteResult> MoveAsync(string dn, string newParentDn, CancellationToken cancellationToken) => Counted(1, inner.MoveAsync(dn, newParentDn, cancellationToken));

        public Task<LegacyWriteResult> DeleteAsync(string dn, CancellationToken cancellationToken) => Counted(1, inner.DeleteAsync(dn, cancellationToken));

        public Task<LegacyWriteResult> AddAsync(DirectoryEntry entry, CancellationToken cancellationToken) => Counted(1, inner.AddAsync(entry, cancellationToken));

        private Task<T> Counted<T>(int operations, Task<T> operation)
        {
            Interlocked.Add(ref _count, operations);
            return operation;
        }
    }

    // Runs the scenario's hq wave until nothing is left to do (a hold waited out between runs) and returns
    // the LDAP operations it cost, the systems' bind probes included.
    private static async Task<long> RunToTheEndAsync(ExecutionScenario scenario)
    {
        await scenario.ApproveAsync();
        var counter = new ServerOperations(scenario.Directory);
        for (var run = 0; run < 3; run++)
        {
            var result = await new WaveExecution(scenario.Store, counter, scenario.Tenant, scenario.Settings, scenario.Clock, null, scenario.Systems.Ports)
                .ExecuteAsync(new WaveJobRequest(scenario.Plan.PlanId!, "hq", ExecutionScenario.Operator, Recovering: false), CancellationToken.None);
            if (result.Kind == WaveResultKind.Completed)
            {
                return counter.Count + scenario.Systems.Calls.Count(c => c.StartsWith("bind ", StringComparison.Ordinal));
            }

            result.Kind.Should().Be(WaveResultKind.Holding, result.ToString());
            scenario.Clock.Advance(TimeSpan.FromDays(scenario.Plan.Settings.Removal.HoldDays));
        }

        throw new InvalidOperationException("the wave did not complete in 3 runs");
    }

    [Theory]
    [InlineData(false, 0)]
    [InlineData(true, 0)]
    [InlineData(false, 2)]
    [InlineData(true, 2)]
    public async Task The_LDAP_operations_forecast_are_those_the_executor_spends_on_people_and_service_accounts(bool quarantine, int holdDays)
    {
        var scenario = new ExecutionScenario().Person("akira").Person("yuki").Person("kenji").ServiceAccount("backup-bot");
        scenario.Planning.Options.Removal.HoldDays = holdDays;
        if (quarantine)
        {
            scenario.WithQuarantine();
        }

        var forecast = DeadlineForecast.Compute(scenario.Plan, "hq", [], GraphDefault, scenario.Clock.GetUtcNow());

        forecast.Entities.Should().Be(4);
        forecast.LdapOperations.Should().Be(await RunToTheEndAsync(scenario));
    }

    [Theory]
    [InlineData(false, 0, 10)]
    [InlineData(true, 0, 17)]
    [InlineData(false, 2, 13)]
    [InlineData(true, 2, 18)]
    public void A_person_costs_10_LDAP_operations_without_quarantine_or_a_hold_to_wait_out(bool quarantine, int holdDays, int expected)
    {
        var scenario = new ExecutionScenario().Person("akira");
        scenario.Planning.Options.Removal.HoldDays = holdDays;
        if (quarantine)
        {
            scenario.WithQuarantine();
        }

        // 10 = 8 searches (the opening read, the backup's read and two group searches, two read-backs, the
        // search by identity and the read at the planned DN) and 2 writes, as measured (docs/benchmarks.md).
        // A hold waited out starts a new run: its opening read and the group listing again (+3). After a
        // quarantine move the delete lists the groups at both DNs, and verify reads the quarantine DN too.
        DeadlineForecast.Compute(scenario.Plan, "hq", [], GraphDefault, scenario.Clock.GetUtcNow()).LdapOperations.Should().Be(expected);
    }

    [Fact]
    public void A_group_listing_is_one_search_on_Active_Directory_and_its_delete_lists_no_groups()
    {
        DeadlineForecast.EntityCost([StepAction.VerifyTargetAccount, StepAction.StopPasswordSync, StepAction.VerifyCloudManaged, StepAction.BackupLegacyEntry, StepAction.DisableLegacyAccount, StepAction.DeleteLegacyEntry, StepAction.VerifyLegacyAbsent], quarantine: false, DirectoryDialect.ActiveDirectory, holdWaits: false)
            .Should().Be((1, 4, 9));
        DeadlineForecast.EntityCost([StepAction.Hold, StepAction.DeleteLegacyEntry, StepAction.VerifyLegacyAbsent], quarantine: false, DirectoryDialect.ActiveDirectory, holdWaits: true)
            .Should().Be((0, 0, 5), "one opening read for the run after the hold, delete and read back, verify 2");
    }

    [Fact]
    public async Task The_waves_systems_are_forecast_with_their_accounts_LDAP_operations_and_an_allowance_for_their_hooks()
    {
        var scenario = SystemCutoverTests.Scenario();

        var forecast = DeadlineForecast.Compute(scenario.Plan, "hq", [], GraphDefault, scenario.Clock.GetUtcNow());

        forecast.Systems.Should().Be(1);
        forecast.HookAllowance.Should().Be(TimeSpan.FromSeconds(70), "the cutover's timeout (60 s) and the probe's (10 s)");
        forecast.LdapOperations.Should().Be(10 + 8, "the person's 10; the account's quiet check 1, backup 3, disable 3 and the refused bind 1");
        forecast.GraphReads.Should().Be(4 + 1, "the person's 4 and the system's service principal");
        forecast.Execution.Should().Be(TimeSpan.FromSeconds(70 + 1), "the hooks run one at a time before the entities: 18 LDAP operations at 200/s come on top");
        forecast.Describe().Should().StartWith("needs ~2 min of execution (including an allowance of 2 min for the systems' cutover hooks and probes, at their timeouts)", "71 s and 70 s, in whole minutes rounded up");
        forecast.DescribeWork().Should().Be("1 Graph write, 5 Graph reads, 18 LDAP operations for 1 entity and 1 system");
        forecast.LdapOperations.Should().Be(await RunToTheEndAsync(scenario));
    }

    [Fact]
    public void A_system_or_group_switch_the_journal_shows_done_costs_nothing_and_a_blocked_system_is_not_counted()
    {
        var scenario = SystemCutoverTests.Scenario().EditPlan(plan => plan with
        {
            GroupSwitches =
            [
                new PlannedGroupSwitch { GroupId = "g-sales", DisplayName = "Sales", Wave = "hq", MembersInPlan = 1, Disposition = Disposition.Remove, Steps = StepCatalog.ForGroupSwitch() },
            ],
        });
        EntityProgress Done(string id, StepAction last) => new()
        {
            PlanId = scenario.Plan.PlanId!,
            Wave = "hq",
            EntityId = id,
            Dn = "x",
            Kind = Model.EntityKind.System,
            State = EntityState.Done,
            LastStep = last,
            Attempts = 1,
            UpdatedAt = Days(41),
        };

        var ahead = DeadlineForecast.Compute(scenario.Plan, "hq", [], GraphDefault, Days(41));
        var done = DeadlineForecast.Compute(scenario.Plan, "hq", [Done("system:crm", StepAction.ProbeLegacyRefused), Done("group-switch:g-sales", StepAction.VerifyGroupCloudManaged)], GraphDefault, Days(41));
        var blocked = DeadlineForecast.Compute(SystemCutoverTests.Scenario(disposition: Disposition.Blocked).Plan, "hq", [], GraphDefault, Days(41));

        ahead.GroupSwitches.Should().Be(1);
        ahead.GraphWrites.Should().Be(1 + 1, "the person's switch and the group's");
        ahead.GraphReads.Should().Be(4 + 1 + 3, "the person's, the service principal, the group's read, read-back and verify");
        ahead.DescribeWork().Should().Be("2 Graph writes, 8 Graph reads, 18 LDAP operations for 1 entity, 1 system and 1 group switch");
        done.Systems.Should().Be(0);
        done.GroupSwitches.Should().Be(0);
        done.HookAllowance.Should().Be(TimeSpan.Zero);
        (done.GraphWrites, done.GraphReads, done.LdapOperations).Should().Be((1L, 4L, 10L));
        done.Describe().Should().NotContain("allowance");
        blocked.Systems.Should().Be(0);
        blocked.LdapOperations.Should().Be(10);
    }

    [Theory]
    [InlineData(7800, "2 h 10 min")]
    [InlineData(3600, "1 h")]
    [InlineData(45, "45 s")]
    [InlineData(61, "2 min")]
    [InlineData(41 * 86400 + 100, "41 days")]
    [InlineData(2693 * 86400, "2,693 days")]
    public void Durations_read_the_way_an_operator_says_them(int seconds, string text)
    {
        DeadlineForecast.Format(TimeSpan.FromSeconds(seconds)).Should().Be(text);
    }
}

public sealed class ForecastRatesTests
{
    [Fact]
    public void Rates_come_from_the_Graph_limits_and_a_measured_LDAP_rate_wins_over_the_configured_one()
    {
        var options = new AuthSplitOptions { Target = new TargetOptions { Limits = { WritesPerWindow = 1500, WriteWindowSeconds = 150 } } };
        options.Execution.ForecastLdapOperationsPerSecond = 120;

        ForecastRates.From(options).Should().Be(new ForecastRates(1500, TimeSpan.FromSeconds(150), 120));
        ForecastRates.From(options, measuredLdapOperationsPerSecond: 640).LdapOperationsPerSecond.Should().Be(640);
        ForecastRates.From(options).GraphWritesPerSecond.Should().Be(10);
    }

    [Fact]
    public void Rates_are_described_with_where_each_came_from()
    {
        var rates = new ForecastRates(3000, TimeSpan.FromSeconds(150), 0.25);

        rates.Describe().Should().Be("Graph 3,000 writes per 150 s, LDAP 0.25 operations/s");
        rates.Describe("Target:Limits", "Execution:ForecastLdapOperationsPerSecond")
            .Should().Be("Graph 3,000 writes per 150 s (Target:Limits), LDAP 0.25 operations/s (Execution:ForecastLdapOperationsPerSecond)");
    }
}
