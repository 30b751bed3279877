using System.Diagnostics;
using AuthSplit.Core.Evidence.Packs;
using AuthSplit.Evidence.Report;
using AuthSplit.Lab.Servers;

namespace AuthSplit.Core.Tests.Evidence.Packs;

/// <summary>
/// report.html as a person sees it: opened in headless Chromium (Debian's package, a fresh profile, nothing
/// fetched from the network), its DOM as the browser parsed it and a screenshot. The Japanese needs a
/// Japanese font on the machine (fonts-ipafont-gothic), else the screenshot shows empty boxes. The screenshot
/// kept in docs/evidence-report-ja.png is this test's.
/// </summary>
public sealed class EvidenceReportBrowserTests
{
    private static readonly EvidenceFixture Fixture = EvidenceFixture.Create();

    private static readonly RequiredTool Chromium = new("chromium", "chromium", "/usr/bin/chromium");

    private static readonly RequiredTool JapaneseFont = new("ipag.ttf", "fonts-ipafont-gothic", "/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf");

    private static readonly RequiredTool FontList = new("fc-list", "fontconfig", "/usr/bin/fc-list");

    [Fact]
    public async Task The_Japanese_report_s_summary_is_rendered_and_readable_in_headless_Chromium()
    {
        var tools = await DebianPackages.EnsureAsync([Chromium, JapaneseFont, FontList], null, CancellationToken.None);
        var content = WaveEvidence.Build(Fixture.Input("hq", "sha256:" + new string('f', 64)));
        var work = AuthSplit.Testing.TestPaths.NewWorkDirectory();
        var report = Path.Combine(work, "report.html");
        await File.WriteAllTextAsync(report, await ReportRenderer.RenderAsync(content.Manifest, content.ExceptionRows, "ja"));
        var screenshot = Path.Combine(work, "report.png");

        var dom = await RunAsync(tools["chromium"], Path.Combine(work, "profile-dom"), "--dump-dom", new Uri(report).AbsoluteUri);
        await RunAsync(tools["chromium"], Path.Combine(work, "profile-shot"), $"--screenshot={screenshot}", "--window-size=1280,1400", "--hide-scrollbars", new Uri(report).AbsoluteUri);

        // The DOM the browser built: the summary first, its figures as the manifest has them.
        dom.Should().Contain("<title>ウェーブ完了証跡: hq</title>").And.Contain("<h2>概要</h2>");
        dom.Should().Contain($"<td id=\"removed\">{Fixture.HqRemovals.Count - 1}</td>").And.Contain($"<td id=\"in-scope\">{content.Manifest.Plan.Scope.InScope}</td>");
        dom.Should().Contain("期限超過").And.Contain("2026-12-01 10:05:00 JST (2026-12-01 01:05:00 UTC)");
        dom.IndexOf("id=\"summary\"", StringComparison.Ordinal).Should().BeLessThan(dom.IndexOf("id=\"timeline\"", StringComparison.Ordinal));

        // The screenshot: a PNG of a page full of text, drawn with a font that has the Japanese glyphs.
        var png = await File.ReadAllBytesAsync(screenshot);
        png.Take(8).Should().Equal([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        png.Length.Should().BeGreaterThan(30_000, "a blank page compresses to a few kilobytes");
        var fonts = await RunAsync(tools["fc-list"], null, ":lang=ja", "family");
        fonts.Should().NotBeNullOrWhiteSpace("a Japanese font is installed, so the screenshot shows 概要, not boxes");
    }

    private static async Task<string> RunAsync(string program, string? profile, params string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        if (profile is not null)
        {
            foreach (var flag in new[] { "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", $"--user-data-dir={profile}" })
            {
                start.ArgumentList.Add(flag);
            }
        }

        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        process.ExitCode.Should().Be(0, await error);
        return await output;
    }
}
