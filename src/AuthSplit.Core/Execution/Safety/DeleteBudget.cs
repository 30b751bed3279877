namespace AuthSplit.Core.Execution.Safety;

/// <summary>
/// <c>Safety:MaxDeletesPerWave</c> as the approved plan carries it. An entity that still has its delete
/// ahead reserves a slot before its first step, so entities running at once can never overshoot; a slot is
/// given back when the entity ends without deleting. Once a reservation is refused the budget is spent:
/// no later entity starts, and the wave's result says so.
/// </summary>
internal sealed class DeleteBudget
{
    private readonly object _gate = new();
    private readonly int _max;
    private int _used;
    private bool _exhausted;

    /// <param name="max">The plan's MaxDeletesPerWave.</param>
    /// <param name="alreadyDone">Deletes of this plan's wave the journal shows done.</param>
    public DeleteBudget(int max, int alreadyDone)
    {
        _max = max;
        _used = alreadyDone;
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
