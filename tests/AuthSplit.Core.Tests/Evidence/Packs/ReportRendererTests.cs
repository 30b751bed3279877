using System.Net;
using AuthSplit.Core.Evidence.Packs;
using AuthSplit.Evidence.Report;

namespace AuthSplit.Core.Tests.Evidence.Packs;

public sealed class ReportRendererTests
{
    private static readonly EvidenceFixture Fixture = EvidenceFixture.Create();

    private static async Task<string> RenderAsync(string language)
    {
        var content = WaveEvidence.Build(Fixture.Input("hq", "sha256:" + new string('f', 64)));
        return WebUtility.HtmlDecode(await ReportRenderer.RenderAsync(content.Manifest, content.ExceptionRows, language));
    }

    [Fact]
    public async Task The_Japanese_report_puts_the_summary_first_with_times_in_JST_and_UTC()
    {
        var html = await RenderAsync("ja");

        html.Should().StartWith("<!DOCTYPE html>").And.Contain("<html lang=\"ja\">").And.Contain("<h2>概要</h2>").And.Contain("期限超過");
        html.IndexOf("id=\"summary\"", StringComparison.Ordinal).Should().BeLessThan(html.IndexOf("id=\"timeline\"", StringComparison.Ordinal));
        html.IndexOf("id=\"timeline\"", StringComparison.Ordinal).Should().BeLessThan(html.IndexOf("id=\"exceptions\"", StringComparison.Ordinal));
        html.Should().Contain($"<td id=\"removed\">{Fixture.HqRemovals.Count - 1}</td>", "one removal failed");
        html.Should().Contain("2026-12-01 10:05:00 JST (2026-12-01 01:05:00 UTC)", "the completion in both zones");
        html.Should().Contain("ldap-refused: insufficient access", "the failed entity is an exception with its reason");
    }

    [Fact]
    public async Task The_English_report_comes_from_the_same_component_with_the_other_resources()
    {
        var html = await RenderAsync("en");

        html.Should().Contain("<html lang=\"en\">").And.Contain("<h2>Summary</h2>").And.Contain(": <span class=\"bad\">missed</span>").And.NotContain("概要");
    }

    [Fact]
    public async Task The_Japanese_report_holds_its_Japanese_as_UTF8_text_not_character_references()
    {
        var content = WaveEvidence.Build(Fixture.Input("hq", "sha256:" + new string('f', 64)));

        var raw = await ReportRenderer.RenderAsync(content.Manifest, content.ExceptionRows, "ja");

        raw.Should().Contain("<h2>概要</h2>").And.Contain("ウェーブ完了証跡").And.Contain("日時は日本標準時（JST", "what a person sees in an editor, grep or a diff");
        System.Text.RegularExpressions.Regex.Matches(raw, "&#x([0-9A-F]+);").Select(m => Convert.ToInt32(m.Groups[1].Value, 16))
            .Should().OnlyContain(c => c < 0x80, "only ASCII punctuation (+, ') is written as a reference, never Japanese");
    }

    [Fact]
    public async Task A_hostile_DN_or_reason_is_text_in_the_report_never_markup()
    {
        var content = WaveEvidence.Build(Fixture.Input("hq", "sha256:" + new string('f', 64)));
        IReadOnlyList<string?> hostile = ["entity", "id-1", "cn=<script>alert(1)</script>,ou=山田 & \"co\",dc=example,dc=jp", "failed", "x", "理由: <img src=x onerror=alert(2)>", "bob", null];

        var raw = await ReportRenderer.RenderAsync(content.Manifest, [.. content.ExceptionRows, hostile], "ja");

        raw.Should().NotContain("<script>").And.NotContain("<img");
        raw.Should().Contain("cn=&lt;script&gt;alert(1)&lt;/script&gt;,ou=山田 &amp; &quot;co&quot;,dc=example,dc=jp").And.Contain("理由: &lt;img src=x onerror=alert(2)&gt;");
        WebUtility.HtmlDecode(raw).Should().Contain((string)hostile[2]!, "a browser shows the DN as it is");
    }

    [Theory]
    [InlineData("ja", "署名のない下書きです")]
    [InlineData("en", "UNSIGNED DRAFT: exported with --unsigned.")]
    public async Task An_unsigned_pack_s_report_says_it_is_a_draft_before_its_summary(string language, string draft)
    {
        var unsigned = WaveEvidence.Build(Fixture.Input("hq", null));
        var signed = WaveEvidence.Build(Fixture.Input("hq", "sha256:" + new string('f', 64)));

        var html = await ReportRenderer.RenderAsync(unsigned.Manifest, unsigned.ExceptionRows, language);
        var signedHtml = await ReportRenderer.RenderAsync(signed.Manifest, signed.ExceptionRows, language);

        html.Should().Contain($"<p id=\"draft\" class=\"bad\">{draft}");
        html.IndexOf("id=\"draft\"", StringComparison.Ordinal).Should().BeLessThan(html.IndexOf("id=\"summary\"", StringComparison.Ordinal));
        signedHtml.Should().NotContain("id=\"draft\"");
    }

    [Theory]
    [InlineData("en", "Live re-check at export", "NOT passed")]
    [InlineData("ja", "エクスポート時のライブ再確認", "不合格")]
    public async Task A_pack_exported_with_a_live_re_check_shows_its_queries_residuals_and_the_systems_probes(string language, string title, string notPassed)
    {
        var content = WaveEvidence.Build(Fixture.Input("hq", "sha256:" + new string('f', 64)));
        LiveProbe[] probes =
        [
            new("sign-in", "Http", "HTTP GET https://intranet.example.jp/health, expect a success status", "Succeeded", true, "2026-12-01T02:00:00Z", 12, "200 OK"),
            new("bind as uid=intranet-bind,ou=services,dc=example,dc=jp", "LdapBind", "a refusal", "Succeeded", false, "2026-12-01T02:00:01Z", 9, "a bind as uid=intranet-bind still succeeds"),
        ];
        var manifest = content.Manifest with
        {
            Reconciliation = new ManifestReconciliation(
                "2026-12-01T02:00:02Z",
                "ldaps://legacy.example.jp:636",
                ["(entryUUID=1234)", "GET /v1.0/users/abc?$select=onPremisesSyncEnabled"],
                14,
                1,
                ["cn=山田 太郎,ou=hq,dc=example,dc=jp is still in the directory"],
                [new LiveSystem("intranet", "Intranet portal", "Cutover", probes, null), new LiveSystem("legacy-bi", "Legacy BI", "Excepted", [], "excepted by decision: no probe asked")]),
        };

        var html = WebUtility.HtmlDecode(await ReportRenderer.RenderAsync(manifest, content.ExceptionRows, language));

        html.Should().Contain($"<h2>{title}</h2>").And.Contain("ldaps://legacy.example.jp:636").And.Contain("(entryUUID=1234)").And.Contain("GET /v1.0/users/abc?$select=onPremisesSyncEnabled");
        html.Should().Contain("<td id=\"live-residual\" class=\"bad\">").And.Contain("<li>cn=山田 太郎,ou=hq,dc=example,dc=jp is still in the directory</li>");
        html.Should().Contain("Intranet portal (intranet)").And.Contain("a bind as uid=intranet-bind still succeeds").And.Contain($"class=\"bad\">{notPassed} (Succeeded)");
        html.Should().Contain("excepted by decision: no probe asked");
        html.Should().Contain("2026-12-01 11:00:02 JST (2026-12-01 02:00:02 UTC)", "the re-check's time in both zones");
        html.IndexOf("id=\"systems\"", StringComparison.Ordinal).Should().BeLessThan(html.IndexOf("id=\"live\"", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_pack_exported_without_a_live_re_check_says_it_was_not_run()
    {
        var content = WaveEvidence.Build(Fixture.Input("hq", "sha256:" + new string('f', 64)));
        content.Manifest.Reconciliation.Should().BeNull("the fixture's export did not run --live");

        var html = WebUtility.HtmlDecode(await ReportRenderer.RenderAsync(content.Manifest, content.ExceptionRows, "en"));

        html.Should().Contain("<section id=\"live\">").And.Contain("Not run at export: run authsplit evidence verify --live.").And.NotContain("live-residual");
    }

    [Fact]
    public async Task Only_ja_and_en_are_offered() =>
        await FluentActions.Awaiting(() => RenderAsync("fr")).Should().ThrowAsync<ArgumentException>();
}
