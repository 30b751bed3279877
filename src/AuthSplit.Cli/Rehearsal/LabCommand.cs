using System.CommandLine;

namespace AuthSplit.Cli.Rehearsal;

/// <summary><c>authsplit lab start|status|stop</c>: a private copy of both sides to rehearse waves on.</summary>
public static class LabCommand
{
    public static Command Create(CliConsole console)
    {
        var dir = new Option<string>("--dir") { Description = "The lab's directory: its config (authsplit.json), state store, secrets, logs and lab.json.", Required = true };
        var logDir = new Option<string?>("--log-dir") { Description = "Directory for the CLI's structured log files (default: $AUTHSPLIT_LOG_DIR or ~/.local/state/authsplit/logs)." };

        var ldif = new Option<string>("--legacy-ldif") { Description = "The legacy directory's LDIF export (as ldapsearch writes it, with or without -LLL).", Required = true };
        var target = new Option<string>("--target") { Description = "The Graph JSON snapshot directory (users-*.json, inventory/) that seeds the Graph emulator.", Required = true };
        var ad = new Option<bool>("--ad") { Description = "A Samba AD DC instead of slapd, seeded from an AD export (ldapsearch or ldifde) or an OpenLDAP one mapped to AD objects; needs root and the fixed ports 389 and 636 (refused with exit 2 otherwise)." };
        var waves = new Option<string[]>("--waves") { Description = "The top-level OUs to make waves of, in order (default: every top-level OU holding people, in the export's order).", AllowMultipleArgumentsPerToken = true };
        var ldapsPort = new Option<int?>("--ldaps-port") { Description = "slapd's LDAPS port on 127.0.0.1 (default: a free one)." };
        var graphPort = new Option<int?>("--graph-port") { Description = "The Graph emulator's port on 127.0.0.1 (default: a free one)." };
        var start = new Command("start", "Start a private slapd (with --ad, a Samba AD DC) seeded from the LDIF export and the Graph emulator seeded from the snapshot, on 127.0.0.1, left running; write D/authsplit.json pointing at them and D/lab.json naming them. Refused (2) if a lab already runs in D.")
        {
            ldif, target, dir, ad, waves, ldapsPort, graphPort, logDir,
        };
        start.SetAction((parse, cancellationToken) =>
        {
            var request = new LabStartRequest(
                parse.GetRequiredValue(ldif), parse.GetRequiredValue(target), parse.GetRequiredValue(dir), parse.GetValue(ad),
                [.. (parse.GetValue(waves) ?? []).SelectMany(w => w.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))],
                parse.GetValue(ldapsPort), parse.GetValue(graphPort));
            return CommandExecution.RunAsync(console, parse.GetValue(logDir), false, (log, ct) => new LabStart(console, log).RunAsync(request, ct), cancellationToken,
                () => "every server this start had started is stopped again and no lab.json was written");
        });

        var status = new Command("status", "Each server of the lab in D: its PID, port, and whether it runs (exit 0 if all do, 4 if one does not or no lab runs there).") { dir, logDir };
        status.SetAction((parse, cancellationToken) =>
            CommandExecution.RunAsync(console, parse.GetValue(logDir), false, (log, _) => new LabStop(console, log).StatusAsync(parse.GetRequiredValue(dir)), cancellationToken));

        var purge = new Option<bool>("--purge") { Description = "Also remove the config, the state store, the backup key and the logs." };
        var stop = new Command("stop", "Stop exactly the servers lab start started (by PID, checked against their start time) and remove the runtime files; the config, state store and logs stay unless --purge. Stopping a stopped lab is fine.") { dir, purge, logDir };
        stop.SetAction((parse, cancellationToken) =>
            CommandExecution.RunAsync(console, parse.GetValue(logDir), false, (log, ct) => new LabStop(console, log).StopAsync(parse.GetRequiredValue(dir), parse.GetValue(purge), ct), cancellationToken));

        var ratesConfig = new Option<string?>("--config", "-c") { Description = "Instead of --dir: the config of any rehearsal (its state store's journal is read)." };
        var ratesDir = new Option<string?>("--dir") { Description = "The lab's directory (its authsplit.json and state store)." };
        var ratesOut = new Option<string>("--out", "-o") { Description = "Where to write the rates (JSON; replaced atomically).", Required = true };
        var rates = new Command("rates", "The rates a rehearsal measured, from its journal: each completed wave's time and the work the forecast counts for it (LDAP operations, Graph writes), written for plan --rates / Forecast:MeasuredRatesFile.") { ratesDir, ratesConfig, ratesOut, logDir };
        rates.SetAction((parse, cancellationToken) =>
            CommandExecution.RunAsync(console, parse.GetValue(logDir), false, (log, ct) => new LabRates(console, log).RunAsync(parse.GetValue(ratesDir), parse.GetValue(ratesConfig), parse.GetRequiredValue(ratesOut), ct), cancellationToken));

        return new Command("lab", "A rehearsal lab on this machine: a private slapd and the Graph emulator seeded from your exports, and a config pointing at them; the rates a rehearsal measured, for plan's deadline forecast.") { start, status, stop, rates };
    }
}
