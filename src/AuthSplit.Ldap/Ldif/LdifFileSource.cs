using AuthSplit.Core.Errors;
using AuthSplit.Core.Hashing;
using AuthSplit.Core.Model;
using AuthSplit.Core.Planning;

namespace AuthSplit.Ldap.Ldif;

/// <summary>An LDIF snapshot file as the planner's legacy source.</summary>
public sealed class LdifFileSource(string path) : ILegacyDirectorySource
{
    public string Description => path;

    /// <summary>The SHA-256 of the file's bytes, known once <see cref="ReadEntriesAsync"/> has read to its end (one pass, not two).</summary>
    public string? Sha256 { get; private set; }

    public async IAsyncEnumerable<DirectoryEntry> ReadEntriesAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new InputException("source-missing", $"cannot read the LDIF snapshot: {ex.Message}", path);
        }

        Sha256 = null;
        await using var hashing = new HashingReadStream(stream);
        await foreach (var entry in LdifReader.ReadAsync(hashing, path, cancellationToken))
        {
            yield return entry;
        }

        // The reader reads to the end of the stream, so every byte has been hashed.
        Sha256 = hashing.Sha256();
    }
}
