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

    [Fact]
    public async Task Only_ja_and_en_are_offered() =>
        await FluentActions.Awaiting(() => RenderAsync("fr")).Should().ThrowAsync<ArgumentException>();
}
