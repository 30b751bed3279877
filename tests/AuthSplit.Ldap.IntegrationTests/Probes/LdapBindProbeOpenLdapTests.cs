using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using AuthSplit.Core.Configuration;
using AuthSplit.Core.Execution.Systems;
using AuthSplit.Lab.Servers;
using AuthSplit.Ldap.IntegrationTests.Writing;
using AuthSplit.Ldap.Probes;
using AuthSplit.Testing;

namespace AuthSplit.Ldap.IntegrationTests.Probes;

/// <summary>The bind probe against a real slapd with ppolicy loaded (the writer tests' server), and against one that is stopped or silent.</summary>
public sealed class LdapBindProbeOpenLdapTests(WriterSlapdFixture fixture) : IClassFixture<WriterSlapdFixture>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private readonly CollectingLogger<LdapBindProbe> _log = new();

    private static string Unique(string prefix) => prefix + "-" + Guid.NewGuid().ToString("N")[..8];

    private static string Password() => "pw-" + Guid.NewGuid().ToString("N");

    private LdapBindProbe Probe(SourceOptions? legacy = null) => new(legacy ?? WriterSlapdFixture.SourceOptionsFor(fixture.Server), _log, TimeProvider.System);

    private static string FileWith(string password)
    {
        var file = Path.Combine(TestPaths.NewWorkDirectory(), "credential");
        File.WriteAllText(file, password + "\n");
        return file;
    }

    private void ShouldNotLeak(HookOutcome outcome, string password)
    {
        outcome.Detail.Should().NotContain(password);
        outcome.OutputExcerpt.Should().BeEmpty();
        _log.Messages.Should().OnlyContain(m => !m.Contains(password, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_good_password_from_an_environment_variable_binds_over_ldaps_and_over_starttls()
    {
        var password = Password();
        var dn = await fixture.AddPersonAsync(Unique("probe-ok"), password);
        var variable = "AUTHSPLIT_TEST_PROBE_" + Guid.NewGuid().ToString("N")[..8].ToUpperInvariant();
        Environment.SetEnvironmentVariable(variable, password);
        try
        {
            var ldaps = await Probe().BindAsync(fixture.Server.LdapsUrl, dn, "env:" + variable, fixture.Server.CaFile, Timeout, CancellationToken.None);
            var startTls = await Probe().BindAsync(fixture.Server.LdapUrl, dn, "env:" + variable, fixture.Server.CaFile, Timeout, CancellationToken.None);

            ldaps.Status.Should().Be(HookStatus.Succeeded, ldaps.Detail);
            ldaps.Detail.Should().Contain($"bind as {dn} to {fixture.Server.LdapsUrl} succeeded");
            startTls.Status.Should().Be(HookStatus.Succeeded, startTls.Detail);
            ShouldNotLeak(ldaps, password);
            ShouldNotLeak(startTls, password);
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, null);
        }
    }

    [Fact]
    public async Task Without_a_url_the_probe_binds_to_the_configured_legacy_directory_with_a_credential_from_a_file()
    {
        var password = Password();
        var dn = await fixture.AddPersonAsync(Unique("probe-file"), password);

        var outcome = await Probe().BindAsync(null, dn, "file:" + FileWith(password), null, Timeout, CancellationToken.None);

        outcome.Status.Should().Be(HookStatus.Succeeded, outcome.Detail);
        outcome.Detail.Should().Contain(fixture.Server.LdapsUrl, "Source:Url is the server when the probe names none");
        ShouldNotLeak(outcome, password);
    }

    [Fact]
    public async Task A_wrong_password_is_refused_with_result_49()
    {
        var password = Password();
        var dn = await fixture.AddPersonAsync(Unique("probe-wrong"), password);
        var wrong = Password();

        var outcome = await Probe().BindAsync(fixture.Server.LdapsUrl, dn, "file:" + FileWith(wrong), fixture.Server.CaFile, Timeout, CancellationToken.None);

        outcome.Status.Should().Be(HookStatus.Refused);
        outcome.LdapResultCode.Should().Be(49);
        outcome.Detail.Should().Contain($"bind as {dn}").And.Contain("invalidCredentials (49)").And.NotContain("locked");
        ShouldNotLeak(outcome, wrong);
        ShouldNotLeak(outcome, password);
    }

    [Fact]
    public async Task An_account_locked_with_pwdAccountLockedTime_is_refused_and_the_legacy_directory_says_it_is_locked()
    {
        var password = Password();
        var dn = await fixture.AddPersonAsync(Unique("probe-locked"), password);
        var credential = "file:" + FileWith(password);
        (await Probe().BindAsync(null, dn, credential, null, Timeout, CancellationToken.None)).Status.Should().Be(HookStatus.Succeeded, "the account works before the lock");
        await fixture.Server.ModifyAsync($"dn: {dn}\nchangetype: modify\nreplace: pwdAccountLockedTime\npwdAccountLockedTime: 000001010000Z\n", CancellationToken.None);

        var outcome = await Probe().BindAsync(null, dn, credential, null, Timeout, CancellationToken.None);

        outcome.Status.Should().Be(HookStatus.Refused);
        outcome.LdapResultCode.Should().Be(49, "ppolicy answers a locked account with invalidCredentials");
        outcome.Detail.Should().Contain("locked by an administrator (ppolicy pwdAccountLockedTime 000001010000Z)");
        ShouldNotLeak(outcome, password);
    }

    [Fact]
    public async Task A_missing_credential_source_is_unavailable_naming_the_variable_or_the_file()
    {
        var variable = "AUTHSPLIT_TEST_UNSET_" + Guid.NewGuid().ToString("N")[..8].ToUpperInvariant();
        var file = Path.Combine(TestPaths.NewWorkDirectory(), "no-such-credential");

        var fromVariable = await Probe().BindAsync(null, "cn=svc," + WriterSlapdFixture.People, "env:" + variable, null, Timeout, CancellationToken.None);
        var fromFile = await Probe().BindAsync(null, "cn=svc," + WriterSlapdFixture.People, "file:" + file, null, Timeout, CancellationToken.None);

        fromVariable.Status.Should().Be(HookStatus.Unavailable);
        fromVariable.Detail.Should().Contain(variable).And.Contain("not set").And.Contain("not tried");
        fromFile.Status.Should().Be(HookStatus.Unavailable);
        fromFile.Detail.Should().Contain(file);
    }

    [Fact]
    public async Task Plain_ldap_is_not_tried_unless_the_source_allows_it()
    {
        var legacy = WriterSlapdFixture.SourceOptionsFor(fixture.Server, ldaps: false);
        legacy.StartTls = false;

        var outcome = await Probe(legacy).BindAsync(null, "cn=svc," + WriterSlapdFixture.People, "file:" + FileWith("unused"), null, Timeout, CancellationToken.None);

        outcome.Status.Should().Be(HookStatus.Unavailable);
        outcome.Detail.Should().Contain("not tried").And.Contain("Source:AllowPlainLdap");
    }

    // A slapd of the test's own (to stop and start), its admin's credential in a file, and a probe whose legacy directory it is.
    private async Task<(SlapdServer Server, string Credential, LdapBindProbe Probe)> OwnServerAsync(string suffix)
    {
        var server = await SlapdServer.StartAsync(new SlapdServerOptions { Suffix = suffix, NoSync = true, Log = Console.Error }, CancellationToken.None);
        return (server, "file:" + FileWith(server.AdminPassword), Probe(WriterSlapdFixture.SourceOptionsFor(server, baseDn: suffix)));
    }

    [Fact]
    public async Task A_stopped_server_is_unavailable()
    {
        var (server, credential, probe) = await OwnServerAsync("dc=stopped,dc=test");
        await using var _ = server;
        (await probe.BindAsync(null, server.AdminDn, credential, null, Timeout, CancellationToken.None)).Status.Should().Be(HookStatus.Succeeded, "it answers before it is stopped");
        await server.StopAsync();

        var watch = Stopwatch.StartNew();

        var outcome = await probe.BindAsync(null, server.AdminDn, credential, null, TimeSpan.FromSeconds(3), CancellationToken.None);

        watch.Stop();
        outcome.Status.Should().Be(HookStatus.Unavailable);
        outcome.Detail.Should().Contain(server.LdapsUrl).And.Contain("ConnectionRefused").And.NotContain(server.AdminPassword);
        outcome.Detail.Should().MatchRegex(@"after \d+ attempts in [0-9.]+ s; the first \d+ could not reach the server", "a refused connection is asked again until the probe's timeout");
        watch.Elapsed.Should().BeGreaterThanOrEqualTo(TimeSpan.FromSeconds(2.5), "the probe kept asking until its 3 s timeout").And.BeLessThan(TimeSpan.FromSeconds(30));
        _log.Messages.Should().Contain(m => m.Contains("could not reach", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_server_restarting_under_the_probe_is_asked_again_and_the_bind_succeeds()
    {
        var (server, credential, probe) = await OwnServerAsync("dc=restarting,dc=test");
        await using var _ = server;
        await server.StopAsync();

        var bind = probe.BindAsync(null, server.AdminDn, credential, null, TimeSpan.FromSeconds(20), CancellationToken.None);
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        bind.IsCompleted.Should().BeFalse("the probe keeps asking while the server is down");
        await server.StartAgainAsync(CancellationToken.None);
        var outcome = await bind;

        outcome.Status.Should().Be(HookStatus.Succeeded, outcome.Detail);
        outcome.Detail.Should().Contain("succeeded").And.MatchRegex(@"after \d+ attempts").And.NotContain(server.AdminPassword);
        _log.Messages.Should().Contain(m => m.Contains("could not reach", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_server_that_accepts_but_never_answers_is_timed_out_after_the_probe_timeout()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        using var stop = new CancellationTokenSource();
        var accepted = new List<Socket>();
        var acceptLoop = Task.Run(async () =>
        {
            try
            {
                while (true)
                {
                    accepted.Add(await listener.AcceptSocketAsync(stop.Token));
                }
            }
            catch (OperationCanceledException)
            {
            }
        });
        var watch = Stopwatch.StartNew();

        var outcome = await Probe().BindAsync($"ldaps://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}", "cn=svc,dc=writer,dc=test", "file:" + FileWith("unused"), fixture.Server.CaFile, TimeSpan.FromSeconds(2), CancellationToken.None);

        watch.Stop();
        await stop.CancelAsync();
        await acceptLoop;
        accepted.ForEach(s => s.Dispose());
        outcome.Status.Should().Be(HookStatus.TimedOut);
        outcome.Detail.Should().Contain("no answer within 2 s");
        watch.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(10), "one deadline bounds the whole probe (TCP, TLS and bind)");
    }
}
