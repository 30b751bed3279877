using System.Diagnostics;
using System.Runtime.Versioning;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using AuthSplit.Core.Evidence;
using AuthSplit.Core.Evidence.Packs;
using AuthSplit.Core.Planning.Format;
using AuthSplit.Lab.Servers;

namespace AuthSplit.Cli.EndToEndTests.Execution;

/// <summary>
/// A real wave on slapd and the Graph emulator, its evidence exported by the CLI, verified by the CLI and by
/// the runbook's standard-tools block (openssl, sha256sum, jq), and every tampering caught by the CLI with
/// its own code and message.
/// </summary>
[UnsupportedOSPlatform("windows")]
public sealed class EvidenceExportTests
{
    private const string KeyEnvVar = "AUTHSPLIT_E2E_EVIDENCE_KEY";

    [Fact]
    public async Task A_completed_wave_exports_a_signed_pack_that_verifies_offline_and_with_standard_tools()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var fingerprint = SigningKeys.Fingerprint(key);
        await using var lab = await ExecutionLab.StartAsync(people: 40, configure: config => config["Evidence"] = new JsonObject { ["SigningKeyFile"] = "evidence-signing.pem" });
        var keyFile = Path.Combine(lab.Work, "evidence-signing.pem");
        await File.WriteAllTextAsync(keyFile, key.ExportPkcs8PrivateKeyPem());
        File.SetUnixFileMode(keyFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var plan = await lab.PlanAsync();
        await lab.ApproveAsync("alice");
        var run = await lab.CliAsync(lab.Run("hq", "bob"));
        run.ExitCode.Should().Be(0, run.ToString());
        var removals = plan.Entities.Where(e => e.Wave == "hq" && e.Disposition == Disposition.Remove).ToList();

        var pack = Path.Combine(lab.Work, "evidence", "hq");
        var export = await lab.CliAsync("evidence", "export", "--config", lab.Config, "--wave", "hq", "--out", pack, "--as", "carol", "--live");

        export.ExitCode.Should().Be(0, export.ToString());
        export.Output.Should().Contain($"Evidence of wave hq written to {pack}: plan {plan.PlanId}").And.Contain($"Signed with key {fingerprint}")
            .And.Contain(", 0 residual(s), recorded in the manifest and the report.");
        File.GetUnixFileMode(pack).Should().Be(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        System.IO.Directory.GetFiles(pack).Select(Path.GetFileName).Should().BeEquivalentTo(["manifest.json", "ledger.jsonl", "entities.csv", "exceptions.csv", "report.html", "public-key.pem", "envelope.dsse.json"]);
        // Japanese as UTF-8 text in the file itself (not &#x...; references), and as a browser shows it.
        var rawReport = await File.ReadAllTextAsync(Path.Combine(pack, "report.html"));
        rawReport.Should().Contain("ウェーブ完了証跡: hq").And.Contain("<h2>概要</h2>");
        var report = System.Net.WebUtility.HtmlDecode(rawReport);
        report.Should().StartWith("<!DOCTYPE html>").And.Contain("<html lang=\"ja\">").And.Contain("ウェーブ完了証跡: hq").And.Contain($"<td id=\"removed\">{removals.Count}</td>").And.Contain(" JST (");
        report.IndexOf("id=\"summary\"", StringComparison.Ordinal).Should().BeLessThan(report.IndexOf("id=\"timeline\"", StringComparison.Ordinal), "the summary comes first");
        System.IO.Directory.GetFiles(pack).Should().OnlyContain(f => File.GetUnixFileMode(f) == (UnixFileMode.UserRead | UnixFileMode.UserWrite), "the pack holds ids, DNs and names");
        System.IO.Directory.GetFileSystemEntries(Path.GetDirectoryName(pack)!).Should().Equal([pack], "no temporary directory is left beside it");

        var manifest = EvidenceManifest.Parse(await File.ReadAllBytesAsync(Path.Combine(pack, "manifest.json")));
        manifest.PlanId.Should().Be(plan.PlanId);
        manifest.ExportedBy.Should().Be("carol");
        manifest.Run!.StartedBy.Should().Be("bob");
        manifest.Approvals.Select(a => a.ApprovedBy).Should().Equal("alice");
        manifest.Counts.Entities.Should().Be(removals.Count);
        manifest.Counts.FinalStates.Should().Equal(new SortedDictionary<string, int> { ["done"] = removals.Count });
        manifest.Deadline.Met.Should().BeTrue("the lab's deadline is 2027-04-30");
        // export --live: the reconciliation is in the signed manifest and the report, with every query sent.
        manifest.Reconciliation!.Residual.Should().Be(0);
        manifest.Reconciliation.Checked.Should().BeGreaterThanOrEqualTo(2 * removals.Count);
        manifest.Reconciliation.Queries.Should().Contain($"LDAP search base \"{ExecutionLab.Suffix}\" scope sub filter (entryUUID={removals[0].Id})");
        manifest.Reconciliation.Server.Should().Contain(lab.Server.LdapsUrl.Split("//")[1]);
        report.Should().Contain($"<td id=\"residual\">{manifest.Reconciliation.Checked} 件を確認、残存 0 件</td>");
        var entities = await File.ReadAllTextAsync(Path.Combine(pack, "entities.csv"));
        entities.Should().ContainAll(plan.Entities.Where(e => e.Wave == "hq").Select(e => e.Id));
        var secrets = lab.Environment.Values.Where(v => v.Length >= 8).ToList();
        foreach (var file in System.IO.Directory.GetFiles(pack))
        {
            var text = await File.ReadAllTextAsync(file);
            text.Should().NotContainAny(secrets, $"{Path.GetFileName(file)} holds no secret");
            text.Should().NotContain("userPassword", $"{Path.GetFileName(file)} holds no backup");
        }

        var verify = await lab.CliAsync("evidence", "verify", pack, "--fingerprint", fingerprint);
        verify.ExitCode.Should().Be(0, verify.ToString());
        verify.Output.Should().Contain($"Evidence of wave hq verified: plan {plan.PlanId}; signature by {fingerprint}");

        var (exitCode, output) = await RunAuditorScriptAsync(pack, fingerprint);
        exitCode.Should().Be(0, output);
        output.Should().Contain("Verified OK").And.Contain($"OK: wave hq, plan {plan.PlanId}");

        // Live: the directory and the tenant read again, every query on record; then a removed DN put back is a residual.
        var record = Path.Combine(lab.Work, "live-record.json");
        var live = await lab.CliAsync("evidence", "verify", pack, "--fingerprint", fingerprint, "--live", "--config", lab.Config, "--record", record);
        live.ExitCode.Should().Be(0, live.ToString());
        var people = removals.Count(e => e.Kind == Core.Model.EntityKind.Person);
        live.Output.Should().Contain($"Live check of wave hq at ").And.Contain($": {removals.Count} removed entities absent by identity and by DN, ").And.Contain($"{people} removed people cloud-managed").And.Contain(", 0 residual(s).");
        var liveRecord = JsonNode.Parse(await File.ReadAllTextAsync(record))!;
        liveRecord["residual"]!.GetValue<int>().Should().Be(0);
        liveRecord["planId"]!.GetValue<string>().Should().Be(plan.PlanId);
        liveRecord["directory"]!.GetValue<string>().Should().Contain(lab.Server.LdapsUrl.Split("//")[1]);
        var queries = liveRecord["checks"]!.AsArray().Select(c => c!["query"]!.GetValue<string>()).ToList();
        queries.Should().Contain($"LDAP search base \"{ExecutionLab.Suffix}\" scope sub filter (entryUUID={removals[0].Id})");
        queries.Should().Contain($"LDAP search base \"{removals[0].Dn}\" scope base filter (objectClass=*)");
        queries.Should().Contain(q => q.StartsWith("Graph GET /beta/users/", StringComparison.Ordinal));
        var comeback = removals.First(e => e.Kind == Core.Model.EntityKind.Person);
        var rdn = comeback.Dn.Split(',')[0].Split('=');
        await lab.Server.ModifyAsync($"dn: {comeback.Dn}\nchangetype: add\nobjectClass: inetOrgPerson\n{rdn[0]}: {rdn[1]}\ncn: comeback\nsn: comeback\n\n", CancellationToken.None);
        var residual = await lab.CliAsync("evidence", "verify", pack, "--fingerprint", fingerprint, "--live", "--config", lab.Config);
        residual.ExitCode.Should().Be(15, residual.ToString());
        residual.Output.Should().Contain(", 1 residual(s).");
        residual.Error.Should().Contain($"residual: {comeback.Id}: removed: absent by DN: {comeback.Dn}");

        // The same pack checked against a directory the wave's plan did not read (here the same server by another
        // name; for a pack of another store, another server): absence there proves nothing, so nothing is read.
        var elsewhere = JsonNode.Parse(await File.ReadAllTextAsync(lab.Config))!;
        var plannedUrl = elsewhere["Source"]!["Url"]!.GetValue<string>();
        var otherUrl = plannedUrl.Replace("127.0.0.1", "localhost", StringComparison.Ordinal);
        elsewhere["Source"]!["Url"] = otherUrl;
        var otherConfig = Path.Combine(lab.Work, "elsewhere.json");
        await File.WriteAllTextAsync(otherConfig, elsewhere.ToJsonString());
        var otherDirectory = await lab.CliAsync("evidence", "verify", pack, "--fingerprint", fingerprint, "--live", "--config", otherConfig);
        otherDirectory.ExitCode.Should().Be(2, otherDirectory.ToString());
        otherDirectory.Error.Should().Contain($"error: --config reads {otherUrl}, but the wave's plan read {plannedUrl}: absence from another directory proves nothing").And.NotContain("WRN");

        // Every tampering, each on its own copy, caught by the CLI with its code and what happened.
        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var cases = new (string Name, Func<string, Task> Tamper, string? Fingerprint, string Expected)[]
        {
            ("edited", d => EditLineAsync(d, 3, l => l.Replace("\"actor\":\"bob\"", "\"actor\":\"mallory\"", StringComparison.Ordinal)), null, "invalid: ledger-edited: record 4 was edited"),
            ("missing", d => EditLinesAsync(d, lines => lines.RemoveAt(3)), null, "invalid: ledger-missing: record 4 is missing"),
            ("reordered", d => EditLinesAsync(d, lines => (lines[3], lines[4]) = (lines[4], lines[3])), null, "invalid: ledger-reordered:"),
            ("truncated", d => EditLinesAsync(d, lines => lines.RemoveAt(lines.Count - 1)), null, "invalid: ledger-truncated: the ledger was truncated"),
            ("appended", d => EditLinesAsync(d, lines => lines.Add(Appended(lines[^1]))), null, "invalid: ledger-appended: records were appended"),
            ("manifest edited", d => EditManifestAsync(d), null, "invalid: file-edited: manifest.json was changed after it was signed (manifest edited)"),
            ("signed with another key", d => ResignAsync(d, other), null, "invalid: signature-invalid: signed with another key"),
            ("the pack's key is not the trusted one", _ => Task.CompletedTask, SigningKeys.Fingerprint(other), "invalid: key-untrusted: signed with another key"),
            ("a FIFO slipped in", d => CliProcess.RunShellAsync(d, "mkfifo notes.txt"), null, "invalid: file-unexpected: notes.txt is in the pack but not signed"),
            ("manifest.json a link to a copy", d => CliProcess.RunShellAsync(d, "cp manifest.json ../manifest-copy.json && ln -sf ../manifest-copy.json manifest.json"), null, "invalid: file-edited: manifest.json was changed after it was signed"),
        };
        foreach (var (name, tamper, trusted, expected) in cases)
        {
            var copy = Path.Combine(lab.Work, "tampered", name.Replace(' ', '-'));
            System.IO.Directory.CreateDirectory(copy);
            foreach (var file in System.IO.Directory.GetFiles(pack))
            {
                File.Copy(file, Path.Combine(copy, Path.GetFileName(file)));
            }

            await tamper(copy);
            var result = await lab.CliAsync("evidence", "verify", copy, "--fingerprint", trusted ?? fingerprint);
            result.ExitCode.Should().Be(15, $"{name}: {result}");
            result.Error.Split('\n')[0].Should().StartWith(expected, $"{name}: the first line names it\n{result}");
        }
    }

    [Fact]
    public async Task Export_refuses_without_a_signing_key_unless_unsigned_and_never_writes_over_anything()
    {
        await using var lab = await ExecutionLab.StartAsync(people: 20);
        await lab.PlanAsync();
        await lab.ApproveAsync("alice");
        (await lab.CliAsync(lab.Run("hq", "bob"))).ExitCode.Should().Be(0);
        var pack = Path.Combine(lab.Work, "pack");

        var refused = await lab.CliAsync("evidence", "export", "--config", lab.Config, "--wave", "hq", "--out", pack);
        refused.ExitCode.Should().Be(2, refused.ToString());
        refused.Error.Should().Contain("no evidence signing key is configured (Evidence:SigningKeyFile or Evidence:SigningKeyEnvVar)").And.Contain("--unsigned");
        System.IO.Directory.Exists(pack).Should().BeFalse();

        var config = await File.ReadAllBytesAsync(lab.Config);
        var overConfig = await lab.CliAsync("evidence", "export", "--config", lab.Config, "--wave", "hq", "--out", lab.Config, "--unsigned");
        overConfig.ExitCode.Should().Be(2, overConfig.ToString());
        overConfig.Error.Should().Contain("exists and is not a directory");
        (await File.ReadAllBytesAsync(lab.Config)).Should().Equal(config);
        var overStore = await lab.CliAsync("evidence", "export", "--config", lab.Config, "--wave", "hq", "--out", Path.Combine(lab.Work, "authsplit-state.db"), "--unsigned");
        overStore.ExitCode.Should().Be(2, overStore.ToString());
        var overDirectory = await lab.CliAsync("evidence", "export", "--config", lab.Config, "--wave", "hq", "--out", lab.Work, "--unsigned");
        overDirectory.ExitCode.Should().Be(2, overDirectory.ToString());
        overDirectory.Error.Should().Contain("is a directory that is not empty");

        var unsigned = await lab.CliAsync("evidence", "export", "--config", lab.Config, "--wave", "hq", "--out", pack, "--unsigned", "--lang", "en");
        unsigned.ExitCode.Should().Be(0, unsigned.ToString());
        unsigned.Output.Should().Contain("UNSIGNED");
        var report = await File.ReadAllTextAsync(Path.Combine(pack, "report.html"));
        report.Should().Contain("<html lang=\"en\">").And.Contain("Wave completion evidence: hq").And.Contain("Not run at export: run authsplit evidence verify --live.").And.Contain("<td class=\"mono\">unsigned</td>")
            .And.Contain("<p id=\"draft\" class=\"bad\">UNSIGNED DRAFT: exported with --unsigned.");
        var draftVerify = await lab.CliAsync("evidence", "verify", pack);
        draftVerify.Error.Should().Contain("note: apart from the missing signature the pack holds together");
        var verify = await lab.CliAsync("evidence", "verify", pack);
        verify.ExitCode.Should().Be(15, verify.ToString());
        verify.Error.Should().StartWith("invalid: unsigned:");

        lab.SetEnvironment(KeyEnvVar, "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----\n");
        var node = JsonNode.Parse(await File.ReadAllTextAsync(lab.Config))!;
        node["Evidence"] = new JsonObject { ["SigningKeyEnvVar"] = KeyEnvVar };
        await File.WriteAllTextAsync(lab.Config, node.ToJsonString());
        var badKey = await lab.CliAsync("evidence", "export", "--config", lab.Config, "--wave", "hq", "--out", Path.Combine(lab.Work, "pack-2"));
        badKey.ExitCode.Should().Be(2, badKey.ToString());
        badKey.Error.Should().Contain($"the environment variable {KeyEnvVar} (named by Evidence:SigningKeyEnvVar)").And.NotContain("MFkw");
    }

    [Fact]
    public async Task An_operator_s_wrong_key_or_output_ends_with_its_own_message_and_nothing_half_written()
    {
        await using var lab = await ExecutionLab.StartAsync(people: 20);
        await lab.PlanAsync();
        await lab.ApproveAsync("alice");
        (await lab.CliAsync(lab.Run("hq", "bob"))).ExitCode.Should().Be(0);
        var parent = Path.Combine(lab.Work, "packs");
        System.IO.Directory.CreateDirectory(parent);
        var pack = Path.Combine(parent, "hq");
        async Task<CliResult> ExportWithKeyFileAsync(string keyFile, string? output = null)
        {
            var node = JsonNode.Parse(await File.ReadAllTextAsync(lab.Config))!;
            node["Evidence"] = new JsonObject { ["SigningKeyFile"] = keyFile };
            await File.WriteAllTextAsync(lab.Config, node.ToJsonString());
            return await lab.CliAsync("evidence", "export", "--config", lab.Config, "--wave", "hq", "--out", output ?? pack);
        }

        // Key files that are not keys: each refused before anything is read, with what it is.
        System.IO.Directory.CreateDirectory(Path.Combine(lab.Work, "keys"));
        var notAKey = Path.Combine(lab.Work, "not-a-key.pem");
        await File.WriteAllTextAsync(notAKey, "hello\n");
        File.SetUnixFileMode(notAKey, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var keyCases = new (string KeyFile, string Expected)[]
        {
            (Path.Combine(lab.Work, "absent.pem"), "cannot read the file named by Evidence:SigningKeyFile: Could not find file"),
            (notAKey, "the file named by Evidence:SigningKeyFile: not a PEM EC key"),
            (Path.Combine(lab.Work, "keys"), "the file named by Evidence:SigningKeyFile is a directory, not a PEM file"),
            ("/dev/zero", "the file named by Evidence:SigningKeyFile is not a regular file (a device, FIFO or socket)"),
        };
        foreach (var (keyFile, expected) in keyCases)
        {
            var result = await ExportWithKeyFileAsync(keyFile);
            result.ExitCode.Should().Be(2, $"{keyFile}: {result}");
            result.Error.Should().Contain(expected, keyFile);
            System.IO.Directory.GetFileSystemEntries(parent).Should().BeEmpty($"{keyFile}: nothing is written");
        }

        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var keyPath = Path.Combine(lab.Work, "evidence-signing.pem");
        await File.WriteAllTextAsync(keyPath, key.ExportPkcs8PrivateKeyPem());
        File.SetUnixFileMode(keyPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);

        // Outputs that are not a new directory: refused before the pack is built, never an internal error.
        var existing = Path.Combine(lab.Work, "existing");
        System.IO.Directory.CreateDirectory(existing);
        await File.WriteAllTextAsync(Path.Combine(existing, "keep.txt"), "keep");
        File.CreateSymbolicLink(Path.Combine(lab.Work, "dangling"), Path.Combine(lab.Work, "nowhere"));
        File.CreateSymbolicLink(Path.Combine(lab.Work, "to-existing"), existing);
        var outCases = new (string Output, string Expected)[]
        {
            (Path.Combine(lab.Work, "dangling"), "is a symbolic link (to"),
            (Path.Combine(lab.Work, "to-existing"), "is a symbolic link (to"),
            (Path.Combine(lab.Config, "pack"), "is a file, not a directory; give a new directory for the pack"),
            (existing, "is a directory that is not empty"),
            ("/dev/null", "exists and is not a directory"),
            ("/proc/authsplit-pack", "the pack cannot be written there ("),
        };
        foreach (var (output, expected) in outCases)
        {
            var result = await ExportWithKeyFileAsync(keyPath, output);
            result.ExitCode.Should().Be(2, $"{output}: {result}");
            result.Error.Should().Contain(expected, output).And.NotContain("internal error");
        }

        Path.Exists(Path.Combine(lab.Work, "nowhere")).Should().BeFalse("nothing was written through the dangling link");
        System.IO.Directory.GetFileSystemEntries(existing).Should().Equal([Path.Combine(existing, "keep.txt")]);

        // What a SIGKILLed export leaves (its temporary directory, half written) is removed by the next export and
        // reported; one whose export is still running is left alone.
        var killed = Path.Combine(parent, ".hq.999999-0123456789abcdef0123456789abcdef.tmp");
        var olderKilled = Path.Combine(parent, ".hq.fedcba9876543210fedcba9876543210.tmp");
        var running = Path.Combine(parent, $".hq.{Environment.ProcessId}-00000000000000000000000000000001.tmp");
        foreach (var directory in new[] { killed, olderKilled, running })
        {
            System.IO.Directory.CreateDirectory(directory);
            await File.WriteAllTextAsync(Path.Combine(directory, "manifest.json"), "{\"half\":");
        }

        var export = await ExportWithKeyFileAsync(keyPath);
        export.ExitCode.Should().Be(0, export.ToString());
        export.Error.Should().Contain($"note: removed \"{killed}\", the temporary directory of an earlier export to {pack} that was killed before it finished (it was never a pack)")
            .And.Contain($"note: removed \"{olderKilled}\"").And.NotContain(running);
        System.IO.Directory.GetFileSystemEntries(parent).Should().BeEquivalentTo([pack, running]);
        var verify = await lab.CliAsync("evidence", "verify", pack, "--fingerprint", SigningKeys.Fingerprint(key));
        verify.ExitCode.Should().Be(0, verify.ToString());
    }

    [Fact]
    public async Task A_second_signal_while_the_pack_is_written_leaves_no_temporary_directory()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        await using var lab = await ExecutionLab.StartAsync(people: 20, configure: config => config["Evidence"] = new JsonObject { ["SigningKeyFile"] = "evidence-signing.pem" });
        var keyFile = Path.Combine(lab.Work, "evidence-signing.pem");
        await File.WriteAllTextAsync(keyFile, key.ExportPkcs8PrivateKeyPem());
        File.SetUnixFileMode(keyFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        await lab.PlanAsync();
        await lab.ApproveAsync("alice");
        (await lab.CliAsync(lab.Run("hq", "bob"))).ExitCode.Should().Be(0);

        // The export is frozen (SIGSTOP) the moment its temporary directory appears; SIGINT and SIGTERM are then
        // both pending, so on SIGCONT the second ends the process at once, as a second Ctrl+C does.
        for (var attempt = 1; ; attempt++)
        {
            var parent = Path.Combine(lab.Work, $"packs-{attempt}");
            System.IO.Directory.CreateDirectory(parent);
            using var appeared = new SemaphoreSlim(0);
            using var watcher = new FileSystemWatcher(parent) { NotifyFilter = NotifyFilters.DirectoryName, EnableRaisingEvents = true };
            using var export = lab.StartCli("evidence", "export", "--config", lab.Config, "--wave", "hq", "--out", Path.Combine(parent, "hq"));
            watcher.Created += (_, e) =>
            {
                if (e.Name!.EndsWith(".tmp", StringComparison.Ordinal))
                {
                    try
                    {
                        export.Signal(SigStop);
                        appeared.Release();
                    }
                    catch (InvalidOperationException)
                    {
                        // Already gone: this attempt did not catch it.
                    }
                }
            };
            var caught = await appeared.WaitAsync(TimeSpan.FromSeconds(60));
            var frozenMidWrite = caught && System.IO.Directory.GetDirectories(parent, ".hq.*.tmp").Length == 1;
            if (caught)
            {
                export.Signal(CliProcess.SigInt);
                export.Signal(CliProcess.SigTerm);
                export.Signal(SigCont);
            }

            var result = await export.WaitAsync(TimeSpan.FromMinutes(1));
            if (!frozenMidWrite)
            {
                attempt.Should().BeLessThan(10, $"the export was never caught with its temporary directory in place:\n{result}");
                continue;
            }

            result.ExitCode.Should().NotBe(0, result.ToString());
            System.IO.Directory.GetFileSystemEntries(parent).Should().BeEmpty($"neither a pack nor its temporary directory is left\n{result}");
            return;
        }
    }

    private const int SigStop = 19;
    private const int SigCont = 18;

    private static async Task EditLinesAsync(string directory, Action<List<string>> edit)
    {
        var path = Path.Combine(directory, "ledger.jsonl");
        var lines = (await File.ReadAllTextAsync(path)).TrimEnd('\n').Split('\n').ToList();
        edit(lines);
        await File.WriteAllTextAsync(path, string.Concat(lines.Select(l => l + "\n")));
    }

    private static Task EditLineAsync(string directory, int index, Func<string, string> edit) =>
        EditLinesAsync(directory, lines =>
        {
            var edited = edit(lines[index]);
            edited.Should().NotBe(lines[index], "the tampering changes the record");
            lines[index] = edited;
        });

    // A record chained onto the last one with its hash computed as the store would: only the signed end shows it.
    private static string Appended(string lastLine)
    {
        var last = PackLedger.Parse(Encoding.UTF8.GetBytes(lastLine + "\n")).Records[0];
        return LedgerChain.ToJson(LedgerChain.Seal(last with { Sequence = last.Sequence + 1, PreviousHash = last.Hash, Actor = "mallory" }));
    }

    private static async Task EditManifestAsync(string directory)
    {
        var path = Path.Combine(directory, "manifest.json");
        var text = await File.ReadAllTextAsync(path);
        await File.WriteAllTextAsync(path, text.Replace("\"exportedBy\": \"carol\"", "\"exportedBy\": \"dave\"", StringComparison.Ordinal));
    }

    private static async Task ResignAsync(string directory, ECDsa key)
    {
        var files = System.IO.Directory.GetFiles(directory).ToDictionary(f => Path.GetFileName(f), File.ReadAllBytes, StringComparer.Ordinal);
        var predicate = EvidencePack.Predicate(EvidenceManifest.Parse(files["manifest.json"]));
        var envelope = EvidencePack.Resign(files, predicate, key, withPublicKey: false).Single(f => f.Key == "envelope.dsse.json");
        await File.WriteAllBytesAsync(Path.Combine(directory, "envelope.dsse.json"), envelope.Value);
    }

    /// <summary>The standard-tools block of runbook 09, exactly as written, on <paramref name="pack"/>.</summary>
    private static async Task<(int ExitCode, string Output)> RunAuditorScriptAsync(string pack, string fingerprint)
    {
        var runbook = await File.ReadAllTextAsync(Path.Combine(CliRunner.RepositoryRoot, "runbooks", "09-evidence-for-auditors.md"));
        var script = runbook.Split("```bash\n")[1].Split("\n```")[0];
        var tools = await DebianPackages.EnsureAsync([new RequiredTool("jq", "jq", "/usr/bin/jq"), new RequiredTool("openssl", "openssl", "/usr/bin/openssl")], null, CancellationToken.None);
        var start = new ProcessStartInfo("bash", ["-c", script]) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.Environment["PATH"] = string.Join(':', Path.GetDirectoryName(tools["jq"]), Path.GetDirectoryName(tools["openssl"]), Environment.GetEnvironmentVariable("PATH"));
        start.Environment["PACK"] = pack;
        start.Environment["FINGERPRINT"] = fingerprint;
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await output + await error);
    }
}
