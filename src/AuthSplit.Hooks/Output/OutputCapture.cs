using System.Security.Cryptography;

namespace AuthSplit.Hooks.Output;

/// <summary>
/// What a hook printed, in bounded memory: a SHA-256 of every byte, the first bytes for the excerpt, and
/// the count. The head keeps a margin beyond the excerpt so that a secret starting inside the excerpt is
/// seen whole when it is masked.
/// </summary>
internal sealed class OutputCapture(int headLimit) : IDisposable
{
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly byte[] _head = new byte[headLimit];
    private int _headLength;

    public long TotalBytes { get; private set; }

    public ReadOnlySpan<byte> Head => _head.AsSpan(0, _headLength);

    public void Append(ReadOnlySpan<byte> data)
    {
        _hash.AppendData(data);
        var room = _head.Length - _headLength;
        if (room > 0)
        {
            var take = Math.Min(room, data.Length);
            data[..take].CopyTo(_head.AsSpan(_headLength));
            _headLength += take;
        }

        TotalBytes += data.Length;
    }

    /// <summary><c>sha256:</c> and the lower-case hex of everything appended.</summary>
    public string Sha256() => "sha256:" + Convert.ToHexStringLower(_hash.GetCurrentHash());

    public void Dispose() => _hash.Dispose();
}
