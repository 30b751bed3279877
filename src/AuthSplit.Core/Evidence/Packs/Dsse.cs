using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace AuthSplit.Core.Evidence.Packs;

/// <summary>
/// Dead Simple Signing Envelope (DSSE v1, github.com/secure-systems-lab/dsse): the payload is signed
/// through its pre-authentication encoding, so a verifier never parses unsigned bytes. The signature is
/// ECDSA P-256 over SHA-256 in DER (RFC 3279), the form <c>openssl dgst -sha256 -verify</c> takes.
/// </summary>
public static class Dsse
{
    // The payload type as an auditor reads it ("application/vnd.in-toto+json", not "\u002B"): the envelope holds only ASCII.
    private static readonly JsonSerializerOptions EnvelopeJson = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The payload type of an in-toto Statement.</summary>
    public const string InTotoPayloadType = "application/vnd.in-toto+json";

    /// <summary><c>"DSSEv1" SP LEN(type) SP type SP LEN(body) SP body</c>, lengths as ASCII decimal byte counts.</summary>
    public static byte[] PreAuthenticationEncoding(string payloadType, ReadOnlySpan<byte> payload)
    {
        ArgumentNullException.ThrowIfNull(payloadType);
        var type = Encoding.UTF8.GetBytes(payloadType);
        var head = Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"DSSEv1 {type.Length} "));
        var middle = Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $" {payload.Length} "));
        var result = new byte[head.Length + type.Length + middle.Length + payload.Length];
        head.CopyTo(result, 0);
        type.CopyTo(result, head.Length);
        middle.CopyTo(result, head.Length + type.Length);
        payload.CopyTo(result.AsSpan(head.Length + type.Length + middle.Length));
        return result;
    }

    /// <summary>Signs <paramref name="payload"/> with <paramref name="key"/> (P-256): one signature, its key id the key's fingerprint.</summary>
    public static DsseEnvelope Sign(string payloadType, byte[] payload, ECDsa key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var signature = key.SignData(PreAuthenticationEncoding(payloadType, payload), HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
        return new DsseEnvelope(payloadType, payload, [new DsseSignature(SigningKeys.Fingerprint(key), signature)]);
    }

    /// <summary>An envelope with no signature: what <c>--unsigned</c> exports (digests checkable, authorship not).</summary>
    public static DsseEnvelope WithoutSignature(string payloadType, byte[] payload) => new(payloadType, payload, []);

    /// <summary>Whether <paramref name="signature"/> is <paramref name="key"/>'s signature of the envelope's PAE.</summary>
    public static bool Verify(DsseEnvelope envelope, DsseSignature signature, ECDsa key)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        ArgumentNullException.ThrowIfNull(signature);
        ArgumentNullException.ThrowIfNull(key);
        var pae = PreAuthenticationEncoding(envelope.PayloadType, envelope.Payload);
        return key.VerifyData(pae, signature.Signature, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
    }

    public static byte[] Serialize(DsseEnvelope envelope)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        var signatures = new JsonArray();
        foreach (var signature in envelope.Signatures)
        {
            signatures.Add(new JsonObject { ["keyid"] = signature.KeyId, ["sig"] = Convert.ToBase64String(signature.Signature) });
        }

        var json = new JsonObject
        {
            ["payload"] = Convert.ToBase64String(envelope.Payload),
            ["payloadType"] = envelope.PayloadType,
            ["signatures"] = signatures,
        };
        return Encoding.UTF8.GetBytes(json.ToJsonString(EnvelopeJson) + "\n");
    }

    /// <summary>Reads an envelope; a malformed one throws <see cref="FormatException"/> saying what is wrong.</summary>
    public static DsseEnvelope Parse(ReadOnlySpan<byte> json)
    {
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(json);
        }
        catch (JsonException ex)
        {
            throw new FormatException($"not JSON: {ex.Message}", ex);
        }

        if (root is not JsonObject envelope
            || envelope["payloadType"] is not JsonValue typeValue || !typeValue.TryGetValue<string>(out var type)
            || envelope["payload"] is not JsonValue payloadValue || !payloadValue.TryGetValue<string>(out var payload)
            || envelope["signatures"] is not JsonArray signatures)
        {
            throw new FormatException("a DSSE envelope needs payloadType, payload and signatures");
        }

        try
        {
            var list = new List<DsseSignature>();
            foreach (var node in signatures)
            {
                var keyId = node?["keyid"]?.GetValue<string>() ?? string.Empty;
                var sig = node?["sig"]?.GetValue<string>() ?? throw new FormatException("a signature without sig");
                list.Add(new DsseSignature(keyId, Convert.FromBase64String(sig)));
            }

            return new DsseEnvelope(type, Convert.FromBase64String(payload), list);
        }
        catch (Exception ex) when (ex is InvalidOperationException or FormatException)
        {
            throw new FormatException($"the envelope's payload or a signature is not base64: {ex.Message}", ex);
        }
    }
}

public sealed record DsseEnvelope(string PayloadType, byte[] Payload, IReadOnlyList<DsseSignature> Signatures);

/// <summary>One signature: the signer's key id (<c>sha256:</c> of its SubjectPublicKeyInfo) and the DER signature.</summary>
public sealed record DsseSignature(string KeyId, byte[] Signature);

/// <summary>The evidence signing key: ECDSA P-256 only, so every verifier (openssl included) takes it.</summary>
public static class SigningKeys
{
    /// <summary><c>sha256:</c> and the hex SHA-256 of the key's DER SubjectPublicKeyInfo: <c>openssl pkey -pubin -outform DER | sha256sum</c>.</summary>
    public static string Fingerprint(ECDsa key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return LedgerChain.HashPrefix + Convert.ToHexStringLower(SHA256.HashData(key.ExportSubjectPublicKeyInfo()));
    }

    /// <summary>The public half as PEM (<c>-----BEGIN PUBLIC KEY-----</c>).</summary>
    public static string PublicKeyPem(ECDsa key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return key.ExportSubjectPublicKeyInfoPem() + "\n";
    }

    /// <summary>
    /// Reads a PEM key (PKCS#8 private key, SEC1 EC private key, or SubjectPublicKeyInfo). Throws
    /// <see cref="FormatException"/> when it is not a P-256 key; the message never holds key material.
    /// </summary>
    public static ECDsa Import(string pem)
    {
        var key = ECDsa.Create();
        try
        {
            key.ImportFromPem(pem);
        }
        catch (Exception ex) when (ex is ArgumentException or CryptographicException)
        {
            key.Dispose();
            throw new FormatException("not a PEM EC key (expected -----BEGIN PRIVATE KEY----- holding a P-256 key, or -----BEGIN PUBLIC KEY-----)", ex);
        }

        var curve = key.ExportParameters(false).Curve.Oid;
        if (key.KeySize != 256 || !(curve.Value == "1.2.840.10045.3.1.7" || curve.FriendlyName is "nistP256" or "ECDSA_P256" or "prime256v1" or "secp256r1"))
        {
            key.Dispose();
            throw new FormatException("the key is not on the P-256 curve (prime256v1)");
        }

        return key;
    }
}
