using System.Collections.Concurrent;
using AuthSplit.Core.Execution;
using Quartz;

namespace AuthSplit.Scheduling.Hosting;

/// <summary>A foreground run's wait for its own firing's <see cref="WaveResult"/>, by trigger.</summary>
public sealed class WaveCompletions
{
    private readonly ConcurrentDictionary<TriggerKey, TaskCompletionSource<WaveResult>> pending = new();

    internal Task<WaveResult> Expect(TriggerKey trigger) =>
        pending.GetOrAdd(trigger, _ => new TaskCompletionSource<WaveResult>(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    internal void Forget(TriggerKey trigger) => pending.TryRemove(trigger, out _);

    internal void Complete(TriggerKey trigger, WaveResult result)
    {
        if (pending.TryRemove(trigger, out var completion))
        {
            completion.TrySetResult(result);
        }
    }

    internal void Fail(TriggerKey trigger, Exception exception)
    {
        if (pending.TryRemove(trigger, out var completion))
        {
            completion.TrySetException(exception);
        }
    }
}

/// <summary>The wave job failed for good (after its refires, or misconfigured): what the CLI maps to an exit code.</summary>
public sealed class WaveJobFailedException(string planId, string wave, Exception inner)
    : Exception($"The wave {wave} of plan {planId} failed: {inner.Message}", inner)
{
    public string PlanId { get; } = planId;

    public string Wave { get; } = wave;
}
