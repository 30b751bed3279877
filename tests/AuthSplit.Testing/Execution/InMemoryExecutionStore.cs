using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using AuthSplit.Core.Execution;
using AuthSplit.Core.Execution.Cluster;
using AuthSplit.Core.Planning.Format;

namespace AuthSplit.Testing.Execution;

/// <summary>The process "died" at a commit: nothing of that commit was kept.</summary>
public sealed class SimulatedCrashException : Exception
{
    public SimulatedCrashException()
        : base("simulated crash: the process was killed before this commit")
    {
    }

    public SimulatedCrashException(string message)
        : base(message)
    {
    }

    public SimulatedCrashException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// <see cref="IExecutionStore"/> in memory, with each call one atomic commit. <see cref="CrashAfterCommits"/>
/// makes the store "die" after K more commits: the next commit throws <see cref="SimulatedCrashException"/>
/// and keeps nothing, as a SIGKILL before the transaction's commit would; <see cref="Revive"/> is the
/// restart. The ledger is a plain SHA-256 chain (the real one is Evidence's); backups are kept in clear.
/// </summary>
public sealed class InMemoryExecutionStore : IExecutionStore
{
    private readonly object _gate = new();
    private readonly List<Approval> _approvals = [];
    private readonly Dictionary<string, byte[]> _plans = new(StringComparer.Ordinal);
    private readonly Dictionary<(string PlanId, string Wave), WaveRun> _waves = [];
    private readonly Dictionary<(string PlanId, string EntityId), EntityProgress> _entities = [];
    private readonly List<(string PlanId, string EntityId)> _order = [];
    private readonly List<StepRecord> _steps = [];
    private readonly Dictionary<string, WavePause> _pauses = new(StringComparer.Ordinal);
    private readonly List<EntryBackup> _backups = [];
    private readonly List<LedgerRecord> _ledger = [];
    private int? _commitsLeft;

    public string Description => "memory://execution-store";

    public int Commits { get; private set; }

    public bool Crashed { get; private set; }

    public IReadOnlyList<StepRecord> Steps
    {
        get
        {
            lock (_gate)
            {
                return [.. _steps];
            }
        }
    }

    public IReadOnlyList<EntryBackup> Backups
    {
        get
        {
            lock (_gate)
            {
                return [.. _backups];
            }
        }
    }

    public IReadOnlyList<LedgerRecord> Ledger
    {
        get
        {
            lock (_gate)
            {
                return [.. _ledger];
            }
        }
    }

    public IReadOnlyList<WaveRun> WaveSaves { get; private set; } = [];

    /// <summary>Called after each journalled step with the number of steps journalled so far (outside the store's lock).</summary>
    public Action<int>? AfterStepRecorded { get; set; }

    /// <summary>After <paramref name="commits"/> more commits, every commit throws until <see cref="Revive"/>.</summary>
    public void CrashAfterCommits(int commits)
    {
        lock (_gate)
        {
            _commitsLeft = commits;
        }
    }

    public void Revive()
    {
        lock (_gate)
        {
            _commitsLeft = null;
            Crashed = false;
        }
    }

    /// <summary>Replaces a stored plan's bytes (an edit behind the store's back).</summary>
    public void OverwritePlan(string planId, byte[] bytes)
    {
        lock (_gate)
        {
            _plans[planId] = bytes;
        }
    }

    public Task<Approval> ApproveAsync(Approval approval, CancellationToken cancellationToken) => Commit(() =>
    {
        var existing = _approvals.Find(a => a.PlanId == approval.PlanId && a.ApprovedBy == approval.ApprovedBy);
        if (existing is not null)
        {
            return existing;
        }

        _approvals.Add(approval);
        Append(LedgerKind.Approval, approval.PlanId, null, null, null, null, approval.ApprovedBy, "-", approval.Note);
        return approval;
    });

    public Task<IReadOnlyList<Approval>> GetApprovalsAsync(string planId, CancellationToken cancellationToken) =>
        Read<IReadOnlyList<Approval>>(() => [.. _approvals.Where(a => a.PlanId == planId)]);

    public Task SavePlanAsync(string planId, ReadOnlyMemory<byte> planJson, CancellationToken cancellationToken) => Commit(() =>
    {
        _plans.TryAdd(planId, planJson.ToArray());
        return 0;
    });

    public Task<byte[]?> GetPlanAsync(string planId, CancellationToken cancellationToken) =>
        Read(() => _plans.TryGetValue(planId, out var bytes) ? bytes.ToArray() : null);

    public Task<WaveRun?> GetWaveAsync(string planId, string wave, CancellationToken cancellationToken) =>
        Read(() => _waves.GetValueOrDefault((planId, wave)));

    public Task<IReadOnlyList<WaveRun>> GetWaveRunsAsync(string wave, CancellationToken cancellationToken) =>
        Read<IReadOnlyList<WaveRun>>(() => [.. _waves.Values.Where(w => w.Wave == wave).OrderByDescending(w => w.StartedAt)]);

    public Task<IReadOnlyList<WaveRun>> GetRunningWavesAsync(CancellationToken cancellationToken) =>
        Read<IReadOnlyList<WaveRun>>(() => [.. _waves.Values.Where(w => w.Status == WaveStatus.Running).OrderBy(w => w.StartedAt)]);

    public Task SaveWaveAsync(WaveRun run, CancellationToken cancellationToken) => Commit(() =>
    {
        _waves[(run.PlanId, run.Wave)] = run;
        WaveSaves = [.. WaveSaves, run];
        var kind = run.Status switch
        {
            WaveStatus.Running => LedgerKind.WaveStarted,
            WaveStatus.Completed => LedgerKind.WaveCompleted,
            _ => LedgerKind.WaveStopped,
        };
        Append(kind, run.PlanId, run.Wave, null, null, null, run.StartedBy.Operator, run.StartedBy.Node, $"{{\"status\":\"{run.Status}\",\"selfApproved\":{(run.SelfApproved ? "true" : "false")}}}");
        return 0;
    });

    public Task RegisterEntitiesAsync(IReadOnlyList<EntityProgress> entities, CancellationToken cancellationToken) => Commit(() =>
    {
        foreach (var entity in entities)
        {
            if (_entities.TryAdd((entity.PlanId, entity.EntityId), entity))
            {
                _order.Add((entity.PlanId, entity.EntityId));
            }
        }

        return 0;
    });

    public async IAsyncEnumerable<EntityProgress> ReadEntitiesAsync(string planId, string wave, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var entities = await Read<List<EntityProgress>>(() => [.. _order.Select(k => _entities[k]).Where(e => e.PlanId == planId && e.Wave == wave)]);
        foreach (var entity in entities)
        {
            yield return entity;
        }
    }

    public Task<EntityProgress?> GetEntityAsync(string planId, string entityId, CancellationToken cancellationToken) =>
        Read(() => _entities.GetValueOrDefault((planId, entityId)));

    public Task<IReadOnlyList<StepRecord>> GetStepsAsync(string planId, string entityId, CancellationToken cancellationToken) =>
        Read<IReadOnlyList<StepRecord>>(() => [.. _steps.Where(s => s.PlanId == planId && s.EntityId == entityId)]);

    public Task<IReadOnlyList<StepRecord>> GetDoneStepsOfOtherPlansAsync(string wave, string exceptPlanId, CancellationToken cancellationToken) =>
        Read<IReadOnlyList<StepRecord>>(() => [.. _steps.Where(s => s.Wave == wave && s.PlanId != exceptPlanId && s.Outcome is StepOutcome.Done or StepOutcome.AlreadyDone)]);

    public async Task RecordStepAsync(StepRecord step, EntityProgress entity, CancellationToken cancellationToken)
    {
        var count = await Commit(() =>
        {
            _steps.Add(step);
            _entities[(entity.PlanId, entity.EntityId)] = entity;
            Append(LedgerKind.Step, step.PlanId, step.Wave, step.EntityId, step.Step, step.Outcome, step.Actor.Operator, step.Actor.Node, step.Reason ?? step.After);
            return _steps.Count;
        });
        AfterStepRecorded?.Invoke(count);
    }

    public Task<int> CountDeletesAsync(string planId, string wave, CancellationToken cancellationToken) =>
        Read(() => _steps.Where(s => s.PlanId == planId && s.Wave == wave && s.Step == StepAction.DeleteLegacyEntry && s.Outcome is StepOutcome.Done or StepOutcome.AlreadyDone).Select(s => s.EntityId).Distinct().Count());

    public Task<WavePause?> GetPauseAsync(string wave, CancellationToken cancellationToken) =>
        Read(() => _pauses.GetValueOrDefault(wave));

    public Task RecordRefusalAsync(WaveRefusal refusal, CancellationToken cancellationToken) => Commit(() =>
    {
        Append(LedgerKind.WaveRefused, refusal.PlanId, refusal.Wave, null, null, null, refusal.Actor.Operator, refusal.Actor.Node, $"{refusal.Code}: {refusal.Reason}");
        return 0;
    });

    private readonly List<GateEvent> _gateEvents = [];

    public Task RecordGateEventAsync(GateEvent gateEvent, CancellationToken cancellationToken) => Commit(() =>
    {
        _gateEvents.Add(gateEvent);
        Append(LedgerKind.Gate, string.Empty, gateEvent.Wave, "gate:" + gateEvent.Gate, null, null, gateEvent.Actor.Operator, gateEvent.Actor.Node, $"{gateEvent.Kind}: {gateEvent.PasswordSyncEnabled} {gateEvent.Reason}");
        return 0;
    });

    public Task<IReadOnlyList<GateEvent>> GetGateEventsAsync(string gate, CancellationToken cancellationToken) =>
        Read<IReadOnlyList<GateEvent>>(() => [.. _gateEvents.Where(e => e.Gate == gate)]);

    public Task SetPauseAsync(WavePause pause, CancellationToken cancellationToken) => Commit(() =>
    {
        _pauses[pause.Wave] = pause;
        return 0;
    });

    public Task<EntryBackup> StoreBackupAsync(EntryBackup backup, CancellationToken cancellationToken) => Commit(() =>
    {
        var existing = _backups.Find(b => b.PlanId == backup.PlanId && b.EntityId == backup.EntityId);
        if (existing is not null)
        {
            return existing;
        }

        var canonical = new StringBuilder(backup.Entry.Dn).Append('\n');
        foreach (var (name, values) in backup.Entry.Attributes.OrderBy(a => a.Key, StringComparer.OrdinalIgnoreCase))
        {
            canonical.Append(name).Append('=').AppendJoin(',', values.Select(Convert.ToBase64String)).Append('\n');
        }

        var stored = backup with { Sha256 = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonical.ToString()))) };
        _backups.Add(stored);
        return stored;
    });

    public Task<EntryBackup?> GetBackupAsync(string entityId, CancellationToken cancellationToken) =>
        Read(() => _backups.LastOrDefault(b => b.EntityId == entityId));

    public Task<LedgerRecord> RecordRestoreAsync(RestoreRecord restore, CancellationToken cancellationToken) => Commit(() =>
    {
        Append(LedgerKind.Restore, restore.PlanId, restore.Wave, restore.EntityId, null, null, restore.Actor.Operator, restore.Actor.Node, restore.Data);
        return _ledger[^1];
    });

    /// <summary>Called after each rollback record is durable, with the record (a test races a wave run here).</summary>
    public Func<RollbackRecord, Task>? AfterRollbackRecorded { get; set; }

    public async Task<LedgerRecord> RecordRollbackAsync(RollbackRecord rollback, EntityProgress? entity, CancellationToken cancellationToken)
    {
        var record = await Commit(() =>
        {
            if (entity is not null)
            {
                _entities[(entity.PlanId, entity.EntityId)] = entity;
            }

            Append(LedgerKind.Rollback, rollback.PlanId, rollback.Wave, rollback.EntityId, null, null, rollback.Actor.Operator, rollback.Actor.Node, $"{rollback.Action}: {rollback.Data}");
            return _ledger[^1];
        });
        if (AfterRollbackRecorded is { } after)
        {
            await after(rollback);
        }

        return record;
    }

    public async IAsyncEnumerable<LedgerRecord> ReadLedgerAsync(string? wave, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var records = await Read<List<LedgerRecord>>(() => [.. _ledger.Where(r => wave is null || r.Wave == wave || r.Kind == LedgerKind.Approval)]);
        foreach (var record in records)
        {
            yield return record;
        }
    }

    private Task<T> Read<T>(Func<T> read)
    {
        lock (_gate)
        {
            return Task.FromResult(read());
        }
    }

    private Task<T> Commit<T>(Func<T> write)
    {
        lock (_gate)
        {
            if (Crashed || _commitsLeft == 0)
            {
                Crashed = true;
                throw new SimulatedCrashException();
            }

            var result = write();
            Commits++;
            if (_commitsLeft is { } left)
            {
                _commitsLeft = left - 1;
            }

            return Task.FromResult(result);
        }
    }

    private void Append(LedgerKind kind, string planId, string? wave, string? entityId, StepAction? step, StepOutcome? outcome, string actor, string node, string? data)
    {
        var previous = _ledger.Count == 0 ? "sha256:" + new string('0', 64) : _ledger[^1].Hash;
        var text = $"{_ledger.Count + 1}|{kind}|{planId}|{wave}|{entityId}|{step}|{outcome}|{actor}|{node}|{data}|{previous}";
        _ledger.Add(new LedgerRecord
        {
            Sequence = _ledger.Count + 1,
            At = DateTimeOffset.UnixEpoch,
            Kind = kind,
            PlanId = planId,
            Wave = wave,
            EntityId = entityId,
            Step = step,
            Outcome = outcome,
            Actor = actor,
            Node = node,
            Data = data,
            PreviousHash = previous,
            Hash = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text))),
        });
    }

    private readonly Dictionary<LeaseKey, LeaseRecord> _leases = [];

    /// <summary>The clock leases are taken and expire by (the database's clock in the real stores).</summary>
    public TimeProvider LeaseClock { get; set; } = TimeProvider.System;

    /// <summary>When set, every lease call throws it (a state store out of reach).</summary>
    public Exception? LeaseFault { get; set; }

    public Task<LeaseAttempt> TryAcquireLeaseAsync(LeaseKey key, string holder, TimeSpan duration, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            ThrowLeaseFault();
            var now = LeaseClock.GetUtcNow();
            if (_leases.TryGetValue(key, out var current) && current.ReleasedAt is null && current.ExpiresAt > now && current.Holder != holder)
            {
                return Task.FromResult(LeaseAttempt.Taken(current.Holder, current.ExpiresAt));
            }

            var taken = new LeaseRecord { Key = key, Holder = holder, Token = (current?.Token ?? 0) + 1, AcquiredAt = now, RenewedAt = now, ExpiresAt = now + duration, ReadAt = now };
            _leases[key] = taken;
            return Task.FromResult(LeaseAttempt.Granted(new LeaseGrant(key, holder, taken.Token, taken.ExpiresAt)));
        }
    }

    public Task<DateTimeOffset?> RenewLeaseAsync(LeaseGrant grant, TimeSpan duration, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            ThrowLeaseFault();
            var now = LeaseClock.GetUtcNow();
            if (!_leases.TryGetValue(grant.Key, out var current) || current.Holder != grant.Holder || current.Token != grant.Token || current.ReleasedAt is not null || current.ExpiresAt <= now)
            {
                return Task.FromResult<DateTimeOffset?>(null);
            }

            _leases[grant.Key] = current with { RenewedAt = now, ExpiresAt = now + duration };
            return Task.FromResult<DateTimeOffset?>(now + duration);
        }
    }

    public Task<LeaseGrant?> TakeOverLeaseAsync(LeaseKey key, string goneHolder, string holder, TimeSpan duration, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            ThrowLeaseFault();
            var now = LeaseClock.GetUtcNow();
            if (!_leases.TryGetValue(key, out var current) || current.Holder != goneHolder || current.ReleasedAt is not null)
            {
                return Task.FromResult<LeaseGrant?>(null);
            }

            var taken = current with { Holder = holder, Token = current.Token + 1, AcquiredAt = now, RenewedAt = now, ExpiresAt = now + duration };
            _leases[key] = taken;
            return Task.FromResult<LeaseGrant?>(new LeaseGrant(key, holder, taken.Token, taken.ExpiresAt));
        }
    }

    public Task ReleaseLeaseAsync(LeaseGrant grant, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            ThrowLeaseFault();
            if (_leases.TryGetValue(grant.Key, out var current) && current.Holder == grant.Holder && current.Token == grant.Token && current.ReleasedAt is null)
            {
                _leases[grant.Key] = current with { ReleasedAt = LeaseClock.GetUtcNow() };
            }

            return Task.CompletedTask;
        }
    }

    public Task<IReadOnlyList<LeaseRecord>> GetLeasesAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            ThrowLeaseFault();
            var now = LeaseClock.GetUtcNow();
            return Task.FromResult<IReadOnlyList<LeaseRecord>>([.. _leases.Values.Select(l => l with { ReadAt = now })]);
        }
    }

    /// <summary>Lease calls that threw <see cref="LeaseFault"/>.</summary>
    public int FailedLeaseCalls { get; private set; }

    private void ThrowLeaseFault()
    {
        if (LeaseFault is { } fault)
        {
            FailedLeaseCalls++;
            throw fault;
        }
    }
}
