using System.Text;
using AuthSplit.Core.Configuration;
using AuthSplit.Core.Execution.Systems;
using AuthSplit.Lab.Servers;
using AuthSplit.Ldap.Probes;
using AuthSplit.Ldap.Writing;
using AuthSplit.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace AuthSplit.Ldap.IntegrationTests.Probes;

/// <summary>
/// The bind probe against a real Active Directory (Samba AD DC): what a system's service account sees
/// before and after its legacy account is disabled. Works in its own OU and removes it afterwards.
/// </summary>
[Collection(SambaAdFixture.Collection)]
public sealed class LdapBindProbeActiveDirectoryTests(SambaAdFixture fixture) : IAsyncLifetime
{
    private static readonly CancellationToken None = CancellationToken.None;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);
    private readonly List<string> _created = [];
    private readonly string _ou = $"OU=probe-{Guid.NewGuid().ToString("N")[..8]}";
    private readonly CollectingLogger<LdapBindProbe> _log = new();

    private string Ou => $"{_ou},{fixture.Server.BaseDn}";

    public async Task InitializeAsync()
    {
        await fixture.Server.AddLdifTextAsync($"dn: {Ou}\nobjectClass: organizationalUnit\n", None);
        _created.Add(Ou);
    }

    public async Task DisposeAsync()
    {
        using var writer = new LdapLegacyDirectoryWriter(Legacy(), new ExecutionOptions { LdapMaxRetries = 3, LdapOperationTimeoutSeconds = 20 }, NullLogger<LdapLegacyDirectoryWriter>.Instance);
        foreach (var dn in Enumerable.Reverse(_created))
        {
            await writer.DeleteAsync(dn, None);
        }
    }

    private SourceOptions Legacy()
    {
        var passwordFile = Path.Combine(TestPaths.NewWorkDirectory(), "pw");
        File.WriteAllText(passwordFile, fixture.Server.AdministratorPassword);
        return new SourceOptions
        {
            Url = SambaAdDc.LdapsUrl,
            BaseDn = fixture.Server.BaseDn,
            BindDn = fixture.Server.AdministratorDn,
            PasswordFile = passwordFile,
            CaFile = fixture.Server.CaFile,
            Dialect = DirectoryDialect.ActiveDirectory,
            TimeoutSeconds = 30,
        };
    }

    private async Task<string> AddServiceAccountAsync(string name, string password)
    {
        var dn = $"CN={name},{Ou}";
        await fixture.Server.AddLdifTextAsync($"dn: {dn}\nobjectClass: user\nsAMAccountName: {name}\nuserAccountControl: 514\n", None);
        _created.Add(dn);
        var encoded = Convert.ToBase64String(Encoding.Unicode.GetBytes($"\"{password}\""));
        await fixture.Server.ModifyAsync($"dn: {dn}\nchangetype: modify\nreplace: unicodePwd\nunicodePwd:: {encoded}\n-\nreplace: userAccountControl\nuserAccountControl: 512\n", None);
        return dn;
    }

    [Fact]
    public async Task A_service_account_binds_and_once_ACCOUNTDISABLE_is_set_its_bind_is_refused_as_disabled()
    {
        var password = "Aa1!" + Guid.NewGuid().ToString("N");
        var dn = await AddServiceAccountAsync("svcprobe" + Guid.NewGuid().ToString("N")[..6], password);
        var credential = Path.Combine(TestPaths.NewWorkDirectory(), "svc.pw");
        await File.WriteAllTextAsync(credential, password);
        var probe = new LdapBindProbe(Legacy(), _log, TimeProvider.System);

        var before = await probe.BindAsync(null, dn, "file:" + credential, null, Timeout, None);
        await fixture.Server.ModifyAsync($"dn: {dn}\nchangetype: modify\nreplace: userAccountControl\nuserAccountControl: 514\n", None);
        var after = await probe.BindAsync(SambaAdDc.LdapsUrl, dn, "file:" + credential, fixture.Server.CaFile, Timeout, None);

        before.Status.Should().Be(HookStatus.Succeeded, before.Detail);
        after.Status.Should().Be(HookStatus.Refused, after.Detail);
        after.LdapResultCode.Should().Be(49);
        after.Detail.Should().Contain("the account is disabled (AD data 533)").And.Contain("invalidCredentials (49)").And.NotContain(password);
        _log.Messages.Should().OnlyContain(m => !m.Contains(password, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_wrong_password_is_refused_as_a_wrong_password()
    {
        var password = "Aa1!" + Guid.NewGuid().ToString("N");
        var dn = await AddServiceAccountAsync("svcwrong" + Guid.NewGuid().ToString("N")[..6], password);
        var credential = Path.Combine(TestPaths.NewWorkDirectory(), "svc.pw");
        await File.WriteAllTextAsync(credential, "Bb2@" + Guid.NewGuid().ToString("N"));

        var outcome = await new LdapBindProbe(Legacy(), _log, TimeProvider.System).BindAsync(null, dn, "file:" + credential, null, Timeout, None);

        outcome.Status.Should().Be(HookStatus.Refused);
        outcome.LdapResultCode.Should().Be(49);
        outcome.Detail.Should().Contain("wrong password (AD data 52e)");
    }
}
