using AuthSplit.Core.Errors;
using AuthSplit.Core.Execution;
using AuthSplit.Core.Model;

namespace AuthSplit.Testing.Execution;

/// <summary>One source-of-authority change the fake tenant applied (a write that changed nothing is not one).</summary>
public sealed record SoaChange(string UserId, bool CloudManaged);

/// <summary>
/// The target tenant behind <see cref="ITargetTenant"/>: users, each user's source of authority, a record
/// of every change, and Graph's habits: replication (a read right after a write still shows the old value
/// <see cref="ReplicationDelayReads"/> times), throttling that outlasts the connector's retries
/// (<see cref="ThrottleNext"/> answers <see cref="TargetWriteStatus.Failed"/>), refusals, and a tenant
/// that cannot be reached at all.
/// </summary>
public sealed class FakeTargetTenant : ITargetTenant
{
    private readonly object _gate = new();
    private readonly Dictionary<string, TargetUser> _users = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, bool> _cloudManaged = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, int> _staleReads = new(StringComparer.OrdinalIgnoreCase);
    private readonly HashSet<string> _rejected = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<SoaChange> _changes = [];
    private readonly Dictionary<string, bool> _groupCloudManaged = new(StringComparer.OrdinalIgnoreCase);
    private readonly HashSet<string> _rejectedGroups = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<SoaChange> _groupChanges = [];
    private readonly List<TargetServicePrincipal> _servicePrincipals = [];
    private int _throttled;
    private int _writeRequests;
    private int _writeCalls;

    public string Description => "graph://fake-tenant";

    /// <summary>Reads that still show the old value after a write.</summary>
    public int ReplicationDelayReads { get; set; }

    public bool Unreachable { get; set; }

    public IReadOnlyList<SoaChange> Changes
    {
        get
        {
            lock (_gate)
            {
                return [.. _changes];
            }
        }
    }

    public int WriteRequests => Volatile.Read(ref _writeRequests);

    /// <summary>Calls of <see cref="SetSourceOfAuthorityAsync"/> (each may carry many users).</summary>
    public int WriteCalls => Volatile.Read(ref _writeCalls);

    public void AddUser(string id, string userPrincipalName, bool cloudManaged = false)
    {
        lock (_gate)
        {
            _users[id] = new TargetUser(id, new Dictionary<string, string?> { ["userPrincipalName"] = userPrincipalName, ["accountEnabled"] = "true" });
            _cloudManaged[id] = cloudManaged;
        }
    }

    public void RemoveUser(string id)
    {
        lock (_gate)
        {
            _users.Remove(id);
        }
    }

    public bool? IsCloudManaged(string id)
    {
        lock (_gate)
        {
            return _cloudManaged.TryGetValue(id, out var value) ? value : null;
        }
    }

    /// <summary>The next <paramref name="calls"/> source-of-authority calls answer Failed for every user (429s beyond the connector's retries).</summary>
    public void ThrottleNext(int calls) => Interlocked.Exchange(ref _throttled, calls);

    /// <summary>The next <paramref name="calls"/> calls throw as an unreachable tenant does (a Graph outage beyond the connector's retries), then it answers again.</summary>
    public void UnreachableFor(int calls) => Interlocked.Exchange(ref _unreachableCalls, calls);

    private int _unreachableCalls;

    public void Reject(string userId)
    {
        lock (_gate)
        {
            _rejected.Add(userId);
        }
    }

    public void Accept(string userId)
    {
        lock (_gate)
        {
            _rejected.Remove(userId);
        }
    }

    public Task<IReadOnlyList<SourceOfAuthority>> GetSourceOfAuthorityAsync(IReadOnlyList<string> userIds, CancellationToken cancellationToken) => Call<IReadOnlyList<SourceOfAuthority>>(throttled =>
    [
        .. userIds.Select(id =>
        {
            if (throttled)
            {
                return new SourceOfAuthority(id, null, TargetWriteStatus.Failed, "429 Too Many Requests (fake)");
            }

            if (!_users.ContainsKey(id))
            {
                return new SourceOfAuthority(id, null, TargetWriteStatus.NotFound, "404 (fake)");
            }

            var value = _cloudManaged[id];
            if (_staleReads.TryGetValue(id, out var stale) && stale > 0)
            {
                _staleReads[id] = stale - 1;
                value = !value;
            }

            return new SourceOfAuthority(id, value, TargetWriteStatus.Verified);
        }),
    ]);

    public Task<IReadOnlyList<TargetWriteOutcome>> SetSourceOfAuthorityAsync(IReadOnlyList<string> userIds, bool cloudManaged, CancellationToken cancellationToken) => Call<IReadOnlyList<TargetWriteOutcome>>(throttled =>
    [
        .. CountWriteCall(),
        .. userIds.Select(id =>
        {
            Interlocked.Increment(ref _writeRequests);
            if (throttled)
            {
                return new TargetWriteOutcome(id, TargetWriteStatus.Failed, "429 Too Many Requests (fake)");
            }

            if (!_users.ContainsKey(id))
            {
                return new TargetWriteOutcome(id, TargetWriteStatus.NotFound, "404 (fake)");
            }

            if (_rejected.Contains(id))
            {
                return new TargetWriteOutcome(id, TargetWriteStatus.Rejected, "403 Forbidden (fake)");
            }

            if (_cloudManaged[id] != cloudManaged)
            {
                _cloudManaged[id] = cloudManaged;
                _changes.Add(new SoaChange(id, cloudManaged));
                _staleReads[id] = ReplicationDelayReads;
                if (!cloudManaged)
                {
                    // Moved back: the next sync cycle takes the user again, unless the tenant blocks hard-match takeover.
                    _switchedBack.Add(id);
                }
            }

            // The connector reads back; under replication delay it sees the old value.
            return new TargetWriteOutcome(id, ReplicationDelayReads > 0 ? TargetWriteStatus.Mismatch : TargetWriteStatus.Verified);
        }),
    ]);

    private TargetWriteOutcome[] CountWriteCall()
    {
        Interlocked.Increment(ref _writeCalls);
        return [];
    }

    public Task<IReadOnlyList<TargetUser>> GetUsersAsync(IReadOnlyList<string> userIds, CancellationToken cancellationToken) =>
        Call<IReadOnlyList<TargetUser>>(_ => [.. userIds.Where(_users.ContainsKey).Select(ReadUser)], throttleable: false);

    // Under _gate. A user switched back to on-premises authority reads onPremisesSyncEnabled true once a
    // sync cycle has taken it (at once here), null while the tenant blocks hard-match takeover; other
    // users read as added.
    private TargetUser ReadUser(string id)
    {
        var user = _users[id];
        if (!_switchedBack.Contains(id) || _cloudManaged[id])
        {
            return user;
        }

        var properties = new Dictionary<string, string?>(user.Properties, StringComparer.OrdinalIgnoreCase)
        {
            ["onPremisesSyncEnabled"] = BlockCloudObjectTakeoverThroughHardMatchEnabled ? null : "true",
        };
        return new TargetUser(id, properties);
    }

    private readonly HashSet<string> _switchedBack = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The tenant's <c>blockCloudObjectTakeoverThroughHardMatchEnabled</c> as <see cref="GetTenantSyncStateAsync"/> reads it.</summary>
    public bool BlockCloudObjectTakeoverThroughHardMatchEnabled { get; set; }

    public Task<IReadOnlyList<TargetWriteOutcome>> SetAccountEnabledAsync(IReadOnlyList<string> userIds, bool enabled, CancellationToken cancellationToken) =>
        throw new NotSupportedException("not used by the executor's steps");

    /// <summary>A user property a test sets (<see cref="SetUserProperty"/>), as the password-sync hook's Graph read-back reads it.</summary>
    public Task<IReadOnlyList<TargetUserProperty>> GetUserPropertyAsync(IReadOnlyList<string> userIds, string property, CancellationToken cancellationToken) =>
        Call<IReadOnlyList<TargetUserProperty>>(
            _ => [.. userIds.Select(id => _users.TryGetValue(id, out var user)
                ? new TargetUserProperty(id, user.Properties.GetValueOrDefault(property), TargetWriteStatus.Verified)
                : new TargetUserProperty(id, null, TargetWriteStatus.NotFound, "no such user (fake)"))],
            throttleable: false);

    public void SetUserProperty(string id, string property, string? value)
    {
        lock (_gate)
        {
            var properties = new Dictionary<string, string?>(_users[id].Properties, StringComparer.OrdinalIgnoreCase) { [property] = value };
            _users[id] = new TargetUser(id, properties);
        }
    }

    /// <summary>The tenant's password hash sync as <see cref="GetTenantSyncStateAsync"/> reads it.</summary>
    public bool PasswordSyncEnabled { get; set; } = true;

    /// <summary>Called before each read of the tenant's sync state with the read's number (1-based): a test plays the administrator here.</summary>
    public Action<int>? BeforeTenantSyncRead { get; set; }

    private int _tenantSyncReads;

    public int TenantSyncReads => Volatile.Read(ref _tenantSyncReads);

    public Task<TenantSyncState> GetTenantSyncStateAsync(CancellationToken cancellationToken)
    {
        var read = Interlocked.Increment(ref _tenantSyncReads);
        BeforeTenantSyncRead?.Invoke(read);
        return Unreachable
            ? throw new ExternalSystemException(Description, "the fake tenant is unreachable")
            : Task.FromResult(new TenantSyncState("fake-tenant", PasswordSyncEnabled, BlockCloudObjectTakeoverThroughHardMatchEnabled));
    }

    public IAsyncEnumerable<TargetGroup> ReadGroupsAsync(CancellationToken cancellationToken) => AsyncEnumerable.Empty<TargetGroup>();

    public IAsyncEnumerable<TargetApplication> ReadApplicationsAsync(CancellationToken cancellationToken) => AsyncEnumerable.Empty<TargetApplication>();

    public IAsyncEnumerable<TargetServicePrincipal> ReadServicePrincipalsAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return _servicePrincipals.ToArray().ToAsyncEnumerable();
        }
    }

    /// <summary>A group of the tenant, synchronised from on-premises unless <paramref name="cloudManaged"/>.</summary>
    public void AddGroup(string id, bool cloudManaged = false)
    {
        lock (_gate)
        {
            _groupCloudManaged[id] = cloudManaged;
        }
    }

    /// <summary>The group's switch is refused (403), as Entra refuses a group it does not let move.</summary>
    public void RejectGroup(string groupId)
    {
        lock (_gate)
        {
            _rejectedGroups.Add(groupId);
        }
    }

    /// <summary>The group's switch is allowed again (the permission granted, the group made movable).</summary>
    public void AcceptGroup(string groupId)
    {
        lock (_gate)
        {
            _rejectedGroups.Remove(groupId);
        }
    }

    public bool? IsGroupCloudManaged(string id)
    {
        lock (_gate)
        {
            return _groupCloudManaged.TryGetValue(id, out var value) ? value : null;
        }
    }

    /// <summary>Group switches applied, in order.</summary>
    public IReadOnlyList<SoaChange> GroupChanges
    {
        get
        {
            lock (_gate)
            {
                return [.. _groupChanges];
            }
        }
    }

    public void AddServicePrincipal(TargetServicePrincipal principal)
    {
        lock (_gate)
        {
            _servicePrincipals.RemoveAll(p => string.Equals(p.Id, principal.Id, StringComparison.OrdinalIgnoreCase));
            _servicePrincipals.Add(principal);
        }
    }

    public void RemoveServicePrincipal(string id)
    {
        lock (_gate)
        {
            _servicePrincipals.RemoveAll(p => string.Equals(p.Id, id, StringComparison.OrdinalIgnoreCase));
        }
    }

    public Task<IReadOnlyList<SourceOfAuthority>> GetGroupSourceOfAuthorityAsync(IReadOnlyList<string> groupIds, CancellationToken cancellationToken) =>
        Call<IReadOnlyList<SourceOfAuthority>>(_ =>
        [
            .. groupIds.Select(id => _groupCloudManaged.TryGetValue(id, out var value)
                ? new SourceOfAuthority(id, value, TargetWriteStatus.Verified)
                : new SourceOfAuthority(id, null, TargetWriteStatus.NotFound, "404 (fake)")),
        ], throttleable: false);

    public Task<IReadOnlyList<TargetWriteOutcome>> SetGroupSourceOfAuthorityAsync(IReadOnlyList<string> groupIds, bool cloudManaged, CancellationToken cancellationToken) =>
        Call<IReadOnlyList<TargetWriteOutcome>>(throttled =>
        [
            .. groupIds.Select(id =>
            {
                if (throttled)
                {
                    return new TargetWriteOutcome(id, TargetWriteStatus.Failed, "429 Too Many Requests (fake)");
                }

                if (!_groupCloudManaged.TryGetValue(id, out var current))
                {
                    return new TargetWriteOutcome(id, TargetWriteStatus.NotFound, "404 (fake)");
                }

                if (_rejectedGroups.Contains(id))
                {
                    return new TargetWriteOutcome(id, TargetWriteStatus.Rejected, "403 Authorization_RequestDenied (fake)");
                }

                if (current != cloudManaged)
                {
                    _groupCloudManaged[id] = cloudManaged;
                    _groupChanges.Add(new SoaChange(id, cloudManaged));
                }

                return new TargetWriteOutcome(id, TargetWriteStatus.Verified);
            }),
        ]);

    public Task<TargetServicePrincipal?> GetServicePrincipalAsync(string? servicePrincipalId, string? appId, CancellationToken cancellationToken) =>
        Call(_ => servicePrincipalId is not null
            ? _servicePrincipals.FirstOrDefault(p => string.Equals(p.Id, servicePrincipalId, StringComparison.OrdinalIgnoreCase))
            : _servicePrincipals.FirstOrDefault(p => string.Equals(p.AppId, appId, StringComparison.OrdinalIgnoreCase)), throttleable: false);

    private Task<T> Call<T>(Func<bool, T> answer, bool throttleable = true)
    {
        lock (_gate)
        {
            if (Unreachable || (_unreachableCalls > 0 && _unreachableCalls-- > 0))
            {
                throw new ExternalSystemException(Description, "Graph did not answer after the connector's retries (fake)");
            }

            var throttled = throttleable && _throttled > 0;
            if (throttled)
            {
                _throttled--;
            }

            return Task.FromResult(answer(throttled));
        }
    }
}
