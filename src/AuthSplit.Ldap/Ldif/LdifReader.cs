using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.RegularExpressions;
using AuthSplit.Core.Directory;
using AuthSplit.Core.Errors;
using AuthSplit.Core.Model;

namespace AuthSplit.Ldap.Ldif;

/// <summary>
/// Streams the content records of an LDIF file (RFC 2849) as <see cref="DirectoryEntry"/> values: what
/// <c>ldapsearch</c> writes (with <c>-LLL</c>, or its default extended LDIF with the <c>search:</c>/
/// <c>result:</c> blocks and the <c># numEntries:</c> trailer; <c>ref:</c> search references are
/// skipped and counted), what Windows <c>ldifde</c> writes (<c>changetype: add</c> on every record, CR LF,
/// UTF-16 with <c>-u</c>) and what <see cref="LdifWriter"/> writes. Values stay bytes (<c>attr:: base64</c>
/// is decoded, text is UTF-8), so an entry read from LDIF is the same as the entry read live.
/// <para>
/// A file that may be short is refused, never planned as if it were complete: a result other than
/// success, a count trailer that disagrees with the entries read, the end of ldapsearch's extended
/// output missing, a last line without a line end or a last entry without the blank line every
/// exporter writes after it. Two entries with the same DN (compared normalised) or the same
/// <c>entryUUID</c>/<c>objectGUID</c> are refused too. Every fault is an <see cref="InputException"/>
/// naming the file and line.
/// </para>
/// </summary>
public static partial class LdifReader
{
    /// <summary>The first line of ldapsearch's default (extended LDIF) output, which always ends with <c># numResponses:</c>.</summary>
    internal const string ExtendedLdifHeader = "# extended LDIF";

    public static IAsyncEnumerable<DirectoryEntry> ReadAsync(Stream stream, string path, CancellationToken cancellationToken) =>
        ReadAsync(stream, path, new LdifReadSummary(), cancellationToken);

    /// <param name="summary">Filled in as the file is read: entries, skipped search references, the trailer.</param>
#pragma warning disable CS1998 // Reads synchronously from a buffered stream by design (see LdifLineReader).
    public static async IAsyncEnumerable<DirectoryEntry> ReadAsync(Stream stream, string path, LdifReadSummary summary, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(summary);
        var parser = new Parser(stream, path, summary);
        while (parser.Next() is { } entry)
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return entry;
        }
    }
#pragma warning restore CS1998

    /// <summary>
    /// Joins physical lines into logical ones (comments, folded lines) and hands them to the record. Lines
    /// stay UTF-8 bytes from the file's buffer to the values (already checked as text by the line reader):
    /// a value is copied once, not decoded to a string and encoded back.
    /// </summary>
    private sealed class Parser(Stream stream, string path, LdifReadSummary summary)
    {
        private readonly LdifLineReader _lines = new(stream, path);
        private readonly RecordState _record = new(path, summary);
        private readonly StringBuilder _comment = new();
        private byte[] _logical = new byte[256];
        private int _logicalLength;
        private int _logicalLine;
        private bool _inComment;
        private int _commentLine;
        private bool _ended;
        private bool _checked;

        /// <summary>The next entry, or null once the file has been read to its end and found complete.</summary>
        public DirectoryEntry? Next()
        {
            while (!_ended)
            {
                var more = _lines.TryReadLine(out var line);
                if (more && line.Length > 0 && line[0] == (byte)' ')
                {
                    if (_inComment)
                    {
                        _comment.Append(Encoding.UTF8.GetString(line[1..]));
                        continue;
                    }

                    if (_logicalLength == 0)
                    {
                        throw new InputException("ldif-syntax", "a continuation line (starting with a space) follows no line", path, _lines.LineNumber);
                    }

                    Append(line[1..]);
                    continue;
                }

                if (_inComment)
                {
                    summary.Comment(_comment.ToString(), _commentLine, path);
                    _comment.Clear();
                    _inComment = false;
                }

                if (_logicalLength > 0)
                {
                    _record.Add(_logical.AsSpan(0, _logicalLength), _logicalLine);
                    _logicalLength = 0;
                }

                if (!more || IsBlank(line))
                {
                    if (!more && !_lines.LastLineTerminated)
                    {
                        throw new InputException("ldif-incomplete", "the file ends in the middle of this line (it has no line end): the export was cut off; export it again", path, _lines.LineNumber);
                    }

                    _ended = !more;
                    if (_record.Complete(terminated: more) is { } entry)
                    {
                        return entry;
                    }

                    continue;
                }

                if (line[0] == (byte)'#')
                {
                    _inComment = true;
                    _comment.Append(Encoding.UTF8.GetString(line));
                    _commentLine = _lines.LineNumber;
                    continue;
                }

                Append(line);
                _logicalLine = _lines.LineNumber;
            }

            // After the last entry has been handed out, as a caller reading to the end asks for the next.
            if (!_checked)
            {
                _checked = true;
                summary.CheckComplete(path, _lines.LineNumber);
            }

            return null;
        }

        private void Append(ReadOnlySpan<byte> bytes)
        {
            if (_logicalLength + bytes.Length > _logical.Length)
            {
                Array.Resize(ref _logical, Math.Max(_logicalLength + bytes.Length, _logical.Length * 2));
            }

            bytes.CopyTo(_logical.AsSpan(_logicalLength));
            _logicalLength += bytes.Length;
        }

        // A line that string.Trim would leave empty: decoded only when it starts with white space.
        private static bool IsBlank(ReadOnlySpan<byte> line) =>
            line.IsEmpty || ((line[0] >= 0x80 || char.IsWhiteSpace((char)line[0])) && string.IsNullOrWhiteSpace(Encoding.UTF8.GetString(line)));
    }

    [GeneratedRegex(@"^([A-Za-z][A-Za-z0-9-]*|[0-9]+(\.[0-9]+)+)(;[A-Za-z0-9-]+)*$")]
    internal static partial Regex AttributeDescription();

    private enum RecordKind
    {
        None,
        Version,
        Entry,
        Reference,
        Result,
    }

    /// <summary>The record being assembled; attribute order is kept as read.</summary>
    private sealed class RecordState(string path, LdifReadSummary summary)
    {
        private static readonly UTF8Encoding StrictUtf8 = new(false, true);
        private readonly Dictionary<string, List<byte[]>> _attributes = new(StringComparer.OrdinalIgnoreCase);
        // The value lists of records already handed out, emptied for the next record's attributes.
        private readonly Stack<List<byte[]>> _spareLists = new();
        // Attribute descriptions already checked, as spelt in the file.
        private readonly HashSet<string> _names = new(StringComparer.Ordinal);
        // DNs by their normalised text; entryUUID and objectGUID as the UUIDs they are (a value that is
        // not one by a digest of its bytes), so no string per entry is kept for them.
        private readonly Dictionary<string, int> _dns = new(StringComparer.Ordinal);
        private readonly Dictionary<Guid, int> _entryUuids = [];
        private readonly Dictionary<Guid, int> _objectGuids = [];
        private RecordKind _kind;
        private bool _any;
        private string? _dn;
        private int _dnLine;
        private int _recordLine;
        private int _lines;

        public void Add(ReadOnlySpan<byte> line, int lineNumber)
        {
            var colon = line.IndexOf((byte)':');
            if (colon <= 0)
            {
                throw new InputException("ldif-syntax", $"expected 'attribute: value', found \"{Shorten(Encoding.UTF8.GetString(line))}\"", path, lineNumber);
            }

            var name = line[..colon];
            _lines++;
            if (_kind == RecordKind.None)
            {
                Start(line, colon, lineNumber);
                return;
            }

            switch (_kind)
            {
                case RecordKind.Reference:
                    if (!Ascii.EqualsIgnoreCase(name, "ref"u8))
                    {
                        throw new InputException("ldif-syntax", $"a search reference holds only 'ref:' lines, found '{Shorten(Encoding.UTF8.GetString(name))}:'", path, lineNumber);
                    }

                    return;
                case RecordKind.Result:
                    summary.ResultLine(Encoding.UTF8.GetString(name), Text(line, colon, lineNumber), path, lineNumber);
                    return;
                case RecordKind.Version:
                    // RFC 2849 lets the first record follow "version: 1" without a blank line.
                    _kind = RecordKind.None;
                    Start(line, colon, lineNumber);
                    return;
            }

            if (Ascii.EqualsIgnoreCase(name, "changetype"u8))
            {
                // ldifde writes every exported entry as "changetype: add" right after its DN: an add
                // of a whole entry is the entry. Any other change, or one further down, is not a snapshot.
                if (_lines == 2 && Text(line, colon, lineNumber).Trim().Equals("add", StringComparison.OrdinalIgnoreCase))
                {
                    return;
                }

                throw new InputException("ldif-unsupported", $"'{Shorten(Encoding.UTF8.GetString(line))}' makes this a change record; a snapshot holds entries only (export with ldapsearch, or ldifde whose records are 'changetype: add')", path, lineNumber);
            }

            if (Ascii.EqualsIgnoreCase(name, "control"u8))
            {
                throw new InputException("ldif-unsupported", "'control:' makes this a change record; a snapshot holds entries only (export with ldapsearch -LLL)", path, lineNumber);
            }

            var key = AttributeName(name, lineNumber);
            if (!_attributes.TryGetValue(key, out var values))
            {
                _attributes[key] = values = _spareLists.TryPop(out var spare) ? spare : [];
            }

            values.Add(DecodeValue(line, colon, lineNumber));
            _any = true;
        }

        /// <summary>
        /// The attribute description as a string, checked against RFC 4512's grammar once per spelling:
        /// a file repeats the same few names on every entry, so the string and the check are reused.
        /// </summary>
        private string AttributeName(ReadOnlySpan<byte> name, int lineNumber)
        {
            if (name.Length <= 256 && Ascii.IsValid(name))
            {
                Span<char> chars = stackalloc char[name.Length];
                Ascii.ToUtf16(name, chars, out _);
                if (_names.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(chars, out var known))
                {
                    return known;
                }
            }

            var text = Encoding.UTF8.GetString(name);
            if (!AttributeDescription().IsMatch(text))
            {
                throw new InputException("ldif-syntax", $"'{Shorten(text)}' is not an attribute description", path, lineNumber);
            }

            if (_names.Count < 4096)
            {
                _names.Add(text);
            }

            return text;
        }

        /// <summary>Ends the record at a blank line (<paramref name="terminated"/>) or at the end of the file.</summary>
        public DirectoryEntry? Complete(bool terminated)
        {
            var kind = _kind;
            _kind = RecordKind.None;
            _lines = 0;
            switch (kind)
            {
                case RecordKind.Reference:
                    summary.References++;
                    summary.Checkpoint(terminated, _recordLine);
                    return null;
                case RecordKind.Result:
                    summary.EndResult(path);
                    summary.Checkpoint(terminated, _recordLine);
                    return null;
                case RecordKind.Entry:
                    break;
                default:
                    return null;
            }

            var attributes = new Dictionary<string, IReadOnlyList<byte[]>>(_attributes.Count, StringComparer.OrdinalIgnoreCase);
            foreach (var (name, values) in _attributes)
            {
                attributes[name] = values.ToArray();
                values.Clear();
                _spareLists.Push(values);
            }

            if (!_any)
            {
                throw new InputException("ldif-syntax", $"entry \"{Shorten(_dn!)}\" has no attributes", path, _dnLine);
            }

            var entry = new DirectoryEntry(CheckUnique(attributes), attributes);
            summary.Entries++;
            summary.Checkpoint(terminated, _dnLine);
            _dn = null;
            _any = false;
            _attributes.Clear();
            return entry;
        }

        private void Start(ReadOnlySpan<byte> line, int colon, int lineNumber)
        {
            _recordLine = lineNumber;
            _lines = 1;
            var name = line[..colon];
            if (Ascii.EqualsIgnoreCase(name, "dn"u8))
            {
                _kind = RecordKind.Entry;
                var rest = line[(colon + 1)..];
                if (rest.IsEmpty || (rest[0] != (byte)':' && rest[0] != (byte)'<'))
                {
                    // Plain text, checked as UTF-8 with its line.
                    _dn = Encoding.UTF8.GetString(rest.TrimStart((byte)' '));
                }
                else
                {
                    var value = DecodeValue(line, colon, lineNumber);
                    try
                    {
                        _dn = StrictUtf8.GetString(value);
                    }
                    catch (DecoderFallbackException)
                    {
                        throw new InputException("ldif-syntax", "the base64 DN is not UTF-8 text", path, lineNumber);
                    }
                }

                _dnLine = lineNumber;
                return;
            }

            if (Ascii.EqualsIgnoreCase(name, "ref"u8))
            {
                // ldapsearch writes a search continuation reference (AD's referrals to its DNS and
                // configuration partitions) as "ref: ldap://...": the live read skips those too.
                _kind = RecordKind.Reference;
                return;
            }

            if (Ascii.EqualsIgnoreCase(name, "search"u8))
            {
                _kind = RecordKind.Result;
                summary.StartResult(lineNumber);
                return;
            }

            if (Ascii.EqualsIgnoreCase(name, "version"u8) && !summary.SeenRecord)
            {
                var text = Encoding.UTF8.GetString(line);
                if (text.AsSpan(colon + 1).Trim() is not "1")
                {
                    throw new InputException("ldif-syntax", $"unsupported LDIF {text.Trim()} (only version 1 exists)", path, lineNumber);
                }

                _kind = RecordKind.Version;
                return;
            }

            throw new InputException("ldif-syntax", $"a record must start with 'dn:', found '{Shorten(Encoding.UTF8.GetString(name))}:'", path, lineNumber);
        }

        // The DN and the directory's own identities are unique in any real read; a second entry with
        // one of them would be planned twice (or shadow the first), so the file is refused.
        private DistinguishedName CheckUnique(Dictionary<string, IReadOnlyList<byte[]>> attributes)
        {
            if (!DistinguishedName.TryParse(_dn!, out var dn, out var error))
            {
                throw new InputException("source-dn", $"entry DN \"{Shorten(_dn!)}\" is not a valid DN: {error}", path, _dnLine);
            }

            if (!_dns.TryAdd(dn.Normalized, _dnLine))
            {
                throw new InputException("ldif-duplicate", $"entry \"{Shorten(_dn!)}\" has the same DN as the entry at line {_dns[dn.Normalized]}; a directory holds one entry per DN, so the export is inconsistent", path, _dnLine);
            }

            if (Single(attributes, "entryUUID") is { } uuid)
            {
                // entryUUID is text (RFC 4530), compared as a UUID whatever its case; anything else by its bytes.
                var text = uuid.AsSpan().Trim(" \t"u8);
                var isUuid = Utf8Parser.TryParse(text, out Guid parsed, out var used, 'D') && used == text.Length;
                CheckUniqueId(_entryUuids, isUuid ? parsed : Digest(text), "entryUUID", isUuid ? null : text.ToArray());
            }

            if (Single(attributes, "objectGUID") is { } guid)
            {
                var key = guid.Length == 16 ? new Guid(guid) : Digest(guid);
                CheckUniqueId(_objectGuids, key, "objectGUID", guid.Length == 16 ? null : guid);
            }

            return dn;
        }

        private static byte[]? Single(Dictionary<string, IReadOnlyList<byte[]>> attributes, string name) =>
            attributes.TryGetValue(name, out var values) && values.Count == 1 && values[0].Length > 0 ? values[0] : null;

        private static Guid Digest(ReadOnlySpan<byte> bytes)
        {
            Span<byte> hash = stackalloc byte[32];
            SHA256.HashData(bytes, hash);
            return new Guid(hash[..16]);
        }

        /// <param name="raw">The value to show when <paramref name="key"/> is a digest, not the UUID itself.</param>
        private void CheckUniqueId(Dictionary<Guid, int> seen, Guid key, string name, byte[]? raw)
        {
            if (!seen.TryAdd(key, _dnLine))
            {
                var shown = raw is null ? key.ToString("D") : name == "entryUUID" ? Encoding.UTF8.GetString(raw) : Convert.ToHexStringLower(raw);
                throw new InputException("ldif-duplicate", $"entry \"{Shorten(_dn!)}\" has {name} {Shorten(shown)}, as has the entry at line {seen[key]}; the export is inconsistent", path, _dnLine);
            }
        }

        private string Text(ReadOnlySpan<byte> line, int colon, int lineNumber)
        {
            try
            {
                return StrictUtf8.GetString(DecodeValue(line, colon, lineNumber));
            }
            catch (DecoderFallbackException)
            {
                throw new InputException("ldif-syntax", $"the base64 value of '{Name(line, colon)}' is not UTF-8 text", path, lineNumber);
            }
        }

        private byte[] DecodeValue(ReadOnlySpan<byte> line, int colon, int lineNumber)
        {
            var rest = line[(colon + 1)..];
            if (rest.Length > 0 && rest[0] == (byte)':')
            {
                var text = Encoding.UTF8.GetString(rest[1..]).Trim(' ');
                try
                {
                    return Convert.FromBase64String(text);
                }
                catch (FormatException)
                {
                    throw new InputException("ldif-syntax", $"the base64 value of '{Name(line, colon)}' is not valid base64", path, lineNumber);
                }
            }

            if (rest.Length > 0 && rest[0] == (byte)'<')
            {
                throw new InputException("ldif-unsupported", $"'{Name(line, colon)}:<' (a value from a URL) is not supported in snapshots; inline the value as base64", path, lineNumber);
            }

            // The line reader has checked the line as UTF-8: its bytes are the value's.
            return rest.TrimStart((byte)' ').ToArray();
        }

        private static string Name(ReadOnlySpan<byte> line, int colon) => Shorten(Encoding.UTF8.GetString(line[..colon]));
    }

    internal static string Shorten(string text) => text.Length <= 60 ? text : text[..57] + "...";
}

/// <summary>
/// What an <see cref="LdifReader"/> learnt besides the entries: how many it read, the search references
/// it skipped, and what the file itself says about its completeness (ldapsearch's <c>result:</c> lines
/// and <c># numEntries:</c> trailer, or <see cref="LdifWriter"/>'s).
/// </summary>
public sealed class LdifReadSummary
{
    private int? _resultCode;
    private int _resultLine;
    private bool _extended;
    private bool _snapshot;
    private int? _numEntries;
    private int _numEntriesLine;
    private int? _numResponses;
    private bool _lastRecordTerminated = true;
    private int _lastRecordLine;

    public int Entries { get; internal set; }

    /// <summary>Search continuation references (<c>ref:</c> records) skipped: referrals are not chased.</summary>
    public int References { get; internal set; }

    internal bool SeenRecord => Entries > 0 || References > 0 || _resultLine > 0;

    internal void Comment(string text, int line, string path)
    {
        if (line == 1 && text.StartsWith(LdifReader.ExtendedLdifHeader, StringComparison.Ordinal))
        {
            _extended = true;
        }
        else if (text.StartsWith(LdifWriter.SnapshotMarker, StringComparison.Ordinal))
        {
            _snapshot = true;
        }
        else if (Count(text, "# numEntries:", line, path) is { } entries)
        {
            (_numEntries, _numEntriesLine) = (entries, line);
        }
        else if (Count(text, "# numResponses:", line, path) is { } responses)
        {
            _numResponses = responses;
            _numEntriesLine = _numEntries is null ? line : _numEntriesLine;
        }
    }

    internal void StartResult(int line)
    {
        _resultLine = line;
        _resultCode = null;
    }

    internal void ResultLine(string name, string value, string path, int line)
    {
        if (!name.Equals("result", StringComparison.OrdinalIgnoreCase))
        {
            // matchedDN, text, control (the paged-results cookie of each page), ref: context only.
            return;
        }

        var text = value.Trim();
        var space = text.IndexOf(' ', StringComparison.Ordinal);
        if (!int.TryParse(space < 0 ? text : text[..space], NumberStyles.None, CultureInfo.InvariantCulture, out var code))
        {
            throw new InputException("ldif-syntax", $"'result: {LdifReader.Shorten(text)}' does not start with an LDAP result code", path, line);
        }

        if (code != 0)
        {
            throw new InputException("ldif-incomplete", $"ldapsearch reports 'result: {LdifReader.Shorten(text)}': the search ended before it returned every entry, so this export is incomplete. Export again without the limit (for Active Directory's limits, page with -E pr=1000/noprompt)", path, line);
        }

        _resultCode = code;
    }

    internal void EndResult(string path)
    {
        if (_resultCode is null)
        {
            throw new InputException("ldif-syntax", "a 'search:' block without a 'result:' line", path, _resultLine);
        }
    }

    /// <summary>Records how a record ended; only the last one matters at the end of the file.</summary>
    internal void Checkpoint(bool terminated, int recordLine)
    {
        _lastRecordTerminated = terminated;
        _lastRecordLine = recordLine;
    }

    /// <summary>At the end of the file: refuses a file that may be short.</summary>
    internal void CheckComplete(string path, int lastLine)
    {
        var declared = _numEntries ?? (_numResponses is not null ? 0 : null);
        if (declared is { } count && count != Entries)
        {
            // ldapsearch leaves out "# numEntries:" when it returned none, so numResponses alone means 0.
            throw new InputException("ldif-incomplete", $"the file says it holds {count} entries but {Entries} were read: it is incomplete or was edited; export it again", path, _numEntriesLine);
        }

        if (_extended && _numResponses is null)
        {
            throw new InputException("ldif-incomplete", $"ldapsearch's output (it starts with '{LdifReader.ExtendedLdifHeader}') always ends with '# numResponses:'; this file stops at line {lastLine} without it, so it was cut off. Export it again", path, lastLine);
        }

        if (_snapshot && _numEntries is null)
        {
            throw new InputException("ldif-incomplete", $"an AuthSplit snapshot ends with '# numEntries:'; this one stops at line {lastLine} without it, so it was cut off or never finished", path, lastLine);
        }

        // A count that agrees proves the last record whole; without one, the blank line every exporter
        // writes after a record is the only sign that the file was not cut off inside it.
        if (!_lastRecordTerminated && declared is null)
        {
            throw new InputException("ldif-incomplete", "the last record (starting here) is not followed by a blank line and nothing in the file proves it complete: the file may have been cut off inside it. Export it again (ldapsearch and ldifde end every record with a blank line)", path, _lastRecordLine);
        }
    }

    private static int? Count(string text, string prefix, int line, string path)
    {
        if (!text.StartsWith(prefix, StringComparison.Ordinal))
        {
            return null;
        }

        return int.TryParse(text.AsSpan(prefix.Length).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var count)
            ? count
            : throw new InputException("ldif-syntax", $"'{LdifReader.Shorten(text)}' does not end in a count", path, line);
    }
}
