using System.Text.Json;
using System.Text.Json.Serialization;
using AuthSplit.Core.Directory;
using AuthSplit.Core.Errors;
using AuthSplit.Core.Planning.Format;

namespace AuthSplit.Core.Planning.DryRun;

/// <summary>What a dry run read, as its plan records it, handed to the snapshot that keeps the reads.</summary>
/// <param name="Source">The legacy read (with the class map's description for Active Directory).</param>
/// <param name="Target">The target users' read.</param>
/// <param name="TargetInventory">The target's inventory read, whether or not the plan records it; null when none was read.</param>
/// <param name="ObjectCategories">The class map the filters were compiled against (Active Directory only).</param>
public sealed record SavedReads(InputDescription Source, InputDescription Target, InputDescription? TargetInventory, ObjectCategoryMap? ObjectCategories);

/// <summary>
/// <c>snapshot.json</c>, written by <c>--save-snapshot</c> beside what it saved: each saved read as the live
/// plan recorded it (kind, location, SHA-256, count, schema). <c>plan --replay</c> plans from the saved files,
/// requires each to hash to what is written here, and records these descriptions, so the replayed plan's
/// id is the live plan's. Only the reads that were saved are listed: a side the live plan read from a file
/// is read from that file again.
/// </summary>
public sealed record SnapshotDescriptor
{
    public const string CurrentFormat = "authsplit-snapshot/1";

    public const string FileName = "snapshot.json";

    public string Format { get; init; } = CurrentFormat;

    /// <summary>When the snapshot was committed (not part of any plan: a replay's id does not depend on it).</summary>
    public required string SavedAt { get; init; }

    /// <summary><c>source.ldif</c> (and <c>source-schema.json</c>) as read live; null when the source was read from a file.</summary>
    public InputDescription? Source { get; init; }

    /// <summary><c>target/</c> as read live; null when the target was read from a snapshot.</summary>
    public InputDescription? Target { get; init; }

    /// <summary><c>target/inventory/</c> as read live; null when it was not read (or the target was not saved).</summary>
    public InputDescription? TargetInventory { get; init; }

    private static readonly JsonSerializerOptions Json = new(PlanSerializer.Options) { UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow };

    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this, Json);

    /// <exception cref="InputException">Not a descriptor of this format (code <c>snapshot-invalid</c>).</exception>
    public static SnapshotDescriptor Parse(ReadOnlySpan<byte> json, string path)
    {
        SnapshotDescriptor? descriptor;
        try
        {
            descriptor = JsonSerializer.Deserialize<SnapshotDescriptor>(json, Json);
        }
        catch (JsonException ex)
        {
            throw new InputException("snapshot-invalid", $"not a saved snapshot's descriptor: {ex.Message}", path);
        }

        if (descriptor is null || descriptor.Format != CurrentFormat)
        {
            throw new InputException("snapshot-invalid", $"not a saved snapshot's descriptor (format is not {CurrentFormat})", path);
        }

        return descriptor;
    }
}
