using System.Text;
using AuthSplit.Core.Configuration;
using AuthSplit.Core.Evidence.Packs;
using AuthSplit.Core.Execution.Systems;
using AuthSplit.Core.Model;
using AuthSplit.Core.Planning.Format;

namespace AuthSplit.Core.Tests.Evidence.Packs;

/// <summary>
/// <c>evidence verify --live</c>'s systems: each cut-over system's probes asked again and judged as the executor
/// judges them; a legacy account with a credential is bound as, one without has its disabled state read back.
/// </summary>
public sealed class LiveSystemProbesTests
{
    private const string Wave = "hq";
    private const string BoundAccount = "uid=crm-bind,ou=services,dc=example,dc=jp";
    private const string UnboundAccount = "uid=wiki-bind,ou=services,dc=example,dc=jp";

    private static PlannedSystem System(string id, Disposition disposition, IReadOnlyList<SystemLegacyAccount> accounts, IReadOnlyList<ProbeSpec>? probes = null) => new()
    {
        Id = id,
        Name = id.ToUpperInvariant(),
        Wave = Wave,
        Disposition = disposition,
        Target = new SystemTargetPlan { Found = true },
        LegacyAccounts = accounts,
        Probes = probes ?? [],
        Blockers = [],
        Steps = [],
    };

    private static DirectoryEntry Account(string dn, bool locked) => new(dn, locked
        ? new Dictionary<string, IReadOnlyList<byte[]>> { ["pwdAccountLockedTime"] = [Encoding.UTF8.GetBytes("000001010000Z")] }
        : new Dictionary<string, IReadOnlyList<byte[]>> { ["uid"] = [Encoding.UTF8.GetBytes("wiki-bind")] });

    private static LegacyAccountReadBack ReadBack(DirectoryEntry? entry, List<string> read) => new(
        (dn, _) =>
        {
            read.Add(dn);
            return Task.FromResult(entry);
        },
        DirectoryDialect.OpenLdap,
        OpenLdapDisableMethod.PasswordPolicyLock);

    private static Task<IReadOnlyList<LiveSystem>> RunAsync(IEnumerable<PlannedSystem> systems, FakeBind bind, LegacyAccountReadBack readBack) =>
        LiveSystemProbes.RunAsync(systems, Wave, "sha256:" + new string('a', 64), new SystemPorts(new NoCommands(), new NoHttp(), bind), readBack, TimeProvider.System, CancellationToken.None);

    [Fact]
    public async Task An_account_without_a_credential_is_read_back_and_passes_only_while_it_is_disabled_or_gone()
    {
        var wiki = System("wiki", Disposition.Remove, [new SystemLegacyAccount { Dn = UnboundAccount }]);
        var read = new List<string>();

        var locked = (await RunAsync([wiki], new FakeBind(HookStatus.Refused), ReadBack(Account(UnboundAccount, locked: true), read))).Single();
        var enabled = (await RunAsync([wiki], new FakeBind(HookStatus.Refused), ReadBack(Account(UnboundAccount, locked: false), read))).Single();
        var gone = (await RunAsync([wiki], new FakeBind(HookStatus.Refused), ReadBack(null, read))).Single();

        read.Should().Equal(UnboundAccount, UnboundAccount, UnboundAccount);
        locked.Probes.Should().ContainSingle().Which.Should().Match<LiveProbe>(p => p.Passed && p.Status == "disabled" && p.Kind == "ReadBack" && p.Checked.Contains("no credential configured"));
        locked.Note.Should().BeNull("the account was checked, not skipped");
        enabled.Probes.Single().Should().Match<LiveProbe>(p => !p.Passed && p.Status == "enabled" && p.Detail.Contains("enabled again"));
        gone.Probes.Single().Should().Match<LiveProbe>(p => p.Passed && p.Status == "absent");
        LiveSystemProbes.Checks([enabled]).Should().ContainSingle().Which.Holds.Should().BeFalse("an account enabled again is a residual naming its system");
        LiveSystemProbes.Checks([enabled]).Single().Subject.Should().Be("system:wiki");
    }

    [Fact]
    public async Task An_account_with_a_credential_is_bound_as_and_passes_only_when_the_bind_is_refused()
    {
        var crm = System("crm", Disposition.Remove, [new SystemLegacyAccount { Dn = BoundAccount, CredentialSource = "env:CRM_BIND_PASSWORD" }]);
        var read = new List<string>();
        var refused = new FakeBind(HookStatus.Refused);
        var accepted = new FakeBind(HookStatus.Succeeded);

        var refusedNow = (await RunAsync([crm], refused, ReadBack(null, read))).Single();
        var acceptedNow = (await RunAsync([crm], accepted, ReadBack(null, read))).Single();

        refused.Binds.Should().Equal(BoundAccount);
        read.Should().BeEmpty("an account with a credential is bound as, not read");
        refusedNow.Probes.Single().Should().Match<LiveProbe>(p => p.Passed && p.Kind == "LdapBind" && p.Checked.Contains("credential from env:CRM_BIND_PASSWORD") && p.Checked.Contains("expect a refusal"));
        acceptedNow.Probes.Single().Passed.Should().BeFalse("a bind that succeeds again means the old path is open");
    }

    [Fact]
    public async Task A_system_with_nothing_to_probe_says_so_and_one_not_cut_over_by_the_wave_is_not_probed()
    {
        var bare = System("bare", Disposition.Remove, []);
        var excepted = System("legacy-bi", Disposition.Kept, [new SystemLegacyAccount { Dn = UnboundAccount }]);
        var read = new List<string>();
        var bind = new FakeBind(HookStatus.Refused);

        var systems = await RunAsync([bare, excepted], bind, ReadBack(null, read));

        systems.Should().HaveCount(2);
        systems[0].Probes.Should().BeEmpty();
        systems[0].Note.Should().Be("no probe configured");
        systems[1].Probes.Should().BeEmpty();
        systems[1].Note.Should().Contain("not cut over by this wave (kept)");
        read.Should().BeEmpty();
        bind.Binds.Should().BeEmpty();
        LiveSystemProbes.Checks(systems).Should().BeEmpty();
    }

    private sealed class FakeBind(HookStatus status) : ILdapBindProbe
    {
        public List<string> Binds { get; } = [];

        public Task<HookOutcome> BindAsync(string? url, string bindDn, string credentialSource, string? caFile, TimeSpan timeout, CancellationToken cancellationToken)
        {
            Binds.Add(bindDn);
            return Task.FromResult(new HookOutcome { Status = status, Duration = TimeSpan.FromMilliseconds(3), OutputSha256 = "sha256:", OutputExcerpt = "", Detail = $"bind as {bindDn}: {status}" });
        }
    }

    private sealed class NoCommands : ICommandRunner
    {
        public Task<HookOutcome> RunAsync(IReadOnlyList<string> command, IReadOnlyDictionary<string, string> environment, string? standardInput, TimeSpan timeout, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("no command probe is configured in these tests");
    }

    private sealed class NoHttp : IHttpCaller
    {
        public Task<HookOutcome> CallAsync(HttpCallSpec call, TimeSpan timeout, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("no HTTP probe is configured in these tests");
    }
}
