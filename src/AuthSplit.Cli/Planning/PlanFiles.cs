using AuthSplit.Core.Errors;
using AuthSplit.Core.Planning.Format;

namespace AuthSplit.Cli.Planning;

public static class PlanFiles
{
    /// <summary>Reads a plan and verifies its id against its content (a tampered or stale file is bad input).</summary>
    public static async Task<PlanDocument> ReadAsync(string path, CancellationToken cancellationToken)
    {
        byte[] bytes;
        try
        {
            bytes = await File.ReadAllBytesAsync(path, cancellationToken);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new InputException("plan-missing", $"cannot read the plan: {ex.Message}", path);
        }

        return PlanSerializer.Deserialize(bytes, path);
    }
}
