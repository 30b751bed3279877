using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using AuthSplit.Lab.Servers;

namespace AuthSplit.Cli.EndToEndTests;

/// <summary>
/// <c>authsplit lab</c> run as an operator runs it, each command its own process: a lab started from the
/// samples (config/samples/legacy.ldif and target/, the files the README's commands use) is planned, a wave
/// is approved by one person and run by another, and the lab is stopped with no process left. The servers
/// are real (slapd, the emulator as its own program); every test stops what it started, even when it fails.
/// </summary>
public sealed class LabCommandTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(2);
    private static string SampleLdif => Path.Combine(CliRunner.Samples, "legacy.ldif");
    private static string SampleTarget => Path.Combine(CliRunner.Samples, "target");

    [Fact]
    public async Task A_lab_from_the_samples_plans_runs_a_wave_approved_by_another_and_stops_leaving_no_process()
    {
        var work = CliRunner.NewWorkDirectory();
        var lab = Path.Combine(work, "lab");
        await using var cleanup = new LabCleanup(work, lab);

        var started = await CliAsync(work, "lab", "start", "--legacy-ldif", SampleLdif, "--target", SampleTarget, "--dir", lab);
        started.ExitCode.Should().Be(0, started.ToString());
        started.Output.Should().Contain("waves: hq (8 people), domestic (4 people)").And.Contain("slapd pid").And.Contain("Graph emulator");
        var servers = Servers(lab);
        servers.Should().HaveCount(2);
        servers.Select(s => s.Identity.IsRunning()).Should().AllBeEquivalentTo(true, "lab start leaves its servers running after it exits");
        OwnerOnly(Path.Combine(lab, "lab.json")).Should().BeTrue();
        foreach (var secret in Directory.GetFiles(Path.Combine(lab, "secrets")))
        {
            OwnerOnly(secret).Should().BeTrue($"{secret} is a secret");
        }

        var config = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(lab, "authsplit.json")))!;
        config["Source"]!["Url"]!.GetValue<string>().Should().StartWith("ldaps://127.0.0.1:");
        config["Target"]!["BaseUrl"]!.GetValue<string>().Should().StartWith("http://127.0.0.1:");
        config["Waves"]!.AsArray().Select(w => w!["Name"]!.GetValue<string>()).Should().Equal("hq", "domestic", "overseas", "partner");

        var status = await CliAsync(work, "lab", "status", "--dir", lab);
        status.ExitCode.Should().Be(0, status.ToString());
        foreach (var server in servers)
        {
            status.Output.Should().MatchRegex($@"{server.Name}\s+pid {server.Pid}\s+port {server.Port}\s.*running");
        }

        var configPath = Path.Combine(lab, "authsplit.json");
        var plan = Path.Combine(work, "plan.json");
        var planned = await CliAsync(work, "plan", "--config", configPath, "--out", plan);
        planned.ExitCode.Should().Be(0, planned.ToString());
        var approved = await CliAsync(work, "approve", "--config", configPath, "--plan", plan, "--by", "alice");
        approved.ExitCode.Should().Be(0, approved.ToString());
        var run = await CliAsync(work, "run", "--config", configPath, "--plan", plan, "--wave", "domestic", "--as", "bob");
        run.ExitCode.Should().Be(0, run.ToString());
        run.Output.Should().Contain("Wave domestic complete: 4 done");

        // The wave really changed the lab's directory: domestic's people are gone from it.
        var domestic = await SearchLabAsync(lab, "ou=domestic,dc=example,dc=jp", "(objectClass=inetOrgPerson)");
        domestic.Should().Contain("result: 0 Success");
        domestic.Should().NotContain("dn: uid=", "the run removed every person of domestic");
        (await SearchLabAsync(lab, "ou=hq,dc=example,dc=jp", "(objectClass=inetOrgPerson)")).Should().Contain("# numEntries: 8", "hq was not run");

        var secrets = Directory.GetFiles(Path.Combine(lab, "secrets")).Select(f => File.ReadAllText(f).Trim()).ToList();
        foreach (var output in new[] { started, status, planned, approved, run })
        {
            foreach (var secret in secrets)
            {
                (output.Output + output.Error).Should().NotContain(secret, "secrets are never printed");
            }
        }

        var stopped = await CliAsync(work, "lab", "stop", "--dir", lab);
        stopped.ExitCode.Should().Be(0, stopped.ToString());
        foreach (var server in servers)
        {
            stopped.Output.Should().Contain($"stopped {server.Name} (pid {server.Pid})");
            server.Identity.IsRunning().Should().BeFalse($"{server.Name} (pid {server.Pid}) is stopped");
        }

        RunningProcessesMentioning(lab).Should().BeEmpty("nothing the lab started is left running");
        File.Exists(Path.Combine(lab, "lab.json")).Should().BeFalse();
        Directory.Exists(Path.Combine(lab, "slapd")).Should().BeFalse();
        File.Exists(configPath).Should().BeTrue("the config stays for the rehearsal's record");
        File.Exists(Path.Combine(lab, "authsplit-state.db")).Should().BeTrue("the state store stays");

        var again = await CliAsync(work, "lab", "stop", "--dir", lab);
        again.ExitCode.Should().Be(0, "stopping a stopped lab is fine: " + again);
        var gone = await CliAsync(work, "lab", "status", "--dir", lab);
        gone.ExitCode.Should().Be(4, gone.ToString());
        gone.Output.Should().Contain("no lab running");

        var purged = await CliAsync(work, "lab", "stop", "--dir", lab, "--purge");
        purged.ExitCode.Should().Be(0, purged.ToString());
        Directory.Exists(lab).Should().BeFalse("--purge removes the lab's directory, which held only the lab's files");
    }

    [Fact]
    public async Task An_export_as_ldapsearch_writes_it_with_a_byte_order_mark_seeds_a_lab_that_plans()
    {
        var work = CliRunner.NewWorkDirectory();
        var first = Path.Combine(work, "first");
        var second = Path.Combine(work, "second");
        await using var cleanup = new LabCleanup(work, first, second);
        (await CliAsync(work, "lab", "start", "--legacy-ldif", SampleLdif, "--target", SampleTarget, "--dir", first)).ExitCode.Should().Be(0);

        // ldapsearch's default output (extended LDIF: comments, folded lines, the search/result block and the count trailer).
        var export = await SearchLabAsync(first, "dc=example,dc=jp", "(!(cn=password-policy))");
        export.Should().StartWith("# extended LDIF").And.Contain("# numEntries: 30");
        var ldif = Path.Combine(work, "export.ldif");
        await File.WriteAllBytesAsync(ldif, [0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes(export)]);

        var started = await CliAsync(work, "lab", "start", "--legacy-ldif", ldif, "--target", SampleTarget, "--dir", second, "--waves", "hq,domestic");
        started.ExitCode.Should().Be(0, started.ToString());
        started.Output.Should().Contain("30 entries under dc=example,dc=jp");
        var planned = await CliAsync(work, "plan", "--config", Path.Combine(second, "authsplit.json"), "--out", Path.Combine(work, "plan.json"));
        planned.ExitCode.Should().Be(0, planned.ToString());
        planned.Output.Should().MatchRegex(@"│ hq\s+│\s+1 │").And.MatchRegex(@"│ domestic\s+│\s+2 │").And.NotContain("overseas");
    }

    [Fact]
    public async Task A_second_start_on_a_running_lab_is_refused_and_leaves_it_running()
    {
        var work = CliRunner.NewWorkDirectory();
        var lab = Path.Combine(work, "lab");
        await using var cleanup = new LabCleanup(work, lab);
        (await CliAsync(work, "lab", "start", "--legacy-ldif", SampleLdif, "--target", SampleTarget, "--dir", lab)).ExitCode.Should().Be(0);
        var servers = Servers(lab);

        var second = await CliAsync(work, "lab", "start", "--legacy-ldif", SampleLdif, "--target", SampleTarget, "--dir", lab);

        second.ExitCode.Should().Be(2, second.ToString());
        second.Error.Should().Contain("a lab is already running there").And.Contain($"authsplit lab stop --dir {lab}");
        Servers(lab).Should().BeEquivalentTo(servers, "lab.json is untouched");
        servers.Select(s => s.Identity.IsRunning()).Should().AllBeEquivalentTo(true);
    }

    [Fact]
    public async Task Stop_never_signals_a_process_that_only_has_a_recorded_pid()
    {
        var work = CliRunner.NewWorkDirectory();
        var lab = Path.Combine(work, "lab");
        await using var cleanup = new LabCleanup(work, lab);
        using var stranger = System.Diagnostics.Process.Start("sleep", "300");
        var identity = ProcessIdentity.Of(stranger.Id)!;
        Directory.CreateDirectory(lab);

        // lab.json naming the stranger's PID with another start time: a PID the kernel gave to someone else since.
        await File.WriteAllTextAsync(Path.Combine(lab, "lab.json"), new JsonObject
        {
            ["version"] = 1,
            ["directory"] = lab,
            ["startedAt"] = "2026-01-01T00:00:00Z",
            ["servers"] = new JsonArray(new JsonObject
            {
                ["name"] = "slapd", ["pid"] = stranger.Id, ["startTicks"] = identity.StartTicks - 1, ["bootId"] = identity.BootId,
                ["url"] = "ldaps://127.0.0.1:1", ["port"] = 1, ["log"] = Path.Combine(lab, "logs", "slapd.log"),
            }),
        }.ToJsonString());

        var stopped = await CliAsync(work, "lab", "stop", "--dir", lab);

        stopped.ExitCode.Should().Be(0, stopped.ToString());
        stopped.Output.Should().Contain($"slapd (pid {stranger.Id}) was not running");
        identity.IsRunning().Should().BeTrue("the process now holding the PID is not the lab's");
        File.Exists(Path.Combine(lab, "lab.json")).Should().BeFalse();
        stranger.Kill();
    }

    [Fact]
    public async Task Ctrl_C_during_start_leaves_nothing_running_and_no_lab_json()
    {
        var work = CliRunner.NewWorkDirectory();
        var lab = Path.Combine(work, "lab");
        await using var cleanup = new LabCleanup(work, lab);
        using var cli = CliProcess.Start(work, "077", "lab", "start", "--legacy-ldif", SampleLdif, "--target", SampleTarget, "--dir", lab);

        // slapd listens and the emulator is starting: the moment with the most to undo.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!cli.OutputSoFar.Contains("slapd pid", StringComparison.Ordinal) && !cli.HasExited && clock.Elapsed < Patience)
        {
            await Task.Delay(5);
        }

        cli.HasExited.Should().BeFalse("the start is interrupted before it ends");
        cli.Signal(CliProcess.SigInt);
        var result = await cli.WaitAsync(Patience);

        result.ExitCode.Should().Be(130, result.ToString());
        result.Error.Should().Contain("every server this start had started is stopped again");
        var slapdPid = int.Parse(System.Text.RegularExpressions.Regex.Match(result.Output, @"slapd pid (\d+)").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        ProcessIdentity.Of(slapdPid).Should().BeNull("slapd was stopped");
        RunningProcessesMentioning(lab).Should().BeEmpty("neither slapd nor the emulator is left");
        File.Exists(Path.Combine(lab, "lab.json")).Should().BeFalse();
        Directory.GetFiles(lab, "*.tmp", SearchOption.AllDirectories).Should().BeEmpty();
        Directory.GetFiles(lab, "*.ldif", SearchOption.AllDirectories).Should().BeEmpty();
    }

    [Fact]
    public async Task Bad_input_is_refused_with_exit_2_before_anything_starts()
    {
        var work = CliRunner.NewWorkDirectory();
        var lab = Path.Combine(work, "lab");
        await using var cleanup = new LabCleanup(work, lab);

        var truncated = Path.Combine(work, "truncated.ldif");
        var sample = await File.ReadAllTextAsync(SampleLdif);
        await File.WriteAllTextAsync(truncated, sample[..(sample.Length * 2 / 3)]);
        var aFile = Path.Combine(work, "a-file");
        await File.WriteAllTextAsync(aFile, "not a directory");
        using var holder = new TcpListener(IPAddress.Loopback, 0);
        holder.Start();
        var taken = ((IPEndPoint)holder.LocalEndpoint).Port;
        var brokenTarget = Path.Combine(work, "broken-target");
        Directory.CreateDirectory(brokenTarget);
        await File.WriteAllTextAsync(Path.Combine(brokenTarget, "users-0001.json"), "{\"value\": [ {\"id\": \"cut");

        var cases = new (string[] Args, string Message)[]
        {
            (["--legacy-ldif", Path.Combine(work, "missing.ldif"), "--target", SampleTarget, "--dir", lab], "missing.ldif: does not exist"),
            (["--legacy-ldif", truncated, "--target", SampleTarget, "--dir", lab], "truncated.ldif"),
            (["--legacy-ldif", SampleLdif, "--target", SampleTarget, "--dir", aFile], "a-file: is a file"),
            (["--legacy-ldif", SampleLdif, "--target", Path.Combine(work, "no-target"), "--dir", lab], "is not a directory"),
            (["--legacy-ldif", SampleLdif, "--target", SampleTarget, "--dir", lab, "--ldaps-port", taken.ToString(System.Globalization.CultureInfo.InvariantCulture)], $"127.0.0.1:{taken} is in use"),
            (["--legacy-ldif", SampleLdif, "--target", SampleTarget, "--dir", lab, "--waves", "nowhere"], "\"nowhere\" is not a top-level organisational unit"),
            (["--legacy-ldif", SampleLdif, "--target", brokenTarget, "--dir", lab], "users-0001.json"),
        };
        foreach (var (args, message) in cases)
        {
            var result = await CliAsync(work, ["lab", "start", .. args]);
            result.ExitCode.Should().Be(2, result.ToString());
            result.Error.Should().Contain(message, result.ToString());
            Directory.Exists(lab).Should().BeFalse($"a refused start creates nothing in --dir (not even logs/ or secrets/): {result}");
            RunningProcessesMentioning(lab).Should().BeEmpty();
        }

        File.ReadAllText(aFile).Should().Be("not a directory");
    }

    [Fact]
    public async Task A_rehearsed_wave_gives_rates_that_plans_deadline_forecast_then_uses_and_unusable_rates_are_refused()
    {
        var work = CliRunner.NewWorkDirectory();
        var lab = Path.Combine(work, "lab");
        await using var cleanup = new LabCleanup(work, lab);
        (await CliAsync(work, "lab", "start", "--legacy-ldif", SampleLdif, "--target", SampleTarget, "--dir", lab)).ExitCode.Should().Be(0);
        var configPath = Path.Combine(lab, "authsplit.json");

        // A configured LDAP rate far off what the lab does, so the rehearsal's measurement shows in the forecast.
        var config = JsonNode.Parse(await File.ReadAllTextAsync(configPath))!.AsObject();
        config["Execution"] = new JsonObject { ["ForecastLdapOperationsPerSecond"] = 0.01 };
        await File.WriteAllTextAsync(configPath, config.ToJsonString());

        var plan = Path.Combine(work, "plan.json");
        var planned = await CliAsync(work, "plan", "--config", configPath, "--out", plan);
        planned.ExitCode.Should().Be(0, planned.ToString());
        planned.Output.Should().Contain("domestic: needs ~1 h 6 min of execution", "40 LDAP operations at the configured 0.01/s").And.Contain("Execution:ForecastLdapOperationsPerSecond");

        var early = await CliAsync(work, "lab", "rates", "--dir", lab, "--out", Path.Combine(work, "early.json"));
        early.ExitCode.Should().Be(2, early.ToString());
        early.Error.Should().Contain("no wave of this rehearsal has completed yet");

        (await CliAsync(work, "approve", "--config", configPath, "--plan", plan, "--by", "alice")).ExitCode.Should().Be(0);
        var run = await CliAsync(work, "run", "--config", configPath, "--plan", plan, "--wave", "domestic", "--as", "bob");
        run.ExitCode.Should().Be(0, run.ToString());

        var ratesFile = Path.Combine(work, "rates.json");
        var measured = await CliAsync(work, "lab", "rates", "--dir", lab, "--out", ratesFile);
        measured.ExitCode.Should().Be(0, measured.ToString());
        measured.Output.Should().MatchRegex(@"domestic\s+4 entities in\s+[\d.]+ s: 40 LDAP operations").And.Contain("4 entities in 1 wave");
        var rates = JsonNode.Parse(await File.ReadAllTextAsync(ratesFile))!;
        var seconds = rates["waves"]![0]!["seconds"]!.GetValue<double>();
        seconds.Should().BePositive().And.BeLessThan(120);
        var expected = Math.Max(1, (int)Math.Ceiling(seconds));

        // Production's plan (the export and snapshot the lab was seeded from: the lab's domestic is empty now) at the rehearsal's rates.
        string[] production = ["--source-ldif", SampleLdif, "--target-snapshot", SampleTarget];
        var rehearsed = await CliAsync(work, ["plan", "--config", configPath, .. production, "--rates", ratesFile, "--out", Path.Combine(work, "rehearsed.json")]);
        rehearsed.ExitCode.Should().Be(0, rehearsed.ToString());
        var today = DateTime.UtcNow.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        rehearsed.Output.Should().Contain($"measured in the rehearsal of {today} (4 entities in 1 wave, OpenLdap, lab {lab})").And.Contain(ratesFile);
        rehearsed.Output.Should().MatchRegex($@"domestic: needs ~({expected}|{expected + 1}) s of execution", "the wave forecasts the time the rehearsal took for it");
        rehearsed.Output.Should().NotContain("domestic: needs ~1 h");
        rehearsed.Output.Should().NotContain("hq: needs ~1 h 23 min", "hq was not rehearsed: it uses the rehearsal's overall rates, not the configured 0.01/s");

        // The same through the config, with a path relative to it.
        File.Copy(ratesFile, Path.Combine(lab, "measured.json"));
        config["Forecast"] = new JsonObject { ["MeasuredRatesFile"] = "measured.json" };
        await File.WriteAllTextAsync(configPath, config.ToJsonString());
        var configured = await CliAsync(work, ["plan", "--config", configPath, .. production, "--out", Path.Combine(work, "configured.json")]);
        configured.ExitCode.Should().Be(0, configured.ToString());
        configured.Output.Should().Contain("measured in the rehearsal of").And.Contain(Path.Combine(lab, "measured.json"));

        var text = await File.ReadAllTextAsync(ratesFile);
        var garbage = new (string Name, string Content, string Message)[]
        {
            ("not-json.json", "rates: fast", "is not a rates file"),
            ("cut.json", text[..(text.Length / 2)], "is not a rates file"),
            ("zero.json", text.Replace($"\"completedAt\": \"{rates["waves"]![0]!["completedAt"]!.GetValue<string>()}\"", $"\"completedAt\": \"{rates["waves"]![0]!["startedAt"]!.GetValue<string>()}\"", StringComparison.Ordinal), "completedAt is not after startedAt"),
            ("negative.json", text.Replace("\"entities\": 4,", "\"entities\": -4,", StringComparison.Ordinal), "entities must be positive"),
            ("absurd.json", text.Replace("\"ldapOperations\": 40,", "\"ldapOperations\": 900000000000000,", StringComparison.Ordinal), "not a measurement"),
            ("unknown.json", text.Replace("\"kind\":", "\"evil\": \"$(rm -rf /)\", \"kind\":", StringComparison.Ordinal), "is not a rates file"),
            ("huge.json", new string(' ', 2 << 20) + text, "at most"),
            ("missing.json", "", "does not exist"),
        };
        foreach (var (name, content, message) in garbage)
        {
            var path = Path.Combine(work, name);
            if (name != "missing.json")
            {
                await File.WriteAllTextAsync(path, content);
            }

            var output = Path.Combine(work, "refused.json");
            var refused = await CliAsync(work, ["plan", "--config", configPath, .. production, "--rates", path, "--out", output]);
            refused.ExitCode.Should().Be(2, $"{name}: {refused}");
            refused.Error.Should().Contain(name).And.Contain(message, refused.ToString());
            File.Exists(output).Should().BeFalse("an unusable rates file is refused before any plan is written");
        }
    }

    [Fact]
    public async Task Ad_is_refused_with_exit_2_saying_why_when_samba_cannot_have_its_ports_or_root()
    {
        var work = CliRunner.NewWorkDirectory();
        var lab = Path.Combine(work, "lab");
        await using var cleanup = new LabCleanup(work, lab);
        TcpListener? holder = null;
        if (Environment.UserName == "root" && !ServerProcess.IsListening(636))
        {
            // Another directory on AD's LDAPS port: what a machine with a system slapd looks like to lab start --ad.
            holder = new TcpListener(IPAddress.Loopback, 636);
            holder.Start();
        }

        try
        {
            var result = await CliAsync(work, "lab", "start", "--legacy-ldif", SampleLdif, "--target", SampleTarget, "--dir", lab, "--ad");

            result.ExitCode.Should().Be(2, result.ToString());
            result.Error.Should().Contain("--ad cannot start here").And.Contain("Run lab start --ad as root").And.Contain("leave --ad out");
            result.Error.Should().Contain(Environment.UserName == "root" ? "636" : "needs root", result.ToString());
            Directory.Exists(lab).Should().BeFalse("nothing is created before the refusal");
            RunningProcessesMentioning(lab).Should().BeEmpty();
        }
        finally
        {
            holder?.Stop();
        }
    }

    private static Task<CliResult> CliAsync(string work, params string[] args) => CliProcess.RunAsync(work, "077", args);

    /// <summary>ldapsearch's default output from the lab's slapd, with what the lab's config names (its URL, CA, bind DN and password file).</summary>
    private static async Task<string> SearchLabAsync(string lab, string baseDn, string filter)
    {
        var source = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(lab, "authsplit.json")))!["Source"]!;
        var result = await ProcessRunner.RunAsync(
            "ldapsearch",
            ["-x", "-H", source["Url"]!.GetValue<string>(), "-D", source["BindDn"]!.GetValue<string>(), "-y", source["PasswordFile"]!.GetValue<string>(), "-b", baseDn, filter],
            new Dictionary<string, string> { ["LDAPTLS_CACERT"] = source["CaFile"]!.GetValue<string>(), ["LDAPTLS_REQCERT"] = "demand" },
            TimeSpan.FromMinutes(1),
            CancellationToken.None);
        result.ExitCode.Should().Be(0, result.Error);
        return result.Output;
    }

    private static List<(string Name, int Pid, int Port, ProcessIdentity Identity)> Servers(string lab) =>
        [.. JsonNode.Parse(File.ReadAllText(Path.Combine(lab, "lab.json")))!["servers"]!.AsArray().Select(s => (
            s!["name"]!.GetValue<string>(),
            s["pid"]!.GetValue<int>(),
            s["port"]!.GetValue<int>(),
            new ProcessIdentity(s["pid"]!.GetValue<int>(), s["startTicks"]!.GetValue<long>(), s["bootId"]!.GetValue<string>())))];

    private static bool OwnerOnly(string path) => !OperatingSystem.IsWindows() &&
        (File.GetUnixFileMode(path) & (UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.OtherRead | UnixFileMode.OtherWrite)) == 0;

    /// <summary>Live processes (not zombies) whose command line or environment names <paramref name="text"/>: the lab's servers carry its directory in both.</summary>
    internal static List<int> RunningProcessesMentioning(string text)
    {
        var found = new List<int>();
        foreach (var directory in Directory.GetDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out var pid) || pid == Environment.ProcessId || ProcessIdentity.Of(pid) is null)
            {
                continue;
            }

            foreach (var file in new[] { "cmdline", "environ" })
            {
                try
                {
                    if (Encoding.UTF8.GetString(File.ReadAllBytes(Path.Combine(directory, file))).Contains(text, StringComparison.Ordinal))
                    {
                        found.Add(pid);
                        break;
                    }
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                }
            }
        }

        return found;
    }

    /// <summary>Stops every lab a test started (by its lab.json, as lab stop does), also when the test failed.</summary>
    private sealed class LabCleanup(string work, params string[] labs) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            foreach (var lab in labs.Where(l => File.Exists(Path.Combine(l, "lab.json"))))
            {
                await CliAsync(work, "lab", "stop", "--dir", lab);
            }
        }
    }
}
