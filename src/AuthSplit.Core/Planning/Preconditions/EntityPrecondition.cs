using System.Buffers;
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using AuthSplit.Core.Directory;
using AuthSplit.Core.Model;
using AuthSplit.Core.Planning.Format;

namespace AuthSplit.Core.Planning.Preconditions;

/// <summary>How an entry compares with the precondition a plan recorded for it.</summary>
public enum PreconditionCheck
{
    /// <summary>Same DN, same values of every attribute the plan relied on: the plan still applies.</summary>
    Holds,
    /// <summary>The entry is at another DN (renamed or moved): stale.</summary>
    Moved,
    /// <summary>An attribute the plan relied on changed: stale.</summary>
    Changed,
}

/// <summary>
/// The precondition of an entity: its normalised DN and a fingerprint of every attribute the plan relied
/// on (<see cref="PlanSettings.FingerprintAttributes"/>). The planner records it; the executor recomputes
/// it from the entry it reads just before acting, with this same code, and stops the entity as stale
/// when it no longer holds. An instance reuses one buffer and is not thread-safe.
/// </summary>
public sealed class EntityPrecondition
{
    private readonly IReadOnlyList<string> _attributes;
    private readonly ArrayBufferWriter<byte> _canonical = new(1024);

    /// <param name="fingerprintAttributes">The attributes the plan relied on, as the plan's settings list them.</param>
    public EntityPrecondition(IReadOnlyList<string> fingerprintAttributes)
    {
        _attributes = fingerprintAttributes;
    }

    public static Precondition Compute(DirectoryEntry entry, IReadOnlyList<string> fingerprintAttributes) =>
        new EntityPrecondition(fingerprintAttributes).Of(entry);

    public static bool Matches(Precondition recorded, DirectoryEntry current, IReadOnlyList<string> fingerprintAttributes) =>
        new EntityPrecondition(fingerprintAttributes).Check(recorded, current) == PreconditionCheck.Holds;

    /// <exception cref="ArgumentException">The entry's DN is not a valid DN.</exception>
    public Precondition Of(DirectoryEntry entry)
    {
        if (!DistinguishedName.TryParse(entry.Dn, out var dn, out var error))
        {
            throw new ArgumentException($"entry DN \"{entry.Dn}\" is not a valid DN: {error}", nameof(entry));
        }

        return Of(entry, dn);
    }

    public Precondition Of(DirectoryEntry entry, DistinguishedName dn) => new(dn.Normalized, Fingerprint(entry, dn));

    public PreconditionCheck Check(Precondition recorded, DirectoryEntry current)
    {
        if (!DistinguishedName.TryParse(current.Dn, out var dn, out _) || !string.Equals(dn.Normalized, recorded.Dn, StringComparison.Ordinal))
        {
            return PreconditionCheck.Moved;
        }

        return string.Equals(Fingerprint(current, dn), recorded.Sha256, StringComparison.Ordinal) ? PreconditionCheck.Holds : PreconditionCheck.Changed;
    }

    // The fingerprint covers the normalised DN and every attribute the plan relied on, with values
    // sorted (directories do not promise value order) and base64-encoded (values may be binary):
    // "<dn>\n<attribute>=<b64>[,<b64>...]\n..." hashed with SHA-256. Built in one reused buffer,
    // since it runs for every entry in scope.
    private string Fingerprint(DirectoryEntry entry, DistinguishedName dn)
    {
        var text = _canonical;
        text.ResetWrittenCount();
        AppendUtf8(text, dn.Normalized);
        text.Write("\n"u8);
        foreach (var attribute in _attributes)
        {
            var raw = entry.GetValues(attribute);
            AppendUtf8(text, attribute);
            text.Write("="u8);
            if (raw.Count == 1)
            {
                AppendBase64(text, raw[0]);
            }
            else if (raw.Count > 1)
            {
                // Ordinal order of the base64 text, which for ASCII is the order of its bytes.
                var encoded = new byte[raw.Count][];
                for (var i = 0; i < raw.Count; i++)
                {
                    var scratch = new ArrayBufferWriter<byte>(Base64.GetMaxEncodedToUtf8Length(raw[i].Length));
                    AppendBase64(scratch, raw[i]);
                    encoded[i] = scratch.WrittenSpan.ToArray();
                }

                Array.Sort(encoded, static (a, b) => a.AsSpan().SequenceCompareTo(b));
                for (var i = 0; i < encoded.Length; i++)
                {
                    if (i > 0)
                    {
                        text.Write(","u8);
                    }

                    text.Write(encoded[i]);
                }
            }

            text.Write("\n"u8);
        }

        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(text.WrittenSpan, hash);
        return "sha256:" + Convert.ToHexStringLower(hash);
    }

    private static void AppendUtf8(ArrayBufferWriter<byte> buffer, string text)
    {
        var written = Encoding.UTF8.GetBytes(text, buffer.GetSpan(Encoding.UTF8.GetMaxByteCount(text.Length)));
        buffer.Advance(written);
    }

    private static void AppendBase64(ArrayBufferWriter<byte> buffer, byte[] value)
    {
        var span = buffer.GetSpan(Base64.GetMaxEncodedToUtf8Length(value.Length));
        Base64.EncodeToUtf8(value, span, out _, out var written);
        buffer.Advance(written);
    }
}
