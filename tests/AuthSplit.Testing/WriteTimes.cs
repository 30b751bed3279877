namespace AuthSplit.Testing;

/// <summary>Measures over the times of the writes a Graph emulator recorded, sorted ascending.</summary>
public static class WriteTimes
{
    /// <summary>The emulator's own window: a write at t counts against every write in (t - window, t].</summary>
    public static int MostInAnyWindow(IReadOnlyList<DateTimeOffset> times, TimeSpan window)
    {
        var most = 0;
        var first = 0;
        for (var last = 0; last < times.Count; last++)
        {
            while (times[last] - times[first] >= window)
            {
                first++;
            }

            most = Math.Max(most, last - first + 1);
        }

        return most;
    }

    /// <summary>Writes per second: the least-squares slope of the write count over time.</summary>
    public static double Slope(IReadOnlyList<DateTimeOffset> times)
    {
        if (times.Count < 2)
        {
            return 0;
        }

        var xs = times.Select(t => (t - times[0]).TotalSeconds).ToList();
        var meanX = xs.Average();
        var meanY = (times.Count - 1) / 2.0;
        var covariance = xs.Select((x, i) => (x - meanX) * (i - meanY)).Sum();
        var variance = xs.Sum(x => (x - meanX) * (x - meanX));
        return covariance / variance;
    }
}
