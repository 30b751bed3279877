using System.Text.Encodings.Web;
using System.Text.Unicode;
using AuthSplit.Core.Evidence.Packs;
using AuthSplit.Evidence.Report.Components;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Web;
using Microsoft.Extensions.Logging.Abstractions;

namespace AuthSplit.Evidence.Report;

/// <summary>Renders <c>report.html</c>: the <see cref="PackReport"/> component to one self-contained page, without a web server.</summary>
public static class ReportRenderer
{
    public static async Task<string> RenderAsync(EvidenceManifest manifest, IReadOnlyList<IReadOnlyList<string?>> exceptionRows, string language)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        var texts = new ReportTexts(language);
        await using var renderer = new HtmlRenderer(new NoServices(), NullLoggerFactory.Instance);
        var html = await renderer.Dispatcher.InvokeAsync(async () =>
        {
            var parameters = ParameterView.FromDictionary(new Dictionary<string, object?>
            {
                [nameof(PackReport.Manifest)] = manifest,
                [nameof(PackReport.ExceptionRows)] = exceptionRows,
                [nameof(PackReport.Text)] = texts,
            });
            var output = await renderer.RenderComponentAsync<PackReport>(parameters);
            return output.ToHtmlString();
        });
        return "<!DOCTYPE html>\n" + html + "\n";
    }

    // The report's components inject nothing; the renderer takes its HtmlEncoder from the services (and falls
    // back to HtmlEncoder.Default, which writes everything past ASCII as &#x...; references). This one lets
    // the scripts a Japanese report is written in through as UTF-8 text, so the file reads as Japanese in an
    // editor or grep too; < > & " ' stay escaped whatever the ranges (DNs are data, never markup).
    private sealed class NoServices : IServiceProvider
    {
        private static readonly HtmlEncoder Encoder = HtmlEncoder.Create(
            UnicodeRanges.BasicLatin,
            UnicodeRanges.Latin1Supplement,
            UnicodeRanges.LatinExtendedA,
            UnicodeRanges.CjkSymbolsandPunctuation,
            UnicodeRanges.Hiragana,
            UnicodeRanges.Katakana,
            UnicodeRanges.KatakanaPhoneticExtensions,
            UnicodeRanges.CjkUnifiedIdeographsExtensionA,
            UnicodeRanges.CjkUnifiedIdeographs,
            UnicodeRanges.CjkCompatibilityIdeographs,
            UnicodeRanges.HalfwidthandFullwidthForms);

        public object? GetService(Type serviceType) => serviceType == typeof(HtmlEncoder) ? Encoder : null;
    }
}
