using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using AuthSplit.Cli.Configuration;
using AuthSplit.Cli.Execution;
using AuthSplit.Cli.Rehearsal;
using AuthSplit.Core.Execution;
using AuthSplit.Core.Model;
using AuthSplit.Core.Planning.Format;
using AuthSplit.Lab.Data;
using AuthSplit.Lab.Servers;
using Serilog;
using Spectre.Console;

namespace AuthSplit.Cli.Demo;

public sealed record DemoRequest(int Size, int Seed, string? Directory, bool Keep);

/// <summary>
/// <c>authsplit demo</c>: the whole tool, end to end, on a synthetic group company, each stage narrated and
/// each stage's outcome checked. Every step is the real <c>authsplit</c> command run as its own process, as
/// an operator would run it; the demo only generates the company, plays the people around the tool (the
/// engineer who decides, the approver, the operator, the tenant's administrator, the auditor) and injects
/// the faults. Exit 0 only if every check held; otherwise 17 naming the checks that failed. Whatever it
/// started is stopped at the end (unless <c>--keep</c>), also on Ctrl+C.
/// </summary>
public sealed partial class DemoRun(CliConsole console, ILogger log)
{
    private const string Approver = "aiko.tanaka";
    private const string Operator = "kenji.sato";
    private readonly List<(string Name, bool Passed, string Detail)> _checks = [];
    private IAnsiConsole _ansi = null!;
    private Dictionary<string, string> _environment = [];
    private DemoLayout _layout = null!;
    private string? _planId;

    public async Task<int> RunAsync(DemoRequest request, CancellationToken cancellationToken)
    {
        _ansi = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(console.Output) });
        if (!ReferenceEquals(console.Output, Console.Out) || Console.IsOutputRedirected)
        {
            // Into a file or a pipe: wide enough for the plan's tables, which the commands print at their own width.
            _ansi.Profile.Width = 120;
        }

        var directory = request.Directory is { } given ? Path.GetFullPath(given) : System.IO.Directory.CreateTempSubdirectory("authsplit-demo-").FullName;
        _layout = new DemoLayout(directory);
        if (LabRuntime.Read(_layout.Lab) is not null)
        {
            throw new Core.Errors.InputException("demo-dir", $"holds a lab already ({_layout.Lab}); stop it (authsplit lab stop --dir {_layout.Lab}) or choose another --dir", directory);
        }

        if (System.IO.Directory.Exists(_layout.Exports))
        {
            throw new Core.Errors.InputException("demo-dir", "holds an earlier demo; choose an empty or new --dir", directory);
        }

        AtomicFileDirectories();
        _environment = new Dictionary<string, string> { ["AUTHSPLIT_LOG_DIR"] = _layout.Logs, ["NO_COLOR"] = "1" };
        var clock = Stopwatch.StartNew();
        _ansi.Write(new Rule("[bold]AuthSplit demo[/]: a group company leaves the authentication platform it shares with a former partner").LeftJustified());
        _ansi.MarkupLine($"Everything goes to [bold]{Markup.Escape(directory)}[/] (exports, lab, plans, evidence, logs).");
        log.Information("Demo in {Directory}: size {Size}, seed {Seed}", directory, request.Size, request.Seed);

        var labStarted = false;
        var completed = false;
        try
        {
            var company = await GenerateAsync(request, cancellationToken);
            labStarted = true;
            await LabUpAsync(company, cancellationToken);
            var draft = await DryRunAsync(cancellationToken);
            await DecideAsync(company, draft, cancellationToken);
            await ApproveAsync(cancellationToken);
            await RunWavesAsync(cancellationToken);
            await SystemsAsync(company, cancellationToken);
            await GateAsync(cancellationToken);
            var packs = await EvidenceAsync(cancellationToken);
            Reports(packs);
            completed = true;
        }
        catch (DemoStageFailedException ex)
        {
            _ansi.MarkupLine($"[red]{Markup.Escape(ex.Message)}[/]: the later stages need it.");
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            _ansi.MarkupLine("[yellow]Interrupted[/]: stopping everything the demo started.");
            throw;
        }
        finally
        {
            if (labStarted && (!request.Keep || !completed || cancellationToken.IsCancellationRequested))
            {
                await StopLabAsync();
            }
        }

        if (request.Keep)
        {
            _ansi.MarkupLine($"The lab keeps running ([bold]--keep[/]); stop it with: authsplit lab stop --dir {Markup.Escape(_layout.Lab)}");
        }

        return Summary(clock.Elapsed);
    }

    private void AtomicFileDirectories()
    {
        foreach (var folder in new[] { _layout.Directory, _layout.Exports, _layout.Lab, _layout.Secrets, _layout.Logs, _layout.Evidence })
        {
            Output.AtomicFile.CreateDirectory(folder);
        }
    }

    private void Stage(int number, string title, string story)
    {
        _ansi.WriteLine();
        _ansi.Write(new Rule($"[bold]{number}. {Markup.Escape(title)}[/]").LeftJustified());
        _ansi.MarkupLine($"[grey]{Markup.Escape(story)}[/]");
    }

    private bool Check(string name, bool passed, string detail)
    {
        _checks.Add((name, passed, detail));
        _ansi.MarkupLine(passed ? $"  [green]✔[/] {Markup.Escape(name)}: {Markup.Escape(detail)}" : $"  [red]✘ {Markup.Escape(name)}[/]: {Markup.Escape(detail)}");
        log.Information("Demo check {Check}: {Outcome} ({Detail})", name, passed ? "held" : "FAILED", detail);
        return passed;
    }

    private DemoChild Start(params string[] arguments) => Start(quiet: false, arguments);

    // quiet: a command whose output the demo reads and presents itself (status as JSON).
    private DemoChild Start(bool quiet, params string[] arguments)
    {
        _ansi.MarkupLine($"  [blue]$[/] {Markup.Escape(Shown(arguments))}");
        return DemoChild.Start(_layout.Directory, _environment, quiet ? _ => { } : Show, arguments);
    }

    // A command's own output, as it printed it (not re-wrapped), indented under the command line.
    private void Show(string line)
    {
        lock (_checks)
        {
            console.Output.WriteLine("    │ " + line);
        }
    }

    private async Task<DemoCommandResult> CliAsync(CancellationToken cancellationToken, params string[] arguments)
    {
        using var child = Start(arguments);
        return await child.WaitAsync(cancellationToken);
    }

    // Paths under the demo's directory shown relative to it: the narration stays readable.
    private string Shown(string[] arguments) => "authsplit " + string.Join(' ', arguments.Select(a => a.Replace(_layout.Directory + "/", "", StringComparison.Ordinal)).Select(a => a.Contains(' ', StringComparison.Ordinal) ? $"\"{a}\"" : a));

    private async Task<DemoCompany> GenerateAsync(DemoRequest request, CancellationToken cancellationToken)
    {
        Stage(1, "The company and the lab", "A synthetic group company: headquarters, domestic and overseas subsidiaries, and the former partner whose staff sit in the same directory. The legacy directory is exported as LDIF and the company's Entra ID tenant as Graph JSON; the lab loads them into a private slapd and the Graph emulator (a stand-in for Entra ID), on 127.0.0.1.");
        var company = DemoCompany.Create(request.Size, request.Seed);
        await company.WriteLdifAsync(_layout.LegacyLdif, cancellationToken);
        await company.WriteTargetAsync(_layout.Target, cancellationToken);
        var table = new Table().AddColumns("unit", "employees", "partner staff", "administrators", "systems (bind accounts)");
        foreach (var unit in DemoCompany.Waves.Append("partner"))
        {
            table.AddRow(
                unit,
                company.People.Count(p => p.Unit == unit && p.Role is DemoRole.Employee or DemoRole.Leaver or DemoRole.Duplicated).ToString("N0", CultureInfo.InvariantCulture),
                company.People.Count(p => p.Unit == unit && p.Role == DemoRole.PartnerStaff).ToString("N0", CultureInfo.InvariantCulture),
                string.Join(", ", company.People.Where(p => p.Unit == unit && p.Role is DemoRole.Administrator or DemoRole.BreakGlass).Select(p => p.Uid)),
                string.Join(", ", company.Systems.Where(s => s.Wave == unit).Select(s => s.Id)));
        }

        _ansi.Write(table);
        _ansi.MarkupLine($"  {company.People.Count:N0} people, {company.Groups.Count} groups, {company.ServiceAccounts.Count} service accounts under ou=system, {company.Systems.Count} systems; seed {company.Seed}. Exports in {Markup.Escape(_layout.Exports)}.");
        await File.WriteAllTextAsync(_layout.Config, DemoSetup.Config(_layout, request.Size, DateTimeOffset.UtcNow).ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }) + "\n", cancellationToken);
        await DemoSetup.WriteSigningKeyAsync(_layout, cancellationToken);
        return company;
    }

    private async Task LabUpAsync(DemoCompany company, CancellationToken cancellationToken)
    {
        var start = await CliAsync(cancellationToken, "lab", "start", "--legacy-ldif", _layout.LegacyLdif, "--target", _layout.Target, "--dir", _layout.Lab);
        if (!Check("lab up", start.ExitCode == 0 && LabRuntime.Read(_layout.Lab) is { Servers.Count: 2 }, $"lab start exit {start.ExitCode}"))
        {
            throw new DemoStageFailedException("lab up");
        }

        await DemoSetup.AddSystemsAsync(_layout, company, cancellationToken);
        _ansi.MarkupLine($"  The config {Markup.Escape(_layout.Config)} now names the company's {company.Systems.Count} systems: each is cut over by its owners' switch (a script here), probed with a sign-in through the new IdP, and its legacy bind account disabled after.");
        var check = await CliAsync(cancellationToken, "config", "check", "--config", _layout.Config, "--connect");
        Check("config check --connect", check.ExitCode == 0, $"exit {check.ExitCode}");
    }

    private async Task<PlanDocument> DryRunAsync(CancellationToken cancellationToken)
    {
        Stage(2, "The dry-run plan", "Read-only: the live directory and tenant are read, every person classified (removed in which wave, protected and why, blocked until someone decides) and each wave's execution time forecast against its deadline.");
        var plan = await CliAsync(cancellationToken, "plan", "--config", _layout.Config, "--out", _layout.DraftPlan);
        Check("dry-run plan", plan.ExitCode == 0 && plan.Output.Contains("Deadline forecast", StringComparison.Ordinal), $"exit {plan.ExitCode}; per-wave table and deadline forecast printed");
        var draft = PlanSerializer.Deserialize(await File.ReadAllBytesAsync(_layout.DraftPlan, cancellationToken), _layout.DraftPlan);
        var blocked = draft.Entities.Count(e => e.Disposition == Disposition.Blocked) + (draft.Systems ?? []).Count(s => s.Disposition == Disposition.Blocked);
        Check("blockers found", blocked > 0, $"{blocked} entities and systems blocked until someone decides");

        _ansi.MarkupLine("  The blockers, explained (the decisions template the plan writes for them):");
        var template = await CliAsync(cancellationToken, "plan", "show", _layout.DraftPlan, "--format", "decisions", "--out", _layout.DecisionsTemplate);
        Check("blockers explained", template.ExitCode == 0 && File.Exists(_layout.DecisionsTemplate), $"exit {template.ExitCode}");
        foreach (var line in (await File.ReadAllLinesAsync(_layout.DecisionsTemplate, cancellationToken)).Where(l => l.TrimStart().StartsWith("//", StringComparison.Ordinal)).Skip(5))
        {
            Show(line.Trim());
        }

        return draft;
    }

    private async Task DecideAsync(DemoCompany company, PlanDocument draft, CancellationToken cancellationToken)
    {
        Stage(3, "Decisions for the blocked ones", $"An identity engineer ({DemoSetup.Engineer}) records a decision for each blocker, with its reason, after asking HR and the system owners: the leavers go, each duplicated person keeps the enabled account, the system whose application is still disabled is excepted by the CISO.");
        var decisions = DemoSetup.Decisions(
            company,
            draft.Entities.Where(e => e.Disposition == Disposition.Blocked).Select(e => (e.Id, e.Dn)),
            (draft.Systems ?? []).Where(s => s.Disposition == Disposition.Blocked).Select(s => s.Id));
        await File.WriteAllTextAsync(_layout.Decisions, decisions.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }) + "\n", cancellationToken);
        foreach (var decision in decisions["decisions"]!.AsArray())
        {
            Show($"{decision!["decision"]} {decision["entityId"]}: {decision["reason"]} ({decision["decidedBy"]})");
        }

        var plan = await CliAsync(cancellationToken, "plan", "--config", _layout.Config, "--decisions", _layout.Decisions, "--previous", _layout.DraftPlan, "--out", _layout.Plan);
        var final = File.Exists(_layout.Plan) ? PlanSerializer.Deserialize(await File.ReadAllBytesAsync(_layout.Plan, cancellationToken), _layout.Plan) : null;
        var left = final is null ? -1 : final.Entities.Count(e => e.Disposition == Disposition.Blocked) + (final.Systems ?? []).Count(s => s.Disposition == Disposition.Blocked);
        Check("decisions resolve every blocker", plan.ExitCode == 0 && left == 0, $"plan exit {plan.ExitCode}; {left} blocked left; plan {final?.PlanId}");
        _planId = final?.PlanId;
    }

    private async Task ApproveAsync(CancellationToken cancellationToken)
    {
        Stage(4, "Approval", $"{Approver} reviews the plan and approves it: its content hash is recorded with the approval, so a plan changed afterwards cannot run. Four eyes: the approver does not execute.");
        var approve = await CliAsync(cancellationToken, "approve", "--config", _layout.Config, "--plan", _layout.Plan, "--by", Approver, "--note", "reviewed the per-wave table, the decisions and the systems with the CAB");
        Check("approval by one named person", approve.ExitCode == 0, $"approved by {Approver}, exit {approve.ExitCode}");
        var self = await CliAsync(cancellationToken, "run", "--config", _layout.Config, "--plan", _layout.Plan, "--wave", "hq", "--as", Approver);
        Check("the approver may not execute", self.ExitCode == ExitCodes.SelfApproval, $"run as {Approver}: exit {self.ExitCode} (refused)");
    }

    private async Task RunWavesAsync(CancellationToken cancellationToken)
    {
        Stage(5, "The three waves", $"{Operator} executes the approved plan wave by wave: each wave's systems cut over first, then each person's source of authority moved to the cloud, the legacy account disabled, backed up and deleted; every step journalled, hash-chained and resumable.");

        _ansi.MarkupLine("  [bold]hq[/], with a fault injected: the legacy directory is restarted under the running wave.");
        using (var hq = Start(Run("hq")))
        {
            var underTheRun = false;
            if (await WaitUntilMidWaveAsync(hq, "hq", cancellationToken) is not null)
            {
                var restart = await DirectoryRestart.RestartSlapdAsync(_layout.Lab, TimeSpan.FromSeconds(2));
                underTheRun = !hq.HasExited;
                _ansi.MarkupLine($"  [yellow]fault[/]: slapd (pid {restart.OldPid}) stopped, started again {restart.Down.TotalSeconds:0.0} s later as pid {restart.NewPid} on the same port {restart.Port}");
            }

            var result = await hq.WaitAsync(cancellationToken);
            Check("fault survived (directory restart)", underTheRun && result.ExitCode == 0, underTheRun ? $"wave hq exit {result.ExitCode} through the restart" : $"the wave ended (exit {result.ExitCode}) before the restart was over: the fault did not hit it");
        }

        _ansi.MarkupLine("  [bold]domestic[/], interrupted: the operator presses Ctrl+C mid-wave, then runs it again.");
        using (var domestic = Start(Run("domestic")))
        {
            // Mid-wave by the run's own journal, not by the clock: its systems are cut over, some people are
            // done and more are still to go (a wave of a small company is over in seconds on a quiet machine).
            var midWave = await WaitUntilMidWaveAsync(domestic, "domestic", cancellationToken);
            var started = midWave is not null;
            if (midWave is { } counts)
            {
                _ansi.MarkupLine($"  [yellow]Ctrl+C[/] (SIGINT to the run) with {counts.Done} people done and {counts.ToGo} to go");
                domestic.Interrupt();
            }

            var interrupted = await domestic.WaitAsync(cancellationToken);
            Check("run interrupted", started && interrupted.ExitCode == ExitCodes.Cancelled, $"exit {interrupted.ExitCode}");
        }

        DemoCommandResult status;
        var shown = 0;
        _ansi.MarkupLine($"  [blue]$[/] {Markup.Escape(Shown(["status", "--config", _layout.Config, "--wave", "domestic"]))}");
        using (var child = DemoChild.Start(_layout.Directory, _environment, line => { if (Interlocked.Increment(ref shown) <= 10) { Show(line); } }, "status", "--config", _layout.Config, "--wave", "domestic"))
        {
            // The wave's table and why it stopped; not every entity.
            status = await child.WaitAsync(cancellationToken);
        }

        if (shown > 10)
        {
            Show($"… ({shown - 10} more lines: every entity and its state)");
        }

        var resumed = await CliAsync(cancellationToken, Run("domestic"));
        Check("interrupted run resumed", status.ExitCode == 0 && resumed.ExitCode == 0 && !resumed.Output.Contains("nothing was changed", StringComparison.Ordinal), $"status exit {status.ExitCode}; the second run exit {resumed.ExitCode}");

        _ansi.MarkupLine("  [bold]overseas[/]");
        var overseas = await CliAsync(cancellationToken, Run("overseas"));
        Check("wave overseas", overseas.ExitCode == 0, $"exit {overseas.ExitCode}");
    }

    private string[] Run(string wave) => ["run", "--config", _layout.Config, "--plan", _layout.Plan, "--wave", wave, "--as", Operator];

    /// <summary>
    /// Waits until the running wave's journal (the state store, read as <c>status</c> reads it) shows its systems
    /// done, at least a quarter of its people done and at least a third still to go; null when the run ended first.
    /// </summary>
    private async Task<(int Done, int ToGo)?> WaitUntilMidWaveAsync(DemoChild run, string wave, CancellationToken cancellationToken)
    {
        var options = ConfigLoader.Load(_layout.Config, requireLiveSource: false);
        await using var state = await StateComposition.OpenAsync(options, _layout.Config, cancellationToken);
        var until = Stopwatch.StartNew();
        while (!run.HasExited && until.Elapsed < TimeSpan.FromMinutes(5))
        {
            var people = new List<EntityProgress>();
            var systemsDone = true;
            await foreach (var entity in state.Store.ReadEntitiesAsync(_planId!, wave, cancellationToken))
            {
                if (entity.Kind == EntityKind.System)
                {
                    systemsDone &= entity.State is EntityState.Done or EntityState.Excluded;
                }
                else if (entity.State != EntityState.Excluded)
                {
                    people.Add(entity);
                }
            }

            var done = people.Count(p => p.State == EntityState.Done);
            var toGo = people.Count(p => p.State is EntityState.Pending or EntityState.InProgress);
            if (systemsDone && people.Count > 0 && done >= Math.Max(1, people.Count / 4) && toGo >= Math.Max(1, people.Count / 3))
            {
                return run.HasExited ? null : (done, toGo);
            }

            await Task.Delay(20, cancellationToken);
        }

        return null;
    }

    private async Task SystemsAsync(DemoCompany company, CancellationToken cancellationToken)
    {
        Stage(6, "Systems cut over", "Each wave cut its systems over before deleting its people: the switch ran, the sign-in probe through the new IdP passed, the legacy bind account was backed up and disabled, and a real bind as that account is now refused.");
        var table = new Table().AddColumns("system", "wave", "state", "last step", "why");
        var done = 0;
        var excepted = 0;
        foreach (var wave in DemoCompany.Waves)
        {
            DemoCommandResult status;
            using (var child = Start(quiet: true, "status", "--config", _layout.Config, "--wave", wave, "--format", "json"))
            {
                status = await child.WaitAsync(cancellationToken);
            }

            var entities = status.ExitCode == 0 ? JsonNode.Parse(status.Output)?["waves"]?[0]?["entityList"]?.AsArray() ?? [] : [];
            foreach (var system in company.Systems.Where(s => s.Wave == wave))
            {
                var entity = entities.FirstOrDefault(e => e?["id"]?.GetValue<string>() == "system:" + system.Id);
                var state = entity?["state"]?.GetValue<string>() ?? "missing";
                done += state == "done" ? 1 : 0;
                excepted += state == "excluded" ? 1 : 0;
                table.AddRow(Markup.Escape(system.Id), wave, Markup.Escape(state), Markup.Escape(entity?["lastStep"]?.GetValue<string>() ?? ""), Markup.Escape(Shorten(entity?["reason"]?.GetValue<string>() ?? "")));
            }
        }

        _ansi.Write(table);
        var cutOver = company.Systems.Count(s => File.Exists(Path.Combine(_layout.Systems, s.Id + ".entra")));
        Check("systems cut over with their probes", done == company.Systems.Count - 1 && excepted == 1 && cutOver == done, $"{done} done (switch, probe, account disabled, bind refused), {excepted} excepted by decision");
    }

    private static string Shorten(string text) => text.Length > 90 ? text[..90] + "…" : text;

    private async Task GateAsync(CancellationToken cancellationToken)
    {
        Stage(7, "The tenant's password-sync gate", "After the last wave, password hash sync from the legacy platform is switched off for the whole tenant. Graph lets only a delegated Global Administrator do it: the tool tells the administrator exactly what to do and waits until the tenant reads it off. Here the emulator's administrator does it.");
        using var gate = Start("gate", "password-sync", "--config", _layout.Config, "--as", Operator, "--poll", "1", "--wait", "120");
        string? url = null;
        for (var i = 0; i < 2400 && !gate.HasExited && url is null; i++)
        {
            url = PatchLine().Match(gate.SoFar) is { Success: true } match ? match.Groups["url"].Value : null;
            await Task.Delay(25, cancellationToken);
        }

        if (url is not null)
        {
            using var http = new HttpClient();
            var appToken = (await File.ReadAllTextAsync(Path.Combine(_layout.Secrets, "graph.token"), cancellationToken)).Trim();
            var adminToken = (await File.ReadAllTextAsync(_layout.GraphAdminToken, cancellationToken)).Trim();
            var asApp = await PatchAsync(http, url, appToken, cancellationToken);
            var asAdmin = await PatchAsync(http, url, adminToken, cancellationToken);
            _ansi.MarkupLine($"  [yellow]administrator[/]: PATCH {Markup.Escape(url)} {{\"features\":{{\"passwordSyncEnabled\":false}}}}: with the app's token {asApp}, with the Global Administrator's {asAdmin}");
            Check("only the administrator may switch it off", asApp == 403 && asAdmin == 204, $"app {asApp}, administrator {asAdmin}");
        }

        var result = await gate.WaitAsync(cancellationToken);
        Check("password-sync gate verified", url is not null && result.ExitCode == 0 && result.Output.Contains("verified", StringComparison.Ordinal), $"gate exit {result.ExitCode}");
    }

    private static async Task<int> PatchAsync(HttpClient http, string url, string token, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Patch, url) { Content = new StringContent("{\"features\":{\"passwordSyncEnabled\":false}}", Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await http.SendAsync(request, cancellationToken);
        return (int)response.StatusCode;
    }

    private async Task<List<string>> EvidenceAsync(CancellationToken cancellationToken)
    {
        Stage(8, "Evidence for the auditor", "Each wave's evidence pack: the signed in-toto statement over its files, the ledger cut to the wave with its chain intact, the counts, an HTML report. The auditor verifies it offline, live against the directory and the tenant, and with nothing but openssl, sha256sum and jq (runbook 09's recipe).");
        var tools = await DebianPackages.EnsureAsync(StandardToolsRecipe.Tools, new NarrationWriter(Show), cancellationToken);
        var packs = new List<string>();
        foreach (var wave in DemoCompany.Waves)
        {
            var pack = Path.Combine(_layout.Evidence, wave);
            var export = await CliAsync(cancellationToken, "evidence", "export", "--config", _layout.Config, "--wave", wave, "--out", pack, "--as", Operator);
            var fingerprint = Fingerprint().Match(export.All) is { Success: true } m ? m.Groups["key"].Value : null;
            Check($"evidence {wave} exported", export.ExitCode == 0 && fingerprint is not null, $"exit {export.ExitCode}, signed by {fingerprint}");
            if (fingerprint is null)
            {
                continue;
            }

            packs.Add(pack);
            var offline = await CliAsync(cancellationToken, "evidence", "verify", pack, "--fingerprint", fingerprint);
            Check($"evidence {wave} verified offline", offline.ExitCode == 0, $"exit {offline.ExitCode}");
            var live = await CliAsync(cancellationToken, "evidence", "verify", pack, "--fingerprint", fingerprint, "--live", "--config", _layout.Config, "--record", pack + "-live.json");
            Check($"evidence {wave} verified live", live.ExitCode == 0 && live.Output.Contains("0 residual", StringComparison.Ordinal), $"exit {live.ExitCode}");
            _ansi.MarkupLine($"  [blue]$[/] PACK=evidence/{wave} FINGERPRINT={fingerprint} bash runbook-09-recipe.sh");
            var recipe = await StandardToolsRecipe.RunAsync(pack, fingerprint, tools, Show, cancellationToken);
            Check($"evidence {wave} verified with openssl, sha256sum and jq", recipe.ExitCode == 0 && recipe.Output.Contains("OK: wave " + wave, StringComparison.Ordinal), $"exit {recipe.ExitCode}");
        }

        return packs;
    }

    private void Reports(List<string> packs)
    {
        Stage(9, "The reports", "Each pack holds report.html, the wave's evidence for a reader (in Japanese; evidence export --lang en for English). Open them in a browser:");
        foreach (var pack in packs)
        {
            var report = Path.Combine(pack, "report.html");
            Check($"report {Path.GetFileName(pack)}", File.Exists(report), report);
        }

        _ansi.MarkupLine($"  Also in {Markup.Escape(_layout.Directory)}: plan.json and its decisions, the state store and config under lab/, the CLI's logs under logs/.");
    }

    private async Task StopLabAsync()
    {
        _ansi.WriteLine();
        _ansi.MarkupLine("[grey]Stopping the lab (by PID):[/]");
        try
        {
            var writer = new NarrationWriter(Show);
            var code = await new LabStop(console with { Output = writer }, log).StopAsync(_layout.Lab, purge: false, CancellationToken.None);
            Check("everything the demo started is stopped", code == 0 && LabRuntime.Read(_layout.Lab) is null, "lab stop");
        }
        catch (Exception ex) when (ex is IOException or Core.Errors.InputException or UnauthorizedAccessException)
        {
            Check("everything the demo started is stopped", false, ex.Message);
        }
    }

    private int Summary(TimeSpan elapsed)
    {
        _ansi.WriteLine();
        var failed = _checks.Where(c => !c.Passed).ToList();
        if (failed.Count == 0)
        {
            _ansi.Write(new Rule($"[green bold]Every check held[/] ({_checks.Count} checks, {(int)elapsed.TotalMinutes} min {elapsed.Seconds:00} s)").LeftJustified());
            return ExitCodes.Success;
        }

        _ansi.Write(new Rule($"[red bold]{failed.Count} of {_checks.Count} checks failed[/]").LeftJustified());
        foreach (var (name, _, detail) in failed)
        {
            console.Error.WriteLine($"demo check failed: {name}: {detail}");
        }

        return ExitCodes.DemoCheckFailed;
    }

    [GeneratedRegex(@"PATCH (?<url>http://127\.0\.0\.1:\d+/\S*onPremisesSynchronization/\S+)")]
    private static partial Regex PatchLine();

    [GeneratedRegex(@"Signed with key (?<key>sha256:[0-9a-f]{64})")]
    private static partial Regex Fingerprint();
}

/// <summary>A stage whose failure leaves nothing for the later stages to do (the lab did not start).</summary>
public sealed class DemoStageFailedException(string stage) : Exception($"the demo stopped at {stage}");

/// <summary>A writer whose lines go to the narration.</summary>
internal sealed class NarrationWriter(Action<string> line) : TextWriter
{
    private readonly StringBuilder _pending = new();

    public override Encoding Encoding => Encoding.UTF8;

    public override void Write(char value)
    {
        if (value == '\n')
        {
            line(_pending.ToString());
            _pending.Clear();
        }
        else if (value != '\r')
        {
            _pending.Append(value);
        }
    }
}
