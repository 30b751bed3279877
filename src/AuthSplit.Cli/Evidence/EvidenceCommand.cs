using System.CommandLine;
using System.Security.Cryptography;
using AuthSplit.Cli.Configuration;
using AuthSplit.Cli.Execution;
using AuthSplit.Cli.Logging;
using AuthSplit.Cli.Output;
using AuthSplit.Core.Configuration;
using AuthSplit.Core.Errors;
using AuthSplit.Core.Evidence;
using AuthSplit.Core.Evidence.Packs;
using AuthSplit.Core.Execution;
using AuthSplit.Core.Planning.Format;
using AuthSplit.Evidence.Report;

namespace AuthSplit.Cli.Evidence;

/// <summary>
/// <c>authsplit evidence export --config F --wave W --out DIR [--unsigned] [--as NAME] [--live]</c> and
/// <c>authsplit evidence verify DIR [--fingerprint sha256:… | --trusted-key PEM] [--live --config F]</c>: a wave's
/// completion evidence, signed, and its offline (and live) check (runbook 09).
/// </summary>
public static class EvidenceCommand
{
    public static Command Create(CliConsole console) =>
        new("evidence", "A wave's completion evidence for an auditor: export it signed, verify it without trusting the operator.") { Export(console), Verify(console) };

    private static Command Export(CliConsole console)
    {
        var config = ExecutionOptionsOnCommandLine.Config();
        var wave = ExecutionOptionsOnCommandLine.Wave();
        var @out = new Option<string>("--out", "-o") { Description = "A new directory for the pack (or an empty one); never written over.", Required = true };
        var unsigned = new Option<bool>("--unsigned") { Description = "Export without a signature when no signing key is configured (a draft: verify reports it unsigned)." };
        var @as = new Option<string?>("--as") { Description = "Who exports (default: the OS user), as the manifest records it." };
        var lang = new Option<string>("--lang") { Description = "The language of report.html: ja (default) or en.", DefaultValueFactory = _ => "ja" };
        lang.AcceptOnlyFromAmong("ja", "en");
        var live = new Option<bool>("--live") { Description = "Also re-read the directory and the tenant now, as verify --live does, and put the result (every query, the counts, the residuals) in the manifest and the report." };
        var logDir = ExecutionOptionsOnCommandLine.LogDir();
        var command = new Command("export", "Write a wave's evidence pack: manifest, ledger, entities, exceptions, the DSSE-signed in-toto statement and the public key.") { config, wave, @out, unsigned, @as, lang, live, logDir };
        command.SetAction((parse, cancellationToken) =>
        {
            string? target = null;
            return CommandExecution.RunAsync(console, parse.GetValue(logDir), false, async (log, ct) =>
            {
                var configPath = parse.GetRequiredValue(config);
                var waveName = parse.GetRequiredValue(wave);
                target = PackDirectory.CheckTarget(parse.GetValue(@out));
                foreach (var leftover in PackDirectory.RemoveLeftovers(target))
                {
                    log.FileOnly().Warning("Removed {Leftover}, left by an export that was killed before it finished", leftover);
                    await console.Error.WriteLineAsync($"note: removed \"{leftover}\", the temporary directory of an earlier export to {target} that was killed before it finished (it was never a pack)");
                }

                var who = OperatorName.Resolve(parse.GetValue(@as), "--as");
                var options = ConfigLoader.Load(configPath, requireLiveSource: parse.GetValue(live), log);
                if (options.Waves.All(w => w.Name != waveName))
                {
                    throw UnknownWave.Error(waveName, options.Waves.Select(w => w.Name), "config", configPath);
                }

                using var key = SigningKeyLoader.LoadOptional(options.Evidence);
                if (key is null && !parse.GetValue(unsigned))
                {
                    throw new InputException("signing-key-missing", "no evidence signing key is configured (Evidence:SigningKeyFile or Evidence:SigningKeyEnvVar): an unsigned pack cannot show who made it or that it was not remade. Configure the key, or export a draft with --unsigned", configPath);
                }

                if (key is not null && parse.GetValue(unsigned))
                {
                    await console.Error.WriteLineAsync("warning: --unsigned: the configured signing key is not used; verify will report the pack unsigned");
                }

                var signer = parse.GetValue(unsigned) ? null : key;
                await using var state = await StateComposition.OpenAsync(options, configPath, ct);
                var pack = await BuildAsync(state.Store, waveName, who, signer, parse.GetValue(lang)!, parse.GetValue(live) ? options : null, log, ct);
                if (pack.Refusal is not null)
                {
                    log.Error("Evidence export refused: {Message}", pack.Refusal);
                    await console.Error.WriteLineAsync($"refused: {pack.Refusal}; no pack was written");
                    return ExitCodes.EvidenceInvalid;
                }

                await PackDirectory.WriteAsync(target, pack.Files, ct);
                var manifest = pack.Manifest!;
                log.Information("Evidence pack of wave {Wave} (plan {PlanId}) written to {Directory}, ledger last hash {LastHash}", waveName, manifest.PlanId, target, manifest.Ledger.LastHash);
                await console.Output.WriteLineAsync($"Evidence of wave {waveName} written to {target}: plan {manifest.PlanId}, {manifest.Ledger.WaveRecords} ledger records of the wave ({manifest.Ledger.Lines} lines, last hash {manifest.Ledger.LastHash}), {manifest.Counts.Entities} entities, {manifest.Exceptions} exceptions.");
                await console.Output.WriteLineAsync(signer is null
                    ? "UNSIGNED: exported with --unsigned; nothing shows who made this pack."
                    : $"Signed with key {manifest.Signing.KeyFingerprint}; give the auditor this fingerprint by another channel.");
                if (manifest.Reconciliation is not { } reconciliation)
                {
                    return ExitCodes.Success;
                }

                await console.Output.WriteLineAsync($"Live check at {reconciliation.At} against {reconciliation.Server}: {reconciliation.Checked} checks, {reconciliation.Residual} residual(s), recorded in the manifest and the report.");
                foreach (var residual in reconciliation.Residuals)
                {
                    await console.Error.WriteLineAsync($"residual: {PrintableText.Escape(residual)}");
                }

                // The pack stands (it records the residuals); the exit says the wave's outcome does not.
                return reconciliation.Residual == 0 ? ExitCodes.Success : ExitCodes.EvidenceInvalid;
            }, cancellationToken, () => $"no pack was written{(target is null ? "" : $"; {target} is unchanged")}");
        });
        return command;
    }

    private static Command Verify(CliConsole console)
    {
        var directory = new Argument<string>("pack") { Description = "The pack's directory." };
        var fingerprint = new Option<string?>("--fingerprint") { Description = "The signing key's fingerprint (sha256:…) as the organisation gave it: a pack signed with any other key fails." };
        var trustedKey = new Option<string?>("--trusted-key") { Description = "The organisation's public key (PEM), instead of --fingerprint." };
        var live = new Option<bool>("--live") { Description = "Also read the legacy directory and the tenant again (needs --config): removed entities absent by identity and DN, protected ones present, removed people cloud-managed, the password-sync gate off." };
        var config = new Option<string?>("--config", "-c") { Description = "The config naming the legacy directory and the tenant, for --live." };
        var record = new Option<string?>("--record") { Description = "With --live: write the verification record (every query, its server, time and answer) to this JSON file." };
        var command = new Command("verify", "Check a pack offline: the signature, every file's digest, the ledger's chain and end, and the manifest's counts against the ledger; with --live, against the directory and tenant too.") { directory, fingerprint, trustedKey, live, config, record };
        command.SetAction((parse, cancellationToken) => CommandExecution.RunAsync(console, null, false, async (log, ct) =>
        {
            var trusted = TrustedFingerprint(parse.GetValue(fingerprint), parse.GetValue(trustedKey));
            var path = parse.GetRequiredValue(directory);
            var configPath = parse.GetValue(config);
            var recordPath = parse.GetValue(record);
            if (parse.GetValue(live) && configPath is null)
            {
                throw new InputException("command-line", "--live reads the directory and the tenant the config names: give --config");
            }

            if (recordPath is not null && !parse.GetValue(live))
            {
                throw new InputException("command-line", "--record is the record of a live check: give --live");
            }

            var recordTarget = recordPath is null ? null : OutputTarget.ForFile("--record", recordPath, [("--config", configPath), ("pack", path)]);
            var files = await PackDirectory.ReadAsync(path, ct);
            var result = PackVerifier.Verify(files, trusted);
            if (!result.IsValid)
            {
                foreach (var finding in result.Findings)
                {
                    log.FileOnly().Error("Evidence pack {Directory} invalid: {Code}: {Message}", path, finding.Code, finding.Message);
                    await console.Error.WriteLineAsync($"invalid: {finding.Code}: {PrintableText.Escape(finding.Message)}");
                }

                if (result.Findings.All(f => f.Code == "unsigned"))
                {
                    await console.Error.WriteLineAsync("note: apart from the missing signature the pack holds together (every file's digest, the ledger chain, the counts), but a draft is not evidence: export it again with the signing key");
                }

                return ExitCodes.EvidenceInvalid;
            }

            var manifest = result.Manifest!;
            await console.Output.WriteLineAsync($"Evidence of wave {manifest.Wave} verified: plan {manifest.PlanId}; signature by {result.KeyFingerprint}; every file's digest; ledger chain intact from record 1 to {result.LedgerLines} ({result.LedgerLastHash}); counts recomputed from the ledger agree.");
            if (trusted is null)
            {
                await console.Output.WriteLineAsync($"note: the key was not compared with a trusted one; pass --fingerprint with the fingerprint the organisation gave you (this pack's is {result.KeyFingerprint}).");
            }

            if (!parse.GetValue(live))
            {
                return ExitCodes.Success;
            }

            var options = ConfigLoader.Load(configPath!, requireLiveSource: true, log);
            var scope = LiveReconciliation.ScopeOf(manifest, PackLedger.Parse(files[WaveEvidence.LedgerFile]));
            var systems = manifest.Systems.Count == 0 ? [] : await ApprovedSystemsAsync(options, configPath!, manifest, ct);
            var check = await EvidenceLiveCheck.RunAsync(options, manifest, scope, systems, log, ct);
            if (recordTarget is not null)
            {
                var json = EvidenceLiveCheck.ToJson(check);
                await AtomicFile.WriteAsync(recordTarget.WritePath, (stream, token) => stream.WriteAsync(json, token).AsTask(), ct);
            }

            log.Information("Live check of wave {Wave}: {Checked} checks against {Directory} and {Tenant}, {Residual} residual(s)", manifest.Wave, check.Checked, check.Directory, check.Tenant, check.Residual);
            await console.Output.WriteLineAsync($"Live check of wave {manifest.Wave} at {check.At} against {check.Directory}{(check.Tenant is null ? "" : $" and {check.Tenant}")}: {scope.Deleted.Count} removed entities absent by identity and by DN, {scope.Protected.Count} protected present, {scope.CloudManaged.Count} removed people cloud-managed{(scope.GateVerified ? ", password hash sync off" : "")}: {check.Checked} checks, {check.Residual} residual(s).");
            foreach (var system in check.Systems)
            {
                var probes = system.Probes.Select(p => $"{p.Name} ({p.Kind}) {(p.Passed ? "passed" : "FAILED")} at {p.At}");
                await console.Output.WriteLineAsync($"System {system.Id} ({PrintableText.Escape(system.Name)}): {string.Join("; ", probes.Concat(system.Note is null ? [] : [PrintableText.Escape(system.Note)]))}.");
            }

            foreach (var residual in check.Residuals)
            {
                await console.Error.WriteLineAsync($"residual: {residual.Subject}: {residual.Check}: {PrintableText.Escape(residual.Found)} ({residual.Query})");
            }

            return check.Residual == 0 ? ExitCodes.Success : ExitCodes.EvidenceInvalid;
        }, cancellationToken));
        return command;
    }

    private static string? TrustedFingerprint(string? fingerprint, string? keyFile)
    {
        if (fingerprint is not null && keyFile is not null)
        {
            throw new InputException("command-line", "give --fingerprint or --trusted-key, not both");
        }

        if (fingerprint is not null)
        {
            return fingerprint.Length == 71 && fingerprint.StartsWith(LedgerChain.HashPrefix, StringComparison.Ordinal) && fingerprint[7..].All(Uri.IsHexDigit)
                ? fingerprint.ToLowerInvariant()
                : throw new InputException("command-line", $"--fingerprint \"{PrintableText.Escape(fingerprint)}\" is not sha256: and 64 hex digits");
        }

        if (keyFile is null)
        {
            return null;
        }

        try
        {
            using var key = SigningKeys.Import(File.ReadAllText(keyFile));
            return SigningKeys.Fingerprint(key);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException)
        {
            throw new InputException("trusted-key-invalid", $"--trusted-key: {ex.Message}", keyFile);
        }
    }

    /// <summary>
    /// The wave's systems with their probes as the approved plan has them: the state store's copy of the plan the
    /// pack names, checked to be that plan (its content hashes to the pack's plan id), so the probes asked again
    /// are the ones approved, not whatever a config says today.
    /// </summary>
    private static async Task<IReadOnlyList<PlannedSystem>> ApprovedSystemsAsync(AuthSplitOptions options, string configPath, EvidenceManifest manifest, CancellationToken cancellationToken)
    {
        await using var state = await StateComposition.OpenAsync(options, configPath, cancellationToken);
        var json = await state.Store.GetPlanAsync(manifest.PlanId, cancellationToken)
            ?? throw new InputException("plan-not-found", $"the pack's wave has {manifest.Systems.Count} system(s) whose probes --live asks again, but the plan {manifest.PlanId} that names them is not in {state.Store.Description}; give the config of the state store the wave ran from (nothing was probed)", configPath);
        var plan = PlanSerializer.Deserialize(json, "the state store's copy of plan " + manifest.PlanId);
        if (PlanSerializer.ComputePlanId(plan) != manifest.PlanId)
        {
            throw new InputException("plan-mismatch", $"the state store's copy of plan {manifest.PlanId} does not hash to that id: its probes are not the approved ones (nothing was probed)", configPath);
        }

        return [.. (plan.Systems ?? []).Where(s => s.Wave == manifest.Wave)];
    }

    private sealed record BuiltPack(IReadOnlyList<KeyValuePair<string, byte[]>> Files, EvidenceManifest? Manifest, string? Refusal);

    private static async Task<BuiltPack> BuildAsync(IExecutionStore store, string wave, string who, ECDsa? key, string language, AuthSplitOptions? liveOptions, Serilog.ILogger log, CancellationToken cancellationToken)
    {
        var fingerprint = key is null ? null : SigningKeys.Fingerprint(key);
        var (input, refusal) = await WaveEvidenceReader.ReadAsync(store, wave, who, Environment.MachineName, fingerprint, TimeProvider.System, cancellationToken);
        if (input is null)
        {
            return new BuiltPack([], null, refusal);
        }

        var content = WaveEvidence.Build(input);
        if (liveOptions is not null)
        {
            // The same subjects and reads as verify --live, from the ledger lines the pack will hold.
            var ledger = PackLedger.Parse(System.Text.Encoding.UTF8.GetBytes(string.Concat(content.LedgerLines.Select(l => l + "\n"))));
            var check = await EvidenceLiveCheck.RunAsync(liveOptions, content.Manifest, LiveReconciliation.ScopeOf(content.Manifest, ledger), [.. input.Plan.Systems ?? []], log, cancellationToken);
            content = content with { Manifest = content.Manifest with { Reconciliation = EvidenceLiveCheck.Summary(check) } };
        }

        var report = await ReportRenderer.RenderAsync(content.Manifest, content.ExceptionRows, language);
        return new BuiltPack(EvidencePack.Assemble(content, CsvWriter.Line, key, report), content.Manifest, null);
    }
}
