using System.Security.Cryptography;
using AuthSplit.Core.Errors;
using AuthSplit.Core.Planning.DryRun;
using AuthSplit.Core.Planning.Format;

namespace AuthSplit.Cli.Planning;

/// <summary>
/// <c>plan --replay DIR</c>: plans from what <c>--save-snapshot</c> kept in DIR, as the live plan read it. Every
/// saved file must hash to what <c>snapshot.json</c> says the live plan recorded (the source's bytes before
/// anything is planned; the target's pages, inventory and class map as they are read), and the replayed plan
/// records the live plan's descriptions of them (kind, server, SHA-256, count, schema): the same inputs,
/// settings and decisions then give the live plan's id. A side the live plan read from a file is not in the
/// snapshot and is given again with <c>--source-ldif</c> or <c>--target-snapshot</c>.
/// </summary>
public sealed class SnapshotReplay
{
    private const string SourceFile = "source.ldif";
    private const string TargetFolder = "target";
    private readonly string _directory;
    private readonly SnapshotDescriptor _descriptor;

    private SnapshotReplay(string directory, SnapshotDescriptor descriptor, string sourceLdif, string targetSnapshot)
    {
        _directory = directory;
        _descriptor = descriptor;
        SourceLdif = sourceLdif;
        TargetSnapshot = targetSnapshot;
    }

    /// <summary>The LDIF the replay plans from: the snapshot's <c>source.ldif</c>, or <c>--source-ldif</c> when the source was not saved.</summary>
    public string SourceLdif { get; }

    /// <summary>The target snapshot: the snapshot's <c>target/</c>, or <c>--target-snapshot</c> when the target was not saved.</summary>
    public string TargetSnapshot { get; }

    /// <summary>The saved reads the replay stands in for, as the command prints them.</summary>
    public IEnumerable<string> Describe()
    {
        if (_descriptor.Source is { } source)
        {
            yield return $"{SourceFile} as {source.Kind} {source.Location} ({source.Sha256}, {source.Count} entries)";
        }

        if (_descriptor.Target is { } target)
        {
            yield return $"{TargetFolder}/ as {target.Kind} {target.Location} ({target.Sha256}, {target.Count} users)";
        }
    }

    /// <summary>Reads DIR's descriptor and checks the saved source's bytes; nothing is planned yet.</summary>
    /// <exception cref="InputException">DIR is not a saved snapshot, a side is missing or given twice, or the source differs from what was saved.</exception>
    public static async Task<SnapshotReplay> OpenAsync(string directory, string? sourceLdif, string? targetSnapshot, CancellationToken cancellationToken)
    {
        if (File.Exists(directory))
        {
            throw new InputException("snapshot-invalid", "--replay: this is a file; give the directory plan --save-snapshot saved into", directory);
        }

        if (!Directory.Exists(directory))
        {
            throw new InputException("snapshot-missing", "--replay: no such directory; give the directory plan --save-snapshot saved into", directory);
        }

        var descriptorPath = Path.Combine(directory, SnapshotDescriptor.FileName);
        byte[] bytes;
        try
        {
            bytes = await File.ReadAllBytesAsync(descriptorPath, cancellationToken);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new InputException(
                "snapshot-invalid",
                $"--replay: the directory holds no {SnapshotDescriptor.FileName}, so it was not saved by plan --save-snapshot, or its save was cut off before it finished, or it was saved before replays existed: save it again with a live plan. A plan from its files with --source-ldif and --target-snapshot records them as files, so its id is not the live plan's",
                directory);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new InputException("snapshot-invalid", $"cannot read: {ex.Message}", descriptorPath);
        }

        var descriptor = SnapshotDescriptor.Parse(bytes, descriptorPath);
        var source = Side(directory, descriptor.Source, SourceFile, "--source-ldif", sourceLdif, "source", "LDIF file");
        var target = Side(directory, descriptor.Target, TargetFolder, "--target-snapshot", targetSnapshot, "target", "Graph snapshot");
        if (descriptor.Source is { } saved)
        {
            await CheckSourceAsync(source, saved, cancellationToken);
            if (saved.Schema is not null && !File.Exists(AdapterFactory.SchemaPathFor(source)))
            {
                throw Tampered(AdapterFactory.SchemaPathFor(source), "is missing, but the live plan compiled its filters against the directory's class map saved there");
            }
        }

        return new SnapshotReplay(directory, descriptor, source, target);
    }

    /// <summary>
    /// The inputs the replayed plan records: what was read from the files, each required to be what the live
    /// plan read (SHA-256 and count, the class map's hash), described as the live plan described it.
    /// </summary>
    /// <exception cref="InputException">A saved read differs from what the live plan recorded (code <c>snapshot-tampered</c>).</exception>
    public PlanInputs Reconcile(PlanInputs read)
    {
        ArgumentNullException.ThrowIfNull(read);
        var inputs = read;
        if (_descriptor.Source is { } source)
        {
            Same(read.Source, source, SourceFile);
            if (!Equals(read.Source.Schema?.Sha256, source.Schema?.Sha256) || read.Source.Schema?.Classes != source.Schema?.Classes)
            {
                throw Tampered(AdapterFactory.SchemaPathFor(SourceLdif), $"holds another class map ({read.Source.Schema?.Sha256 ?? "none"}, {read.Source.Schema?.Classes ?? 0} classes) than the live plan compiled its filters against ({source.Schema?.Sha256 ?? "none"}, {source.Schema?.Classes ?? 0} classes)");
            }

            inputs = inputs with { Source = read.Source with { Kind = source.Kind, Location = source.Location, Schema = source.Schema } };
        }

        if (_descriptor.Target is { } target)
        {
            Same(read.Target, target, TargetFolder + "/");
            inputs = inputs with { Target = read.Target with { Kind = target.Kind, Location = target.Location } };
            if (read.TargetInventory is { } inventory)
            {
                var saved = _descriptor.TargetInventory
                    ?? throw Tampered(Path.Combine(_directory, TargetFolder, "inventory"), $"was not saved with the live read ({SnapshotDescriptor.FileName} lists no inventory), so the plan made from it is not the live plan");
                Same(inventory, saved, TargetFolder + "/inventory/");
                inputs = inputs with { TargetInventory = inventory with { Kind = saved.Kind, Location = saved.Location } };
            }
        }

        return inputs;
    }

    private void Same(InputDescription read, InputDescription saved, string name)
    {
        if (!string.Equals(read.Sha256, saved.Sha256, StringComparison.Ordinal) || read.Count != saved.Count)
        {
            throw Tampered(Path.Combine(_directory, name), $"differs from what the live plan read: it hashes to {read.Sha256} ({read.Count} objects), {SnapshotDescriptor.FileName} records {saved.Sha256} ({saved.Count})");
        }
    }

    private static string Side(string directory, InputDescription? saved, string name, string option, string? given, string side, string what)
    {
        if (saved is not null)
        {
            return given is null
                ? Path.Combine(directory, name)
                : throw new InputException("replay-conflict", $"{option}: the snapshot holds the {side} the live plan read ({name}), which --replay plans from; leave {option} out");
        }

        return given ?? throw new InputException("replay-incomplete", $"--replay: the snapshot holds no {side} (the live plan read it from a {what}, not live): give that file again with {option}", directory);
    }

    private static async Task CheckSourceAsync(string path, InputDescription saved, CancellationToken cancellationToken)
    {
        string actual;
        try
        {
            await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true);
            actual = "sha256:" + Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancellationToken));
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw Tampered(path, "is missing");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new InputException("snapshot-invalid", $"cannot read: {ex.Message}", path);
        }

        if (!string.Equals(actual, saved.Sha256, StringComparison.Ordinal))
        {
            throw Tampered(path, $"differs from what the live plan read: its SHA-256 is {actual}, {SnapshotDescriptor.FileName} records {saved.Sha256}");
        }
    }

    private static InputException Tampered(string path, string what) =>
        new("snapshot-tampered", $"{what}: the saved snapshot was changed or cut short after it was saved, so a plan from it is not the plan that was made; no plan was written", path);
}
