using System.Diagnostics;
using System.Text;
using AuthSplit.Core.Configuration;
using AuthSplit.Core.Errors;
using AuthSplit.Core.Execution;
using AuthSplit.Lab.Servers;
using AuthSplit.Ldap.Writing;

namespace AuthSplit.Ldap.IntegrationTests.Writing;

/// <summary>The writer against a slapd that goes away: killed by PID and started again on the same port and data, down for good, or hung.</summary>
public sealed class LdapWriterResilienceTests
{
    private const string Suffix = "dc=resilience,dc=test";

    private static async Task<(SlapdServer Server, List<string> People)> StartWithPeopleAsync(int count)
    {
        var server = await SlapdServer.StartAsync(new SlapdServerOptions { Suffix = Suffix, NoSync = true }, CancellationToken.None);
        var ldif = new StringBuilder($"dn: ou=people,{Suffix}\nobjectClass: organizationalUnit\nou: people\n\n");
        var people = new List<string>();
        for (var i = 0; i < count; i++)
        {
            var dn = $"uid=p{i:D4},ou=people,{Suffix}";
            people.Add(dn);
            ldif.Append($"dn: {dn}\nobjectClass: inetOrgPerson\nuid: p{i:D4}\ncn: Person {i}\nsn: {i}\n\n");
        }

        await server.AddLdifTextAsync(ldif.ToString(), CancellationToken.None);
        return (server, people);
    }

    private static LdapLegacyDirectoryWriter Writer(SlapdServer server, CollectingLogger<LdapLegacyDirectoryWriter> log, int attempts, int timeoutSeconds, bool ldaps = true) =>
        new(WriterSlapdFixture.SourceOptionsFor(server, ldaps, baseDn: Suffix), new ExecutionOptions { LdapMaxRetries = attempts, LdapOperationTimeoutSeconds = timeoutSeconds }, log);

    private static void Kill(int pid)
    {
        using var process = Process.GetProcessById(pid);
        process.Kill();
        process.WaitForExit();
    }

    // A signal is delivered asynchronously: on a loaded machine slapd answered one more request after
    // `kill -STOP` had returned. Wait until every thread of it is stopped.
    private static async Task WaitUntilStoppedAsync(int pid)
    {
        var waited = Stopwatch.StartNew();
        while (true)
        {
            var states = Directory.GetDirectories($"/proc/{pid}/task")
                .Select(task => File.ReadAllText(Path.Combine(task, "stat")))
                .Select(stat => stat[(stat.LastIndexOf(')') + 2)..][0]);
            if (states.All(state => state is 'T' or 't'))
            {
                return;
            }

            waited.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(10), $"slapd (pid {pid}) should stop after SIGSTOP");
            await Task.Delay(10);
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_series_of_deletes_completes_across_a_slapd_killed_and_started_again(bool ldaps)
    {
        var (server, people) = await StartWithPeopleAsync(300);
        await using var _ = server;
        var log = new CollectingLogger<LdapLegacyDirectoryWriter>();
        using var writer = Writer(server, log, attempts: 6, timeoutSeconds: 5, ldaps);
        var halfway = new TaskCompletionSource();
        var restart = Task.Run(async () =>
        {
            await halfway.Task;
            Kill(server.Pid);
            await server.StopAsync();
            await Task.Delay(TimeSpan.FromSeconds(1));
            await server.StartAgainAsync(CancellationToken.None);
        });

        var results = new List<LegacyWriteResult>();
        for (var i = 0; i < people.Count; i++)
        {
            if (i == 100)
            {
                halfway.SetResult();
                await Task.Delay(50);
            }

            results.Add(await writer.DeleteAsync(people[i], CancellationToken.None));
        }

        await restart;
        results.Should().OnlyContain(r => r.Status == LegacyWriteStatus.Done || r.Status == LegacyWriteStatus.NoSuchObject);
        results.Count(r => r.Status == LegacyWriteStatus.NoSuchObject).Should().BeLessThanOrEqualTo(1, "only a delete whose answer was lost in the kill can find its entry gone");
        log.Messages.Should().Contain(m => m.Contains("reconnecting", StringComparison.Ordinal), "the kill hit the series");
        foreach (var dn in people)
        {
            (await writer.ReadEntryAsync(dn, CancellationToken.None)).Should().BeNull();
        }
    }

    [Fact]
    public async Task A_slapd_down_for_longer_than_the_retry_budget_is_an_external_failure_naming_the_server_and_no_credential()
    {
        var (server, people) = await StartWithPeopleAsync(3);
        await using var _ = server;
        var log = new CollectingLogger<LdapLegacyDirectoryWriter>();
        using var writer = Writer(server, log, attempts: 3, timeoutSeconds: 5);
        (await writer.DeleteAsync(people[0], CancellationToken.None)).Status.Should().Be(LegacyWriteStatus.Done);
        Kill(server.Pid);
        await server.StopAsync();

        var watch = Stopwatch.StartNew();
        var act = async () => await writer.DeleteAsync(people[1], CancellationToken.None);

        var error = (await act.Should().ThrowAsync<ExternalSystemException>()).Which;
        watch.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(15));
        error.System.Should().Be(server.LdapsUrl);
        error.Message.Should().StartWith(server.LdapsUrl).And.Contain($"delete of {people[1]} failed 3 times").And.Contain("unreachable").And.NotContain(server.AdminPassword);
        log.Messages.Should().HaveCountGreaterThanOrEqualTo(3).And.OnlyContain(m => !m.Contains(server.AdminPassword, StringComparison.Ordinal));

        await server.StartAgainAsync(CancellationToken.None);
        (await writer.DeleteAsync(people[1], CancellationToken.None)).Status.Should().Be(LegacyWriteStatus.Done, "the same writer works again once the server is back");
    }

    [Fact]
    public async Task A_hung_slapd_is_given_up_on_after_the_operation_timeout_of_each_attempt()
    {
        var (server, people) = await StartWithPeopleAsync(2);
        await using var _ = server;
        var log = new CollectingLogger<LdapLegacyDirectoryWriter>();
        using var writer = Writer(server, log, attempts: 2, timeoutSeconds: 1);
        (await writer.ReadEntryAsync(people[0], CancellationToken.None)).Should().NotBeNull();
        await ProcessRunner.RunCheckedAsync("kill", ["-STOP", server.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture)], null, TimeSpan.FromSeconds(10), CancellationToken.None);
        try
        {
            await WaitUntilStoppedAsync(server.Pid);
            var watch = Stopwatch.StartNew();
            var act = async () => await writer.DeleteAsync(people[0], CancellationToken.None);

            var error = (await act.Should().ThrowAsync<ExternalSystemException>()).Which;
            error.Message.Should().Contain("failed 2 times").And.Contain("Execution:LdapOperationTimeoutSeconds");
            watch.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(8), "two attempts of 1 s and one backoff, not libldap's own timeouts");
        }
        finally
        {
            await ProcessRunner.RunCheckedAsync("kill", ["-CONT", server.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture)], null, TimeSpan.FromSeconds(10), CancellationToken.None);
        }

        (await writer.DeleteAsync(people[0], CancellationToken.None)).Status.Should().BeOneOf(LegacyWriteStatus.Done, LegacyWriteStatus.NoSuchObject);
        (await writer.ReadEntryAsync(people[0], CancellationToken.None)).Should().BeNull();
    }
}
