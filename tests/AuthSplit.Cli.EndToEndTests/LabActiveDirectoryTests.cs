using System.Text.Json.Nodes;
using AuthSplit.Lab.Servers;

namespace AuthSplit.Cli.EndToEndTests;

[CollectionDefinition(LabActiveDirectoryTests.Collection, DisableParallelization = true)]
public sealed class LabActiveDirectoryCollection;

/// <summary>
/// <c>authsplit lab start --ad</c> as an operator runs it: a Samba AD DC seeded from the samples (OpenLDAP's
/// shape, mapped) is planned and a wave run against it; the DC's own export (AD's shape, with objectGUIDs,
/// objectSids and the DC's own objects) seeds a second lab; each is stopped by PID leaving no process. Needs
/// root and the ports 389/636: run this class alone, never beside the samba-ad collection.
/// </summary>
[Collection(Collection)]
public sealed class LabActiveDirectoryTests
{
    public const string Collection = "samba-ad-lab";

    private static string SampleLdif => Path.Combine(CliRunner.Samples, "legacy.ldif");
    private static string SampleTarget => Path.Combine(CliRunner.Samples, "target");

    [Fact]
    public async Task An_ad_lab_from_the_samples_plans_runs_a_wave_and_its_own_ad_export_seeds_another()
    {
        var work = CliRunner.NewWorkDirectory();
        var lab = Path.Combine(work, "lab");
        var second = Path.Combine(work, "second");
        await using var cleanup = new Cleanup(work, lab, second);

        var started = await SlowCliAsync(work, "lab", "start", "--ad", "--legacy-ldif", SampleLdif, "--target", SampleTarget, "--dir", lab);
        started.ExitCode.Should().Be(0, started.ToString());
        started.Output.Should().Contain("samba AD DC pid").And.Contain("EXAMPLE.JP").And.Contain("waves: hq (8 people), domestic (4 people)");
        var servers = Servers(lab);
        servers.Select(s => s.Name).Should().Equal("samba-ad-dc", "graph-emulator");
        servers.Select(s => s.Identity.IsRunning()).Should().AllBeEquivalentTo(true);

        var configPath = Path.Combine(lab, "authsplit.json");
        var source = JsonNode.Parse(await File.ReadAllTextAsync(configPath))!["Source"]!;
        source["Dialect"]!.GetValue<string>().Should().Be("ActiveDirectory");
        source["Url"]!.GetValue<string>().Should().Be("ldaps://127.0.0.1:636");
        File.Exists(source["CaFile"]!.GetValue<string>()).Should().BeTrue("TLS to the DC is verified with the lab's CA");
        source["BaseDn"]!.GetValue<string>().Should().Be("dc=example,dc=jp");

        (await CliAsync(work, "lab", "status", "--dir", lab)).ExitCode.Should().Be(0);

        // Membership came from the group's member values: AD computes memberOf from them.
        var akira = await SearchAsync(source, "ou=people,ou=hq,dc=example,dc=jp", "(sAMAccountName=akira.sato)", "memberOf", "objectGUID");
        akira.Should().Contain("dn: CN=akira.sato,OU=people,OU=hq,DC=example,DC=jp", "AD names users by CN").And.Contain("memberOf: CN=hq-staff,OU=groups,OU=hq,DC=example,DC=jp").And.Contain("objectGUID::");

        var plan = Path.Combine(work, "plan.json");
        var planned = await CliAsync(work, "plan", "--config", configPath, "--out", plan);
        planned.ExitCode.Should().Be(0, planned.ToString());
        planned.Output.Should().MatchRegex(@"│ domestic\s+│\s+2 │");
        (await CliAsync(work, "approve", "--config", configPath, "--plan", plan, "--by", "alice")).ExitCode.Should().Be(0);
        var run = await CliAsync(work, "run", "--config", configPath, "--plan", plan, "--wave", "domestic", "--as", "bob");
        run.ExitCode.Should().Be(0, run.ToString());
        run.Output.Should().Contain("Wave domestic complete: 4 done");
        (await SearchAsync(source, "ou=domestic,dc=example,dc=jp", "(&(objectCategory=person)(objectClass=user))", "cn"))
            .Should().NotContain("dn: CN=", "the wave removed domestic's people from the DC");

        // The DC's own export: AD's shape, objectGUID/objectSid and the provisioned objects included.
        var export = await SearchAsync(source, "dc=example,dc=jp", "(objectClass=*)", "*");
        export.Should().Contain("objectSid::").And.Contain("isCriticalSystemObject: TRUE");
        var exportFile = Path.Combine(work, "ad-export.ldif");
        await File.WriteAllTextAsync(exportFile, export);

        var stopped = await CliAsync(work, "lab", "stop", "--dir", lab);
        stopped.ExitCode.Should().Be(0, stopped.ToString());
        stopped.Output.Should().Contain($"stopped samba-ad-dc (pid {servers[0].Pid})");
        servers.Select(s => s.Identity.IsRunning()).Should().AllBeEquivalentTo(false);
        LabCommandTests.RunningProcessesMentioning(lab).Should().BeEmpty("samba and its children are gone");
        Directory.Exists(Path.Combine(lab, "samba")).Should().BeFalse();
        ServerProcess.IsListening(636).Should().BeFalse("the DC's ports are free again");

        var again = await SlowCliAsync(work, "lab", "start", "--ad", "--legacy-ldif", exportFile, "--target", SampleTarget, "--dir", second, "--waves", "hq");
        again.ExitCode.Should().Be(0, again.ToString());
        again.Output.Should().Contain("the DC's own objects");
        var secondConfig = Path.Combine(second, "authsplit.json");
        var secondSource = JsonNode.Parse(await File.ReadAllTextAsync(secondConfig))!["Source"]!;
        (await SearchAsync(secondSource, "ou=people,ou=hq,dc=example,dc=jp", "(sAMAccountName=akira.sato)", "memberOf"))
            .Should().Contain("memberOf: CN=hq-staff,OU=groups,OU=hq,DC=example,DC=jp");
        var replanned = await CliAsync(work, "plan", "--config", secondConfig, "--out", Path.Combine(work, "second.json"));
        replanned.ExitCode.Should().Be(0, replanned.ToString());
        replanned.Output.Should().MatchRegex(@"│ hq\s+│\s+1 │");
        (await CliAsync(work, "lab", "stop", "--dir", second)).ExitCode.Should().Be(0);
        LabCommandTests.RunningProcessesMentioning(second).Should().BeEmpty();
    }

    private static Task<CliResult> CliAsync(string work, params string[] args) => CliProcess.RunAsync(work, "077", args);

    // Provisioning a domain takes about a minute on an idle machine, longer on a busy one.
    private static async Task<CliResult> SlowCliAsync(string work, params string[] args)
    {
        using var process = CliProcess.Start(work, "077", args);
        return await process.WaitAsync(TimeSpan.FromMinutes(6));
    }

    private static async Task<string> SearchAsync(JsonNode source, string baseDn, string filter, params string[] attributes)
    {
        var result = await ProcessRunner.RunAsync(
            "ldapsearch",
            ["-x", "-LLL", "-o", "ldif-wrap=no", "-H", source["Url"]!.GetValue<string>(), "-D", source["BindDn"]!.GetValue<string>(), "-y", source["PasswordFile"]!.GetValue<string>(), "-b", baseDn, filter, .. attributes],
            new Dictionary<string, string> { ["LDAPTLS_CACERT"] = source["CaFile"]!.GetValue<string>(), ["LDAPTLS_REQCERT"] = "demand" },
            TimeSpan.FromMinutes(1),
            CancellationToken.None);
        result.ExitCode.Should().BeOneOf([0, 32], result.Error);
        return result.Output;
    }

    private static List<(string Name, int Pid, ProcessIdentity Identity)> Servers(string lab) =>
        [.. JsonNode.Parse(File.ReadAllText(Path.Combine(lab, "lab.json")))!["servers"]!.AsArray().Select(s => (
            s!["name"]!.GetValue<string>(),
            s["pid"]!.GetValue<int>(),
            new ProcessIdentity(s["pid"]!.GetValue<int>(), s["startTicks"]!.GetValue<long>(), s["bootId"]!.GetValue<string>())))];

    private sealed class Cleanup(string work, params string[] labs) : IAsyncDisposable
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
