using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using AuthSplit.Cli.Output;
using AuthSplit.Core.Errors;
using AuthSplit.Lab.Servers;
using Serilog;

namespace AuthSplit.Cli.Rehearsal;

public sealed record LabStartRequest(string LegacyLdif, string Target, string Directory, bool ActiveDirectory, IReadOnlyList<string> Waves, int? LdapsPort, int? GraphPort);

/// <summary>
/// <c>authsplit lab start</c>: a private slapd seeded from the LDIF export and the Graph emulator seeded
/// from the Graph JSON snapshot, both on 127.0.0.1, left running (each in a session of its own, logging
/// under D) with <c>D/lab.json</c> saying who they are, and <c>D/authsplit.json</c> pointing at them. Until
/// lab.json is committed every server started is stopped again on any failure or Ctrl+C, so a failed start
/// leaves nothing running and no runtime file.
/// </summary>
public sealed partial class LabStart(CliConsole console, ILogger log)
{
    public async Task<int> RunAsync(LabStartRequest request, CancellationToken cancellationToken)
    {
        var layout = new LabLayout(Path.GetFullPath(request.Directory));
        CheckInputs(request, layout);
        await RefuseIfStartedAsync(layout);

        // Everything that can be refused is refused before the first folder is made: a cut-off export or a
        // broken snapshot leaves --dir as it was.
        var export = await LabSeedWriter.ReadAsync(request.LegacyLdif, cancellationToken);
        var waves = ChooseWaves(export.Seed, request.Waves, request.LegacyLdif);
        var targetUsers = await CheckTargetSnapshotAsync(request.Target, cancellationToken);
        LabAdSeed? adSeed = null;
        if (request.ActiveDirectory)
        {
            if (SambaAdDc.WhyCannotStart() is { } why)
            {
                throw new InputException("lab-ad", $"--ad cannot start here: {why}. Run lab start --ad as root on a Linux machine whose ports 389 and 636 are free, or leave --ad out for a slapd lab (any user, any port)");
            }

            if (request.LdapsPort is not null)
            {
                throw new InputException("lab-port", "--ldaps-port does not apply to --ad: a Samba AD DC listens on the fixed port 636");
            }

            adSeed = LabAdSeedBuilder.Build(export);
        }

        AtomicFile.CreateDirectory(layout.Directory);
        AtomicFile.CreateDirectory(layout.Logs);
        AtomicFile.CreateDirectory(layout.Secrets);
        RemoveRuntimeLeftovers(layout);

        SlapdServer? slapd = null;
        SambaAdDc? samba = null;
        ServerProcess? emulator = null;
        var committed = false;
        var seedFile = Path.Combine(layout.Directory, $".lab-seed.{Guid.NewGuid():N}.ldif");
        Interruption.Track(seedFile);
        try
        {
            var seed = await LabSeedWriter.WriteAsync(export, seedFile, cancellationToken);
            await console.Output.WriteLineAsync($"LDIF export: {seed.Entries} entries under {seed.Suffix}; waves: {string.Join(", ", waves.Select(w => $"{w.Name} ({w.People} people)"))}; Graph snapshot: {targetUsers} users");

            LabConfig.LabSource source;
            string adminPassword;
            LabServerRecord DirectoryRecord() => samba is not null
                ? Record("samba-ad-dc", samba.Pid, SambaAdDc.LdapsUrl, 636, layout.SambaLog)
                : Record("slapd", slapd!.Pid, slapd.LdapsUrl, slapd.LdapsPort, layout.SlapdLog);
            if (adSeed is not null)
            {
                File.Delete(seedFile);
                await console.Output.WriteLineAsync($"provisioning a Samba AD DC for {adSeed.Realm} (NetBIOS {adSeed.NetbiosDomain}) in {layout.Samba}: this takes a minute");
                samba = await StartSambaAsync(layout, adSeed, cancellationToken);
                var skipped = adSeed.Skipped.Count == 0 ? "none" : string.Join("; ", adSeed.Skipped.Select(s => $"{s.Value} {s.Key}"));
                await console.Output.WriteLineAsync($"samba AD DC pid {samba.Pid} listening on {SambaAdDc.LdapsUrl} (TLS with the lab's CA {samba.CaFile}), log {layout.SambaLog}; loaded {adSeed.Loaded} entries ({adSeed.Mapped} mapped from OpenLDAP's shape, new objectGUIDs and objectSids from the DC); skipped: {skipped}");
                source = new LabConfig.LabSource(SambaAdDc.LdapsUrl, samba.CaFile, samba.AdministratorDn, adSeed.BaseDn, "ActiveDirectory", adSeed.HasEmployeeId ? "employeeID" : "employeeNumber");
                adminPassword = samba.AdministratorPassword;
            }
            else
            {
                slapd = await StartSlapdAsync(layout, seedFile, request.LdapsPort, cancellationToken);
                File.Delete(seedFile);
                await console.Output.WriteLineAsync($"slapd pid {slapd.Pid} listening on {slapd.LdapsUrl} (TLS with the lab's CA {slapd.CaFile}), log {layout.SlapdLog}");
                source = new LabConfig.LabSource(slapd.LdapsUrl, slapd.CaFile, slapd.AdminDn, seed.Suffix, "OpenLdap", "employeeNumber");
                adminPassword = slapd.AdminPassword;
            }

            var token = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
            var adminToken = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
            var (process, graphUrl) = await StartEmulatorAsync(layout, request.Target, request.GraphPort, token, adminToken, cancellationToken);
            emulator = process;
            await console.Output.WriteLineAsync($"Graph emulator (a stand-in for Microsoft Graph) pid {emulator.Pid} listening on {graphUrl}, log {layout.EmulatorLog}");

            await WriteSecretAsync(layout.LdapPasswordFile, adminPassword, cancellationToken);
            await WriteSecretAsync(layout.GraphTokenFile, token, cancellationToken);
            await WriteSecretAsync(layout.GraphAdminTokenFile, adminToken, cancellationToken);
            if (!File.Exists(layout.BackupKeyFile))
            {
                await WriteSecretAsync(layout.BackupKeyFile, Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)), cancellationToken);
            }

            var existing = File.Exists(layout.Config);
            var config = existing
                ? LabConfig.Update(JsonNode.Parse(await File.ReadAllTextAsync(layout.Config, cancellationToken)) as JsonObject ?? throw new InputException("lab-config", "is not a JSON object", layout.Config), layout, source, graphUrl)
                : LabConfig.Create(layout, seed.Entries, waves, source, graphUrl, DateTimeOffset.UtcNow);
            var runtime = new LabRuntime(1, layout.Directory, DateTimeOffset.UtcNow, [
                DirectoryRecord(),
                Record("graph-emulator", emulator.Pid, graphUrl.ToString(), graphUrl.Port, layout.EmulatorLog),
            ]);

            CommitTogether(
                (layout.Config, Encoding.UTF8.GetBytes(config.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }) + "\n")),
                (layout.Runtime, runtime.ToBytes()),
                cancellationToken);
            committed = true;
            slapd?.Detach();
            samba?.Detach();
            emulator.Detach();
            log.Information("Lab started in {Directory}: {Server} pid {ServerPid}, Graph emulator pid {EmulatorPid}", layout.Directory, runtime.Servers[0].Name, runtime.Servers[0].Pid, runtime.Servers[1].Pid);

            await console.Output.WriteLineAsync(existing
                ? $"updated {layout.Config}: the servers' addresses are new, its waves and settings are kept"
                : $"wrote {layout.Config} (waves: {string.Join(", ", waves.Select(w => w.Name))}; state store {layout.StateStore}; secrets in {layout.Secrets}, owner-only)");
            await console.Output.WriteLineAsync($"lab running; next: authsplit plan --config {layout.Config} --out plan.json; stop it with: authsplit lab stop --dir {layout.Directory}");
            return ExitCodes.Success;
        }
        catch (LabServerException ex)
        {
            throw new ExternalSystemException("lab", ex.Message, ex);
        }
        finally
        {
            if (!committed)
            {
                if (emulator is not null)
                {
                    await emulator.DisposeAsync();
                }

                if (slapd is not null)
                {
                    await slapd.DisposeAsync();
                }

                if (samba is not null)
                {
                    await samba.DisposeAsync();
                }

                AtomicFile.Discard(seedFile);
                foreach (var file in new[] { layout.LdapPasswordFile, layout.GraphTokenFile, layout.GraphAdminTokenFile }.Where(File.Exists))
                {
                    File.Delete(file);
                }
            }
        }
    }

    private static void CheckInputs(LabStartRequest request, LabLayout layout)
    {
        if (File.Exists(layout.Directory))
        {
            throw new InputException("lab-dir", "is a file; --dir names the lab's directory (created if missing)", layout.Directory);
        }

        if (!File.Exists(request.LegacyLdif))
        {
            throw new InputException("lab-ldif", Directory.Exists(request.LegacyLdif) ? "is a directory; --legacy-ldif names the LDIF export file" : "does not exist", request.LegacyLdif);
        }

        if (!Directory.Exists(request.Target))
        {
            throw new InputException("lab-target", "is not a directory; --target names a Graph JSON snapshot directory (users-*.json, and inventory/ as plan --save-snapshot writes it)", request.Target);
        }

        foreach (var (port, option) in new[] { (request.LdapsPort, "--ldaps-port"), (request.GraphPort, "--graph-port") })
        {
            if (port is { } fixedPort && (fixedPort is < 1 or > 65535 || ServerProcess.IsListening(fixedPort) || !CanBind(fixedPort)))
            {
                throw new InputException("lab-port", $"{option} {fixedPort}: 127.0.0.1:{fixedPort} is {(fixedPort is < 1 or > 65535 ? "not a port" : "in use by another program")}; pick another port or leave {option} out for a free one");
            }
        }
    }

    /// <summary>Reads the snapshot's users as the planner does (a bad page is refused with its file and why); the count.</summary>
    private static async Task<int> CheckTargetSnapshotAsync(string target, CancellationToken cancellationToken)
    {
        var count = 0;
        await foreach (var _ in new AuthSplit.Graph.Snapshots.GraphUserSnapshot(target).ReadUsersAsync(cancellationToken))
        {
            count++;
        }

        return count;
    }

    private static bool CanBind(int port)
    {
        try
        {
            using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, port);
            listener.Start();
            listener.Stop();
            return true;
        }
        catch (System.Net.Sockets.SocketException)
        {
            return false;
        }
    }

    private static Task RefuseIfStartedAsync(LabLayout layout)
    {
        var runtime = LabRuntime.Read(layout.Directory);
        if (runtime is null)
        {
            return Task.CompletedTask;
        }

        var running = runtime.Servers.Where(s => s.Identity.IsRunning()).ToList();
        throw running.Count > 0
            ? new InputException("lab-running", $"a lab is already running there ({string.Join(", ", running.Select(s => $"{s.Name} pid {s.Pid}"))}); use it as it is (authsplit lab status --dir {layout.Directory}), or stop it first: authsplit lab stop --dir {layout.Directory}", layout.Directory)
            : new InputException("lab-stale", $"holds {LabRuntime.FileName} of a lab that no longer runs (its servers are gone, e.g. after a reboot); clear it with: authsplit lab stop --dir {layout.Directory}", layout.Directory);
    }

    // A start that died without cleaning up (SIGKILL, power loss) may have left server folders, never a lab.json.
    private static void RemoveRuntimeLeftovers(LabLayout layout)
    {
        foreach (var directory in layout.RuntimeDirectories.Where(Directory.Exists))
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static List<LabUnit> ChooseWaves(LabSeed seed, IReadOnlyList<string> names, string ldifPath)
    {
        if (names.Count == 0)
        {
            var withPeople = seed.Units.Where(u => u.People > 0).ToList();
            return withPeople.Count > 0
                ? withPeople
                : throw new InputException("lab-waves", $"no top-level organisational unit under {seed.Suffix} holds people (inetOrgPerson entries), so there is no wave to derive; name the units with --waves", ldifPath);
        }

        return [.. names.Select(name => seed.Units.FirstOrDefault(u => string.Equals(u.Name, name, StringComparison.OrdinalIgnoreCase))
            ?? throw new InputException("lab-waves", $"--waves: \"{name}\" is not a top-level organisational unit of the export (those are: {string.Join(", ", seed.Units.Select(u => u.Name))})", ldifPath))];
    }

    private static async Task<SlapdServer> StartSlapdAsync(LabLayout layout, string seedFile, int? ldapsPort, CancellationToken cancellationToken)
    {
        var probe = await ReadSuffixAsync(seedFile, cancellationToken);
        var slapd = await SlapdServer.StartAsync(new SlapdServerOptions
        {
            Suffix = probe,
            CreateSuffixEntry = false,
            PasswordPolicy = true,
            Directory = layout.Slapd,
            LogFile = layout.SlapdLog,
            LdapsPort = ldapsPort,
        }, cancellationToken);
        try
        {
            await slapd.LoadLdifAsync(seedFile, cancellationToken);
            try
            {
                await slapd.AddPasswordPolicyAsync(cancellationToken);
            }
            catch (LabServerException ex) when (ex.Message.Contains("Already exists", StringComparison.OrdinalIgnoreCase))
            {
                // The export holds the policy entry already (an export of a lab, say).
            }

            return slapd;
        }
        catch
        {
            await slapd.DisposeAsync();
            throw;
        }
    }

    private static async Task<SambaAdDc> StartSambaAsync(LabLayout layout, LabAdSeed seed, CancellationToken cancellationToken)
    {
        var samba = await SambaAdDc.StartAsync(new SambaAdDcOptions
        {
            Realm = seed.Realm,
            Domain = seed.NetbiosDomain,
            Directory = layout.Samba,
            LogFile = layout.SambaLog,
        }, cancellationToken);
        try
        {
            if (seed.Entries.Length > 0)
            {
                await samba.AddLdifTextSkippingExistingAsync(seed.Entries, cancellationToken);
            }

            if (seed.Memberships.Length > 0)
            {
                await samba.ModifyAsync(seed.Memberships, cancellationToken);
            }

            return samba;
        }
        catch
        {
            await samba.DisposeAsync();
            throw;
        }
    }

    // The seed's first entry is the suffix: LabSeedWriter writes parents first.
    private static async Task<string> ReadSuffixAsync(string seedFile, CancellationToken cancellationToken)
    {
        await foreach (var line in File.ReadLinesAsync(seedFile, cancellationToken))
        {
            if (line.StartsWith("dn:", StringComparison.Ordinal))
            {
                return line.StartsWith("dn::", StringComparison.Ordinal)
                    ? Encoding.UTF8.GetString(Convert.FromBase64String(line[4..].Trim()))
                    : line[3..].Trim();
            }
        }

        throw new InvalidOperationException("the seed holds no entry");
    }

    private static async Task<(ServerProcess Process, Uri Url)> StartEmulatorAsync(LabLayout layout, string target, int? port, string token, string adminToken, CancellationToken cancellationToken)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "graph-emulator", "authsplit-graph-emulator.dll");
        if (!File.Exists(dll))
        {
            throw new LabServerException($"the Graph emulator is not installed beside the CLI ({dll} is missing); rebuild or reinstall AuthSplit");
        }

        // The lab's tenant has a delegated Global Administrator (its token in secrets/graph-admin.token), so the
        // password-sync gate's switch-off can be rehearsed as the administrator would do it.
        string[] arguments = [dll, "--users", Path.GetFullPath(target), "--port", (port ?? 0).ToString(System.Globalization.CultureInfo.InvariantCulture), "--admin-token-env", "AUTHSPLIT_EMULATOR_ADMIN_TOKEN"];
        var inventory = Path.Combine(target, "inventory");
        foreach (var (flag, file) in new[] { ("--groups", "groups.json"), ("--applications", "applications.json"), ("--service-principals", "servicePrincipals.json") })
        {
            if (File.Exists(Path.Combine(inventory, file)))
            {
                arguments = [.. arguments, flag, Path.GetFullPath(Path.Combine(inventory, file))];
            }
        }

        // The log is appended to across starts: only what this process writes after this offset says where it listens
        // (a second start would otherwise read the previous run's line, and record a port nothing listens on).
        var logOffset = File.Exists(layout.EmulatorLog) ? new FileInfo(layout.EmulatorLog).Length : 0;

        // The token travels in the environment, never on the command line (a process list shows that).
        var process = ServerProcess.StartDetached(DotnetHost(), arguments, layout.EmulatorLog, new Dictionary<string, string> { ["AUTHSPLIT_EMULATOR_TOKEN"] = token, ["AUTHSPLIT_EMULATOR_ADMIN_TOKEN"] = adminToken });
        try
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            while (DateTime.UtcNow < deadline)
            {
                if (process.HasExited)
                {
                    throw new LabServerException($"the Graph emulator exited during start-up: {process.RecentOutput.Trim()}");
                }

                if (ListeningLine().Match(LogSince(layout.EmulatorLog, logOffset)) is { Success: true } match)
                {
                    return (process, new Uri(match.Groups["url"].Value));
                }

                await Task.Delay(50, cancellationToken);
            }

            throw new LabServerException($"the Graph emulator did not say it was listening within 60 s: {process.RecentOutput.Trim()}");
        }
        catch
        {
            await process.DisposeAsync();
            throw;
        }
    }

    private static string LogSince(string logFile, long offset)
    {
        if (!File.Exists(logFile))
        {
            return string.Empty;
        }

        using var stream = new FileStream(logFile, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        stream.Seek(Math.Min(offset, stream.Length), SeekOrigin.Begin);
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    // The dotnet host that runs this CLI (an apphost's runtime, or `dotnet authsplit.dll`'s own host).
    private static string DotnetHost()
    {
        if (Environment.ProcessPath is { } self && Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            return self;
        }

        foreach (var root in new[] { Environment.GetEnvironmentVariable("DOTNET_HOST_PATH"), Environment.GetEnvironmentVariable("DOTNET_ROOT") is { } r ? Path.Combine(r, "dotnet") : null })
        {
            if (root is not null && File.Exists(root))
            {
                return root;
            }
        }

        var runtimeRoot = Path.GetFullPath(Path.Combine(System.Runtime.InteropServices.RuntimeEnvironment.GetRuntimeDirectory(), "..", "..", ".."));
        var beside = Path.Combine(runtimeRoot, "dotnet");
        return File.Exists(beside) ? beside : "dotnet";
    }

    private static LabServerRecord Record(string name, int pid, string url, int port, string logFile)
    {
        var identity = ProcessIdentity.Of(pid) ?? throw new LabServerException($"{name} (pid {pid}) stopped right after it started; see {logFile}");
        return new LabServerRecord(name, pid, identity.StartTicks, identity.BootId, url, port, logFile);
    }

    private static async Task WriteSecretAsync(string path, string value, CancellationToken cancellationToken)
    {
        var temporary = AtomicFile.TemporaryFor(path);
        try
        {
            await using (var stream = AtomicFile.CreateTemporary(temporary))
            {
                // No line end: the CLI reads the first line, and `ldapsearch -y FILE` takes the whole file as the password.
                await stream.WriteAsync(Encoding.UTF8.GetBytes(value), cancellationToken);
            }

            AtomicFile.Commit(temporary, path, cancellationToken);
        }
        finally
        {
            AtomicFile.Discard(temporary);
        }
    }

    /// <summary>Both files in place, or neither: one check of the cancellation under the gate the signal handler takes.</summary>
    private static void CommitTogether((string Path, byte[] Bytes) config, (string Path, byte[] Bytes) runtime, CancellationToken cancellationToken)
    {
        var temporaries = new[] { config, runtime }.Select(f => (f.Path, Temporary: AtomicFile.TemporaryFor(f.Path), f.Bytes)).ToList();
        try
        {
            foreach (var (_, temporary, bytes) in temporaries)
            {
                using var stream = AtomicFile.CreateTemporary(temporary);
                stream.Write(bytes);
                stream.Flush(flushToDisk: true);
            }

            lock (Interruption.CommitGate)
            {
                cancellationToken.ThrowIfCancellationRequested();
                foreach (var (path, temporary, _) in temporaries)
                {
                    File.Move(temporary, path, overwrite: true);
                }
            }
        }
        finally
        {
            foreach (var (_, temporary, _) in temporaries)
            {
                AtomicFile.Discard(temporary);
            }
        }
    }

    [GeneratedRegex(@"listening on (?<url>http://127\.0\.0\.1:\d+/)")]
    private static partial Regex ListeningLine();
}
