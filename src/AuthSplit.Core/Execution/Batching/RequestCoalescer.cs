namespace AuthSplit.Core.Execution.Batching;

/// <summary>
/// Gathers the ids that concurrent callers ask for, one or a few each, into one call of a list-taking
/// port (a Graph <c>$batch</c> of up to 20 users instead of 20 requests of one). A gathering is sent when
/// it holds <see cref="_maxBatch"/> ids or when <see cref="_linger"/> has passed since its first id,
/// whichever comes first; every caller then gets the answers for its own ids. A failure of the call
/// reaches every caller of that gathering, as it would have reached each of them alone.
/// </summary>
/// <remarks>
/// The linger is real time, not the run's <see cref="TimeProvider"/>: it is a latency traded for fewer
/// round trips, never a domain time (a hold, a deadline), and a test's fake clock must not stall it.
/// </remarks>
/// <typeparam name="TAnswer">One id's answer.</typeparam>
public sealed class RequestCoalescer<TAnswer>
    where TAnswer : class
{
    private readonly Func<IReadOnlyList<string>, Task<IReadOnlyList<TAnswer>>> _send;
    private readonly Func<TAnswer, string> _idOf;
    private readonly int _maxBatch;
    private readonly TimeSpan _linger;
    private readonly object _gate = new();
    private Gathering? _open;

    public RequestCoalescer(Func<IReadOnlyList<string>, Task<IReadOnlyList<TAnswer>>> send, Func<TAnswer, string> idOf, int maxBatch, TimeSpan linger)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBatch, 1);
        _send = send;
        _idOf = idOf;
        _maxBatch = maxBatch;
        _linger = linger;
    }

    /// <summary>The answers for <paramref name="ids"/> (ids the port does not answer for are left out, as the port leaves them out).</summary>
    public async Task<IReadOnlyList<TAnswer>> GetAsync(IReadOnlyList<string> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        if (ids.Count == 0)
        {
            return [];
        }

        if (ids.Count >= _maxBatch || _linger <= TimeSpan.Zero)
        {
            return await _send(ids);
        }

        Gathering gathering;
        var sendNow = false;
        var armTimer = false;
        lock (_gate)
        {
            gathering = _open ??= new Gathering();
            armTimer = gathering.Ids.Count == 0;
            foreach (var id in ids)
            {
                if (gathering.Seen.Add(id))
                {
                    gathering.Ids.Add(id);
                }
            }

            if (gathering.Ids.Count >= _maxBatch)
            {
                _open = null;
                sendNow = true;
            }
        }

        if (sendNow)
        {
            _ = SendAsync(gathering);
        }
        else if (armTimer)
        {
            _ = SendAfterLingerAsync(gathering);
        }

        var answers = await gathering.Answers.Task;
        return [.. ids.Distinct(StringComparer.OrdinalIgnoreCase).Select(id => answers.GetValueOrDefault(id)).OfType<TAnswer>()];
    }

    private async Task SendAfterLingerAsync(Gathering gathering)
    {
        await Task.Delay(_linger, CancellationToken.None).ConfigureAwait(false);
        lock (_gate)
        {
            if (!ReferenceEquals(_open, gathering))
            {
                return; // already sent because it filled up
            }

            _open = null;
        }

        await SendAsync(gathering).ConfigureAwait(false);
    }

    private async Task SendAsync(Gathering gathering)
    {
        try
        {
            var answers = await _send(gathering.Ids).ConfigureAwait(false);
            var byId = new Dictionary<string, TAnswer>(StringComparer.OrdinalIgnoreCase);
            foreach (var answer in answers)
            {
                byId.TryAdd(_idOf(answer), answer);
            }

            gathering.Answers.TrySetResult(byId);
        }
        catch (Exception ex)
        {
            gathering.Answers.TrySetException(ex);
        }
    }

    private sealed class Gathering
    {
        public List<string> Ids { get; } = [];

        public HashSet<string> Seen { get; } = new(StringComparer.OrdinalIgnoreCase);

        public TaskCompletionSource<Dictionary<string, TAnswer>> Answers { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
