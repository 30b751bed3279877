using System.Runtime.CompilerServices;
using AuthSplit.Core.Execution;
using AuthSplit.Core.Model;
using AuthSplit.Scheduling.Jobs;

namespace AuthSplit.Scheduling.Tests;

public sealed class JournalWaveHoldsTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 2, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task The_hold_expiry_is_the_earliest_hold_of_the_waves_held_entities()
    {
        var holds = new JournalWaveHolds(new EntitiesJournal(
            Entity("a", EntityState.Held, Now.AddDays(7)),
            Entity("b", EntityState.Held, Now.AddDays(5)),
            Entity("c", EntityState.Done, Now.AddDays(1)),
            Entity("d", EntityState.Pending, null)));

        (await holds.EarliestHoldUntilAsync(Waves.PlanId, Waves.Wave, CancellationToken.None)).Should().Be(Now.AddDays(5));
    }

    [Fact]
    public async Task A_wave_without_held_entities_has_no_hold_expiry()
    {
        var holds = new JournalWaveHolds(new EntitiesJournal(Entity("a", EntityState.Done, Now.AddDays(1))));

        (await holds.EarliestHoldUntilAsync(Waves.PlanId, Waves.Wave, CancellationToken.None)).Should().BeNull();
    }

    private static EntityProgress Entity(string id, EntityState state, DateTimeOffset? holdUntil) => new()
    {
        PlanId = Waves.PlanId,
        Wave = Waves.Wave,
        EntityId = id,
        Dn = $"uid={id},ou=people,dc=example,dc=org",
        Kind = EntityKind.Person,
        State = state,
        Attempts = 1,
        HoldUntil = holdUntil,
        UpdatedAt = Now,
    };

    /// <summary>A journal that can only list one wave's entities: all the hold query reads.</summary>
    private sealed class EntitiesJournal(params EntityProgress[] entities) : IWaveJournal
    {
        public async IAsyncEnumerable<EntityProgress> ReadEntitiesAsync(string planId, string wave, [EnumeratorCancellation] CancellationToken cancellationToken)
        {
            foreach (var entity in entities.Where(entity => entity.PlanId == planId && entity.Wave == wave))
            {
                await Task.Yield();
                yield return entity;
            }
        }

        public Task<WaveRun?> GetWaveAsync(string planId, string wave, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<IReadOnlyList<WaveRun>> GetWaveRunsAsync(string wave, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<IReadOnlyList<WaveRun>> GetRunningWavesAsync(CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task SaveWaveAsync(WaveRun run, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task RegisterEntitiesAsync(IReadOnlyList<EntityProgress> entities, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<EntityProgress?> GetEntityAsync(string planId, string entityId, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<IReadOnlyList<StepRecord>> GetStepsAsync(string planId, string entityId, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<IReadOnlyList<StepRecord>> GetDoneStepsOfOtherPlansAsync(string wave, string exceptPlanId, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task RecordStepAsync(StepRecord step, EntityProgress entity, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<int> CountDeletesAsync(string planId, string wave, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<WavePause?> GetPauseAsync(string wave, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task RecordGateEventAsync(GateEvent gateEvent, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<IReadOnlyList<GateEvent>> GetGateEventsAsync(string gate, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task RecordRefusalAsync(WaveRefusal refusal, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task SetPauseAsync(WavePause pause, CancellationToken cancellationToken) => throw new NotSupportedException();
    }
}
