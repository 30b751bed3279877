using System.Globalization;
using AuthSplit.Core.Execution.Batching;
using AuthSplit.Core.Execution.Systems;
using AuthSplit.Core.Model;
using AuthSplit.Core.Planning.Format;

namespace AuthSplit.Core.Execution.PasswordSync;

/// <summary>How one person's stop ended under the <c>Command</c> strategy.</summary>
public enum SyncStopKind
{
    /// <summary>The read-back confirmed the stop before the hook ran: nothing was run for this person.</summary>
    AlreadyStopped,

    /// <summary>The hook ran for the person's batch and the read-back afterwards confirms the stop.</summary>
    Stopped,

    /// <summary>The hook ran (or could not) and the read-back does not confirm the stop: the person fails.</summary>
    Unconfirmed,

    /// <summary>The read-back itself could not say (its command failed, Graph did not answer): nothing is known, the person stays unfinished.</summary>
    Unknown,
}

/// <summary>One person's answer from the batch their id went out in.</summary>
/// <param name="Hook">The hook's run for the batch; null when it did not run (all already stopped, or the read-back could not say).</param>
/// <param name="BatchSize">How many people's ids the batch carried.</param>
public sealed record SyncStopAnswer(string UserId, SyncStopKind Kind, HookOutcome? Hook, int BatchSize, string ReadBack);

/// <summary>
/// The <c>Command</c> password-sync strategy of an approved plan (<see cref="PasswordSyncHookSpec"/>) for one
/// run: the people in flight at once are gathered (<see cref="RequestCoalescer{TAnswer}"/>) into batches of up
/// to <see cref="PasswordSyncHookSpec.BatchSize"/>, and each batch is an ensure: read back which are stopped
/// already, run the hook once for the others (their ids on stdin, one per line, and in
/// <c>AUTHSPLIT_USER_IDS</c>, comma-separated), read back again. Each person gets their own answer: a hook
/// that fails for some ids leaves exactly those unconfirmed, whatever its exit code said of the batch.
/// </summary>
public sealed class PasswordSyncHookRun
{
    public const string UserIdsVariable = "AUTHSPLIT_USER_IDS";

    private readonly PasswordSyncHookSpec _spec;
    private readonly ICommandRunner _commands;
    private readonly ITargetTenant _target;
    private readonly RequestCoalescer<SyncStopAnswer> _batches;

    public PasswordSyncHookRun(PasswordSyncHookSpec spec, ICommandRunner commands, ITargetTenant target, TimeSpan linger)
    {
        ArgumentNullException.ThrowIfNull(spec);
        _spec = spec;
        _commands = commands;
        _target = target;
        _batches = new RequestCoalescer<SyncStopAnswer>(RunBatchAsync, a => a.UserId, Math.Max(1, spec.BatchSize), linger);
    }

    private TimeSpan Timeout => TimeSpan.FromSeconds(_spec.TimeoutSeconds);

    /// <summary>Stops one person's password sync, in a batch with the others asking at the same time.</summary>
    public async Task<SyncStopAnswer> StopAsync(string userId) =>
        (await _batches.GetAsync([userId])).Single(a => string.Equals(a.UserId, userId, StringComparison.OrdinalIgnoreCase));

    private async Task<IReadOnlyList<SyncStopAnswer>> RunBatchAsync(IReadOnlyList<string> ids)
    {
        var first = await ReadBackAsync(ids);
        if (first.Failure is { } unreadable)
        {
            return [.. ids.Select(id => new SyncStopAnswer(id, SyncStopKind.Unknown, null, ids.Count, unreadable))];
        }

        var toStop = ids.Where(id => !first.Stopped.Contains(id)).ToArray();
        var answers = ids.Where(first.Stopped.Contains).Select(id => new SyncStopAnswer(id, SyncStopKind.AlreadyStopped, null, ids.Count, first.Description)).ToList();
        if (toStop.Length == 0)
        {
            return answers;
        }

        var environment = new Dictionary<string, string>(StringComparer.Ordinal) { [UserIdsVariable] = string.Join(',', toStop) };
        var hook = await _commands.RunAsync(_spec.Command, environment, string.Concat(toStop.Select(id => id + "\n")), Timeout, CancellationToken.None);
        var second = await ReadBackAsync(toStop);
        answers.AddRange(toStop.Select(id => second.Failure is { } failure
            ? new SyncStopAnswer(id, SyncStopKind.Unknown, hook, toStop.Length, failure)
            : new SyncStopAnswer(id, second.Stopped.Contains(id) ? SyncStopKind.Stopped : SyncStopKind.Unconfirmed, hook, toStop.Length, second.Description)));
        return answers;
    }

    private async Task<(HashSet<string> Stopped, string Description, string? Failure)> ReadBackAsync(IReadOnlyList<string> ids)
    {
        var stopped = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        if (_spec.ReadBackCommand is { Count: > 0 } readBack)
        {
            var environment = new Dictionary<string, string>(StringComparer.Ordinal) { [UserIdsVariable] = string.Join(',', ids) };
            var outcome = await _commands.RunAsync(readBack, environment, string.Concat(ids.Select(id => id + "\n")), Timeout, CancellationToken.None);
            if (outcome.Status != HookStatus.Succeeded)
            {
                return (stopped, outcome.Detail, $"the read-back command could not say: {outcome.Detail}");
            }

            // Only the ids asked about count, each on a line of its own: any other output is ignored.
            var asked = ids.ToHashSet(StringComparer.OrdinalIgnoreCase);
            foreach (var line in (outcome.StandardOutput ?? string.Empty).Split('\n'))
            {
                var id = line.Trim();
                if (asked.Contains(id))
                {
                    stopped.Add(id);
                }
            }

            return (stopped, string.Create(CultureInfo.InvariantCulture, $"the read-back command confirmed {stopped.Count} of {ids.Count}"), null);
        }

        var property = _spec.ReadBackGraphProperty!;
        IReadOnlyList<TargetUserProperty> values;
        try
        {
            values = await _target.GetUserPropertyAsync(ids, property, CancellationToken.None);
        }
        catch (Errors.ExternalSystemException ex)
        {
            return (stopped, ex.Message, $"reading {property} back failed: {ex.Message}");
        }

        var unread = values.Where(v => v.Status is TargetWriteStatus.Failed or TargetWriteStatus.Mismatch).ToArray();
        if (unread.Length > 0)
        {
            return (stopped, unread[0].Problem ?? "no answer", $"reading {property} back failed for {unread.Length} of {ids.Count}: {unread[0].Problem}");
        }

        foreach (var value in values.Where(v => v.Status == TargetWriteStatus.Verified && Confirms(v.Value)))
        {
            stopped.Add(value.UserId);
        }

        return (stopped, string.Create(CultureInfo.InvariantCulture, $"{property} read back: {stopped.Count} of {ids.Count} confirmed"), null);
    }

    // Without a configured value, a flag such as onPremisesSyncEnabled confirms the stop when it no longer reads true.
    private bool Confirms(string? value) => _spec.ReadBackGraphValue is { } wanted
        ? string.Equals(value, wanted, StringComparison.OrdinalIgnoreCase)
        : value is null || string.Equals(value, "false", StringComparison.OrdinalIgnoreCase);
}
