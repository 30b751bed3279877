using System.Text;
using AuthSplit.Core.Configuration;
using AuthSplit.Lab.Servers;
using AuthSplit.Ldap.Writing;
using AuthSplit.Testing;
using Microsoft.Extensions.Logging;

namespace AuthSplit.Ldap.IntegrationTests.Writing;

/// <summary>
/// A private slapd of the writer tests' own (they write, so not the shared read fixture), with ppolicy and
/// lastbind loaded and the memberof overlay as every lab slapd has it. Tests add the entries they act on
/// (names unique per test) online, so overlays run as they would in production.
/// </summary>
public sealed class WriterSlapdFixture : IAsyncLifetime
{
    public const string Suffix = "dc=writer,dc=test";
    public const string People = "ou=people," + Suffix;
    public const string Groups = "ou=groups," + Suffix;
    public const string Quarantine = "ou=quarantine," + Suffix;

    private SlapdServer? _server;

    public SlapdServer Server => _server ?? throw new InvalidOperationException("the writer's slapd has not started");

    private string AdminPasswordFile { get; set; } = string.Empty;

    public async Task InitializeAsync()
    {
        _server = await SlapdServer.StartAsync(new SlapdServerOptions { Suffix = Suffix, NoSync = true, PasswordPolicy = true, Log = Console.Error }, CancellationToken.None);
        AdminPasswordFile = Path.Combine(_server.Directory, "writer-tests.pw");
        await File.WriteAllTextAsync(AdminPasswordFile, _server.AdminPassword);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(AdminPasswordFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        await _server.AddLdifTextAsync(
            $"dn: {People}\nobjectClass: organizationalUnit\nou: people\n\n" +
            $"dn: {Groups}\nobjectClass: organizationalUnit\nou: groups\n\n" +
            $"dn: {Quarantine}\nobjectClass: organizationalUnit\nou: quarantine\n",
            CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    public static SourceOptions SourceOptionsFor(SlapdServer server, bool ldaps = true, string? bindDn = null, string? password = null, string baseDn = Suffix)
    {
        var passwordFile = Path.Combine(TestPaths.NewWorkDirectory(), "pw");
        File.WriteAllText(passwordFile, password ?? server.AdminPassword);
        return new SourceOptions
        {
            Url = ldaps ? server.LdapsUrl : server.LdapUrl,
            BaseDn = baseDn,
            BindDn = bindDn ?? server.AdminDn,
            PasswordFile = passwordFile,
            CaFile = server.CaFile,
            Dialect = DirectoryDialect.OpenLdap,
            TimeoutSeconds = 10,
        };
    }

    public LdapLegacyDirectoryWriter Writer(ILogger<LdapLegacyDirectoryWriter>? logger = null, int attempts = 3, int timeoutSeconds = 5) =>
        new(SourceOptionsFor(Server), new ExecutionOptions { LdapMaxRetries = attempts, LdapOperationTimeoutSeconds = timeoutSeconds }, logger ?? Microsoft.Extensions.Logging.Abstractions.NullLogger<LdapLegacyDirectoryWriter>.Instance);

    /// <summary>A person with a known password under ou=people; returns its DN.</summary>
    public async Task<string> AddPersonAsync(string uid, string password, string? cn = null)
    {
        var dn = $"cn={Core.Directory.DistinguishedName.EscapeValue(cn ?? uid)},{People}";
        await Server.AddLdifTextAsync(
            $"dn:: {Base64(dn)}\nobjectClass: inetOrgPerson\ncn:: {Base64(cn ?? uid)}\nsn: {uid}\nuid: {uid}\nmail: {uid}@writer.test\nuserPassword: {password}\n",
            CancellationToken.None);
        return dn;
    }

    /// <summary>A group under ou=groups of <paramref name="objectClass"/> (groupOfNames: member; groupOfUniqueNames: uniqueMember).</summary>
    public async Task<string> AddGroupAsync(string cn, string objectClass, params string[] members)
    {
        var attribute = objectClass == "groupOfUniqueNames" ? "uniqueMember" : "member";
        var dn = $"cn={cn},{Groups}";
        var ldif = new StringBuilder($"dn: {dn}\nobjectClass: {objectClass}\ncn: {cn}\n");
        foreach (var member in members)
        {
            ldif.Append($"{attribute}:: {Base64(member)}\n");
        }

        await Server.AddLdifTextAsync(ldif.ToString(), CancellationToken.None);
        return dn;
    }

    /// <summary>ldapsearch's LDIF of one entry with every user and operational attribute (null when it does not exist), lines sorted after the DN.</summary>
    public async Task<string?> LdifOfAsync(string dn, params string[] without)
    {
        var result = await ProcessRunner.RunAsync(
            "ldapsearch",
            ["-x", "-H", Server.LdapsUrl, "-D", Server.AdminDn, "-y", AdminPasswordFile, "-LLL", "-o", "ldif-wrap=no", "-b", dn, "-s", "base", "*", "+"],
            new Dictionary<string, string> { ["LDAPTLS_CACERT"] = Server.CaFile, ["LDAPTLS_REQCERT"] = "demand" },
            TimeSpan.FromMinutes(1),
            CancellationToken.None);
        if (result.ExitCode == 32)
        {
            return null;
        }

        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"ldapsearch exited {result.ExitCode}: {result.Error}");
        }

        var lines = result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        return lines[0] + "\n" + string.Join('\n', lines.Skip(1).Where(l => !without.Any(a => l.StartsWith(a + ":", StringComparison.OrdinalIgnoreCase))).Order(StringComparer.Ordinal));
    }

    public static string Base64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));
}
