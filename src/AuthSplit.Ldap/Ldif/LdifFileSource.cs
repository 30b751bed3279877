using AuthSplit.Core.Errors;
using AuthSplit.Core.Hashing;
using AuthSplit.Core.Model;
using AuthSplit.Core.Planning;
using AuthSplit.Core.Planning.Format;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace AuthSplit.Ldap.Ldif;

/// <summary>An LDIF snapshot file as the planner's legacy source.</summary>
public sealed partial class LdifFileSource(string path, ILogger<LdifFileSource>? logger = null) : ILegacyDirectorySource
{
    private readonly ILogger _logger = logger ?? NullLogger<LdifFileSource>.Instance;
    private InputDescription? _read;

    public string Description => path;

    /// <summary>The SHA-256 of the file's bytes, known once <see cref="ReadEntriesAsync"/> has read to its end (one pass, not two).</summary>
    public string? Sha256 { get; private set; }

    /// <summary>What the last complete read found besides the entries (skipped search references).</summary>
    public LdifReadSummary? Summary { get; private set; }

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
        Summary = null;
        _read = null;
        var count = 0;
        var summary = new LdifReadSummary();
        await using var hashing = new HashingReadStream(stream);
        await foreach (var entry in LdifReader.ReadAsync(hashing, path, summary, cancellationToken))
        {
            count++;
            yield return entry;
        }

        // The reader reads to the end of the stream, so every byte has been hashed.
        var sha256 = hashing.Sha256();
        Sha256 = sha256;
        Summary = summary;
        _read = new InputDescription { Kind = "ldif", Location = Path.GetFileName(path), Sha256 = sha256, Count = count };
        if (summary.References > 0)
        {
            LogReferencesSkipped(_logger, summary.References, path);
        }
    }

    /// <inheritdoc/>
    public InputDescription DescribeRead() =>
        _read ?? throw new InvalidOperationException($"the LDIF snapshot {path} has not been read to its end");

    [LoggerMessage(EventId = 1201, Level = LogLevel.Information, Message = "Skipped {Count} search references ('ref:' records) in {Path}: referrals are not chased, as in a live read")]
    private static partial void LogReferencesSkipped(ILogger logger, int count, string path);
}
