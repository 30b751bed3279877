using AuthSplit.Core.Errors;
using AuthSplit.Core.Model;
using AuthSplit.Core.Planning;

namespace AuthSplit.Ldap.Ldif;

/// <summary>An LDIF snapshot file as the planner's legacy source.</summary>
public sealed class LdifFileSource(string path) : ILegacyDirectorySource
{
    public string Description => path;

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

        await using (stream)
        {
            await foreach (var entry in LdifReader.ReadAsync(stream, path, cancellationToken))
            {
                yield return entry;
            }
        }
    }
}
