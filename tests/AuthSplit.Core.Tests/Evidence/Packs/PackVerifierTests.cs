using System.Text;
using System.Text.Json.Nodes;
using AuthSplit.Core.Evidence;
using AuthSplit.Core.Evidence.Packs;
using AuthSplit.Core.Execution;
using AuthSplit.Core.Planning.Format;

namespace AuthSplit.Core.Tests.Evidence.Packs;

public sealed class PackVerifierTests
{
    private static readonly EvidenceFixture Fixture = EvidenceFixture.Create();

    [Fact]
    public void The_pre_authentication_encoding_is_the_DSSE_spec_s_own_example() =>
        Encoding.UTF8.GetString(Dsse.PreAuthenticationEncoding("http://example.com/HelloWorld", "hello world"u8))
            .Should().Be("DSSEv1 29 http://example.com/HelloWorld 11 hello world");

    [Fact]
    public void An_exported_pack_verifies_under_its_key_and_under_the_trusted_fingerprint()
    {
        using var key = EvidenceFixture.NewKey();
        var pack = Fixture.Pack("hq", key);

        var result = PackVerifier.Verify(pack, SigningKeys.Fingerprint(key));

        result.Findings.Should().BeEmpty();
        result.KeyFingerprint.Should().Be(SigningKeys.Fingerprint(key));
        result.Manifest!.Wave.Should().Be("hq");
        pack.Keys.Should().BeEquivalentTo(["manifest.json", "ledger.jsonl", "entities.csv", "exceptions.csv", "public-key.pem", "envelope.dsse.json"]);
    }

    [Fact]
    public void The_manifest_counts_each_entity_by_the_state_its_last_step_record_left_it_in()
    {
        using var key = EvidenceFixture.NewKey();
        var manifest = PackVerifier.Verify(Fixture.Pack("hq", key), null).Manifest!;
        var removals = Fixture.HqRemovals.Count;

        manifest.Counts.Entities.Should().Be(removals);
        manifest.Counts.FinalStates.Should().Equal(new SortedDictionary<string, int> { ["done"] = removals - 1, ["failed"] = 1 });
        manifest.Counts.StepOutcomes["delete-legacy-entry"].Should().Equal(new SortedDictionary<string, int> { ["done"] = removals - 1, ["failed"] = 1 });
        manifest.Plan.Scope.Remove.Should().Be(removals);
        manifest.Deadline.Should().Be(new ManifestDeadline("2025-04-30", "2025-05-01T00:00:00+09:00", "2026-12-01T01:05:00.000000Z", false));
        manifest.Approvals.Should().ContainSingle().Which.ApprovedBy.Should().Be("alice");
    }

    [Fact]
    public void Exceptions_list_every_entity_not_done_with_its_reason_and_who_decided()
    {
        using var key = EvidenceFixture.NewKey();
        var pack = Fixture.Pack("hq", key);
        var exceptions = EvidenceFixture.Lines(pack, "exceptions.csv");

        exceptions[0].Should().Be("subject,id,dn,state,code,reason,decidedBy,at");
        var failed = Fixture.HqRemovals[^1].Id;
        exceptions.Should().Contain(l => l.Contains(failed, StringComparison.Ordinal) && l.Contains(",failed,ldap-refused,ldap-refused: insufficient access,bob,", StringComparison.Ordinal));
        exceptions.Should().Contain(l => l.Contains("uid=partner", StringComparison.Ordinal) && l.Contains(",excluded,protected,", StringComparison.Ordinal));
        exceptions.Should().Contain(l => l.Contains("uid=ken", StringComparison.Ordinal) && l.Contains(",excluded,blocked,", StringComparison.Ordinal));
        EvidenceFixture.Lines(pack, "entities.csv").Should().HaveCount(1 + Fixture.Plan.Entities.Count(e => e.Wave == "hq"));
    }

    [Fact]
    public void Another_wave_s_records_are_withheld_to_their_chain_fields_and_the_chain_still_runs_from_record_1()
    {
        using var key = EvidenceFixture.NewKey();
        var pack = Fixture.Pack("overseas", key);
        var lines = EvidenceFixture.Lines(pack, "ledger.jsonl");

        lines.Should().HaveCount(Fixture.Ledger.Count, "overseas completes last");
        for (var i = 0; i < lines.Length; i++)
        {
            var record = Fixture.Ledger[i];
            lines[i].Should().Be(record.Wave == "hq" ? PackLedger.Withheld(record) : LedgerChain.ToJson(record));
        }

        lines.Should().NotContain(l => Fixture.HqRemovals.Any(e => l.Contains(e.Id, StringComparison.Ordinal)), "no hq entity is named in the overseas pack");
        PackVerifier.Verify(pack, null).Findings.Should().BeEmpty();
        var hq = EvidenceFixture.Lines(Fixture.Pack("hq", key), "ledger.jsonl");
        hq.Should().HaveCount((int)Fixture.Ledger.Last(r => r.Wave == "hq").Sequence, "the hq pack stops at hq's last record");
    }

    public static TheoryData<string, string, string> Tamperings() => new()
    {
        { "edit a record", "ledger-edited", "record 5 was edited: its content no longer hashes to" },
        { "edit a record and recompute its hash", "ledger-edited", "record 5 was edited and its hash recomputed" },
        { "remove a record", "ledger-missing", "record 5 is missing" },
        { "swap two records", "ledger-reordered", "records were reordered" },
        { "cut the last two records", "ledger-truncated", "the ledger was truncated: it ends at record" },
        { "append a chained record", "ledger-appended", "records were appended: record" },
        { "edit the manifest", "file-edited", "manifest.json was changed after it was signed (manifest edited)" },
        { "sign the statement with another key", "signature-invalid", "signed with another key: the signature is by" },
        { "re-sign the whole pack with another key", "key-untrusted", "signed with another key: the pack's key is" },
        { "remove a file", "file-missing", "entities.csv is signed but not in the pack" },
        { "add a file", "file-unexpected", "notes.txt is in the pack but not signed" },
        { "state other counts and sign them", "counts-mismatch", "the manifest's counts disagree with the ledger: finalStates.done:" },
    };

    [Theory]
    [MemberData(nameof(Tamperings))]
    public void Every_tampering_is_caught_and_the_first_finding_names_it(string tampering, string code, string message)
    {
        using var key = EvidenceFixture.NewKey();
        using var other = EvidenceFixture.NewKey();
        var pack = Fixture.Pack("hq", key);
        var ledger = EvidenceFixture.Lines(pack, "ledger.jsonl").ToList();
        var manifest = pack["manifest.json"];
        var predicate = EvidencePack.Predicate(EvidenceManifest.Parse(manifest));
        switch (tampering)
        {
            case "edit a record":
                ledger[4] = EvidenceFixture.Replace(ledger[4], "\"actor\":\"bob\"", "\"actor\":\"mallory\"");
                break;
            case "edit a record and recompute its hash":
                var edited = PackLedger.Parse(Encoding.UTF8.GetBytes(ledger[4] + "\n")).Records[0] with { Actor = "mallory" };
                ledger[4] = LedgerChain.ToJson(LedgerChain.Seal(edited));
                break;
            case "remove a record":
                ledger.RemoveAt(4);
                break;
            case "swap two records":
                (ledger[4], ledger[5]) = (ledger[5], ledger[4]);
                break;
            case "cut the last two records":
                ledger.RemoveRange(ledger.Count - 2, 2);
                break;
            case "append a chained record":
                var last = PackLedger.Parse(Encoding.UTF8.GetBytes(ledger[^1] + "\n")).Records[0];
                ledger.Add(LedgerChain.ToJson(LedgerChain.Seal(last with { Sequence = last.Sequence + 1, PreviousHash = last.Hash, Kind = LedgerKind.Restore, Actor = "mallory" })));
                break;
            case "edit the manifest":
                pack["manifest.json"] = Encoding.UTF8.GetBytes(EvidenceFixture.Replace(Encoding.UTF8.GetString(manifest), "\"exportedBy\": \"carol\"", "\"exportedBy\": \"dave\""));
                break;
            case "sign the statement with another key":
                pack["envelope.dsse.json"] = EvidencePack.Resign(pack, predicate, other, withPublicKey: false).Single(f => f.Key == "envelope.dsse.json").Value;
                break;
            case "re-sign the whole pack with another key":
                var resigned = EvidencePack.Resign(pack, predicate with { KeyFingerprint = SigningKeys.Fingerprint(other) }, other, withPublicKey: true);
                pack = resigned.ToDictionary(f => f.Key, f => f.Value, StringComparer.Ordinal);
                break;
            case "remove a file":
                pack.Remove("entities.csv");
                break;
            case "add a file":
                pack["notes.txt"] = "all fine"u8.ToArray();
                break;
            case "state other counts and sign them":
                var node = JsonNode.Parse(manifest)!;
                node["counts"]!["finalStates"]!["done"] = node["counts"]!["finalStates"]!["done"]!.GetValue<int>() + 1;
                pack["manifest.json"] = Encoding.UTF8.GetBytes(node.ToJsonString());
                pack = EvidencePack.Resign(pack, predicate, key, withPublicKey: true).ToDictionary(f => f.Key, f => f.Value, StringComparer.Ordinal);
                break;
            default:
                throw new InvalidOperationException(tampering);
        }

        if (tampering.Contains("record", StringComparison.Ordinal))
        {
            EvidenceFixture.SetLines(pack, "ledger.jsonl", ledger);
        }

        var result = PackVerifier.Verify(pack, SigningKeys.Fingerprint(key));

        result.IsValid.Should().BeFalse();
        result.Findings[0].Code.Should().Be(code, string.Join("\n", result.Findings));
        result.Findings[0].Message.Should().Contain(message, string.Join("\n", result.Findings));
    }

    [Fact]
    public void The_live_check_s_subjects_come_from_the_verified_ledger_and_the_manifest()
    {
        using var key = EvidenceFixture.NewKey();
        var pack = Fixture.Pack("hq", key);
        var verified = PackVerifier.Verify(pack, SigningKeys.Fingerprint(key));
        pack.Remove("entities.csv");

        var scope = LiveReconciliation.ScopeOf(verified.Manifest!, PackLedger.Parse(pack["ledger.jsonl"]));

        var removals = Fixture.HqRemovals;
        scope.Deleted.Select(s => (s.Id, s.Dn)).Should().BeEquivalentTo(removals.SkipLast(1).Select(e => (e.Id, e.Dn)), "the last one's delete failed");
        scope.CloudManaged.Select(s => (s.Id, s.TargetId)).Should().BeEquivalentTo(
            removals.SkipLast(1).Where(e => e.Match.TargetId is not null).Select(e => (e.Id, e.Match.TargetId)), "people whose every step held, with the target account the ledger recorded");
        var protectedOnes = Fixture.Plan.Entities.Where(e => e.Wave == "hq" && e.Disposition == Disposition.Protected).ToList();
        protectedOnes.Should().NotBeEmpty();
        scope.Protected.Select(s => (s.Id, s.Dn)).Should().BeEquivalentTo(protectedOnes.Select(e => (e.Id, e.Dn)));
        scope.GateVerified.Should().BeFalse();
    }

    [Fact]
    public void An_unsigned_pack_fails_as_unsigned_though_its_digests_and_chain_hold()
    {
        var pack = Fixture.Pack("hq", key: null);

        var result = PackVerifier.Verify(pack, null);

        result.Findings.Select(f => f.Code).Should().Equal("unsigned");
        pack.Should().NotContainKey("public-key.pem");
    }

    [Fact]
    public void A_key_that_is_not_P256_is_refused()
    {
        using var p384 = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP384);

        FluentActions.Invoking(() => SigningKeys.Import(p384.ExportPkcs8PrivateKeyPem())).Should().Throw<FormatException>().WithMessage("*P-256*");
    }
}
