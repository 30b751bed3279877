using System.Globalization;
using AuthSplit.Core.Model;

namespace AuthSplit.Core.Execution.Systems;

/// <summary>When a legacy account last authenticated, as the server records it (verify-legacy-quiet).</summary>
public static class LastAuthentication
{
    /// <summary>AD's <c>lastLogonTimestamp</c> (a FILETIME) or OpenLDAP's <c>pwdLastSuccess</c>/<c>authTimestamp</c> (GeneralizedTime).</summary>
    public static DateTimeOffset? Of(DirectoryEntry entry, string attribute)
    {
        var text = entry.GetString(attribute);
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }

        if (long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var fileTime))
        {
            return fileTime <= 0 ? null : new DateTimeOffset(DateTime.FromFileTimeUtc(fileTime));
        }

        return DateTimeOffset.TryParseExact(text, ["yyyyMMddHHmmss'Z'", "yyyyMMddHHmmss.FFFFFF'Z'", "yyyyMMddHHmmss,FFFFFF'Z'"], CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at)
            ? at
            : null;
    }
}
