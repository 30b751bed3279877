using System.Text;
using System.Text.Unicode;
using AuthSplit.Core.Errors;

namespace AuthSplit.Ldap.Ldif;

/// <summary>
/// Splits an LDIF file into physical lines and checks each one on its own, so that a byte that is not
/// valid text is reported at its own line (a <see cref="StreamReader"/> decodes 64 KB ahead and fails
/// at whichever line it happened to be reading). The encoding comes from the byte order mark: none or
/// UTF-8's is UTF-8 (what RFC 2849 and ldapsearch write), FF FE is UTF-16 LE (<c>ldifde -u</c>), FE FF
/// is UTF-16 BE. Line ends are LF or CR LF.
/// </summary>
internal sealed class LdifLineReader
{
    private readonly Stream _stream;
    private readonly string _path;
    private byte[] _buffer = new byte[1 << 16];
    // A UTF-16 file's line, re-encoded as UTF-8.
    private byte[] _utf8 = [];
    private int _start;
    private int _end;
    private bool _eof;
    private bool _started;
    private Encoding _encoding = Strict.Utf8;
    private int _unit = 1;
    private bool _bigEndian;

    public LdifLineReader(Stream stream, string path)
    {
        _stream = stream;
        _path = path;
    }

    /// <summary>The number (from 1) of the line <see cref="ReadLine"/> or <see cref="TryReadLine"/> returned last.</summary>
    public int LineNumber { get; private set; }

    /// <summary>False when the file's last line has no line end: the file stops in the middle of a line.</summary>
    public bool LastLineTerminated { get; private set; } = true;

    /// <summary>The next line without its line end, or null at the end of the file.</summary>
    public string? ReadLine() => TryReadLine(out var line) ? Encoding.UTF8.GetString(line) : null;

    /// <summary>
    /// The next line as UTF-8 without its line end (valid until the next call), or false at the end of
    /// the file. A UTF-8 file's line is checked where it lies in the buffer, without decoding it (the
    /// check is a vector scan while the bytes are ASCII); a UTF-16 file's line is decoded and re-encoded.
    /// </summary>
    public bool TryReadLine(out ReadOnlySpan<byte> line)
    {
        if (!_started)
        {
            DetectEncoding();
        }

        var searchFrom = _start;
        while (true)
        {
            var newline = FindNewline(searchFrom);
            if (newline >= 0)
            {
                line = Line(_start, newline - _start);
                _start = newline + _unit;
                return true;
            }

            if (_eof)
            {
                if (_start >= _end)
                {
                    line = default;
                    return false;
                }

                LastLineTerminated = false;
                line = Line(_start, _end - _start);
                _start = _end;
                return true;
            }

            // Keep the partial line and read more after it; the search resumes where it stopped.
            var scanned = _end - _start;
            Fill();
            searchFrom = _start + Math.Max(0, scanned - (scanned % _unit));
        }
    }

    private void DetectEncoding()
    {
        _started = true;
        while (_end < 3 && !_eof)
        {
            FillOnce();
        }

        var head = _buffer.AsSpan(0, _end);
        if (head.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]))
        {
            _start = 3;
        }
        else if (head.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFE]))
        {
            (_encoding, _unit, _start) = (Strict.Utf16LittleEndian, 2, 2);
        }
        else if (head.StartsWith((ReadOnlySpan<byte>)[0xFE, 0xFF]))
        {
            (_encoding, _unit, _start, _bigEndian) = (Strict.Utf16BigEndian, 2, 2, true);
        }
    }

    private int FindNewline(int from)
    {
        var span = _buffer.AsSpan(from, _end - from);
        if (_unit == 1)
        {
            var index = span.IndexOf((byte)'\n');
            return index < 0 ? -1 : from + index;
        }

        // UTF-16: a newline is the code unit 0x000A, on a code-unit boundary of the line.
        ReadOnlySpan<byte> pattern = _bigEndian ? [0x00, 0x0A] : [0x0A, 0x00];
        var offset = 0;
        while (true)
        {
            var index = span[offset..].IndexOf(pattern);
            if (index < 0)
            {
                return -1;
            }

            var at = from + offset + index;
            if ((at - _start) % 2 == 0)
            {
                return at;
            }

            offset += index + 1;
        }
    }

    private ReadOnlySpan<byte> Line(int start, int length)
    {
        LineNumber++;
        if (_unit == 1)
        {
            var bytes = _buffer.AsSpan(start, length);
            if (!Utf8.IsValid(bytes))
            {
                throw NotText();
            }

            return bytes.Length > 0 && bytes[^1] == (byte)'\r' ? bytes[..^1] : bytes;
        }

        string text;
        try
        {
            text = _encoding.GetString(_buffer, start, length);
        }
        catch (DecoderFallbackException)
        {
            throw NotText();
        }

        var chars = text.AsSpan();
        chars = chars.Length > 0 && chars[^1] == '\r' ? chars[..^1] : chars;
        var needed = Encoding.UTF8.GetByteCount(chars);
        if (_utf8.Length < needed)
        {
            _utf8 = new byte[Math.Max(needed, _utf8.Length * 2)];
        }

        return _utf8.AsSpan(0, Encoding.UTF8.GetBytes(chars, _utf8));
    }

    private InputException NotText()
    {
        var what = _unit == 1
            ? "this line is not valid UTF-8 (LDIF text is UTF-8; binary values must be base64 with '::')"
            : "this line is not valid UTF-16 (the file starts with a UTF-16 byte order mark)";
        return new InputException("ldif-encoding", what, _path, LineNumber);
    }

    private void Fill()
    {
        if (_start > 0)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }

        if (_end == _buffer.Length)
        {
            Array.Resize(ref _buffer, _buffer.Length * 2);
        }

        FillOnce();
    }

    private void FillOnce()
    {
        // Synchronous reads: the file is read on the caller's task and an await per buffer costs
        // more than it saves (the caller enumerates on its own task).
        var read = _stream.Read(_buffer, _end, _buffer.Length - _end);
        if (read == 0)
        {
            _eof = true;
        }

        _end += read;
    }

    private static class Strict
    {
        public static readonly Encoding Utf8 = new UTF8Encoding(false, true);
        public static readonly Encoding Utf16LittleEndian = new UnicodeEncoding(bigEndian: false, byteOrderMark: false, throwOnInvalidBytes: true);
        public static readonly Encoding Utf16BigEndian = new UnicodeEncoding(bigEndian: true, byteOrderMark: false, throwOnInvalidBytes: true);
    }
}
