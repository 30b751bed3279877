using System.Data.Common;
using AuthSplit.Core.Execution;
using AuthSplit.State.Backups;
using AuthSplit.State.Storage;

namespace AuthSplit.State;

public sealed partial class AdoExecutionStore
{
    public Task<EntryBackup> StoreBackupAsync(EntryBackup backup, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(backup);

        // The key first: without one nothing is stored, and the executor writes nothing to the legacy entry.
        var key = _keyring.Get();
        var plaintext = BackupDocument.Write(backup);
        var sealedBackup = BackupCipher.Encrypt(key, backup.PlanId, backup.EntityId, plaintext);
        return WriteAsync(async (connection, transaction) =>
        {
            await using (var select = Sql.Command(connection, transaction, _dialect.SelectBackup, ("@plan_id", backup.PlanId), ("@entity_id", backup.EntityId)))
            await using (var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
            {
                if (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    // The first backup holds the entry as it was before the first legacy write: it is kept.
                    return Open(key, reader);
                }
            }

            await ExecuteAsync(connection, transaction, _dialect.InsertBackup, cancellationToken,
                ("@plan_id", backup.PlanId), ("@entity_id", backup.EntityId), ("@wave", backup.Wave),
                ("@taken_at", Sql.Time(backup.TakenAt)), ("@stored_at", Sql.Time(_time.GetUtcNow())),
                ("@sha256", BackupDocument.Hash(plaintext)), ("@key_fingerprint", sealedBackup.KeyFingerprint),
                ("@nonce", sealedBackup.Nonce), ("@ciphertext", sealedBackup.Ciphertext), ("@tag", sealedBackup.Tag)).ConfigureAwait(false);
            return BackupDocument.Read(plaintext);
        }, cancellationToken);
    }

    public Task<EntryBackup?> GetBackupAsync(string entityId, CancellationToken cancellationToken) =>
        ReadAsync(async connection =>
        {
            await using var command = Sql.Command(connection, null, _dialect.SelectNewestBackup, ("@entity_id", entityId));
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? Open(_keyring.Get(), reader) : null;
        }, cancellationToken);

    // Columns of StandardDialect's backup selects: plan_id, entity_id, wave, taken_at, stored_at, sha256, key_fingerprint, nonce, ciphertext, tag.
    private EntryBackup Open(BackupKey key, DbDataReader reader)
    {
        var planId = reader.GetString(0);
        var entityId = reader.GetString(1);
        var sealedBackup = new SealedBackup(reader.GetString(6), Sql.Bytes(reader, 7), Sql.Bytes(reader, 8), Sql.Bytes(reader, 9));
        var backup = BackupDocument.Read(BackupCipher.Decrypt(key, planId, entityId, sealedBackup, Description));
        return backup.Sha256 == reader.GetString(5)
            ? backup
            : throw new Core.Errors.ExternalSystemException(Description, $"the backup of {entityId} (plan {planId}) decrypts to content whose hash is not the one recorded (backup-tampered)");
    }
}
