using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace AuthSplit.Core.Evidence.Packs;

/// <summary>
/// The in-toto Statement v1 (github.com/in-toto/attestation, spec/v1/statement.md) the envelope signs: its
/// subjects are the pack's files by name and SHA-256, its predicate what the pack is about (wave, plan,
/// the ledger's last hash), so one signature covers every file.
/// </summary>
public static class EvidenceStatement
{
    public const string StatementType = "https://in-toto.io/Statement/v1";

    public const string PredicateType = "https://github.com/authsplit/authsplit/evidence/wave-completion/v1";

    /// <summary>The statement's bytes (compact JSON, subjects in the order given).</summary>
    public static byte[] Build(IEnumerable<KeyValuePair<string, byte[]>> files, EvidencePredicate predicate)
    {
        ArgumentNullException.ThrowIfNull(files);
        ArgumentNullException.ThrowIfNull(predicate);
        var subjects = new JsonArray();
        foreach (var (name, content) in files)
        {
            subjects.Add(new JsonObject { ["name"] = name, ["digest"] = new JsonObject { ["sha256"] = Convert.ToHexStringLower(SHA256.HashData(content)) } });
        }

        var statement = new JsonObject
        {
            ["_type"] = StatementType,
            ["subject"] = subjects,
            ["predicateType"] = PredicateType,
            ["predicate"] = JsonSerializer.SerializeToNode(predicate, EvidenceManifest.JsonOptions),
        };
        return Encoding.UTF8.GetBytes(statement.ToJsonString());
    }

    /// <summary>Reads a statement back; throws <see cref="FormatException"/> when it is not one of ours.</summary>
    public static ParsedStatement Parse(ReadOnlySpan<byte> payload)
    {
        try
        {
            var root = JsonNode.Parse(payload) as JsonObject ?? throw new FormatException("the statement is not a JSON object");
            if (root["_type"]?.GetValue<string>() != StatementType)
            {
                throw new FormatException($"_type is not {StatementType}");
            }

            if (root["predicateType"]?.GetValue<string>() != PredicateType)
            {
                throw new FormatException($"predicateType is not {PredicateType}");
            }

            var subjects = new List<KeyValuePair<string, string>>();
            foreach (var subject in root["subject"] as JsonArray ?? throw new FormatException("the statement has no subject list"))
            {
                var name = subject?["name"]?.GetValue<string>() ?? throw new FormatException("a subject without a name");
                var digest = subject["digest"]?["sha256"]?.GetValue<string>() ?? throw new FormatException($"subject {name} has no sha256 digest");
                subjects.Add(new(name, digest));
            }

            var predicate = root["predicate"].Deserialize<EvidencePredicate>(EvidenceManifest.JsonOptions) ?? throw new FormatException("the statement has no predicate");
            return new ParsedStatement(subjects, predicate);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            throw new FormatException($"the statement is malformed: {ex.Message}", ex);
        }
    }
}

/// <summary>What the signer states beside the file digests: the wave, its plan, and the ledger's end the pack stops at.</summary>
public sealed record EvidencePredicate(string Wave, string PlanId, string ExportedAt, long LedgerLines, string LedgerLastHash, string? KeyFingerprint);

public sealed record ParsedStatement(IReadOnlyList<KeyValuePair<string, string>> Subjects, EvidencePredicate Predicate);
