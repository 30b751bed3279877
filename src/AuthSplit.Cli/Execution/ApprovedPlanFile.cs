using AuthSplit.Core.Errors;
using AuthSplit.Core.Execution;
using AuthSplit.Core.Planning.Format;

namespace AuthSplit.Cli.Execution;

/// <summary>A plan file read for approval: its exact bytes (the store keeps those) and the document, whose id was checked against the bytes.</summary>
public sealed record ApprovedPlanFile(byte[] Bytes, PlanDocument Plan)
{
    /// <summary>Reads and verifies the plan; an edited plan is a refusal (exit 11), an unreadable one bad input.</summary>
    public static async Task<ApprovedPlanFile> ReadAsync(string path, CancellationToken cancellationToken)
    {
        Planning.PlanFiles.RequireRegularFile(path);
        byte[] bytes;
        try
        {
            bytes = await File.ReadAllBytesAsync(path, cancellationToken);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new InputException("plan-missing", $"cannot read the plan: {ex.Message}", path);
        }

        try
        {
            using var stream = new MemoryStream(bytes, writable: false);
            return new ApprovedPlanFile(bytes, await PlanSerializer.ReadAsync(stream, path, cancellationToken));
        }
        catch (InputException ex) when (ex.Code == "plan-tampered")
        {
            throw new ExecutionRefusedException(new ExecutionRefusal(ExecutionRefusalCode.PlanTampered, ex.Message));
        }
    }
}
