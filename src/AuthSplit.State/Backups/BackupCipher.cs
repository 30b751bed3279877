using System.Security.Cryptography;
using System.Text.Json;
using AuthSplit.Core.Errors;

namespace AuthSplit.State.Backups;

/// <summary>
/// AES-256-GCM over a backup's canonical plaintext: a fresh 12-byte nonce each time, and the plan and entity
/// ids as associated data, so a ciphertext copied onto another entity's row fails to decrypt.
/// </summary>
internal static class BackupCipher
{
    public const string KeyMismatch = "backup-key-mismatch";
    public const int NonceSize = 12;
    public const int TagSize = 16;

    public static SealedBackup Encrypt(BackupKey key, string planId, string entityId, byte[] plaintext)
    {
        var nonce = RandomNumberGenerator.GetBytes(NonceSize);
        var ciphertext = new byte[plaintext.Length];
        var tag = new byte[TagSize];
        using var aes = new AesGcm(key.Bytes, TagSize);
        aes.Encrypt(nonce, plaintext, ciphertext, tag, AssociatedData(planId, entityId));
        return new SealedBackup(key.Fingerprint, nonce, ciphertext, tag);
    }

    public static byte[] Decrypt(BackupKey key, string planId, string entityId, SealedBackup sealedBackup, string description)
    {
        if (!string.Equals(sealedBackup.KeyFingerprint, key.Fingerprint, StringComparison.Ordinal))
        {
            throw new InputException(KeyMismatch,
                $"the backup of {entityId} (plan {planId}) was encrypted with the key {sealedBackup.KeyFingerprint}, but the configured key is {key.Fingerprint}: configure the key that was used when the backup was taken",
                description);
        }

        var plaintext = new byte[sealedBackup.Ciphertext.Length];
        try
        {
            using var aes = new AesGcm(key.Bytes, TagSize);
            aes.Decrypt(sealedBackup.Nonce, sealedBackup.Ciphertext, sealedBackup.Tag, plaintext, AssociatedData(planId, entityId));
            return plaintext;
        }
        catch (AuthenticationTagMismatchException ex)
        {
            throw new ExternalSystemException(description,
                $"the backup of {entityId} (plan {planId}) does not decrypt with the right key (backup-tampered): its row was altered or copied from another entity", ex);
        }
    }

    private static byte[] AssociatedData(string planId, string entityId) =>
        JsonSerializer.SerializeToUtf8Bytes(new[] { "authsplit-backup/1", planId, entityId });
}

internal sealed record SealedBackup(string KeyFingerprint, byte[] Nonce, byte[] Ciphertext, byte[] Tag);
