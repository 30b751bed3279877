using System.Security.Cryptography;
using System.Text;
using AuthSplit.Core.Errors;
using AuthSplit.Core.Secrets;

namespace AuthSplit.State.Backups;

/// <summary>
/// The backup key: 32 bytes, base64, from <c>State:BackupKeyEnvVar</c> or <c>State:BackupKeyFile</c> through
/// the project's <see cref="SecretLoader"/>; read when a backup is first stored or read (so <c>status</c>
/// needs no key), never written anywhere. A key file others can read is refused: the key is all that
/// stands between the database file and the personal data in it.
/// </summary>
public sealed class BackupKeyring
{
    public const string KeyMissing = "backup-key-missing";
    public const string KeyInvalid = "backup-key-invalid";
    public const string KeyExposed = "backup-key-exposed";

    private const UnixFileMode GroupOrOthers =
        UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    private readonly SecretSource _source;
    private readonly Func<string, string?>? _environment;
    private readonly Lock _gate = new();
    private BackupKey? _key;

    public BackupKeyring(SecretSource source, Func<string, string?>? environment)
    {
        _source = source;
        _environment = environment;
    }

    public static string HowToCreate(string keyFileSetting) =>
        $"create a key with `head -c 32 /dev/urandom | base64 > backup.key; chmod 600 backup.key` and name it in {keyFileSetting} (or put it in the environment variable named by State:BackupKeyEnvVar); keep a copy apart from the database: without it the backups cannot be read";

    /// <summary>The key, loaded once; an <see cref="InputException"/> when none is configured or it is unusable.</summary>
    public BackupKey Get()
    {
        lock (_gate)
        {
            return _key ??= Load();
        }
    }

    private BackupKey Load()
    {
        if (!_source.IsConfigured)
        {
            throw new InputException(KeyMissing, $"no backup key is configured, so no backup can be stored and no legacy entry will be written: {HowToCreate(_source.FileKey)}", _source.FileKey);
        }

        if (string.IsNullOrWhiteSpace(_source.Variable) && !OperatingSystem.IsWindows() && File.Exists(_source.File))
        {
            var mode = File.GetUnixFileMode(_source.File!);
            if ((mode & GroupOrOthers) != 0)
            {
                throw new InputException(KeyExposed,
                    $"can be read by users other than its owner (mode {Convert.ToString((int)mode, 8).PadLeft(4, '0')}): restrict it with chmod 600 (and consider the key seen: re-encrypting means a new key)",
                    _source.File);
            }
        }

        var secret = SecretLoader.Load(_source, _environment);
        var bytes = new byte[32];
        if (!Convert.TryFromBase64String(secret.Reveal().Trim(), bytes, out var written) || written != 32)
        {
            var where = string.IsNullOrWhiteSpace(_source.Variable) ? _source.FileKey : _source.VariableKey;
            throw new InputException(KeyInvalid, $"the backup key must be 32 bytes in base64 (44 characters): {HowToCreate(_source.FileKey)}", where);
        }

        return new BackupKey(bytes);
    }
}

/// <summary>An AES-256 key and its fingerprint (a hash that names the key in messages and in the database; it does not reveal it).</summary>
public sealed class BackupKey
{
    internal BackupKey(byte[] key)
    {
        Bytes = key;
        var digest = SHA256.HashData([.. Encoding.ASCII.GetBytes("authsplit-backup-key\n"), .. key]);
        Fingerprint = "sha256:" + Convert.ToHexStringLower(digest.AsSpan(0, 8));
    }

    internal byte[] Bytes { get; }

    public string Fingerprint { get; }

    public override string ToString() => Fingerprint;
}
