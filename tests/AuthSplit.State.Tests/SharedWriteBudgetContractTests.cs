using System.Diagnostics;
using AuthSplit.Core.Execution;
using AuthSplit.Core.Execution.Cluster;
using AuthSplit.Testing;

namespace AuthSplit.State.Tests;

/// <summary>
/// The shared Graph write budget (<see cref="ISharedWriteBudget"/>) as every provider must keep it: grants
/// decided on the database's clock, never more than the limit in any span of grants, whoever asks and how
/// many ask at once; a refusal says how long to wait; budgets are per tenant and app; old grants are pruned.
/// Real time, small limits: the rule is about the database's clock, which a test cannot fake.
/// </summary>
public abstract class SharedWriteBudgetContractTests : IAsyncLifetime
{
    private static readonly WriteBudgetKey Key = new("tenant-a", "app-1");
    private readonly List<IExecutionStore> _opened = [];

    protected SharedWriteBudgetContractTests()
    {
        WorkDirectory = TestPaths.NewWorkDirectory();
    }

    protected string WorkDirectory { get; }

    protected static CancellationToken Ct => CancellationToken.None;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var store in _opened.OfType<IAsyncDisposable>())
        {
            await store.DisposeAsync();
        }
    }

    /// <summary>Opens the store under test (the same database every time, a separate connection pool each time: another node).</summary>
    protected abstract Task<IExecutionStore> OpenStoreAsync();

    /// <summary>The grants table as stored: (tenant, app, granted_at, writes).</summary>
    protected abstract Task<IReadOnlyList<(string Tenant, string App, long At, int Writes)>> ReadGrantsAsync();

    protected async Task<ISharedWriteBudget> OpenBudgetAsync()
    {
        var store = await OpenStoreAsync();
        _opened.Add(store);
        return store.Should().BeAssignableTo<ISharedWriteBudget>().Subject;
    }

    [Fact]
    public async Task The_budget_keeps_the_limit_it_was_created_with_and_a_node_with_another_limit_is_refused_and_told_what_differs()
    {
        var first = await OpenBudgetAsync();
        var second = await OpenBudgetAsync();
        var limit = new WriteBudgetLimit(3000, TimeSpan.FromSeconds(150), burst: 20);

        (await first.AgreeAsync(Key, limit, Ct)).Should().BeNull("the first node creates the budget with its limit");
        (await second.AgreeAsync(Key, new WriteBudgetLimit(3000, TimeSpan.FromSeconds(150), burst: 10), Ct)).Should().BeNull("the burst is each node's own");
        (await second.RequestAsync(new WriteGrantRequest(Key, limit, 5, "node-2"), Ct)).IsGranted.Should().BeTrue();

        var doubled = new WriteBudgetLimit(6000, TimeSpan.FromSeconds(150), burst: 20);
        var mismatch = await second.AgreeAsync(Key, doubled, Ct);
        mismatch.Should().NotBeNull();
        mismatch!.ClusterWrites.Should().Be(3000);
        mismatch.ClusterWindow.Should().Be(TimeSpan.FromSeconds(150));
        mismatch.Message.Should().Contain("Target:Limits:WritesPerWindow is 6000 here, the cluster uses 3000").And.NotContain("WriteWindowSeconds is");
        var refused = async () => await second.RequestAsync(new WriteGrantRequest(Key, doubled, 5, "node-2"), Ct);
        (await refused.Should().ThrowAsync<WriteBudgetMismatchException>()).Which.Mismatch.NodeWrites.Should().Be(6000);

        var longer = (await first.AgreeAsync(Key, new WriteBudgetLimit(3000, TimeSpan.FromSeconds(300), burst: 20), Ct))!;
        longer.Message.Should().Contain("Target:Limits:WriteWindowSeconds is 300 here, the cluster uses 150");
        (await first.AgreeAsync(Key, limit, Ct)).Should().BeNull("the refusals changed nothing");
        (await first.AgreeAsync(Key with { App = "app-2" }, doubled, Ct)).Should().BeNull("another app's budget is created with its own limit");
        (await ReadGrantsAsync()).Sum(g => g.Writes).Should().Be(5, "a refused node is granted nothing");
    }

    [Fact]
    public async Task Writes_are_granted_up_to_the_limit_then_refused_with_the_time_until_the_oldest_grant_leaves_the_span()
    {
        var budget = await OpenBudgetAsync();
        var limit = new WriteBudgetLimit(10, TimeSpan.FromSeconds(2), burst: 5);
        var clock = Stopwatch.StartNew();

        var first = await budget.RequestAsync(new WriteGrantRequest(Key, limit, 5, "node-1"), Ct);
        var second = await budget.RequestAsync(new WriteGrantRequest(Key, limit, 5, "node-2"), Ct);
        var third = await budget.RequestAsync(new WriteGrantRequest(Key, limit, 1, "node-1"), Ct);
        var elapsed = clock.Elapsed;

        first.Should().BeEquivalentTo(new { Writes = 5, Wait = TimeSpan.Zero });
        second.Should().BeEquivalentTo(new { Writes = 5, Wait = TimeSpan.Zero });
        second.Id.Should().BeGreaterThan(first.Id);
        third.IsGranted.Should().BeFalse("the span (3 s) already holds the limit of 10");
        third.Wait.Should().BeGreaterThan(limit.Span - elapsed - TimeSpan.FromMilliseconds(50)).And.BeLessThanOrEqualTo(limit.Span);

        await Task.Delay(third.Wait + TimeSpan.FromMilliseconds(20));
        (await budget.RequestAsync(new WriteGrantRequest(Key, limit, 5, "node-1"), Ct)).Writes.Should().Be(5, "the first grant left the span");
        (await ReadGrantsAsync()).Select(g => g.Writes).Should().Equal(5, 5, 5);
    }

    [Fact]
    public async Task A_refused_request_records_nothing_and_budgets_are_per_tenant_and_app()
    {
        var budget = await OpenBudgetAsync();
        var limit = new WriteBudgetLimit(4, TimeSpan.FromSeconds(30), burst: 4);

        (await budget.RequestAsync(new WriteGrantRequest(Key, limit, 4, "node-1"), Ct)).IsGranted.Should().BeTrue();
        (await budget.RequestAsync(new WriteGrantRequest(Key, limit, 1, "node-1"), Ct)).IsGranted.Should().BeFalse();
        (await budget.RequestAsync(new WriteGrantRequest(Key with { App = "app-2" }, limit, 4, "node-1"), Ct)).IsGranted.Should().BeTrue("another app has its own limit");
        (await budget.RequestAsync(new WriteGrantRequest(Key with { Tenant = "tenant-b" }, limit, 4, "node-1"), Ct)).IsGranted.Should().BeTrue("so has another tenant");

        (await ReadGrantsAsync()).Select(g => (g.Tenant, g.App, g.Writes)).Should().BeEquivalentTo([("tenant-a", "app-1", 4), ("tenant-a", "app-2", 4), ("tenant-b", "app-1", 4)]);
    }

    [Fact]
    public async Task Three_nodes_asking_at_once_are_never_granted_more_than_the_limit_in_any_span_and_are_granted_about_the_rate()
    {
        var budgets = new[] { await OpenBudgetAsync(), await OpenBudgetAsync(), await OpenBudgetAsync() };
        var limit = new WriteBudgetLimit(40, TimeSpan.FromSeconds(1), burst: 5, margin: TimeSpan.FromMilliseconds(500));
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(4.5));

        // Four askers per node, each asking again as soon as it may: far more demand than the budget.
        await Task.WhenAll(budgets.SelectMany((budget, n) => Enumerable.Range(0, 4).Select(async _ =>
        {
            while (!stop.IsCancellationRequested)
            {
                var grant = await budget.RequestAsync(new WriteGrantRequest(Key, limit, 1 + Random.Shared.Next(5), $"node-{n}"), Ct);
                if (!grant.IsGranted)
                {
                    await Task.Delay(grant.Wait, stop.Token).ContinueWith(_ => { }, TaskScheduler.Default);
                }
            }
        })));

        var grants = (await ReadGrantsAsync()).OrderBy(g => g.At).ToList();
        var span = limit.Span.Ticks / 10;
        var most = grants.Max(g => grants.Where(o => o.At > g.At - span && o.At <= g.At).Sum(o => o.Writes));
        most.Should().BeLessThanOrEqualTo(40, "no span of grants holds more than the limit");
        var seconds = (grants[^1].At - grants[0].At) / 1e6;
        var total = grants.Sum(g => g.Writes);
        total.Should().BeGreaterThanOrEqualTo((int)(0.8 * limit.Rate * seconds), "the askers kept the budget busy ({0} writes in {1:0.00} s at {2:0.0}/s)", total, seconds, limit.Rate);
    }

    [Fact]
    public async Task Grants_older_than_twice_the_span_are_pruned_when_a_new_one_is_made()
    {
        var budget = await OpenBudgetAsync();
        var limit = new WriteBudgetLimit(2, TimeSpan.FromMilliseconds(200), burst: 1, margin: TimeSpan.FromMilliseconds(100));

        (await budget.RequestAsync(new WriteGrantRequest(Key, limit, 1, "node-1"), Ct)).IsGranted.Should().BeTrue();
        (await budget.RequestAsync(new WriteGrantRequest(Key, limit, 1, "node-1"), Ct)).IsGranted.Should().BeTrue();
        await Task.Delay(TimeSpan.FromMilliseconds(800));
        (await budget.RequestAsync(new WriteGrantRequest(Key, limit, 1, "node-1"), Ct)).IsGranted.Should().BeTrue();

        (await ReadGrantsAsync()).Should().ContainSingle();
    }

    [Fact]
    public async Task Writes_given_back_unsent_are_granted_again_within_the_same_span()
    {
        var budget = await OpenBudgetAsync();
        var other = await OpenBudgetAsync();
        var limit = new WriteBudgetLimit(10, TimeSpan.FromSeconds(30), burst: 10);

        var grant = await budget.RequestAsync(new WriteGrantRequest(Key, limit, 10, "node-1"), Ct);
        (await other.RequestAsync(new WriteGrantRequest(Key, limit, 4, "node-2"), Ct)).IsGranted.Should().BeFalse();
        await budget.ReturnAsync(Key, grant.Id, 4, Ct);

        grant.Id.Should().BePositive();
        (await other.RequestAsync(new WriteGrantRequest(Key, limit, 4, "node-2"), Ct)).IsGranted.Should().BeTrue("node-1 sent only 6 of its 10");
        (await other.RequestAsync(new WriteGrantRequest(Key, limit, 1, "node-2"), Ct)).IsGranted.Should().BeFalse();
        await budget.ReturnAsync(Key with { App = "app-2" }, grant.Id, 6, Ct);
        (await ReadGrantsAsync()).Select(g => g.Writes).Should().Equal([6, 4], "a give-back names its budget too");
    }

    [Fact]
    public async Task A_request_larger_than_one_grant_may_carry_is_refused_as_a_programming_error()
    {
        var budget = await OpenBudgetAsync();
        var limit = new WriteBudgetLimit(100, TimeSpan.FromSeconds(10), burst: 20);

        var act = () => budget.RequestAsync(new WriteGrantRequest(Key, limit, 21, "node-1"), Ct);

        await act.Should().ThrowAsync<ArgumentOutOfRangeException>();
    }
}
