using AuthSplit.Core.Errors;
using AuthSplit.Core.Execution;
using AuthSplit.Core.Planning.Format;

namespace AuthSplit.Core.Evidence.Packs;

/// <summary>
/// Reads what a wave's evidence is made of from the state store: its latest run's plan (the approved bytes,
/// parsed), the run, the approvals, and the store's whole ledger — checked intact first, since evidence is
/// never exported from a ledger that was altered.
/// </summary>
public static class WaveEvidenceReader
{
    /// <returns>The input, or a refusal (the store's ledger is broken) saying where.</returns>
    public static async Task<(WaveEvidenceInput? Input, string? Refusal)> ReadAsync(IExecutionStore store, string wave, string exportedBy, string node, string? keyFingerprint, TimeProvider time, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(time);
        var runs = await store.GetWaveRunsAsync(wave, cancellationToken).ConfigureAwait(false);
        if (runs.Count == 0)
        {
            throw new InputException("wave-not-run", $"wave {wave} has never run in {store.Description}: there is no evidence to export yet");
        }

        var planId = runs[0].PlanId;
        var planJson = await store.GetPlanAsync(planId, cancellationToken).ConfigureAwait(false)
            ?? throw new InputException("plan-not-found", $"the plan {planId} that ran wave {wave} is not in {store.Description}");
        var plan = PlanSerializer.Deserialize(planJson, "the state store's copy of plan " + planId);
        var run = await store.GetWaveAsync(planId, wave, cancellationToken).ConfigureAwait(false);
        var approvals = await store.GetApprovalsAsync(planId, cancellationToken).ConfigureAwait(false);
        var ledger = new List<LedgerRecord>();
        await foreach (var record in store.ReadLedgerAsync(null, cancellationToken).ConfigureAwait(false))
        {
            ledger.Add(record);
        }

        var chain = LedgerChain.Verify(ledger);
        if (chain.Fault is { } fault)
        {
            return (null, $"ledger-broken: the state store's ledger is not intact at record {fault.Sequence}: {fault.Message}");
        }

        var waveRecords = new HashSet<long>();
        await foreach (var record in store.ReadLedgerAsync(wave, cancellationToken).ConfigureAwait(false))
        {
            waveRecords.Add(record.Sequence);
        }

        return (new WaveEvidenceInput(wave, planId, plan, run, approvals, ledger, waveRecords, time.GetUtcNow(), exportedBy, node, keyFingerprint), null);
    }
}
