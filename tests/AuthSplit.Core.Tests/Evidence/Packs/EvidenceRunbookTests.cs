using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using AuthSplit.Core.Evidence.Packs;
using AuthSplit.Lab.Servers;

namespace AuthSplit.Core.Tests.Evidence.Packs;

/// <summary>
/// Runs exactly the standard-tools block of runbooks/09-evidence-for-auditors.md (its <c>```bash</c> block)
/// with <c>bash</c>, <c>openssl</c>, <c>sha256sum</c> and <c>jq</c>: it must pass a pack as exported and fail
/// each tampered one at the step that is about it. Tampered packs re-signed with the organisation's own key
/// stand for an export that went wrong, so each later step is shown to fail on its own.
/// </summary>
public sealed class EvidenceRunbookTests
{
    private static readonly EvidenceFixture Fixture = EvidenceFixture.Create();

    public static string AuditorScript()
    {
        var runbook = File.ReadAllText(Path.Combine(AuthSplit.Testing.TestPaths.RepositoryRoot, "runbooks", "09-evidence-for-auditors.md"));
        var blocks = runbook.Split("```bash\n");
        blocks.Should().HaveCount(2, "the runbook has one standard-tools block");
        return blocks[1].Split("\n```")[0];
    }

    /// <summary>Runs the runbook's block on <paramref name="pack"/> written to disk; exit code and output (stdout and stderr).</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(IReadOnlyDictionary<string, byte[]> pack, string fingerprint)
    {
        var directory = Path.Combine(AuthSplit.Testing.TestPaths.NewWorkDirectory(), "pack");
        System.IO.Directory.CreateDirectory(directory);
        foreach (var (name, content) in pack)
        {
            await File.WriteAllBytesAsync(Path.Combine(directory, name), content);
        }

        return await RunOnDirectoryAsync(directory, fingerprint);
    }

    public static async Task<(int ExitCode, string Output)> RunOnDirectoryAsync(string directory, string fingerprint)
    {
        var tools = await DebianPackages.EnsureAsync([new RequiredTool("jq", "jq", "/usr/bin/jq"), new RequiredTool("openssl", "openssl", "/usr/bin/openssl")], null, CancellationToken.None);
        var start = new ProcessStartInfo("bash", ["-c", AuditorScript()]) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.Environment["PATH"] = string.Join(':', Path.GetDirectoryName(tools["jq"]), Path.GetDirectoryName(tools["openssl"]), Environment.GetEnvironmentVariable("PATH"));
        start.Environment["PACK"] = directory;
        start.Environment["FINGERPRINT"] = fingerprint;
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await output + await error);
    }

    [Theory]
    [InlineData("hq")]
    [InlineData("overseas")]
    public async Task The_runbook_s_standard_tools_pass_a_pack_as_exported(string wave)
    {
        using var key = EvidenceFixture.NewKey();

        var (exitCode, output) = await RunAsync(Fixture.Pack(wave, key), SigningKeys.Fingerprint(key));

        exitCode.Should().Be(0, output);
        output.Should().Contain("Verified OK").And.Contain($"OK: wave {wave}, plan {Fixture.PlanId}: signature, 5 files, ");
    }

    public static TheoryData<string, string> Tamperings() => new()
    {
        { "edit the manifest", "manifest.json: FAILED" },
        { "re-sign the whole pack with another key", "FAIL: signed with another key" },
        { "sign the statement with another key", "Verification failure" },
        { "add a file", "FAIL: the pack's files are not the signed ones" },
        { "edit a record, signed", "FAIL: record 5: edited" },
        { "remove a record, signed", "FAIL: record 5: sequence out of place" },
        { "cut the last record, signed", "FAIL: the ledger ends at record" },
        { "state other counts, signed", "FAIL: the manifest's counts disagree with the ledger" },
    };

    [Theory]
    [MemberData(nameof(Tamperings))]
    public async Task The_runbook_s_standard_tools_fail_a_tampered_pack(string tampering, string expected)
    {
        using var key = EvidenceFixture.NewKey();
        using var other = EvidenceFixture.NewKey();
        var pack = Fixture.Pack("hq", key);
        var predicate = EvidencePack.Predicate(EvidenceManifest.Parse(pack["manifest.json"]));
        var ledger = EvidenceFixture.Lines(pack, "ledger.jsonl").ToList();
        Dictionary<string, byte[]> Resigned(EvidencePredicate p, System.Security.Cryptography.ECDsa by, bool withPublicKey) =>
            EvidencePack.Resign(pack, p, by, withPublicKey).ToDictionary(f => f.Key, f => f.Value, StringComparer.Ordinal);
        switch (tampering)
        {
            case "edit the manifest":
                pack["manifest.json"] = Encoding.UTF8.GetBytes(EvidenceFixture.Replace(Encoding.UTF8.GetString(pack["manifest.json"]), "\"exportedBy\": \"carol\"", "\"exportedBy\": \"dave\""));
                break;
            case "re-sign the whole pack with another key":
                pack = Resigned(predicate, other, withPublicKey: true);
                break;
            case "sign the statement with another key":
                pack = Resigned(predicate, other, withPublicKey: false);
                break;
            case "add a file":
                pack["notes.txt"] = "all fine"u8.ToArray();
                break;
            case "edit a record, signed":
                ledger[4] = EvidenceFixture.Replace(ledger[4], "\"actor\":\"bob\"", "\"actor\":\"mallory\"");
                EvidenceFixture.SetLines(pack, "ledger.jsonl", ledger);
                pack = Resigned(predicate, key, withPublicKey: false);
                break;
            case "remove a record, signed":
                ledger.RemoveAt(4);
                EvidenceFixture.SetLines(pack, "ledger.jsonl", ledger);
                pack = Resigned(predicate, key, withPublicKey: false);
                break;
            case "cut the last record, signed":
                ledger.RemoveAt(ledger.Count - 1);
                EvidenceFixture.SetLines(pack, "ledger.jsonl", ledger);
                pack = Resigned(predicate, key, withPublicKey: false);
                break;
            case "state other counts, signed":
                var manifest = JsonNode.Parse(pack["manifest.json"])!;
                manifest["counts"]!["finalStates"]!["done"] = manifest["counts"]!["finalStates"]!["done"]!.GetValue<int>() + 1;
                pack["manifest.json"] = Encoding.UTF8.GetBytes(manifest.ToJsonString());
                pack = Resigned(predicate, key, withPublicKey: false);
                break;
            default:
                throw new InvalidOperationException(tampering);
        }

        var (exitCode, output) = await RunAsync(pack, SigningKeys.Fingerprint(key));

        exitCode.Should().NotBe(0, output);
        output.Should().Contain(expected).And.NotContain("OK: wave");
    }
}
