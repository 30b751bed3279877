using AuthSplit.Core.Errors;
using AuthSplit.Core.Planning.Format;

namespace AuthSplit.Cli.Planning;

public static class PlanFiles
{
    /// <summary>Reads a plan and verifies its id against its content (a tampered or stale file is bad input).</summary>
    public static async Task<PlanDocument> ReadAsync(string path, CancellationToken cancellationToken)
    {
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new InputException("plan-missing", $"cannot read the plan: {ex.Message}", path);
        }

        await using (stream)
        {
            return await PlanSerializer.ReadAsync(stream, path, cancellationToken);
        }
    }
}
