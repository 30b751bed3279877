using System.Text;
using AuthSplit.Core.Directory;
using AuthSplit.Core.Model;

namespace AuthSplit.Ldap.Ldif;

/// <summary>
/// Writes entries as LDIF content records (RFC 2849), the format of <c>--save-snapshot</c>: a
/// <c>version: 1</c> header, attributes in the order the entry holds them, a value base64-encoded
/// (<c>::</c>) when it is binary or not a safe ASCII string, lines folded at 76 columns like ldapsearch
/// (or not at all). <see cref="LdifReader"/> reads every file this writes back to identical entries.
/// <see cref="CompleteAsync"/> ends the file with <c># numEntries: N</c> as ldapsearch does, and the header
/// says a snapshot has one, so the reader refuses a snapshot that was cut off, even at a record boundary,
/// or never finished (a writer disposed without <see cref="CompleteAsync"/> writes no trailer).
/// </summary>
public sealed class LdifWriter : IAsyncDisposable
{
    private const int DefaultWrapColumn = 76;
    private readonly StreamWriter _writer;
    private readonly int _wrapColumn;
    private bool _headerWritten;
    private bool _completed;
    private int _count;

    /// <summary>The comment after <c>version: 1</c> that makes the <c># numEntries:</c> trailer mandatory.</summary>
    public const string SnapshotMarker = "# AuthSplit snapshot:";

    /// <param name="stream">Left open when the writer is disposed.</param>
    /// <param name="wrapColumn">Fold lines longer than this; 0 for no folding.</param>
    public LdifWriter(Stream stream, int wrapColumn = DefaultWrapColumn)
    {
        _writer = new StreamWriter(stream, new UTF8Encoding(false), 1 << 16, leaveOpen: true) { NewLine = "\n" };
        _wrapColumn = wrapColumn;
    }

    public async ValueTask WriteAsync(DirectoryEntry entry, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        cancellationToken.ThrowIfCancellationRequested();
        ThrowIfCompleted();
        await WriteHeaderAsync();

        WriteLine("dn", Encoding.UTF8.GetBytes(entry.Dn), binary: false);
        foreach (var (name, values) in entry.Attributes)
        {
            var binary = AttributeSyntax.IsBinary(name);
            foreach (var value in values)
            {
                WriteLine(name, value, binary);
            }
        }

        await _writer.WriteAsync('\n');
        _count++;
    }

    /// <summary>Writes the trailer that proves the snapshot complete; call it once every entry is written.</summary>
    public async ValueTask CompleteAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        ThrowIfCompleted();
        await WriteHeaderAsync();
        await _writer.WriteAsync(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"# numEntries: {_count}\n"));
        _completed = true;
    }

    private void ThrowIfCompleted()
    {
        if (_completed)
        {
            throw new InvalidOperationException("the snapshot already has its trailer; nothing may follow it");
        }
    }

    private async ValueTask WriteHeaderAsync()
    {
        if (!_headerWritten)
        {
            // slapadd 2.5 takes the first line only if it is "version: 1" (the lab strips it), so the marker comes second.
            await _writer.WriteAsync($"version: 1\n{SnapshotMarker} complete only with the '# numEntries:' line at its end\n\n");
            _headerWritten = true;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _writer.FlushAsync();
        await _writer.DisposeAsync();
    }

    private void WriteLine(string name, byte[] value, bool binary)
    {
        var line = binary || !IsSafeString(value)
            ? name + ":: " + Convert.ToBase64String(value)
            : value.Length == 0 ? name + ":" : name + ": " + Encoding.ASCII.GetString(value);
        if (_wrapColumn <= 0 || line.Length <= _wrapColumn)
        {
            _writer.Write(line);
            _writer.Write('\n');
            return;
        }

        _writer.Write(line.AsSpan(0, _wrapColumn));
        _writer.Write('\n');
        for (var offset = _wrapColumn; offset < line.Length; offset += _wrapColumn - 1)
        {
            _writer.Write(' ');
            _writer.Write(line.AsSpan(offset, Math.Min(_wrapColumn - 1, line.Length - offset)));
            _writer.Write('\n');
        }
    }

    // RFC 2849 SAFE-STRING: ASCII without NUL, CR, LF; not starting with space, ':' or '<'. A trailing
    // space is base64 too, because readers strip it.
    private static bool IsSafeString(byte[] value)
    {
        if (value.Length == 0)
        {
            return true;
        }

        if (value[0] is (byte)' ' or (byte)':' or (byte)'<' || value[^1] == ' ')
        {
            return false;
        }

        foreach (var b in value)
        {
            if (b is 0 or (byte)'\n' or (byte)'\r' or >= 0x80)
            {
                return false;
            }
        }

        return true;
    }
}
