using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace AuthSplit.Core.Evidence.Packs;

/// <summary>What is wrong with a pack, by a stable code (<c>ledger-edited</c>, <c>file-edited</c>…) and a sentence naming the file or record.</summary>
public sealed record PackFinding(string Code, string Message)
{
    public override string ToString() => $"{Code}: {Message}";
}

/// <summary>The result of <see cref="PackVerifier.Verify"/>; the pack is good only when <see cref="Findings"/> is empty.</summary>
public sealed record PackVerification(IReadOnlyList<PackFinding> Findings, string? KeyFingerprint, EvidenceManifest? Manifest, long LedgerLines, string? LedgerLastHash)
{
    public bool IsValid => Findings.Count == 0;
}

/// <summary>
/// Verifies an exported pack offline from its files alone: the DSSE signature over the in-toto statement
/// (and, when the auditor names one, that the key is the trusted one), every file's SHA-256 against the
/// statement, the ledger's chain recomputed with <see cref="LedgerChain"/> as the store computes it, the
/// ledger's end against the signed one (a cut or an addition), and the manifest's counts against those
/// recomputed from the ledger. Every fault found is reported, the most specific first: a record named by
/// the chain before the file digest that merely shows the file changed.
/// </summary>
public static class PackVerifier
{
    public static PackVerification Verify(IReadOnlyDictionary<string, byte[]> files, string? trustedFingerprint)
    {
        ArgumentNullException.ThrowIfNull(files);
        var key = new List<PackFinding>();
        var ledger = new List<PackFinding>();
        var digests = new List<PackFinding>();
        var content = new List<PackFinding>();
        PackVerification Result(string? fingerprint, EvidenceManifest? manifest, long lines, string? lastHash) =>
            new([.. key, .. ledger, .. digests, .. content], fingerprint, manifest, lines, lastHash);

        if (!files.TryGetValue(WaveEvidence.EnvelopeFile, out var envelopeBytes))
        {
            key.Add(new("pack-malformed", $"{WaveEvidence.EnvelopeFile} is missing: nothing in the pack is signed"));
            return Result(null, null, 0, null);
        }

        DsseEnvelope envelope;
        ParsedStatement statement;
        try
        {
            envelope = Dsse.Parse(envelopeBytes);
            if (envelope.PayloadType != Dsse.InTotoPayloadType)
            {
                throw new FormatException($"payloadType is \"{envelope.PayloadType}\", not {Dsse.InTotoPayloadType}");
            }

            statement = EvidenceStatement.Parse(envelope.Payload);
        }
        catch (FormatException ex)
        {
            key.Add(new("pack-malformed", $"{WaveEvidence.EnvelopeFile}: {ex.Message}"));
            return Result(null, null, 0, null);
        }

        var fingerprint = CheckSignature(files, envelope, trustedFingerprint, key);
        if (fingerprint is not null && statement.Predicate.KeyFingerprint != fingerprint)
        {
            key.Add(new("key-mismatch", $"the statement names key {statement.Predicate.KeyFingerprint ?? "(none)"} but {WaveEvidence.PublicKeyFile} is {fingerprint}"));
        }

        // Every file of the pack is signed, and nothing else is in it.
        var signed = new HashSet<string>(StringComparer.Ordinal) { WaveEvidence.EnvelopeFile };
        foreach (var (name, digest) in statement.Subjects)
        {
            signed.Add(name);
            if (!files.TryGetValue(name, out var bytes))
            {
                digests.Add(new("file-missing", $"{name} is signed but not in the pack"));
            }
            else if (Convert.ToHexStringLower(SHA256.HashData(bytes)) is var actual && actual != digest)
            {
                digests.Add(new("file-edited", $"{name} was changed after it was signed{(name == WaveEvidence.ManifestFile ? " (manifest edited)" : "")}: its sha256 is {actual}, the signed statement says {digest}"));
            }
        }

        foreach (var name in files.Keys.Where(n => !signed.Contains(n)).Order(StringComparer.Ordinal))
        {
            digests.Add(new("file-unexpected", $"{name} is in the pack but not signed"));
        }

        EvidenceManifest? manifest = null;
        if (files.TryGetValue(WaveEvidence.ManifestFile, out var manifestBytes))
        {
            try
            {
                manifest = EvidenceManifest.Parse(manifestBytes);
            }
            catch (JsonException ex)
            {
                content.Add(new("manifest-malformed", $"{WaveEvidence.ManifestFile} is not a manifest (manifest edited): {ex.Message}"));
            }
        }

        if (!files.TryGetValue(WaveEvidence.LedgerFile, out var ledgerBytes))
        {
            return Result(fingerprint, manifest, 0, null);
        }

        var read = PackLedger.Parse(ledgerBytes);
        if (read.Malformed is not null)
        {
            ledger.Add(new("ledger-edited", read.Malformed));
        }

        var chain = LedgerChain.Verify(read.Records, read.Withheld.Contains);
        if (chain.Fault is { } fault)
        {
            ledger.Add(new(CodeOf(fault.Kind), fault.Message));
        }
        else
        {
            CheckEnd(read.Records, chain.LastHash, statement.Predicate.LedgerLines, statement.Predicate.LedgerLastHash, "the signed statement", ledger);
        }

        if (manifest is not null)
        {
            CheckManifest(manifest, statement.Predicate, read, chain, content);
        }

        return Result(fingerprint, manifest, read.Records.Count, chain.IsIntact ? chain.LastHash : null);
    }

    private static string? CheckSignature(IReadOnlyDictionary<string, byte[]> files, DsseEnvelope envelope, string? trustedFingerprint, List<PackFinding> findings)
    {
        if (envelope.Signatures.Count == 0)
        {
            findings.Add(new("unsigned", "the pack is unsigned (exported with --unsigned): nothing shows who made it or that it was not remade afterwards"));
            return null;
        }

        if (!files.TryGetValue(WaveEvidence.PublicKeyFile, out var pem))
        {
            findings.Add(new("pack-malformed", $"{WaveEvidence.PublicKeyFile} is missing: the signature cannot be checked"));
            return null;
        }

        using var key = ImportPublic(pem, findings);
        if (key is null)
        {
            return null;
        }

        var fingerprint = SigningKeys.Fingerprint(key);
        if (trustedFingerprint is not null && !string.Equals(trustedFingerprint, fingerprint, StringComparison.OrdinalIgnoreCase))
        {
            findings.Add(new("key-untrusted", $"signed with another key: the pack's key is {fingerprint}, the trusted key is {trustedFingerprint}"));
        }

        var signature = envelope.Signatures[0];
        if (!Dsse.Verify(envelope, signature, key))
        {
            findings.Add(new("signature-invalid", signature.KeyId != fingerprint
                ? $"signed with another key: the signature is by {signature.KeyId}, not by {WaveEvidence.PublicKeyFile} ({fingerprint})"
                : $"the signature does not verify under {WaveEvidence.PublicKeyFile} ({fingerprint}): the statement was altered or signed with another key"));
        }

        return fingerprint;
    }

    private static ECDsa? ImportPublic(byte[] pem, List<PackFinding> findings)
    {
        var text = Encoding.UTF8.GetString(pem);
        if (text.Contains("PRIVATE KEY", StringComparison.Ordinal))
        {
            findings.Add(new("pack-malformed", $"{WaveEvidence.PublicKeyFile} holds a private key: the pack must carry only the public half"));
            return null;
        }

        try
        {
            return SigningKeys.Import(text);
        }
        catch (FormatException ex)
        {
            findings.Add(new("pack-malformed", $"{WaveEvidence.PublicKeyFile}: {ex.Message}"));
            return null;
        }
    }

    /// <summary>An intact chain that ends elsewhere than where the signer said: cut short, added to, or rewritten with new hashes.</summary>
    private static void CheckEnd(IReadOnlyList<Execution.LedgerRecord> records, string lastHash, long expectedLines, string expectedHash, string source, List<PackFinding> findings)
    {
        if (records.Count == expectedLines && lastHash == expectedHash)
        {
            return;
        }

        if (records.Count < expectedLines)
        {
            findings.Add(new("ledger-truncated", $"the ledger was truncated: it ends at record {records.Count} ({lastHash}), {source} says it ends at record {expectedLines} ({expectedHash})"));
        }
        else if (records.Count > expectedLines && expectedLines >= 0 && (expectedLines == 0 ? LedgerChain.Genesis : records[(int)expectedLines - 1].Hash) == expectedHash)
        {
            findings.Add(new("ledger-appended", $"records were appended: record {expectedLines + 1} and after ({records.Count - expectedLines} in all) are not in what {source} covers, which ends at record {expectedLines} ({expectedHash})"));
        }
        else
        {
            findings.Add(new("ledger-edited", $"the ledger was rewritten with recomputed hashes: its chain ends at record {records.Count} ({lastHash}), {source} says record {expectedLines} ({expectedHash})"));
        }
    }

    private static void CheckManifest(EvidenceManifest manifest, EvidencePredicate predicate, PackLedgerRead read, LedgerVerification chain, List<PackFinding> findings)
    {
        if (manifest.Wave != predicate.Wave || manifest.PlanId != predicate.PlanId)
        {
            findings.Add(new("manifest-mismatch", $"the manifest is of wave {manifest.Wave}, plan {manifest.PlanId}; the signed statement of wave {predicate.Wave}, plan {predicate.PlanId}"));
        }

        if (manifest.Ledger.Lines != predicate.LedgerLines || manifest.Ledger.LastHash != predicate.LedgerLastHash)
        {
            findings.Add(new("manifest-mismatch", $"the manifest's ledger ends at record {manifest.Ledger.Lines} ({manifest.Ledger.LastHash}), the signed statement's at {predicate.LedgerLines} ({predicate.LedgerLastHash})"));
        }

        var whole = read.Whole.ToList();
        if (manifest.Ledger.WaveRecords != whole.Count || manifest.Ledger.Withheld != read.Withheld.Count)
        {
            findings.Add(new("counts-mismatch", $"the manifest says {manifest.Ledger.WaveRecords} whole and {manifest.Ledger.Withheld} withheld records, ledger.jsonl holds {whole.Count} and {read.Withheld.Count}"));
        }

        if (chain.IsIntact && whole.Count > 0 && manifest.Ledger.FirstHash != whole[0].Hash)
        {
            findings.Add(new("counts-mismatch", $"the manifest's first record of the wave is {manifest.Ledger.FirstHash}, ledger.jsonl's is {whole[0].Hash}"));
        }

        var recomputed = LedgerCounts.Of(whole, manifest.Wave, manifest.PlanId);
        foreach (var difference in manifest.Counts.Differences(recomputed, "in the manifest", "recomputed from the ledger"))
        {
            findings.Add(new("counts-mismatch", $"the manifest's counts disagree with the ledger: {difference}"));
        }
    }

    private static string CodeOf(LedgerFaultKind kind) => kind switch
    {
        LedgerFaultKind.Edited => "ledger-edited",
        LedgerFaultKind.Removed => "ledger-missing",
        LedgerFaultKind.Reordered => "ledger-reordered",
        LedgerFaultKind.Inserted => "ledger-inserted",
        _ => "ledger-broken",
    };
}
