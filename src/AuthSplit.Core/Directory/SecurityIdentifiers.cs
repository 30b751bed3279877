using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace AuthSplit.Core.Directory;

/// <summary>Active Directory's binary <c>objectSid</c> in the text form Graph gives as <c>onPremisesSecurityIdentifier</c> (<c>S-1-5-21-…</c>).</summary>
public static class SecurityIdentifiers
{
    /// <summary>
    /// <c>S-{revision}-{authority}-{sub-authority}…</c>: revision byte, sub-authority count, a 48-bit big-endian
    /// authority, then 32-bit little-endian sub-authorities (MS-DTYP 2.4.2). Null when the bytes are not a SID.
    /// </summary>
    public static string? Format(ReadOnlySpan<byte> sid)
    {
        if (sid.Length < 8 || sid[0] != 1 || sid[1] > 15 || sid.Length != 8 + (4 * sid[1]))
        {
            return null;
        }

        long authority = 0;
        for (var i = 2; i < 8; i++)
        {
            authority = (authority << 8) | sid[i];
        }

        var text = new StringBuilder("S-1-").Append(authority.ToString(CultureInfo.InvariantCulture));
        for (var i = 0; i < sid[1]; i++)
        {
            text.Append('-').Append(BinaryPrimitives.ReadUInt32LittleEndian(sid.Slice(8 + (4 * i), 4)).ToString(CultureInfo.InvariantCulture));
        }

        return text.ToString();
    }
}
