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

    // The report's components inject nothing. (HtmlRenderer writes non-ASCII text as character references,
    // e.g. &#x30A6; — valid HTML that every browser shows as the Japanese it stands for.)
    private sealed class NoServices : IServiceProvider
    {
        public object? GetService(Type serviceType) => null;
    }
}
