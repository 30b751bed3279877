using System.Diagnostics;
using System.Globalization;
using AuthSplit.Lab.Data;
using AuthSplit.Lab.Servers;

namespace AuthSplit.Benchmarks;

/// <summary>
/// Macro benchmarks of <c>authsplit plan</c>, run as a child process exactly as an operator runs it, with
/// its peak resident memory read from /proc (VmHWM). The live benchmark measures ldapsearch and the plan
/// side by side in one run against the same private slapd.
/// </summary>
public static class PlanBenchmarks
{
    private const int Runs = 3;

    public static async Task OfflineAsync(int people)
    {
        var work = await PrepareAsync(people);
        Console.WriteLine($"# offline plan: {people:N0} people (+ groups) from LDIF, {TargetCount(people):N0} target users");
        var timings = new List<(double Seconds, long PeakBytes)>();
        for (var run = 0; run < Runs; run++)
        {
            timings.Add(await RunPlanAsync(work, ["--source-ldif", Path.Combine(work, "source.ldif")], null));
        }

        Report("offline plan (authsplit process, LDIF + Graph JSON -> plan.json)", timings);
    }

    public static async Task LiveAsync(int people)
    {
        var work = await PrepareAsync(people);
        await using var slapd = await SlapdServer.StartAsync(new SlapdServerOptions { Suffix = GeneratedOrganization.Suffix, CreateSuffixEntry = false, NoSync = true, Log = Console.Out }, CancellationToken.None);
        var load = Stopwatch.StartNew();
        await slapd.LoadLdifAsync(Path.Combine(work, "source.ldif"), CancellationToken.None);
        Console.WriteLine($"# live plan: {people:N0} people loaded into slapd (mdb, dbnosync) with slapadd -q in {load.Elapsed.TotalSeconds:0.00} s");

        var ldapsearch = new List<(double, long)>();
        var plans = new List<(double, long)>();
        var saving = new List<(double, long)>();
        var password = Path.Combine(work, "admin.pw");
        await File.WriteAllTextAsync(password, slapd.AdminPassword);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(password, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        var config = await LiveConfigAsync(work, slapd, password);
        for (var run = 0; run < Runs; run++)
        {
            ldapsearch.Add((await LdapsearchToFileAsync(slapd, password, Path.Combine(work, "ldapsearch.ldif"), people), 0));

            plans.Add(await RunPlanAsync(work, [], config));
            saving.Add(await RunPlanAsync(work, ["--save-snapshot", Path.Combine(work, "live-snapshot")], config));
        }

        Report("ldapsearch -LLL '*' '+' over LDAPS, pages of 1000", ldapsearch);
        Report("live plan (authsplit process, LDAPS read of the plan's attributes + Graph JSON -> plan.json)", plans);
        Report("live plan with --save-snapshot (whole entries read and saved as LDIF)", saving);
        var ratio = Median(plans.Select(p => p.Item1)) / Median(ldapsearch.Select(p => p.Item1));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"live plan / ldapsearch (medians): {ratio:0.00}x"));
    }

    // ldapsearch as an operator runs it: output straight to a file, nothing captured in between.
    private static async Task<double> LdapsearchToFileAsync(SlapdServer slapd, string passwordFile, string output, int people)
    {
        var info = new ProcessStartInfo("/bin/sh") { UseShellExecute = false, RedirectStandardError = true };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add("exec ldapsearch -x -LLL -H \"$1\" -D \"$2\" -y \"$3\" -E pr=1000/noprompt -b \"$4\" '(objectClass=*)' '*' '+' > \"$5\"");
        info.ArgumentList.Add("ldapsearch");
        foreach (var argument in new[] { slapd.LdapsUrl, slapd.AdminDn, passwordFile, GeneratedOrganization.Suffix, output })
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment["LDAPTLS_CACERT"] = slapd.CaFile;
        info.Environment["LDAPTLS_REQCERT"] = "demand";
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(info)!;
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        var seconds = clock.Elapsed.TotalSeconds;
        if (process.ExitCode != 0 || new FileInfo(output).Length < people * 100L)
        {
            throw new InvalidOperationException($"ldapsearch failed or returned less than expected (exit {process.ExitCode}): {error}");
        }

        return seconds;
    }

    /// <summary>Starts the live benchmark's slapd and leaves it running until Enter, with the config to plan against it.</summary>
    public static async Task ServeAsync(int people)
    {
        var work = await PrepareAsync(people);
        await using var slapd = await SlapdServer.StartAsync(new SlapdServerOptions { Suffix = GeneratedOrganization.Suffix, CreateSuffixEntry = false, NoSync = true, Log = Console.Out }, CancellationToken.None);
        await slapd.LoadLdifAsync(Path.Combine(work, "source.ldif"), CancellationToken.None);
        var password = Path.Combine(work, "admin.pw");
        await File.WriteAllTextAsync(password, slapd.AdminPassword);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(password, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        Console.WriteLine($"config: {await LiveConfigAsync(work, slapd, password)}");
        Console.WriteLine($"ldapsearch: LDAPTLS_CACERT={slapd.CaFile} ldapsearch -H {slapd.LdapsUrl} -D {slapd.AdminDn} -y {password} -b {GeneratedOrganization.Suffix}");
        Console.WriteLine("press Enter to stop");
        Console.ReadLine();
    }

    private static int TargetCount(int people) => GeneratedOrganization.People(people).Count(p => p.Unit != "partner") + 1000;

    private static async Task<string> PrepareAsync(int people)
    {
        var work = Path.Combine(Path.GetTempPath(), $"authsplit-bench-{people}");
        if (!File.Exists(Path.Combine(work, "source.ldif")))
        {
            Directory.CreateDirectory(work);
            var clock = Stopwatch.StartNew();
            await GeneratedOrganization.WriteLdifAsync(Path.Combine(work, "source.ldif"), people, groupSize: 50, CancellationToken.None);
            await GeneratedOrganization.WriteTargetSnapshotAsync(Path.Combine(work, "target"), people, pageSize: 999, cloudOnly: 1000, CancellationToken.None);
            Console.WriteLine($"generated {people:N0} people and the target snapshot in {clock.Elapsed.TotalSeconds:0.00} s ({new FileInfo(Path.Combine(work, "source.ldif")).Length / 1e6:0.0} MB LDIF)");
        }

        await File.WriteAllTextAsync(Path.Combine(work, "config.json"), Config(null, null, null));
        return work;
    }

    private static async Task<string> LiveConfigAsync(string work, SlapdServer slapd, string passwordFile)
    {
        var path = Path.Combine(work, "live.json");
        await File.WriteAllTextAsync(path, Config(slapd.LdapsUrl, slapd.CaFile, passwordFile).Replace("\"BindDn\": null", $"\"BindDn\": \"{slapd.AdminDn}\"", StringComparison.Ordinal));
        return path;
    }

    private static string Config(string? url, string? caFile, string? passwordFile) => $$"""
        {
          "Source": { "Url": {{Json(url)}}, "BindDn": null, "PasswordFile": {{Json(passwordFile)}}, "CaFile": {{Json(caFile)}}, "BaseDn": "{{GeneratedOrganization.Suffix}}", "Dialect": "OpenLdap", "PageSize": 1000 },
          "Waves": [
            { "Name": "hq", "Order": 1, "Deadline": "2025-04-30", "BaseDn": "ou=hq,{{GeneratedOrganization.Suffix}}", "Filter": "(|(objectClass=inetOrgPerson)(objectClass=groupOfNames))" },
            { "Name": "domestic", "Order": 2, "Deadline": "2025-04-30", "BaseDn": "ou=domestic,{{GeneratedOrganization.Suffix}}", "Filter": "(objectClass=inetOrgPerson)" },
            { "Name": "overseas", "Order": 3, "Deadline": "2026-04-30", "BaseDn": "ou=overseas,{{GeneratedOrganization.Suffix}}", "Filter": "(&(objectClass=inetOrgPerson)(l=*))" }
          ],
          "Matching": [ { "Source": "employeeNumber", "Target": "employeeId" }, { "Source": "mail", "Target": "mail" } ],
          "Safety": { "ProtectedFilter": "(employeeType=partner)", "ProtectedDns": [ "ou=partner,{{GeneratedOrganization.Suffix}}" ], "MaxDeletesPerWave": 50000 }
        }
        """;

    private static string Json(string? value) => value is null ? "null" : System.Text.Json.JsonSerializer.Serialize(value);

    /// <summary>
    /// The CLI from its own build output, not the copy beside this benchmark: the benchmark references the
    /// Graph emulator (an ASP.NET Core app), so its folder lacks the Microsoft.Extensions assemblies the CLI
    /// needs from NuGet (they come from the ASP.NET Core framework here), and the copied authsplit.dll fails
    /// to load them.
    /// </summary>
    internal static string CliAssembly()
    {
        var here = new DirectoryInfo(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory));
        var configuration = here.Parent?.Name ?? "Release";
        for (var directory = here; directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "AuthSplit.sln")))
            {
                var cli = Path.Combine(directory.FullName, "src", "AuthSplit.Cli", "bin", configuration, "net10.0", "authsplit.dll");
                return File.Exists(cli)
                    ? cli
                    : throw new InvalidOperationException($"{cli} does not exist: build the benchmarks with -c {configuration} first (it builds the CLI)");
            }
        }

        throw new InvalidOperationException($"no AuthSplit.sln above {here.FullName}");
    }

    private static async Task<(double Seconds, long PeakBytes)> RunPlanAsync(string work, string[] source, string? config)
    {
        var cli = CliAssembly();
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { cli, "plan", "--config", config ?? Path.Combine(work, "config.json"), "--target-snapshot", Path.Combine(work, "target"), "--out", Path.Combine(work, "plan.json"), "--log-dir", Path.Combine(work, "logs") }.Concat(source))
        {
            info.ArgumentList.Add(argument);
        }

        var clock = Stopwatch.StartNew();
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        long peak = 0;
        while (!process.HasExited)
        {
            peak = Math.Max(peak, PeakResidentBytes(process.Id));
            await Task.Delay(25);
        }

        await process.WaitForExitAsync();
        var seconds = clock.Elapsed.TotalSeconds;
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"authsplit plan exited {process.ExitCode}: {await error}{await output}");
        }

        return (seconds, peak);
    }

    private static long PeakResidentBytes(int pid)
    {
        try
        {
            var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
            return line is null ? 0 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
        }
        catch (IOException)
        {
            return 0;
        }
    }

    private static void Report(string what, List<(double Seconds, long PeakBytes)> runs)
    {
        var seconds = string.Join(", ", runs.Select(r => r.Seconds.ToString("0.00", CultureInfo.InvariantCulture)));
        var peak = runs.Max(r => r.PeakBytes);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{what}: median {Median(runs.Select(r => r.Seconds)):0.00} s (runs: {seconds} s){(peak > 0 ? $", peak RSS {peak / 1048576.0:0} MiB" : string.Empty)}"));
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted[sorted.Length / 2];
    }
}
