using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace AuthSplit.Core.Execution.Cluster;

/// <summary>
/// One of <see cref="Count"/> parts of a wave's entities, by a hash of the entity's id: the same entity is
/// always in the same part of a given count, whichever node computes it. Each part runs as a job of its own
/// under a lease of its own (<see cref="LeaseKey"/>), so the nodes of a cluster share a large wave.
/// </summary>
public sealed record WavePartition(int Index, int Count)
{
    public const int MaxCount = 64;

    /// <summary>The lease part of the record that marks a wave's fan-out into parts (taken and given back at once; its time is the fan-out's).</summary>
    public const string FanOutPart = "fan-out";

    /// <summary>The lease part: <c>k/N</c>.</summary>
    public string Part => string.Create(CultureInfo.InvariantCulture, $"{Index}/{Count}");

    public LeaseKey LeaseKey(string planId, string wave) => new(planId, wave, Part);

    public bool Contains(string entityId) => IndexOf(entityId, Count) == Index;

    public static int IndexOf(string entityId, int count)
    {
        ArgumentNullException.ThrowIfNull(entityId);
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(entityId), hash);
        return (int)(BinaryPrimitives.ReadUInt32BigEndian(hash) % (uint)count);
    }

    /// <summary>Parses a lease part <c>k/N</c>; null for anything else (the whole wave, the fan-out mark).</summary>
    public static WavePartition? TryParse(string part)
    {
        var slash = part.IndexOf('/', StringComparison.Ordinal);
        return slash > 0
            && int.TryParse(part.AsSpan(0, slash), NumberStyles.None, CultureInfo.InvariantCulture, out var index)
            && int.TryParse(part.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var count)
            && count >= 1 && index < count
            ? new WavePartition(index, count)
            : null;
    }

    /// <summary>
    /// This part's share of the wave's delete budget: parts run at once on different nodes, so each may
    /// delete at most its share and together they never pass the plan's <c>MaxDeletesPerWave</c>.
    /// </summary>
    public int ShareOf(int max) => max / Count + (Index < max % Count ? 1 : 0);

    public override string ToString() => $"part {Part}";
}
