using AuthSplit.Cli.Output;

namespace AuthSplit.Cli.Planning;

/// <summary>What <c>authsplit plan</c> writes, checked against what it reads before anything is read.</summary>
public static class PlanOutputs
{
    /// <summary>What <c>--save-snapshot</c> writes inside its directory.</summary>
    public static readonly IReadOnlyList<string> SnapshotWrites = ["source.ldif", "target", "snapshot.json"];

    public static OutputTarget Check(PlanRequest request)
    {
        (string, string?)[] inputs =
        [
            ("--config", request.ConfigPath),
            ("--source-ldif", request.SourceLdif),
            ("--target-snapshot", request.TargetSnapshot),
            ("--decisions", request.DecisionsPath),
            ("--previous", request.PreviousPlanPath),
            ("--replay", request.ReplayDirectory),
        ];
        var plan = OutputTarget.ForFile("--out", request.OutputPath, inputs);
        OutputTarget.ForDirectory("--save-snapshot", request.SaveSnapshotDirectory, SnapshotWrites, inputs, [plan]);
        return plan;
    }

    /// <summary>The line an interrupted run ends with: what is on disk now.</summary>
    public static string DescribeKept(PlanRequest request, bool outputExisted)
    {
        var plan = request.OutputPath == OutputTarget.StandardOutputName || request.OutputPath.StartsWith("/dev/", StringComparison.Ordinal)
            ? $"the plan written to {request.OutputPath} (a stream) may be incomplete: discard it"
            : outputExisted
                ? $"no plan was written; the previous file at {request.OutputPath} is unchanged"
                : $"no plan was written ({request.OutputPath} was not created)";
        return request.SaveSnapshotDirectory is null
            ? plan
            : $"{plan}; a snapshot in {request.SaveSnapshotDirectory} is replaced only once it is complete, so what it holds is whole";
    }
}
