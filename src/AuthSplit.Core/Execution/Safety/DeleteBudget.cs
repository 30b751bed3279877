namespace AuthSplit.Core.Execution.Safety;

/// <summary>
/// <c>Safety:MaxDeletesPerWave</c> as the approved plan carries it. An entity that still has its delete
/// ahead reserves a slot before its first step, so entities running at once can never overshoot. The slot
/// stays the entity's while it is unfinished, held or interrupted (it was switched and disabled and its
/// delete is still to come, in this run or a later one); it is given back only when the entity ends final
/// without deleting (stale, refused, failed). A run starts from the deletes done plus the entities
/// already begun whose delete is ahead. Once a reservation is refused the budget is spent: no later entity
/// starts, and the wave's result says so.
/// </summary>
internal sealed class DeleteBudget
{
    private readonly object _gate = new();
    private readonly int _max;
    private int _used;
    private bool _exhausted;

    /// <param name="max">The plan's MaxDeletesPerWave.</param>
    /// <param name="alreadyUsed">Deletes of this plan's wave the journal shows done, plus the entities already begun (held or unfinished) whose delete is still ahead: they keep the slots they reserved.</param>
    public DeleteBudget(int max, int alreadyUsed)
    {
        _max = max;
        _used = alreadyUsed;
    }

    public int Max => _max;

    public bool Exhausted
    {
        get
        {
            lock (_gate)
            {
                return _exhausted;
            }
        }
    }

    public bool TryReserve()
    {
        lock (_gate)
        {
            if (_exhausted || _used >= _max)
            {
                _exhausted = true;
                return false;
            }

            _used++;
            return true;
        }
    }

    public void Release()
    {
        lock (_gate)
        {
            _used--;
        }
    }
}
