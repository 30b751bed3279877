using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using AuthSplit.Core.Planning.Format;
using AuthSplit.Graph.Emulator;
using AuthSplit.Lab.Data;
using AuthSplit.Lab.Servers;

namespace AuthSplit.Benchmarks;

/// <summary>
/// <c>wave [people]</c>: one wave of N people removed by the real CLI (<c>plan</c>,
/// <c>approve</c>, <c>run</c>, each a child process as an operator runs it) against a private slapd and the
/// Graph emulator with its write limit off (and the connector's pacing raised to match), side by side in
/// one run with a plain <c>ldapdelete -c</c> of the same DNs on a second, identical slapd. Both servers:
/// mdb with <c>olcDbNoSync</c>, the ppolicy overlay loaded (the executor's disable is a ppolicy lock), the
/// memberof overlay, LDAPS on 127.0.0.1, bound as the rootdn; the organisation has no groups, so neither
/// side has memberships to clean up and the comparison is delete for delete.
/// </summary>
public static class WaveBenchmarks
{
    internal const string Token = "wave-benchmark-token-7c21";
    internal const string Wave = "bench";

    public static async Task RunAsync(int people, int concurrency, int writeQuota = 0, int writeWindowSeconds = 150)
    {
        // The wave takes everyone but the partner's people (a quarter of the generated organisation, protected and outside the filter).
        var generated = (int)Math.Ceiling(people * 4 / 3.0);
        var work = Directory.CreateTempSubdirectory("authsplit-bench-wave-").FullName;
        try
        {
            await RunInAsync(work, people, generated, concurrency, writeQuota, writeWindowSeconds);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static async Task RunInAsync(string work, int people, int generated, int concurrency, int writeQuota, int writeWindowSeconds)
    {
        var limited = writeQuota > 0;
        var window = TimeSpan.FromSeconds(writeWindowSeconds);
        var clock = Stopwatch.StartNew();
        var ldif = Path.Combine(work, "source.ldif");
        var target = Path.Combine(work, "target");
        await GeneratedOrganization.WriteLdifAsync(ldif, generated, groupSize: 0, CancellationToken.None);
        await GeneratedOrganization.WriteTargetSnapshotAsync(target, generated, pageSize: 999, cloudOnly: 0, CancellationToken.None);
        Console.WriteLine($"# wave execution: {generated:N0} people generated (no groups), the wave takes the {people:N0}-odd that are not the partner's; generated in {clock.Elapsed.TotalSeconds:0.00} s; Execution:Concurrency {concurrency}");

        var slapdOptions = new SlapdServerOptions { Suffix = GeneratedOrganization.Suffix, CreateSuffixEntry = false, NoSync = true, PasswordPolicy = true, Log = Console.Out };
        await using var emulator = await GraphEmulator.StartAsync(new GraphEmulatorOptions { AccessToken = Token, Users = GraphEmulatorOptions.ReadPages(target), Faults = limited ? new GraphFaults { WriteQuota = writeQuota, WriteQuotaWindow = window } : GraphFaults.None }, CancellationToken.None);

        // The executor's server.
        await using var slapd = await SlapdServer.StartAsync(slapdOptions, CancellationToken.None);
        await slapd.LoadLdifAsync(ldif, CancellationToken.None);
        await slapd.AddPasswordPolicyAsync(CancellationToken.None);
        var secrets = Directory.CreateDirectory(Path.Combine(work, "secrets")).FullName;
        var password = await SecretFileAsync(Path.Combine(secrets, "ldap-password"), slapd.AdminPassword);
        var token = await SecretFileAsync(Path.Combine(secrets, "graph-token"), Token);
        var key = await SecretFileAsync(Path.Combine(secrets, "backup.key"), Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));
        var config = Path.Combine(work, "authsplit.json");
        await File.WriteAllTextAsync(config, Config(slapd, password, emulator.BaseUrl, token, key, people, concurrency, limited ? writeQuota : 100000, limited ? writeWindowSeconds : 1));
        if (limited)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"# write limit ON: the emulator answers 429 beyond {writeQuota:N0} writes per {writeWindowSeconds} s (Graph's documented limit is 3,000 per 150 s), and Target:Limits says the same"));
        }

        var plan = Path.Combine(work, "plan.json");
        var planned = await CliAsync(work, "plan", "--config", config, "--out", plan);
        var dns = await RemovalsAsync(plan);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"plan (live read of slapd and the emulator): {planned.Seconds:0.00} s, {dns.Count:N0} people to remove in wave {Wave}"));
        var approved = await CliAsync(work, "approve", "--config", config, "--plan", plan, "--by", "benchmark-approver");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"approve: {approved.Seconds:0.00} s"));

        // The raw floor first, on its own fresh server, stopped before the wave runs so the two never share the CPUs.
        double raw;
        await using (var fresh = await SlapdServer.StartAsync(slapdOptions, CancellationToken.None))
        {
            await fresh.LoadLdifAsync(ldif, CancellationToken.None);
            await fresh.AddPasswordPolicyAsync(CancellationToken.None);
            var freshPassword = await SecretFileAsync(Path.Combine(secrets, "fresh-password"), fresh.AdminPassword);
            var list = Path.Combine(work, "dns.txt");
            await File.WriteAllLinesAsync(list, dns);
            raw = await LdapdeleteAsync(fresh, freshPassword, list);
            await AssertGoneAsync(fresh, freshPassword, dns.Count, "ldapdelete");
        }

        // The executor's own LDAP writes without anything else: a disable (the ppolicy lock) then a delete per
        // person, with the OpenLDAP tools, on another fresh server: the floor for any executor that disables
        // before it deletes.
        double writesOnly;
        await using (var fresh = await SlapdServer.StartAsync(slapdOptions, CancellationToken.None))
        {
            await fresh.LoadLdifAsync(ldif, CancellationToken.None);
            await fresh.AddPasswordPolicyAsync(CancellationToken.None);
            var freshPassword = await SecretFileAsync(Path.Combine(secrets, "fresh-password-2"), fresh.AdminPassword);
            var disable = Path.Combine(work, "disable.ldif");
            await File.WriteAllTextAsync(disable, string.Concat(dns.Select(dn => $"dn: {dn}\nchangetype: modify\nreplace: pwdAccountLockedTime\npwdAccountLockedTime: 000001010000Z\n\n")));
            var list = Path.Combine(work, "dns.txt");
            var writesClock = Stopwatch.StartNew();
            var modified = await ProcessRunner.RunAsync("ldapmodify", ["-x", "-c", "-H", fresh.LdapsUrl, "-D", fresh.AdminDn, "-y", freshPassword, "-f", disable], TlsEnvironment(fresh), TimeSpan.FromMinutes(30), CancellationToken.None);
            if (modified.ExitCode != 0)
            {
                throw new InvalidOperationException($"ldapmodify exited {modified.ExitCode}: {modified.Error}");
            }

            await LdapdeleteAsync(fresh, freshPassword, list);
            writesOnly = writesClock.Elapsed.TotalSeconds;
            await AssertGoneAsync(fresh, freshPassword, dns.Count, "ldapmodify + ldapdelete");
        }

        var monitored = await AddMonitorAsync(slapd);
        var operationsBefore = monitored ? await OperationsAsync(slapd) : null;
        var slapdCpuBefore = ProcessCpu(slapd.Pid);
        var benchCpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var run = await CliAsync(work, "run", "--config", config, "--plan", plan, "--wave", Wave, "--as", "benchmark-operator");
        var slapdCpu = ProcessCpu(slapd.Pid) - slapdCpuBefore;
        var emulatorCpu = Process.GetCurrentProcess().TotalProcessorTime - benchCpuBefore;
        var operationsAfter = monitored ? await OperationsAsync(slapd) : null;
        var summary = run.Output.Split('\n').LastOrDefault(l => l.StartsWith($"Wave {Wave}", StringComparison.Ordinal))?.Trim() ?? "(no summary line)";
        await AssertGoneAsync(slapd, password, dns.Count, "the wave");
        var switches = emulator.Writes.Count;

        var rawRate = dns.Count / raw;
        var waveRate = dns.Count / run.Seconds;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ldapdelete -c of the same {dns.Count:N0} DNs (fresh identical slapd, one connection, LDAPS): {raw:0.00} s = {rawRate:N0} entries/s"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ldapmodify -c (the ppolicy lock) then ldapdelete -c of the same DNs (the executor's LDAP writes alone, another fresh slapd): {writesOnly:0.00} s = {dns.Count / writesOnly:N0} people/s"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"authsplit run (process start to exit: precondition, source-of-authority switch and read-back, backup, disable, delete, verify, journal and ledger): {run.Seconds:0.00} s = {waveRate:N0} entities/s = {waveRate / rawRate:P0} of ldapdelete"));
        Console.WriteLine($"  {summary}");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  CPU: authsplit run {run.CpuSeconds:0.00} s, slapd {slapdCpu.TotalSeconds:0.00} s, Graph emulator (benchmark process) {emulatorCpu.TotalSeconds:0.00} s; per person {1000 * run.CpuSeconds / dns.Count:0.00} / {1000 * slapdCpu.TotalSeconds / dns.Count:0.00} / {1000 * emulatorCpu.TotalSeconds / dns.Count:0.00} ms"));
        if (operationsBefore is not null && operationsAfter is not null)
        {
            var done = operationsAfter.ToDictionary(o => o.Key, o => operationsAfter[o.Key] - operationsBefore.GetValueOrDefault(o.Key));
            var total = done.Where(o => o.Key != "Bind" && o.Key != "Unbind").Sum(o => o.Value);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  LDAP operations slapd completed for the run (cn=Monitor): {total:N0} = {(double)total / dns.Count:0.00} per person ({string.Join(", ", done.Where(o => o.Value > 0).Select(o => $"{o.Key} {(double)o.Value / dns.Count:0.00}"))})"));
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  Graph writes applied by the emulator: {switches:N0} ({emulator.RequestCount:N0} HTTP requests); state store {new FileInfo(Path.Combine(work, "authsplit-state.db")).Length / 1e6:0.0} MB"));

        if (limited)
        {
            var writes = emulator.Writes.OrderBy(w => w.Sequence).ToList();
            var dictated = switches * window.TotalSeconds / writeQuota;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  write limit: {switches:N0} writes at the allowed {writeQuota / window.TotalSeconds:0.##}/s take {dictated:0.0} s by the limit alone; the run took {run.Seconds:0.0} s = {run.Seconds / dictated:P1} of that; most writes in any {writeWindowSeconds} s window {GraphBenchmarks.MaxInWindow(writes, window):N0} (limit {writeQuota:N0}); 429 answered {emulator.ThrottledCount:N0}"));
        }

        await StepLatenciesAsync(Path.Combine(work, "authsplit-state.db"));

        var again = await CliAsync(work, "run", "--config", config, "--plan", plan, "--wave", Wave, "--as", "benchmark-operator");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"run again on the finished wave: {again.Seconds:0.00} s, {emulator.Writes.Count - switches} Graph writes: {again.Output.Trim().Split('\n')[^1].Trim()}"));
    }

    // Where an entity's time goes: from the journal, the time from an entity's previous step record to each step's record (the first step of each entity has none), averaged per step.
    private static async Task StepLatenciesAsync(string database)
    {
        await using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={database};Mode=ReadOnly");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT entity_id, step, at FROM authsplit_steps ORDER BY entity_id, ledger_sequence";
        var totals = new Dictionary<string, (double Milliseconds, int Count)>(StringComparer.Ordinal);
        string? entity = null;
        DateTimeOffset previous = default;
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            var at = DateTimeOffset.Parse(reader.GetString(2), CultureInfo.InvariantCulture);
            if (reader.GetString(0) == entity)
            {
                var step = reader.GetString(1);
                var (ms, n) = totals.GetValueOrDefault(step);
                totals[step] = (ms + (at - previous).TotalMilliseconds, n + 1);
            }

            entity = reader.GetString(0);
            previous = at;
        }

        Console.WriteLine("  mean time before each step's journal record, per entity (ms): " + string.Join(", ", totals.Select(t => string.Create(CultureInfo.InvariantCulture, $"{t.Key} {t.Value.Milliseconds / t.Value.Count:0}"))));
    }

    private static string Config(SlapdServer slapd, string passwordFile, Uri graph, string tokenFile, string keyFile, int people, int concurrency, int writesPerWindow, int writeWindowSeconds) => $$"""
        {
          "Source": { "Url": {{Json(slapd.LdapsUrl)}}, "BindDn": {{Json(slapd.AdminDn)}}, "PasswordFile": {{Json(passwordFile)}}, "CaFile": {{Json(slapd.CaFile)}}, "BaseDn": "{{GeneratedOrganization.Suffix}}", "Dialect": "OpenLdap", "PageSize": 1000 },
          "Waves": [
            { "Name": "{{Wave}}", "Order": 1, "Deadline": "2027-04-30", "BaseDn": "{{GeneratedOrganization.Suffix}}", "Filter": "(&(objectClass=inetOrgPerson)(!(employeeType=partner)))" }
          ],
          "Matching": [ { "Source": "employeeNumber", "Target": "employeeId" } ],
          "Safety": { "ProtectedFilter": "(employeeType=partner)", "ProtectedDns": [ "ou=partner,{{GeneratedOrganization.Suffix}}" ], "MaxDeletesPerWave": {{people * 2}} },
          "Removal": { "HoldDays": 0, "OpenLdapDisable": "PasswordPolicyLock" },
          "Target": { "Kind": "Graph", "BaseUrl": {{Json(graph.ToString())}}, "Auth": "StaticToken", "TokenFile": {{Json(tokenFile)}}, "AllowInsecureLoopback": true,
                      "Limits": { "WritesPerWindow": {{writesPerWindow}}, "WriteWindowSeconds": {{writeWindowSeconds}} } },
          "State": { "Provider": "Sqlite", "BackupKeyFile": {{Json(keyFile)}} },
          "Execution": { "Concurrency": {{concurrency}} }
        }
        """;

    internal static string Json(string value) => System.Text.Json.JsonSerializer.Serialize(value);

    internal static async Task<string> SecretFileAsync(string path, string secret)
    {
        // No line end: ldapdelete -y and ldapsearch -y send the whole file as the password.
        await File.WriteAllTextAsync(path, secret);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        return path;
    }

    internal static async Task<List<string>> RemovalsAsync(string planPath)
    {
        await using var stream = File.OpenRead(planPath);
        var plan = await PlanSerializer.ReadAsync(stream, planPath, CancellationToken.None);
        return [.. plan.Entities.Where(e => e.Wave == Wave && e.Disposition == Disposition.Remove).Select(e => e.Dn)];
    }

    private static async Task<double> LdapdeleteAsync(SlapdServer slapd, string passwordFile, string list)
    {
        var clock = Stopwatch.StartNew();
        var result = await ProcessRunner.RunAsync("ldapdelete", ["-x", "-c", "-H", slapd.LdapsUrl, "-D", slapd.AdminDn, "-y", passwordFile, "-f", list], TlsEnvironment(slapd), TimeSpan.FromMinutes(30), CancellationToken.None);
        var seconds = clock.Elapsed.TotalSeconds;
        return result.ExitCode == 0 ? seconds : throw new InvalidOperationException($"ldapdelete exited {result.ExitCode}: {result.Error}");
    }

    // Every DN gone: a count of the people left outside the partner's unit, which must be none.
    internal static async Task AssertGoneAsync(SlapdServer slapd, string passwordFile, int removed, string who)
    {
        var result = await ProcessRunner.RunAsync("ldapsearch", ["-x", "-LLL", "-H", slapd.LdapsUrl, "-D", slapd.AdminDn, "-y", passwordFile, "-b", GeneratedOrganization.Suffix, "-E", "pr=1000/noprompt", "(&(objectClass=inetOrgPerson)(!(employeeType=partner)))", "1.1"], TlsEnvironment(slapd), TimeSpan.FromMinutes(5), CancellationToken.None);
        var left = result.Output.Split('\n').Count(l => l.StartsWith("dn:", StringComparison.Ordinal));
        if (result.ExitCode != 0 || left != 0)
        {
            throw new InvalidOperationException($"after {who}, {left} of the {removed:N0} people are still in the directory (ldapsearch exit {result.ExitCode}: {result.Error})");
        }
    }

    // slapd's monitor database (back-monitor is built into Debian's slapd), added to the running server through
    // ldapi as root (the lab's cn=config grants uid 0 manage): its per-operation counters say how many LDAP
    // operations the run cost. slapd counts operations whether or not the database is there, so it costs
    // nothing while the run is measured. False (and no count) when the add is refused, e.g. not root.
    private static async Task<bool> AddMonitorAsync(SlapdServer slapd)
    {
        var ldif = "dn: olcDatabase=monitor,cn=config\nobjectClass: olcDatabaseConfig\nolcDatabase: monitor\n";
        var result = await ProcessRunner.RunAsync("ldapadd", ["-Q", "-Y", "EXTERNAL", "-H", Ldapi(slapd)], null, TimeSpan.FromMinutes(1), CancellationToken.None, ldif);
        if (result.ExitCode != 0)
        {
            Console.WriteLine($"  (no operation count: adding cn=Monitor failed, exit {result.ExitCode}: {result.Error.Trim()})");
        }

        return result.ExitCode == 0;
    }

    // Completed operations per kind (Search, Modify, Delete, Modrdn, Bind...) since slapd started.
    private static async Task<Dictionary<string, long>> OperationsAsync(SlapdServer slapd)
    {
        var result = await ProcessRunner.RunAsync("ldapsearch", ["-Q", "-LLL", "-Y", "EXTERNAL", "-H", Ldapi(slapd), "-b", "cn=Operations,cn=Monitor", "-s", "one", "(objectClass=*)", "monitorOpCompleted"], null, TimeSpan.FromMinutes(1), CancellationToken.None);
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        string? kind = null;
        foreach (var line in result.Output.Split('\n'))
        {
            if (line.StartsWith("dn: cn=", StringComparison.Ordinal))
            {
                kind = line[7..line.IndexOf(',', StringComparison.Ordinal)];
            }
            else if (kind is not null && line.StartsWith("monitorOpCompleted: ", StringComparison.Ordinal))
            {
                counts[kind] = long.Parse(line["monitorOpCompleted: ".Length..], CultureInfo.InvariantCulture);
            }
        }

        return counts;
    }

    private static string Ldapi(SlapdServer slapd) => "ldapi://" + Uri.EscapeDataString(Path.Combine(slapd.Directory, "ldapi"));

    // utime + stime of a running process, from /proc (clock ticks of 1/100 s on Linux).
    internal static TimeSpan ProcessCpu(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        return TimeSpan.FromSeconds(ticks / 100.0);
    }

    internal static Dictionary<string, string> TlsEnvironment(SlapdServer slapd) => new() { ["LDAPTLS_CACERT"] = slapd.CaFile, ["LDAPTLS_REQCERT"] = "demand" };

    private static Task<(double Seconds, string Output, double CpuSeconds)> CliAsync(string work, params string[] arguments) => CliAsync(work, null, arguments);

    internal static async Task<(double Seconds, string Output, double CpuSeconds)> CliAsync(string work, IReadOnlyDictionary<string, string>? environment, params string[] arguments)
    {
        var (seconds, output, cpu, _) = await MeasuredCliAsync(work, environment, arguments);
        return (seconds, output, cpu);
    }

    /// <summary>The CLI under /usr/bin/time: wall time, output, CPU (user + system) and peak resident memory in MB.</summary>
    internal static async Task<(double Seconds, string Output, double CpuSeconds, double PeakRssMb)> MeasuredCliAsync(string work, IReadOnlyDictionary<string, string>? environment, params string[] arguments)
    {
        // Under /usr/bin/time for the child's CPU (user + system), which a loaded machine does not inflate as it does wall time.
        var cpuFile = Path.Combine(work, "cpu.txt");
        var info = new ProcessStartInfo("/usr/bin/time") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = work };
        foreach (var argument in new[] { "-q", "-f", "%U %S %M", "-o", cpuFile, "dotnet", PlanBenchmarks.CliAssembly() })
        {
            info.ArgumentList.Add(argument);
        }

        // status takes no log directory (it writes no log).
        foreach (var argument in arguments[0] == "status" ? arguments : arguments.Concat(["--log-dir", Path.Combine(work, "logs")]))
        {
            info.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }

        var clock = Stopwatch.StartNew();
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        var seconds = clock.Elapsed.TotalSeconds;
        var measured = File.ReadAllText(cpuFile).Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray();
        return process.ExitCode == 0
            ? (seconds, await output, measured[0] + measured[1], measured[2] / 1024)
            : throw new InvalidOperationException($"authsplit {arguments[0]} exited {process.ExitCode}:\n{await error}\n{await output}");
    }
}
