using AuthSplit.Cli.Output;
using AuthSplit.Core.Planning.DryRun;
using Serilog;

namespace AuthSplit.Cli.Planning;

/// <summary>
/// <c>--save-snapshot</c>'s directory: <c>source.ldif</c> (and <c>source-schema.json</c> for Active Directory)
/// when the source is read live, <c>target/</c> when the target is (its user pages, and in <c>target/inventory/</c>
/// the tenant's groups, applications and service principals, read with the users by the Graph adapter). The adapters write into it as they read;
/// everything stays in temporary files until <see cref="CommitAsync"/> (after both reads), and disposing
/// without a commit leaves the previous snapshot as it was.
/// </summary>
public sealed class SnapshotDirectory(string directory, ILogger log) : IReadSnapshot
{
    private const string SourceFile = "source.ldif";
    private readonly List<IStagedSnapshotPart> _parts = [];
    private string? _sourceTemporary;
    private FileStream? _source;
    private bool _committed;

    /// <summary>The directory <c>target/</c> is saved to.</summary>
    public string TargetDirectory => Path.Combine(directory, "target");

    /// <summary>The stream a live source's LDIF rendering goes to (an owner-only temporary file beside <c>source.ldif</c>).</summary>
    public Stream OpenSource()
    {
        if (_source is not null)
        {
            throw new InvalidOperationException("the snapshot's source is already being written");
        }

        AtomicFile.CreateDirectory(directory);
        _sourceTemporary = AtomicFile.TemporaryFor(Path.Combine(directory, SourceFile));
        _source = AtomicFile.CreateTemporary(_sourceTemporary);
        return _source;
    }

    /// <summary>A part an adapter stages itself (the target's pages), committed with the rest.</summary>
    public void Add(IStagedSnapshotPart part) => _parts.Add(part);

    public async Task CommitAsync(SavedReads reads, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(reads);
        ObjectDisposedException.ThrowIf(_committed, this);
        var objectCategories = reads.ObjectCategories;
        var sourceSaved = _source is not null;

        // First, the old description goes: while the saved files are replaced one by one, the directory holds no
        // snapshot.json, so a save cut off half-way is refused by --replay as unfinished, not as tampered with.
        var oldDescriptor = Path.Combine(directory, SnapshotDescriptor.FileName);
        if (File.Exists(oldDescriptor))
        {
            File.Delete(oldDescriptor);
        }

        if (_source is not null)
        {
            await _source.FlushAsync(cancellationToken);
            _source.Flush(flushToDisk: true);
            await _source.DisposeAsync();
            var path = Path.Combine(directory, SourceFile);
            AtomicFile.Commit(_sourceTemporary!, path, cancellationToken);
            _sourceTemporary = null;
            log.Information("Saved the source snapshot to {Path}", path);

            if (objectCategories is not null)
            {
                var schemaPath = AdapterFactory.SchemaPathFor(path);
                await AtomicFile.WriteAsync(schemaPath, (stream, ct) => objectCategories.WriteAsync(stream, ct), cancellationToken);
                log.Information("Saved the directory's class map (objectCategory names) to {Path}", schemaPath);
            }
        }

        foreach (var part in _parts)
        {
            part.Commit();
            log.Information("Saved the {Part} snapshot to {Path}", part.Name, part.Destination);
        }

        // Last, so that it describes only reads that are in place: what plan --replay checks the files against
        // and records, so the replayed plan's id is this plan's.
        var targetSaved = _parts.Any(p => p.Name == StagedTargetPages.PartName);
        var descriptor = new SnapshotDescriptor
        {
            SavedAt = DateTimeOffset.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture),
            Source = sourceSaved ? reads.Source : null,
            Target = targetSaved ? reads.Target : null,
            TargetInventory = targetSaved ? reads.TargetInventory : null,
        };
        var descriptorPath = Path.Combine(directory, SnapshotDescriptor.FileName);
        await AtomicFile.WriteAsync(descriptorPath, (stream, ct) => stream.WriteAsync(descriptor.ToJson(), ct).AsTask(), cancellationToken);
        log.Information("Saved what the plan recorded of each saved read to {Path}", descriptorPath);

        _committed = true;
    }

    public async ValueTask DisposeAsync()
    {
        if (_source is not null)
        {
            await _source.DisposeAsync();
        }

        if (_sourceTemporary is not null)
        {
            AtomicFile.Discard(_sourceTemporary);
        }

        foreach (var part in _parts)
        {
            part.Dispose();
        }
    }
}

/// <summary>A part of a snapshot that an adapter stages and puts in place on <see cref="Commit"/> (disposed without it: discarded).</summary>
public interface IStagedSnapshotPart : IDisposable
{
    string Name { get; }

    string Destination { get; }

    void Commit();
}
