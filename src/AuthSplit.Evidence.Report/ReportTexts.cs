using System.Globalization;
using System.Resources;

namespace AuthSplit.Evidence.Report;

/// <summary>The report's words in one language, from <c>Resources/ReportText*.resx</c> (English neutral, Japanese satellite).</summary>
public sealed class ReportTexts
{
    private static readonly ResourceManager Resources = new("AuthSplit.Evidence.Report.Resources.ReportText", typeof(ReportTexts).Assembly);

    public ReportTexts(string language)
    {
        Culture = language switch
        {
            "ja" => CultureInfo.GetCultureInfo("ja-JP"),
            "en" => CultureInfo.GetCultureInfo("en"),
            _ => throw new ArgumentException($"the report is written in ja or en, not \"{language}\"", nameof(language)),
        };
        Language = language;
    }

    public string Language { get; }

    public CultureInfo Culture { get; }

    public string this[string key] =>
        Resources.GetString(key, Culture) ?? throw new InvalidOperationException($"the report has no text \"{key}\"");

    public string Format(string key, params object[] arguments) => string.Format(Culture, this[key], arguments);
}
