using System.Text;
using AuthSplit.Lab.Servers;
using Xunit;

namespace AuthSplit.Testing;

/// <summary>
/// A private Samba AD DC (realm AUTHSPLIT.LAB) with an <c>OU=HQ</c> of people (some with hostile names),
/// a group over them, a disabled user and a computer. Needs root; tests in this collection run one at
/// a time and Samba's fixed ports are guarded by a machine-wide lock across test processes.
/// </summary>
public sealed class SambaAdFixture : IAsyncLifetime
{
    public const string Collection = "samba-ad";

    public static readonly string[] People = ["alice", "bob", "carol", "dave", "Smith, John", "山田 太郎", "*)(cn=*"];

    private SambaAdDc? _server;

    public SambaAdDc Server => _server ?? throw new InvalidOperationException("the Samba AD fixture has not started");

    public string HqDn => "OU=HQ," + Server.BaseDn;

    public async Task InitializeAsync()
    {
        _server = await SambaAdDc.StartAsync(new SambaAdDcOptions { Log = Console.Error }, CancellationToken.None);
        var ldif = new StringBuilder();
        ldif.Append($"dn: {HqDn}\nobjectClass: organizationalUnit\nou: HQ\n\n");
        var members = new List<string>();
        for (var i = 0; i < People.Length; i++)
        {
            // Samba's DN parser wants '=' inside a value escaped too (RFC 4514 allows it bare).
            var dn = $"CN={Core.Directory.DistinguishedName.EscapeValue(People[i]).Replace("=", "\\=", StringComparison.Ordinal)},{HqDn}";
            members.Add(dn);
            ldif.Append($"dn:: {Convert.ToBase64String(Encoding.UTF8.GetBytes(dn))}\nobjectClass: user\nsAMAccountName: person{i}\n");
            ldif.Append($"mail: person{i}@authsplit.lab\nemployeeID: E{i:D3}\n");
            ldif.Append(i == 3 ? "userAccountControl: 514\n\n" : "userAccountControl: 512\n\n");
        }

        ldif.Append($"dn: CN=hq-staff,{HqDn}\nobjectClass: group\nsAMAccountName: hq-staff\n");
        foreach (var member in members)
        {
            ldif.Append($"member:: {Convert.ToBase64String(Encoding.UTF8.GetBytes(member))}\n");
        }

        ldif.Append($"\ndn: CN=WS01,{HqDn}\nobjectClass: computer\nsAMAccountName: WS01$\n\n");
        await _server.AddLdifTextAsync(ldif.ToString(), CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}
