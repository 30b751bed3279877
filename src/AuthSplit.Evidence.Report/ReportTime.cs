using System.Globalization;

namespace AuthSplit.Evidence.Report;

/// <summary>An instant as the regulator reads it (JST) and as the ledger holds it (UTC), side by side.</summary>
public static class ReportTime
{
    private static readonly TimeSpan Jst = TimeSpan.FromHours(9);

    public static string Both(string? utcText)
    {
        if (string.IsNullOrEmpty(utcText) || !DateTimeOffset.TryParse(utcText, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at))
        {
            return utcText ?? "-";
        }

        return string.Create(CultureInfo.InvariantCulture, $"{at.ToOffset(Jst):yyyy-MM-dd HH:mm:ss} JST ({at.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC)");
    }
}
