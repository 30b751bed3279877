using AuthSplit.Core.Execution.Cluster;

namespace AuthSplit.State.Tests;

/// <summary>
/// Leases (<see cref="IWorkLeases"/>) by the database's clock: these wait real time (a few hundred
/// milliseconds), since no fake clock reaches the database.
/// </summary>
public abstract partial class ExecutionStoreContractTests
{
    private static readonly LeaseKey Hq = LeaseKey.ForWave("sha256:plan", "hq");

    [Fact]
    public async Task A_free_lease_is_granted_and_another_holder_is_told_who_holds_it_and_until_when()
    {
        var first = await Store.TryAcquireLeaseAsync(Hq, "node-a/1", TimeSpan.FromMinutes(1), Ct);
        var second = await Store.TryAcquireLeaseAsync(Hq, "node-b/2", TimeSpan.FromMinutes(1), Ct);

        Assert.NotNull(first.Grant);
        Assert.Equal("node-a/1", first.Grant.Holder);
        Assert.Null(second.Grant);
        Assert.Equal("node-a/1", second.HeldBy);
        Assert.Equal(first.Grant.ExpiresAt, second.HeldUntil);
        Assert.InRange(first.Grant.ExpiresAt - DateTimeOffset.UtcNow, TimeSpan.FromSeconds(50), TimeSpan.FromSeconds(70));
    }

    [Fact]
    public async Task Every_new_taking_gets_a_higher_token_and_the_old_grant_can_no_longer_renew()
    {
        var first = (await Store.TryAcquireLeaseAsync(Hq, "node-a/1", TimeSpan.FromMinutes(1), Ct)).Grant!;
        var again = (await Store.TryAcquireLeaseAsync(Hq, "node-a/1", TimeSpan.FromMinutes(1), Ct)).Grant!;

        Assert.True(again.Token > first.Token);
        Assert.Null(await Store.RenewLeaseAsync(first, TimeSpan.FromMinutes(1), Ct));
        Assert.NotNull(await Store.RenewLeaseAsync(again, TimeSpan.FromMinutes(1), Ct));
    }

    [Fact]
    public async Task A_renewal_moves_the_expiry_on_by_the_database_clock()
    {
        var grant = (await Store.TryAcquireLeaseAsync(Hq, "node-a/1", TimeSpan.FromSeconds(5), Ct)).Grant!;
        await Task.Delay(50);

        var renewed = await Store.RenewLeaseAsync(grant, TimeSpan.FromSeconds(30), Ct);

        Assert.NotNull(renewed);
        Assert.True(renewed > grant.ExpiresAt + TimeSpan.FromSeconds(20));
        var record = Assert.Single(await Store.GetLeasesAsync(Ct));
        Assert.Equal(renewed, record.ExpiresAt);
        Assert.True(record.RenewedAt > record.AcquiredAt);
        Assert.True(record.Held);
    }

    [Fact]
    public async Task An_expired_lease_cannot_be_renewed_even_when_nobody_took_it_and_another_holder_takes_it()
    {
        var paused = (await Store.TryAcquireLeaseAsync(Hq, "node-a/1", TimeSpan.FromMilliseconds(200), Ct)).Grant!;
        await Task.Delay(400);

        Assert.False(Assert.Single(await Store.GetLeasesAsync(Ct)).Held);
        Assert.Null(await Store.RenewLeaseAsync(paused, TimeSpan.FromMinutes(1), Ct));

        var takeover = await Store.TryAcquireLeaseAsync(Hq, "node-b/2", TimeSpan.FromMinutes(1), Ct);
        Assert.NotNull(takeover.Grant);
        Assert.True(takeover.Grant.Token > paused.Token);
        Assert.Null(await Store.RenewLeaseAsync(paused, TimeSpan.FromMinutes(1), Ct));

        // The woken holder cannot take it back while the new one holds it.
        var back = await Store.TryAcquireLeaseAsync(Hq, "node-a/1", TimeSpan.FromMinutes(1), Ct);
        Assert.Null(back.Grant);
        Assert.Equal("node-b/2", back.HeldBy);
    }

    [Fact]
    public async Task A_released_lease_is_free_at_once_and_a_stale_release_does_not_free_the_new_holders_lease()
    {
        var first = (await Store.TryAcquireLeaseAsync(Hq, "node-a/1", TimeSpan.FromMinutes(1), Ct)).Grant!;
        await Store.ReleaseLeaseAsync(first, Ct);
        var released = Assert.Single(await Store.GetLeasesAsync(Ct));
        Assert.NotNull(released.ReleasedAt);
        Assert.False(released.Held);

        var second = (await Store.TryAcquireLeaseAsync(Hq, "node-b/2", TimeSpan.FromMinutes(1), Ct)).Grant!;
        await Store.ReleaseLeaseAsync(first, Ct);

        var record = Assert.Single(await Store.GetLeasesAsync(Ct));
        Assert.Equal("node-b/2", record.Holder);
        Assert.True(record.Held);
        Assert.Null((await Store.TryAcquireLeaseAsync(Hq, "node-c/3", TimeSpan.FromMinutes(1), Ct)).Grant);
        Assert.NotNull(await Store.RenewLeaseAsync(second, TimeSpan.FromMinutes(1), Ct));
    }

    [Fact]
    public async Task Of_many_holders_racing_for_one_lease_exactly_one_gets_it_and_other_waves_are_separate_leases()
    {
        var stores = new List<Core.Execution.IExecutionStore>();
        for (var i = 0; i < 4; i++)
        {
            stores.Add(await OpenAsync());
        }

        var attempts = await Task.WhenAll(Enumerable.Range(0, 16).Select(i =>
            Task.Run(() => stores[i % stores.Count].TryAcquireLeaseAsync(Hq, $"node-{i}/{i}", TimeSpan.FromMinutes(1), Ct))));

        var winner = Assert.Single(attempts, a => a.Grant is not null);
        Assert.All(attempts.Where(a => a.Grant is null), a => Assert.Equal(winner.Grant!.Holder, a.HeldBy));
        Assert.NotNull((await Store.TryAcquireLeaseAsync(LeaseKey.ForWave("sha256:plan", "domestic"), "node-x/9", TimeSpan.FromMinutes(1), Ct)).Grant);
        Assert.NotNull((await Store.TryAcquireLeaseAsync(new LeaseKey("sha256:plan", "hq", "1/4"), "node-x/9", TimeSpan.FromMinutes(1), Ct)).Grant);
        Assert.Equal(3, (await Store.GetLeasesAsync(Ct)).Count);
    }

    [Fact]
    public async Task A_lease_whose_holder_is_gone_is_taken_over_at_once_but_only_from_that_holder()
    {
        var dead = (await Store.TryAcquireLeaseAsync(Hq, "host/100/1", TimeSpan.FromMinutes(5), Ct)).Grant!;

        Assert.Null(await Store.TakeOverLeaseAsync(Hq, "host/999/1", "host/200/2", TimeSpan.FromMinutes(1), Ct));
        var taken = await Store.TakeOverLeaseAsync(Hq, "host/100/1", "host/200/2", TimeSpan.FromMinutes(1), Ct);

        Assert.NotNull(taken);
        Assert.True(taken.Token > dead.Token);
        Assert.Null(await Store.RenewLeaseAsync(dead, TimeSpan.FromMinutes(1), Ct));
        Assert.Null(await Store.TakeOverLeaseAsync(Hq, "host/100/1", "host/300/3", TimeSpan.FromMinutes(1), Ct));
        Assert.Equal("host/200/2", Assert.Single(await Store.GetLeasesAsync(Ct)).Holder);
    }
}
