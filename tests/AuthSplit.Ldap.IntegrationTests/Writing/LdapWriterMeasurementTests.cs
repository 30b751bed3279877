using System.Diagnostics;
using System.Globalization;
using AuthSplit.Core.Configuration;
using AuthSplit.Core.Execution;
using AuthSplit.Lab.Data;
using AuthSplit.Lab.Servers;
using AuthSplit.Ldap.Writing;
using AuthSplit.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit.Abstractions;

namespace AuthSplit.Ldap.IntegrationTests.Writing;

/// <summary>
/// Deletes per second of the writer (one caller, eight callers) against <c>ldapdelete -c</c> of the same
/// 5,000 DNs, each run on a fresh slapd loaded with the same 10,000-person organisation (olcDbNoSync,
/// memberof with memberof-refint, groups of 50), all over LDAPS. Prints the figures; asserts that every
/// run deleted exactly the 5,000 people.
/// </summary>
[Trait("Category", "Measurement")]
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class LdapWriterMeasurementTests(ITestOutputHelper output)
{
    private const int Organisation = 10_000;
    private const int Deletes = 5_000;
    private const int Rounds = 3;

    [LongFact]
    public async Task Writer_deletes_per_second_against_ldapdelete_of_the_same_dns()
    {
        var work = TestPaths.NewWorkDirectory();
        var ldif = Path.Combine(work, "org.ldif");
        await GeneratedOrganization.WriteLdifAsync(ldif, Organisation, groupSize: 50, CancellationToken.None);
        var dns = GeneratedOrganization.People(Organisation).Take(Organisation).Where((_, i) => i % 2 == 0).Select(p => p.Dn).ToList();
        dns.Should().HaveCount(Deletes);

        var list = Path.Combine(work, "dns.txt");
        await File.WriteAllLinesAsync(list, dns);
        var runs = new Dictionary<string, Func<SlapdServer, Task>>
        {
            ["ldapdelete -c"] = server => LdapDeleteAsync(server, list, work),
            ["S.DS.P bare loop, 1 conn."] = server => BareLoopAsync(server, dns),
            ["writer, 1 caller"] = server => DeleteWithWriterAsync(server, dns, callers: 1),
            ["writer, 8 callers"] = server => DeleteWithWriterAsync(server, dns, callers: 8),
        };
        var times = runs.Keys.ToDictionary(k => k, _ => new List<TimeSpan>());

        // Interleaved rounds, medians: the machine is shared, and a figure from one run alone says little.
        for (var round = 0; round < Rounds; round++)
        {
            foreach (var (name, run) in runs)
            {
                times[name].Add(await MeasureAsync(ldif, run));
            }
        }

        var raw = Median(times["ldapdelete -c"]);
        output.WriteLine($"{Deletes:N0} deletes of a {Organisation:N0}-person slapd (olcDbNoSync, memberof-refint, LDAPS), {Environment.ProcessorCount} cores, median of {Rounds} interleaved rounds");
        foreach (var (name, list2) in times)
        {
            var median = Median(list2);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name,-28} {median.TotalSeconds,6:0.00} s {Deletes / median.TotalSeconds,7:0} deletes/s  {raw / median * 100,4:0} % of ldapdelete's rate   (runs: {string.Join(", ", list2.Select(t => t.TotalSeconds.ToString("0.00", CultureInfo.InvariantCulture)))} s)"));
        }
    }

    private static TimeSpan Median(List<TimeSpan> times) => times.Order().ElementAt(times.Count / 2);

    private static async Task LdapDeleteAsync(SlapdServer server, string list, string work)
    {
        var password = Path.Combine(work, "pw");
        await File.WriteAllTextAsync(password, server.AdminPassword);
        var result = await ProcessRunner.RunAsync(
            "ldapdelete",
            ["-x", "-c", "-H", server.LdapsUrl, "-D", server.AdminDn, "-y", password, "-f", list],
            new Dictionary<string, string> { ["LDAPTLS_CACERT"] = server.CaFile, ["LDAPTLS_REQCERT"] = "demand" },
            TimeSpan.FromMinutes(10),
            CancellationToken.None);
        result.ExitCode.Should().Be(0, result.Error);
    }

    // What S.DS.P itself costs: one LDAPS connection, SendRequest in a loop, no pipeline, no pool, no offload.
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    private static Task BareLoopAsync(SlapdServer server, List<string> dns) => Task.Run(() =>
    {
        var trust = Directory.CreateTempSubdirectory("authsplit-bare-").FullName;
        File.Copy(server.CaFile, Path.Combine(trust, "ca.pem"));
        using var connection = new System.DirectoryServices.Protocols.LdapConnection(new System.DirectoryServices.Protocols.LdapDirectoryIdentifier("127.0.0.1", server.LdapsPort))
        {
            AuthType = System.DirectoryServices.Protocols.AuthType.Basic,
            AutoBind = false,
        };
        connection.SessionOptions.ProtocolVersion = 3;
        connection.SessionOptions.TrustedCertificatesDirectory = trust;
        connection.SessionOptions.SecureSocketLayer = true;
        connection.SessionOptions.StartNewTlsSessionContext();
        connection.Bind(new System.Net.NetworkCredential(server.AdminDn, server.AdminPassword));
        foreach (var dn in dns)
        {
            connection.SendRequest(new System.DirectoryServices.Protocols.DeleteRequest(dn));
        }
    });

    private static async Task DeleteWithWriterAsync(SlapdServer server, List<string> dns, int callers)
    {
        using var writer = new LdapLegacyDirectoryWriter(
            WriterSlapdFixture.SourceOptionsFor(server, baseDn: GeneratedOrganization.Suffix),
            new ExecutionOptions(),
            NullLogger<LdapLegacyDirectoryWriter>.Instance);
        var next = -1;
        var failures = 0;
        await Task.WhenAll(Enumerable.Range(0, callers).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < dns.Count)
            {
                if ((await writer.DeleteAsync(dns[i], CancellationToken.None)).Status != LegacyWriteStatus.Done)
                {
                    Interlocked.Increment(ref failures);
                }
            }
        })));
        failures.Should().Be(0);
    }

    private static async Task<TimeSpan> MeasureAsync(string ldif, Func<SlapdServer, Task> deletes)
    {
        await using var server = await SlapdServer.StartAsync(new SlapdServerOptions { Suffix = GeneratedOrganization.Suffix, CreateSuffixEntry = false, NoSync = true }, CancellationToken.None);
        await server.LoadLdifAsync(ldif, CancellationToken.None);
        var watch = Stopwatch.StartNew();
        await deletes(server);
        var elapsed = watch.Elapsed;
        var left = await server.SearchAsync(["-LLL", "-b", GeneratedOrganization.Suffix, "(objectClass=inetOrgPerson)", "1.1"], CancellationToken.None);
        left.Output.Split('\n').Count(l => l.StartsWith("dn:", StringComparison.Ordinal)).Should().Be(Organisation - Deletes + GeneratedOrganization.HostileNames.Length);
        return elapsed;
    }
}
