using System.Collections.Concurrent;
using AuthSplit.Core.Execution;
using AuthSplit.Core.Execution.Batching;
using AuthSplit.Core.Model;

namespace AuthSplit.Core.Tests.Execution.Batching;

public sealed class RequestCoalescerTests
{
    private sealed record Answer(string Id, string Value);

    private sealed class Port
    {
        public ConcurrentQueue<string[]> Calls { get; } = new();

        public Exception? Failure { get; set; }

        public HashSet<string> Unknown { get; } = [];

        public Task<IReadOnlyList<Answer>> SendAsync(IReadOnlyList<string> ids)
        {
            Calls.Enqueue([.. ids]);
            if (Failure is { } failure)
            {
                return Task.FromException<IReadOnlyList<Answer>>(failure);
            }

            return Task.FromResult<IReadOnlyList<Answer>>([.. ids.Where(id => !Unknown.Contains(id)).Select(id => new Answer(id, "value of " + id))]);
        }
    }

    [Fact]
    public async Task Callers_arriving_together_share_one_call_and_each_gets_only_its_own_answers()
    {
        var port = new Port();
        var coalescer = new RequestCoalescer<Answer>(port.SendAsync, a => a.Id, maxBatch: 20, linger: TimeSpan.FromMilliseconds(300));

        var answers = await Task.WhenAll(Enumerable.Range(0, 5).Select(i => coalescer.GetAsync([$"u{i}"])));

        port.Calls.Should().ContainSingle().Which.Should().BeEquivalentTo(["u0", "u1", "u2", "u3", "u4"]);
        for (var i = 0; i < 5; i++)
        {
            answers[i].Should().ContainSingle().Which.Should().Be(new Answer($"u{i}", $"value of u{i}"));
        }
    }

    [Fact]
    public async Task A_full_gathering_goes_at_once_without_waiting_for_the_linger()
    {
        var port = new Port();
        var coalescer = new RequestCoalescer<Answer>(port.SendAsync, a => a.Id, maxBatch: 3, linger: TimeSpan.FromMinutes(10));

        var all = Task.WhenAll(Enumerable.Range(0, 3).Select(i => coalescer.GetAsync([$"u{i}"])));
        var finished = await Task.WhenAny(all, Task.Delay(TimeSpan.FromSeconds(30)));

        finished.Should().BeSameAs(all, "three ids fill a gathering of three, which must not wait ten minutes");
        port.Calls.Should().ContainSingle().Which.Should().HaveCount(3);
    }

    [Fact]
    public async Task A_failed_call_fails_every_caller_of_its_gathering()
    {
        var port = new Port { Failure = new InvalidOperationException("tenant unreachable") };
        var coalescer = new RequestCoalescer<Answer>(port.SendAsync, a => a.Id, maxBatch: 20, linger: TimeSpan.FromMilliseconds(200));

        var calls = Enumerable.Range(0, 4).Select(i => coalescer.GetAsync([$"u{i}"])).ToArray();

        foreach (var call in calls)
        {
            await call.Invoking(c => c).Should().ThrowAsync<InvalidOperationException>().WithMessage("tenant unreachable");
        }
    }

    [Fact]
    public async Task An_id_the_port_leaves_out_is_left_out_for_its_caller_alone()
    {
        var port = new Port();
        port.Unknown.Add("gone");
        var coalescer = new RequestCoalescer<Answer>(port.SendAsync, a => a.Id, maxBatch: 20, linger: TimeSpan.FromMilliseconds(200));

        var gone = coalescer.GetAsync(["gone"]);
        var here = coalescer.GetAsync(["here"]);

        (await gone).Should().BeEmpty();
        (await here).Should().ContainSingle().Which.Id.Should().Be("here");
    }

    [Fact]
    public async Task The_same_id_asked_twice_at_once_is_sent_once()
    {
        var port = new Port();
        var coalescer = new RequestCoalescer<Answer>(port.SendAsync, a => a.Id, maxBatch: 20, linger: TimeSpan.FromMilliseconds(200));

        var both = await Task.WhenAll(coalescer.GetAsync(["u1"]), coalescer.GetAsync(["U1"]));

        port.Calls.Should().ContainSingle().Which.Should().Equal("u1");
        both.Should().AllSatisfy(a => a.Should().ContainSingle().Which.Id.Should().Be("u1"));
    }

    [Fact]
    public async Task The_tenant_sees_the_single_user_calls_of_many_entities_as_list_calls()
    {
        var inner = new CountingTenant();
        var tenant = new CoalescingTargetTenant(inner, maxBatch: 20, linger: TimeSpan.FromMilliseconds(300));

        var writes = await Task.WhenAll(Enumerable.Range(0, 10).Select(i => tenant.SetSourceOfAuthorityAsync([$"u{i}"], true, CancellationToken.None)));
        var reads = await Task.WhenAll(Enumerable.Range(0, 10).Select(i => tenant.GetSourceOfAuthorityAsync([$"u{i}"], CancellationToken.None)));

        inner.ListSizes.Should().Equal(10, 10);
        writes.Select(w => w.Single().UserId).Should().Equal(Enumerable.Range(0, 10).Select(i => $"u{i}"));
        reads.Should().AllSatisfy(r => r.Single().IsCloudManaged.Should().BeTrue());
    }

    private sealed class CountingTenant : ITargetTenant
    {
        private readonly ConcurrentDictionary<string, bool> _cloud = new();

        public ConcurrentQueue<int> ListSizes { get; } = new();

        public string Description => "counting";

        public Task<IReadOnlyList<SourceOfAuthority>> GetSourceOfAuthorityAsync(IReadOnlyList<string> userIds, CancellationToken cancellationToken)
        {
            ListSizes.Enqueue(userIds.Count);
            return Task.FromResult<IReadOnlyList<SourceOfAuthority>>([.. userIds.Select(id => new SourceOfAuthority(id, _cloud.GetValueOrDefault(id), TargetWriteStatus.Verified))]);
        }

        public Task<IReadOnlyList<TargetWriteOutcome>> SetSourceOfAuthorityAsync(IReadOnlyList<string> userIds, bool cloudManaged, CancellationToken cancellationToken)
        {
            ListSizes.Enqueue(userIds.Count);
            foreach (var id in userIds)
            {
                _cloud[id] = cloudManaged;
            }

            return Task.FromResult<IReadOnlyList<TargetWriteOutcome>>([.. userIds.Select(id => new TargetWriteOutcome(id, TargetWriteStatus.Verified))]);
        }

        public Task<IReadOnlyList<TargetUser>> GetUsersAsync(IReadOnlyList<string> userIds, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<IReadOnlyList<TargetUserProperty>> GetUserPropertyAsync(IReadOnlyList<string> userIds, string property, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<IReadOnlyList<TargetWriteOutcome>> SetAccountEnabledAsync(IReadOnlyList<string> userIds, bool enabled, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<TenantSyncState> GetTenantSyncStateAsync(CancellationToken cancellationToken) => throw new NotSupportedException();

        public IAsyncEnumerable<TargetGroup> ReadGroupsAsync(CancellationToken cancellationToken) => throw new NotSupportedException();

        public IAsyncEnumerable<TargetApplication> ReadApplicationsAsync(CancellationToken cancellationToken) => throw new NotSupportedException();

        public IAsyncEnumerable<TargetServicePrincipal> ReadServicePrincipalsAsync(CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<IReadOnlyList<SourceOfAuthority>> GetGroupSourceOfAuthorityAsync(IReadOnlyList<string> groupIds, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<IReadOnlyList<TargetWriteOutcome>> SetGroupSourceOfAuthorityAsync(IReadOnlyList<string> groupIds, bool cloudManaged, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<TargetServicePrincipal?> GetServicePrincipalAsync(string? servicePrincipalId, string? appId, CancellationToken cancellationToken) => throw new NotSupportedException();
    }
}
