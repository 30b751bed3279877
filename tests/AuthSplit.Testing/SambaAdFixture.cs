using System.Text;
using AuthSplit.Lab.Servers;
using Xunit;

namespace AuthSplit.Testing;

/// <summary>
/// A private Samba AD DC (realm AUTHSPLIT.LAB) with an <c>OU=HQ</c> of people (some with hostile names),
/// a group over them, a disabled user and a computer; and an <c>OU=Companies</c> (<see cref="CompaniesLdif"/>)
/// with the people of two companies told apart by <c>company</c>/<c>o</c>/<c>department</c>, a chain of
/// managers, nested groups, a contact, a computer and a service account. Needs root; tests in this collection run one at
/// a time and Samba's fixed ports are guarded by a machine-wide lock across test processes.
/// </summary>
public sealed class SambaAdFixture : IAsyncLifetime
{
    public const string Collection = "samba-ad";

    public static readonly string[] People = ["alice", "bob", "carol", "dave", "Smith, John", "山田 太郎", "*)(cn=*"];

    private SambaAdDc? _server;

    public SambaAdDc Server => _server ?? throw new InvalidOperationException("the Samba AD fixture has not started");

    public string HqDn => "OU=HQ," + Server.BaseDn;

    public string CompaniesDn => "OU=Companies," + Server.BaseDn;

    public string LyDn => "OU=LY," + CompaniesDn;

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
        await _server.AddLdifTextAsync(CompaniesLdif(), CancellationToken.None);
    }

    /// <summary>
    /// Two companies in one domain, as a shared directory holds them: LY Corporation (OU=LY) and Other KK
    /// (OU=Other), one Other KK person filed under OU=LY, managers across the companies, groups nested
    /// three deep (ly-all ⊃ ly-eng ⊃ ly-eng-core) with a contact and a computer among the members.
    /// </summary>
    private string CompaniesLdif()
    {
        var ly = LyDn;
        var other = "OU=Other," + CompaniesDn;
        var text = new StringBuilder();
        text.Append($"dn: {CompaniesDn}\nobjectClass: organizationalUnit\nou: Companies\n\n");
        text.Append($"dn: {ly}\nobjectClass: organizationalUnit\nou: LY\n\n");
        text.Append($"dn: {other}\nobjectClass: organizationalUnit\nou: Other\n\n");

        void User(string cn, string ou, string account, string? company, string? o, string? department, string? mail, string? employeeId, string? manager, int userAccountControl = 512, string? cloudExtension = null)
        {
            text.Append($"dn: CN={cn},{ou}\nobjectClass: user\nsAMAccountName: {account}\nuserAccountControl: {userAccountControl}\n");
            Optional("company", company);
            Optional("o", o);
            Optional("department", department);
            Optional("mail", mail);
            Optional("employeeID", employeeId);
            Optional("manager", manager is null ? null : $"CN={manager},{ly}");
            Optional("msDS-cloudExtensionAttribute1", cloudExtension);
            text.Append('\n');
        }

        void Optional(string attribute, string? value)
        {
            if (value is not null)
            {
                text.Append($"{attribute}: {value}\n");
            }
        }

        const string Ly = "LY Corporation";
        User("Kenta Sato", ly, "lyceo", Ly, Ly, "HQ Executive", "kenta.sato@ly.example", "E100", null, cloudExtension: Ly);
        User("Yui Tanaka", ly, "lymgr", Ly, Ly, "HQ Planning", "yui.tanaka@ly.example", "E110", "Kenta Sato", cloudExtension: "LY Corporation (HQ)");
        User("Ren Suzuki", ly, "lyeng1", Ly, Ly, "Engineering", "Ren.Suzuki@LY.example", "E120", "Yui Tanaka");
        User("Aoi Ito", ly, "lyeng2", Ly, Ly, "Engineering", "aoi.ito@ly.example", "E130", "Ren Suzuki", userAccountControl: 514);
        User("Mei Kato", ly, "lysales", Ly, null, "Sales", "mei.kato@ly.example", "E140", "Yui Tanaka");
        User("svc-ly-backup", ly, "svclybackup", Ly, Ly, "HQ IT", null, null, null, userAccountControl: 66048);
        User("Riku Endo", ly, "otendo", "Other KK", "Other KK", "Sales", "riku.endo@other.example", "E090", "Mei Kato");
        User("Jun Abe", other, "otabe", "Other KK", "Other KK", "Sales", "jun.abe@other.example", "E050", null);
        User("Sora Mori", other, "otmori", "Other KK", "Other KK", "HQ Support", "sora.mori@other.example", "E200", "Kenta Sato");
        text.Append($"dn: CN=LY Partner,{ly}\nobjectClass: contact\ncompany: {Ly}\ndepartment: Sales\nmail: partner@ly.example\n\n");
        text.Append($"dn: CN=LYPC01,{ly}\nobjectClass: computer\nsAMAccountName: LYPC01$\ncompany: {Ly}\ndepartment: Engineering\n\n");
        text.Append($"dn: CN=ly-eng-core,{ly}\nobjectClass: group\nsAMAccountName: ly-eng-core\nmember: CN=Ren Suzuki,{ly}\nmember: CN=Aoi Ito,{ly}\n\n");
        text.Append($"dn: CN=ly-eng,{ly}\nobjectClass: group\nsAMAccountName: ly-eng\nmember: CN=ly-eng-core,{ly}\nmember: CN=LYPC01,{ly}\n\n");
        text.Append($"dn: CN=ly-all,{ly}\nobjectClass: group\nsAMAccountName: ly-all\nmember: CN=ly-eng,{ly}\nmember: CN=Kenta Sato,{ly}\n");
        text.Append($"member: CN=Yui Tanaka,{ly}\nmember: CN=Mei Kato,{ly}\nmember: CN=LY Partner,{ly}\n\n");
        return text.ToString();
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}
