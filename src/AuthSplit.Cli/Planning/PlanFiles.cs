using AuthSplit.Core.Errors;
using AuthSplit.Core.Planning.Format;

namespace AuthSplit.Cli.Planning;

public static class PlanFiles
{
    /// <summary>Reads a plan and verifies its id against its content (a tampered or stale file is bad input).</summary>
    public static async Task<PlanDocument> ReadAsync(string path, CancellationToken cancellationToken)
    {
        RequireRegularFile(path);
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

    /// <summary>
    /// A plan is a file <c>authsplit plan</c> wrote: a directory, a device or a FIFO given in its place is
    /// named as such (reading a FIFO would wait for a writer, a device like /dev/zero would never end).
    /// </summary>
    public static void RequireRegularFile(string path)
    {
        var kind = Output.UnixFile.Identify(path).Kind;
        var problem = kind switch
        {
            Output.FileKind.Missing => "no such file",
            Output.FileKind.Directory => "it is a directory; give the plan file inside it (the --out of authsplit plan)",
            Output.FileKind.Special => "it is not a regular file (a device, FIFO or socket); give the plan file authsplit plan wrote",
            _ => null,
        };
        if (problem is not null)
        {
            throw new InputException("plan-missing", $"cannot read the plan: {problem}", path);
        }
    }
}
