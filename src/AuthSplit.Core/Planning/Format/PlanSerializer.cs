using System.Security.Cryptography;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using AuthSplit.Core.Errors;

namespace AuthSplit.Core.Planning.Format;

/// <summary>
/// Writes and reads plan files. The file is indented JSON (UTF-8, LF, non-ASCII kept readable); the
/// plan id is the SHA-256 of the compact serialisation of the document without its <c>planId</c>, so
/// re-indenting a plan does not change its identity but editing any value does.
/// </summary>
public static class PlanSerializer
{
    private static readonly JsonSerializerOptions Indented = Create(writeIndented: true);
    private static readonly JsonSerializerOptions Compact = Create(writeIndented: false);

    public static JsonSerializerOptions Options => Indented;

    public static byte[] Serialize(PlanDocument plan)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(plan, Indented);
        var withNewline = new byte[bytes.Length + 1];
        bytes.CopyTo(withNewline, 0);
        withNewline[^1] = (byte)'\n';
        return withNewline;
    }

    public static string ComputePlanId(PlanDocument plan) =>
        "sha256:" + Convert.ToHexStringLower(SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(plan with { PlanId = null }, Compact)));

    /// <summary>The config input's hash: the planning-relevant settings in canonical (compact) JSON.</summary>
    public static string HashSettings(PlanSettings settings) =>
        "sha256:" + Convert.ToHexStringLower(SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(settings, Compact)));

    public static PlanDocument WithPlanId(PlanDocument plan) => plan with { PlanId = ComputePlanId(plan) };

    /// <summary>Reads a plan and proves it is the one that was written: format known, id matching content.</summary>
    public static PlanDocument Deserialize(ReadOnlySpan<byte> json, string path)
    {
        PlanDocument? plan;
        try
        {
            plan = JsonSerializer.Deserialize<PlanDocument>(json, Indented);
        }
        catch (JsonException ex)
        {
            throw new InputException("plan-invalid", $"not a plan file this version understands: {ex.Message}", path, (int?)(ex.LineNumber + 1));
        }

        if (plan is null)
        {
            throw new InputException("plan-invalid", "the file holds no plan", path);
        }

        if (plan.FormatVersion != PlanDocument.CurrentFormatVersion)
        {
            throw new InputException("plan-format", $"formatVersion {plan.FormatVersion} is not supported (this version reads {PlanDocument.CurrentFormatVersion})", path);
        }

        var actual = ComputePlanId(plan);
        if (!string.Equals(plan.PlanId, actual, StringComparison.Ordinal))
        {
            throw new InputException("plan-tampered", $"planId {plan.PlanId ?? "(none)"} does not match the plan's content ({actual}): the file was changed after it was made. Re-run authsplit plan and have the new plan reviewed", path);
        }

        return plan;
    }

    private static JsonSerializerOptions Create(bool writeIndented)
    {
        var options = new JsonSerializerOptions
        {
            WriteIndented = writeIndented,
            NewLine = "\n",
            PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
            Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
            UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
            RespectNullableAnnotations = true,
        };
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower, allowIntegerValues: false));
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }
}
