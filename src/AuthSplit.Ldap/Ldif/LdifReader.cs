using System.Runtime.CompilerServices;
using System.Text;
using System.Text.RegularExpressions;
using AuthSplit.Core.Errors;
using AuthSplit.Core.Model;

namespace AuthSplit.Ldap.Ldif;

/// <summary>
/// Streams the content records of an LDIF file (RFC 2849) as <see cref="DirectoryEntry"/> values: what
/// <c>ldapsearch -LLL '*' '+'</c> (folded or with <c>-o ldif-wrap=no</c>) and Windows <c>ldifde</c> write.
/// Values stay bytes (<c>attr:: base64</c> is decoded, text is UTF-8), so an entry read from LDIF is the
/// same as the entry read live. Every fault is an <see cref="InputException"/> naming the file and line.
/// </summary>
public static partial class LdifReader
{
#pragma warning disable CS1998 // Reads synchronously from a buffered stream by design (see the loop).
    public static async IAsyncEnumerable<DirectoryEntry> ReadAsync(Stream stream, string path, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var reader = new StreamReader(stream, new UTF8Encoding(false, true), detectEncodingFromByteOrderMarks: true, bufferSize: 1 << 16, leaveOpen: true);
        var state = new RecordState(path);
        var logical = new StringBuilder();
        var logicalLine = 0;
        var lineNumber = 0;
        var inComment = false;
        var first = true;
        while (true)
        {
            string? line;
            try
            {
                // Synchronous line reads: the file is buffered and the caller reads on its own task;
                // an await per line costs more than parsing the line.
                line = reader.ReadLine();
            }
            catch (DecoderFallbackException)
            {
                throw new InputException("ldif-encoding", "the file is not valid UTF-8 (LDIF text is UTF-8; binary values must be base64 with '::')", path, lineNumber + 1);
            }

            lineNumber++;
            if (line is not null && line.Length > 0 && line[0] == ' ')
            {
                if (inComment)
                {
                    continue;
                }

                if (logical.Length == 0)
                {
                    throw new InputException("ldif-syntax", "a continuation line (starting with a space) follows no line", path, lineNumber);
                }

                logical.Append(line, 1, line.Length - 1);
                continue;
            }

            if (logical.Length > 0)
            {
                if (first && state.IsEmpty && logical.ToString().StartsWith("version:", StringComparison.Ordinal))
                {
                    CheckVersion(logical.ToString(), path, logicalLine);
                }
                else
                {
                    state.Add(logical.ToString(), logicalLine);
                }

                first = false;
                logical.Clear();
            }

            inComment = false;
            if (line is null || line.Length == 0 || line.Trim().Length == 0)
            {
                if (state.Complete() is { } entry)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    yield return entry;
                }

                if (line is null)
                {
                    yield break;
                }

                continue;
            }

            if (line[0] == '#')
            {
                inComment = true;
                continue;
            }

            logical.Append(line);
            logicalLine = lineNumber;
        }
    }

#pragma warning restore CS1998

    private static void CheckVersion(string line, string path, int lineNumber)
    {
        if (line.AsSpan("version:".Length).Trim() is not "1")
        {
            throw new InputException("ldif-syntax", $"unsupported LDIF {line.Trim()} (only version 1 exists)", path, lineNumber);
        }
    }

    [GeneratedRegex(@"^([A-Za-z][A-Za-z0-9-]*|[0-9]+(\.[0-9]+)+)(;[A-Za-z0-9-]+)*$")]
    internal static partial Regex AttributeDescription();

    /// <summary>The record being assembled; attribute order is kept as read.</summary>
    private sealed class RecordState(string path)
    {
        private readonly Dictionary<string, List<byte[]>> _attributes = new(StringComparer.OrdinalIgnoreCase);
        private string? _dn;
        private int _dnLine;

        public bool IsEmpty => _dn is null && _attributes.Count == 0;

        public void Add(string line, int lineNumber)
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                throw new InputException("ldif-syntax", $"expected 'attribute: value', found \"{Shorten(line)}\"", path, lineNumber);
            }

            var name = line[..colon];
            var value = DecodeValue(line, colon, name, lineNumber);
            if (_dn is null)
            {
                if (!name.Equals("dn", StringComparison.OrdinalIgnoreCase))
                {
                    throw new InputException("ldif-syntax", $"a record must start with 'dn:', found '{Shorten(name)}:'", path, lineNumber);
                }

                try
                {
                    _dn = new UTF8Encoding(false, true).GetString(value);
                }
                catch (DecoderFallbackException)
                {
                    throw new InputException("ldif-syntax", "the base64 DN is not UTF-8 text", path, lineNumber);
                }

                _dnLine = lineNumber;
                return;
            }

            if (name.Equals("changetype", StringComparison.OrdinalIgnoreCase) || name.Equals("control", StringComparison.OrdinalIgnoreCase))
            {
                throw new InputException("ldif-unsupported", $"'{name}:' makes this a change record; a snapshot holds content records only (export with ldapsearch -LLL)", path, lineNumber);
            }

            if (!AttributeDescription().IsMatch(name))
            {
                throw new InputException("ldif-syntax", $"'{Shorten(name)}' is not an attribute description", path, lineNumber);
            }

            if (!_attributes.TryGetValue(name, out var values))
            {
                _attributes[name] = values = [];
            }

            values.Add(value);
        }

        public DirectoryEntry? Complete()
        {
            if (_dn is null)
            {
                return null;
            }

            var attributes = new Dictionary<string, IReadOnlyList<byte[]>>(_attributes.Count, StringComparer.OrdinalIgnoreCase);
            foreach (var (name, values) in _attributes)
            {
                attributes[name] = values.ToArray();
            }

            if (attributes.Count == 0)
            {
                throw new InputException("ldif-syntax", $"entry \"{Shorten(_dn)}\" has no attributes", path, _dnLine);
            }

            var entry = new DirectoryEntry(_dn, attributes);
            _dn = null;
            _attributes.Clear();
            return entry;
        }

        private byte[] DecodeValue(string line, int colon, string name, int lineNumber)
        {
            var rest = line.AsSpan(colon + 1);
            if (rest.Length > 0 && rest[0] == ':')
            {
                var text = rest[1..].Trim(' ').ToString();
                try
                {
                    return Convert.FromBase64String(text);
                }
                catch (FormatException)
                {
                    throw new InputException("ldif-syntax", $"the base64 value of '{Shorten(name)}' is not valid base64", path, lineNumber);
                }
            }

            if (rest.Length > 0 && rest[0] == '<')
            {
                throw new InputException("ldif-unsupported", $"'{Shorten(name)}:<' (a value from a URL) is not supported in snapshots; inline the value as base64", path, lineNumber);
            }

            return Encoding.UTF8.GetBytes(rest.TrimStart(' ').ToString());
        }

        private static string Shorten(string text) => text.Length <= 60 ? text : text[..57] + "...";
    }
}
