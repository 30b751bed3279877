using System.Text.Json;
using AuthSplit.Core.Errors;
using AuthSplit.Core.Planning.Format;

namespace AuthSplit.Cli.Planning;

/// <summary>
/// <c>plan --replay … --expect-plan-of FILE</c>: the replayed plan's id against the <c>planId</c> of an evidence
/// pack's <c>manifest.json</c> (or of a plan), and, when they differ, which recorded input differs: the
/// settings (another config), the decisions file, or a read.
/// </summary>
public sealed class ReplayComparison
{
    private readonly JsonElement _root;

    private ReplayComparison(string path, string planId, JsonElement root)
    {
        Location = path;
        PlanId = planId;
        _root = root;
    }

    public string Location { get; }

    /// <summary>The plan id the file records.</summary>
    public string PlanId { get; }

    /// <summary>Reads the file before anything is planned, so a wrong path costs nothing.</summary>
    public static async Task<ReplayComparison> ReadAsync(string path, CancellationToken cancellationToken)
    {
        JsonElement root;
        try
        {
            await using var stream = File.OpenRead(path);
            using var document = await JsonDocument.ParseAsync(stream, cancellationToken: cancellationToken);
            root = document.RootElement.Clone();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new InputException("expect-unreadable", $"--expect-plan-of: cannot read: {ex.Message}", path);
        }
        catch (JsonException ex)
        {
            throw new InputException("expect-invalid", $"--expect-plan-of: not JSON: {ex.Message}", path);
        }

        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("planId", out var id) || id.ValueKind != JsonValueKind.String)
        {
            throw new InputException("expect-invalid", "--expect-plan-of: neither an evidence pack's manifest.json nor a plan (no planId)", path);
        }

        return new ReplayComparison(path, id.GetString()!, root);
    }

    /// <returns>Empty when the ids are the same, else what differs, most telling first.</returns>
    public IReadOnlyList<string> Compare(PlanDocument replayed)
    {
        ArgumentNullException.ThrowIfNull(replayed);
        if (string.Equals(PlanId, replayed.PlanId, StringComparison.Ordinal))
        {
            return [];
        }

        // A pack's manifest keeps the inputs under plan, a plan under inputs.
        var root = _root;
        var inputs = root.TryGetProperty("plan", out var plan) && plan.ValueKind == JsonValueKind.Object ? plan
            : root.TryGetProperty("inputs", out var own) && own.ValueKind == JsonValueKind.Object ? own
            : default;
        var differences = new List<string>();
        if (inputs.ValueKind == JsonValueKind.Object)
        {
            Compare(differences, "settings (configSha256: another config)", Text(inputs, "configSha256"), replayed.Inputs.ConfigSha256);
            Compare(differences, "decisions", Describe(inputs, "decisions"), Describe(replayed.Inputs.Decisions));
            Compare(differences, "source", Describe(inputs, "source"), Describe(replayed.Inputs.Source));
            Compare(differences, "target", Describe(inputs, "target"), Describe(replayed.Inputs.Target));
            Compare(differences, "targetInventory", Describe(inputs, "targetInventory"), Describe(replayed.Inputs.TargetInventory));
        }

        if (differences.Count == 0)
        {
            differences.Add("every recorded input is the same, so the plan's content differs: another version of authsplit, or a config whose systems or password-sync settings differ");
        }

        return differences;
    }

    private static void Compare(List<string> differences, string what, string expected, string actual)
    {
        if (!string.Equals(expected, actual, StringComparison.Ordinal))
        {
            differences.Add($"{what}: recorded {expected}, replayed {actual}");
        }
    }

    private static string Text(JsonElement parent, string name) =>
        parent.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString()! : "none";

    private static string Describe(JsonElement parent, string name) =>
        parent.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Object
            ? $"{Text(value, "kind")} {Text(value, "location")} {Text(value, "sha256")}"
            : "none";

    private static string Describe(InputDescription? input) => input is null ? "none" : $"{input.Kind} {input.Location} {input.Sha256}";
}
