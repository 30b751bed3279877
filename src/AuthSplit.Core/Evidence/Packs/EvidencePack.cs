using System.Security.Cryptography;
using System.Text;

namespace AuthSplit.Core.Evidence.Packs;

/// <summary>
/// The pack's files, in the order they are written: the manifest, the ledger, the two CSV files, the public
/// key, and last the envelope whose statement names every one of them by its SHA-256.
/// </summary>
public static class EvidencePack
{
    /// <param name="csvLine">Formats one CSV row (the CLI's RFC 4180 writer, which also defuses spreadsheet formulas).</param>
    /// <param name="key">The signing key; null for an unsigned pack (an envelope without signatures).</param>
    /// <param name="report">The rendered <c>report.html</c>, when there is one: signed like every other file.</param>
    public static IReadOnlyList<KeyValuePair<string, byte[]>> Assemble(WaveEvidenceContent content, Func<IReadOnlyList<string?>, string> csvLine, ECDsa? key, string? report = null)
    {
        ArgumentNullException.ThrowIfNull(content);
        ArgumentNullException.ThrowIfNull(csvLine);
        string Csv(IReadOnlyList<IReadOnlyList<string?>> rows) => string.Concat(rows.Select(row => csvLine(row) + "\n"));
        var manifest = content.Manifest;
        var files = new List<KeyValuePair<string, byte[]>>
        {
            new(WaveEvidence.ManifestFile, manifest.ToJson()),
            new(WaveEvidence.LedgerFile, Encoding.UTF8.GetBytes(string.Concat(content.LedgerLines.Select(l => l + "\n")))),
            new(WaveEvidence.EntitiesFile, Encoding.UTF8.GetBytes(Csv(content.EntityRows))),
            new(WaveEvidence.ExceptionsFile, Encoding.UTF8.GetBytes(Csv(content.ExceptionRows))),
        };
        if (report is not null)
        {
            files.Add(new(WaveEvidence.ReportFile, Encoding.UTF8.GetBytes(report)));
        }

        if (key is not null)
        {
            files.Add(new(WaveEvidence.PublicKeyFile, Encoding.ASCII.GetBytes(SigningKeys.PublicKeyPem(key))));
        }

        var statement = EvidenceStatement.Build(files, Predicate(manifest));
        var envelope = key is null ? Dsse.WithoutSignature(Dsse.InTotoPayloadType, statement) : Dsse.Sign(Dsse.InTotoPayloadType, statement, key);
        files.Add(new(WaveEvidence.EnvelopeFile, Dsse.Serialize(envelope)));
        return files;
    }

    /// <summary>Re-signs a pack's files as they are now (a new statement over their digests), with <paramref name="withPublicKey"/> replacing the pack's public key by <paramref name="key"/>'s: what a forger does, and what tests of the verifier need.</summary>
    public static IReadOnlyList<KeyValuePair<string, byte[]>> Resign(IReadOnlyDictionary<string, byte[]> files, EvidencePredicate predicate, ECDsa key, bool withPublicKey)
    {
        ArgumentNullException.ThrowIfNull(files);
        ArgumentNullException.ThrowIfNull(key);
        var result = files.Where(f => f.Key != WaveEvidence.EnvelopeFile && !(withPublicKey && f.Key == WaveEvidence.PublicKeyFile)).ToList();
        if (withPublicKey)
        {
            result.Add(new(WaveEvidence.PublicKeyFile, Encoding.ASCII.GetBytes(SigningKeys.PublicKeyPem(key))));
        }

        var statement = EvidenceStatement.Build(result, predicate);
        result.Add(new(WaveEvidence.EnvelopeFile, Dsse.Serialize(Dsse.Sign(Dsse.InTotoPayloadType, statement, key))));
        return result;
    }

    public static EvidencePredicate Predicate(EvidenceManifest manifest)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        return new EvidencePredicate(manifest.Wave, manifest.PlanId, manifest.ExportedAt, manifest.Ledger.Lines, manifest.Ledger.LastHash, manifest.Signing.KeyFingerprint);
    }
}
