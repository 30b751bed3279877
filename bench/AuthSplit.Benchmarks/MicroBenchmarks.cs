using System.Text;
using AuthSplit.Core.Directory;
using AuthSplit.Core.Model;
using BenchmarkDotNet.Attributes;

namespace AuthSplit.Benchmarks;

/// <summary>The planner's per-entry hot path: filter evaluation and DN normalisation.</summary>
[MemoryDiagnoser]
public class DirectorySemanticsBenchmarks
{
    private readonly DirectoryEntry _entry = DirectoryEntry.FromStrings("uid=user000042,ou=hq,dc=example,dc=jp", new Dictionary<string, string[]>
    {
        ["objectClass"] = ["top", "person", "organizationalPerson", "inetOrgPerson"],
        ["uid"] = ["user000042"],
        ["mail"] = ["user000042@example.jp"],
        ["employeeType"] = ["employee"],
        ["l"] = ["Korea"],
    });

    private readonly LdapFilter _waveFilter = LdapFilter.Parse("(&(objectClass=inetOrgPerson)(l=*)(!(l=Japan))(!(employeeType=partner)))");
    private readonly LdapFilter _substring = LdapFilter.Parse("(mail=user*@example.jp)");

    [Benchmark]
    public bool WaveFilter() => _waveFilter.Matches(_entry);

    [Benchmark]
    public bool SubstringFilter() => _substring.Matches(_entry);

    [Benchmark]
    public string NormalizeDn() => DistinguishedName.Normalize("cn=Smith\\, John+uid=jsmith,OU=People,OU=HQ,DC=Example,DC=JP");

    [Benchmark]
    public int Utf8Decode() => Encoding.UTF8.GetString(_entry.GetValues("mail")[0]).Length;
}
