using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using AuthSplit.Core.Evidence;
using AuthSplit.Core.Execution;
using AuthSplit.Core.Planning.Format;
using AuthSplit.Lab.Servers;

namespace AuthSplit.Core.Tests.Evidence;

public sealed class LedgerChainTests
{
    private static readonly DateTimeOffset Start = new(2026, 12, 1, 2, 0, 0, TimeSpan.Zero);

    /// <summary>A sealed chain of <paramref name="count"/> records of every kind.</summary>
    private static List<LedgerRecord> Chain(int count)
    {
        var records = new List<LedgerRecord>();
        var previous = LedgerChain.Genesis;
        for (var i = 1; i <= count; i++)
        {
            var record = LedgerChain.Seal(new LedgerRecord
            {
                Sequence = i,
                At = Start.AddSeconds(i).AddTicks(1234560),
                Kind = i == 1 ? LedgerKind.Approval : LedgerKind.Step,
                PlanId = "sha256:" + new string('a', 64),
                Wave = i == 1 ? null : "wave-1",
                EntityId = i == 1 ? null : $"e{i}",
                Step = i == 1 ? null : StepAction.DeleteLegacyEntry,
                Outcome = i == 1 ? null : StepOutcome.Done,
                Actor = "alice",
                Node = "node-1",
                Data = i == 1 ? null : $"{{\"attempt\":{i}}}",
                PreviousHash = previous,
                Hash = string.Empty,
            });
            records.Add(record);
            previous = record.Hash;
        }

        return records;
    }

    [Fact]
    public void The_first_record_links_to_sha256_and_64_zeros() =>
        LedgerChain.Genesis.Should().Be("sha256:0000000000000000000000000000000000000000000000000000000000000000");

    [Fact]
    public void The_canonical_form_is_every_field_but_the_hash_in_key_order_with_nulls_and_wire_names()
    {
        var record = new LedgerRecord
        {
            Sequence = 7,
            At = new DateTimeOffset(2026, 12, 1, 3, 4, 5, TimeSpan.FromHours(2)).AddTicks(1234567),
            Kind = LedgerKind.WaveStarted,
            PlanId = "sha256:ab",
            Wave = "wave \"1\"\n",
            Actor = "Jürgen\\",
            Node = "n\u0001\u007f",
            PreviousHash = "sha256:cd",
            Hash = "sha256:ignored",
        };

        LedgerChain.Canonicalize(record).Should().Be(
            "{\"actor\":\"Jürgen\\\\\",\"at\":\"2026-12-01T01:04:05.123456Z\",\"data\":null,\"entityId\":null,\"kind\":\"wave-started\",\"node\":\"n\\u0001\\u007f\","
            + "\"outcome\":null,\"planId\":\"sha256:ab\",\"previousHash\":\"sha256:cd\",\"sequence\":7,\"step\":null,\"wave\":\"wave \\\"1\\\"\\n\"}");
    }

    [Fact]
    public void The_hash_is_sha256_of_the_canonical_form_in_utf8()
    {
        var record = Chain(2)[1];

        record.Hash.Should().Be("sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(LedgerChain.Canonicalize(record)))));
        LedgerChain.ComputeHash(record with { Hash = "anything" }).Should().Be(record.Hash);
    }

    [Fact]
    public async Task An_auditor_recomputes_each_hash_from_the_exported_json_with_jq_and_sha256sum()
    {
        var tools = await DebianPackages.EnsureAsync([new RequiredTool("jq", "jq", "/usr/bin/jq")], null, CancellationToken.None);
        var records = Chain(3);
        records.Add(LedgerChain.Seal(records[2] with { Sequence = 4, Data = "{\"note\":\"Ünïcode, \\\"quotes\\\", tab\\t, DEL \u007f\"}", Actor = "o'brien\n", PreviousHash = records[2].Hash }));

        foreach (var record in records)
        {
            // docs/ledger-format.md: jq -cjS 'del(.hash)' | sha256sum
            var start = new ProcessStartInfo("bash", ["-c", $"{tools["jq"]} -cjS 'del(.hash)' | sha256sum"]) { RedirectStandardInput = true, RedirectStandardOutput = true };
            using var process = Process.Start(start)!;
            await process.StandardInput.WriteAsync(LedgerChain.ToJson(record));
            process.StandardInput.Close();
            var output = await process.StandardOutput.ReadToEndAsync();
            await process.WaitForExitAsync();

            ("sha256:" + output.Split(' ')[0]).Should().Be(record.Hash);
        }
    }

    [Fact]
    public async Task The_documented_shell_check_walks_a_whole_ledger_and_stops_at_an_edit()
    {
        var tools = await DebianPackages.EnsureAsync([new RequiredTool("jq", "jq", "/usr/bin/jq")], null, CancellationToken.None);
        var doc = await File.ReadAllTextAsync(Path.Combine(AuthSplit.Testing.TestPaths.RepositoryRoot, "docs", "ledger-format.md"));
        var script = doc.Split("```sh\n")[2].Split("```")[0];
        var directory = AuthSplit.Testing.TestPaths.NewWorkDirectory();
        var chain = Chain(5);

        async Task<string> Check(IEnumerable<LedgerRecord> records)
        {
            await File.WriteAllLinesAsync(Path.Combine(directory, "ledger.jsonl"), records.Select(LedgerChain.ToJson));
            var start = new ProcessStartInfo("bash", ["-c", script]) { WorkingDirectory = directory, RedirectStandardOutput = true };
            start.Environment["PATH"] = Path.GetDirectoryName(tools["jq"]) + ":" + Environment.GetEnvironmentVariable("PATH");
            using var process = Process.Start(start)!;
            var output = await process.StandardOutput.ReadToEndAsync();
            await process.WaitForExitAsync();
            return output;
        }

        (await Check(chain)).Should().Be($"checked 5 records; last hash {chain[^1].Hash}\n");
        chain[2] = chain[2] with { Actor = "mallory" };
        (await Check(chain)).Should().StartWith("record 3: edited\n");
    }

    [Fact]
    public void An_intact_chain_verifies_to_its_last_hash()
    {
        var chain = Chain(5);

        LedgerChain.Verify(chain).Should().BeEquivalentTo(new { IsIntact = true, IntactRecords = 5L, LastHash = chain[^1].Hash, Fault = (LedgerFault?)null });
        LedgerChain.Verify([]).Should().BeEquivalentTo(new { IsIntact = true, IntactRecords = 0L, LastHash = LedgerChain.Genesis });
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(5)]
    public void An_edited_record_is_named(int sequence)
    {
        var chain = Chain(5);
        chain[sequence - 1] = chain[sequence - 1] with { Actor = "mallory" };

        var fault = LedgerChain.Verify(chain).Fault;

        fault.Should().BeEquivalentTo(new { Sequence = (long)sequence, Kind = LedgerFaultKind.Edited });
        fault!.Record!.Actor.Should().Be("mallory");
        fault.Message.Should().Contain($"record {sequence} was edited");
    }

    [Fact]
    public void An_edited_record_whose_hash_was_recomputed_is_named_by_the_broken_link_after_it()
    {
        var chain = Chain(5);
        chain[2] = LedgerChain.Seal(chain[2] with { Outcome = StepOutcome.Refused });

        LedgerChain.Verify(chain).Fault.Should().BeEquivalentTo(new { Sequence = 3L, Kind = LedgerFaultKind.Edited, Record = chain[2] });
    }

    [Fact]
    public void A_removed_record_is_named_by_its_sequence()
    {
        var chain = Chain(6);
        chain.RemoveAt(3);

        var verification = LedgerChain.Verify(chain);

        verification.Fault.Should().BeEquivalentTo(new { Sequence = 4L, Kind = LedgerFaultKind.Removed, Record = (LedgerRecord?)null });
        verification.IntactRecords.Should().Be(3);
        verification.Fault!.Message.Should().Contain("record 4 is missing");
    }

    [Fact]
    public void Several_removed_records_are_named_as_a_range()
    {
        var chain = Chain(8);
        chain.RemoveRange(2, 3);

        LedgerChain.Verify(chain).Fault!.Message.Should().Contain("records 3 to 5 are missing");
    }

    [Fact]
    public void Two_swapped_records_are_found_as_reordered()
    {
        var chain = Chain(6);
        (chain[2], chain[3]) = (chain[3], chain[2]);

        LedgerChain.Verify(chain).Fault.Should().BeEquivalentTo(new { Sequence = 3L, Kind = LedgerFaultKind.Reordered, Record = chain[2] });
    }

    [Fact]
    public void Swapped_records_renumbered_in_place_are_found_as_reordered()
    {
        var chain = Chain(6);
        (chain[2], chain[3]) = (chain[3] with { Sequence = 3 }, chain[2] with { Sequence = 4 });

        LedgerChain.Verify(chain).Fault.Should().BeEquivalentTo(new { Sequence = 3L, Kind = LedgerFaultKind.Reordered });
    }

    [Fact]
    public void An_inserted_record_with_a_right_hash_and_link_is_found_by_the_record_after_it()
    {
        var chain = Chain(5);
        var forged = LedgerChain.Seal(chain[1] with { Sequence = 3, EntityId = "forged", PreviousHash = chain[1].Hash });
        chain.Insert(2, forged);
        for (var i = 3; i < chain.Count; i++)
        {
            chain[i] = chain[i] with { Sequence = i + 1 };
        }

        LedgerChain.Verify(chain).Fault.Should().BeEquivalentTo(new { Sequence = 3L, Kind = LedgerFaultKind.Inserted, Record = forged });
    }

    [Fact]
    public void An_inserted_record_with_a_made_up_hash_is_found_where_it_is()
    {
        var chain = Chain(5);
        var forged = chain[1] with { Sequence = 3, EntityId = "forged", PreviousHash = "sha256:" + new string('f', 64), Hash = "sha256:" + new string('e', 64) };
        chain.Insert(2, forged);

        LedgerChain.Verify(chain).Fault.Should().BeEquivalentTo(new { Sequence = 3L, Kind = LedgerFaultKind.Inserted, Record = forged });
    }

    [Fact]
    public void Time_is_kept_to_the_microsecond_in_utc()
    {
        var at = new DateTimeOffset(2026, 12, 1, 3, 4, 5, TimeSpan.FromHours(-5)).AddTicks(9);

        LedgerChain.FormatTime(at).Should().Be("2026-12-01T08:04:05.000000Z");
        LedgerChain.Truncate(at.AddTicks(20)).Should().Be(at.AddTicks(11), "29 ticks past the second is 2.9 µs, cut to 2 µs");
        LedgerChain.FormatTime(LedgerChain.Truncate(at)).Should().Be(LedgerChain.FormatTime(at));
    }
}
