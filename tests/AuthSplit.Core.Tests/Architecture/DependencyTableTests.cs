using System.Reflection;
using System.Runtime.InteropServices;
using System.Xml.Linq;
using AuthSplit.Testing;

namespace AuthSplit.Core.Tests.Architecture;

/// <summary>
/// Holds every assembly under <c>src/</c> to the dependency table of the design: the core is BCL-only
/// (an explicit list, not "anything named System*"), the adapters never reference each other, and only
/// tests, benchmarks and the lab reach the Graph emulator (the CLI ships it and starts it as a process for
/// <c>authsplit lab</c>, never compiling against it), and only the CLI, of the product, composes the lab. Checked twice: the references compiled into
/// each assembly (what it really uses) and the project references in each <c>.csproj</c> (what it
/// declares, so that a reference nothing uses is caught too).
/// </summary>
public sealed class DependencyTableTests
{
    private const string Core = "AuthSplit.Core";
    private const string Ldap = "AuthSplit.Ldap";
    private const string Graph = "AuthSplit.Graph";
    private const string Emulator = "AuthSplit.Graph.Emulator";
    private const string Lab = "AuthSplit.Lab";
    private const string Cli = "AuthSplit.Cli";
    private const string State = "AuthSplit.State";
    private const string Scheduling = "AuthSplit.Scheduling";
    private const string Hooks = "AuthSplit.Hooks";
    private const string Report = "AuthSplit.Evidence.Report";

    /// <summary>The only assemblies the core may reference: all from the base class library.</summary>
    private static readonly string[] CoreAllowList =
    [
        "System.Runtime", "System.Collections", "System.Collections.Concurrent", "System.Collections.Immutable", "System.Linq",
        "System.Memory", "System.Runtime.InteropServices", "System.Runtime.Intrinsics", "System.Text.Encoding.Extensions",
        "System.Text.Json", "System.Text.RegularExpressions", "System.Security.Cryptography", "System.Threading",
        "System.Threading.Channels", "System.ComponentModel.Annotations", "System.ComponentModel.Primitives", "System.Globalization",
        "System.Buffers", "System.IO.Pipelines", "System.Console", "System.Diagnostics.DiagnosticSource", "System.ObjectModel",
        "System.Text.Encodings.Web", "System.Threading.Tasks.Parallel", "System.Private.CoreLib", "netstandard",
    ];

    /// <summary>
    /// Per project under <c>src/</c>: its assembly, the projects it may reference (exactly these and no
    /// others) and the package families it may use beyond the shared framework ("Azure" covers Azure.Core, Azure.Identity).
    /// </summary>
    private static readonly Dictionary<string, (string Assembly, string[] Projects, string[] Packages)> Table = new()
    {
        [Core] = ("AuthSplit.Core", [], []),
        [Ldap] = ("AuthSplit.Ldap", [Core], ["System.DirectoryServices.Protocols", "Microsoft.Extensions.Logging.Abstractions", "Microsoft.Extensions.DependencyInjection.Abstractions", "Polly"]),
        [Graph] = ("AuthSplit.Graph", [Core], ["Microsoft.Graph", "Microsoft.Kiota", "Azure", "Polly", "System.Threading.RateLimiting", "Microsoft.Extensions.Logging.Abstractions", "Microsoft.Identity"]),
        [Emulator] = ("authsplit-graph-emulator", [], ["Microsoft.AspNetCore", "Microsoft.Extensions"]),
        [Lab] = ("AuthSplit.Lab", [], ["Microsoft.Extensions.Logging.Abstractions", "Npgsql"]),
        [State] = ("AuthSplit.State", [Core], ["Microsoft.Data.Sqlite", "Npgsql"]),
        [Cli] = ("authsplit", [Core, Ldap, Graph, State, Scheduling, Hooks, Report, Lab], ["System.CommandLine", "Spectre.Console", "Serilog", "Microsoft.Extensions", "Quartz", "OpenTelemetry", "Microsoft.AspNetCore"]),
        [Scheduling] = ("AuthSplit.Scheduling", [Core], ["Quartz", "Microsoft.Extensions", "Microsoft.Data.Sqlite", "Npgsql"]),
        [Hooks] = ("AuthSplit.Hooks", [Core], ["Microsoft.Extensions.DependencyInjection.Abstractions"]),
        [Report] = ("AuthSplit.Evidence.Report", [Core], ["Microsoft.AspNetCore.Components", "Microsoft.Extensions.Logging.Abstractions"]),
    };

    /// <summary>
    /// Projects a project builds and ships but never compiles against (<c>ReferenceOutputAssembly="false"</c>):
    /// the CLI carries the Graph emulator as a program of its own, which <c>authsplit lab</c> starts as a process.
    /// </summary>
    private static readonly Dictionary<string, string[]> ProcessReferences = new()
    {
        [Cli] = [Emulator],
    };

    public static TheoryData<string> Projects() => [.. Table.Keys];

    [Fact]
    public void Every_project_under_src_is_in_the_table()
    {
        var projects = System.IO.Directory.GetDirectories(Path.Combine(TestPaths.RepositoryRoot, "src")).Select(Path.GetFileName);

        projects.Should().BeEquivalentTo(Table.Keys, "a new project needs its row in the dependency table (the design's layout table)");
    }

    [Fact]
    public void The_core_references_only_its_list_of_base_class_library_assemblies()
    {
        var referenced = References(Table[Core].Assembly);

        referenced.Should().NotBeEmpty();
        referenced.Should().OnlyContain(name => CoreAllowList.Contains(name),
            "the core holds the model, planner and policies; LDAP, Graph, Quartz, Polly and Serilog belong to the adapters");
        CoreAllowList.Should().OnlyContain(name => IsSharedFramework(name), "the allow-list itself holds only the base class library");
    }

    [Theory]
    [MemberData(nameof(Projects))]
    public void An_assembly_references_only_the_projects_and_packages_its_row_allows(string project)
    {
        var (assembly, projects, packages) = Table[project];
        var ours = Table.Where(row => projects.Contains(row.Key)).Select(row => row.Value.Assembly).ToHashSet(StringComparer.Ordinal);

        var unexpected = References(assembly).Where(name =>
            !ours.Contains(name)
            && !(project == Core ? CoreAllowList.Contains(name) : IsSharedFramework(name))
            && !packages.Any(family => name == family || name.StartsWith(family + ".", StringComparison.Ordinal)));

        unexpected.Should().BeEmpty($"{project} may use only {string.Join(", ", projects.Concat(packages).DefaultIfEmpty("nothing"))} beyond {(project == Core ? "its list of" : "the")} base class library assemblies");
    }

    [Theory]
    [MemberData(nameof(Projects))]
    public void A_project_declares_exactly_the_project_references_of_its_row(string project)
    {
        var csproj = Path.Combine(TestPaths.RepositoryRoot, "src", project, project + ".csproj");
        var references = XDocument.Load(csproj).Descendants("ProjectReference")
            .Select(reference => (
                Name: Path.GetFileNameWithoutExtension(reference.Attribute("Include")!.Value),
                Compiled: !string.Equals(reference.Attribute("ReferenceOutputAssembly")?.Value, "false", StringComparison.OrdinalIgnoreCase)))
            .ToArray();

        references.Where(r => r.Compiled).Select(r => r.Name).Should().BeEquivalentTo(Table[project].Projects, $"{csproj} must reference what its row says: adapters never each other, only tests, benchmarks and the lab the emulator, and nothing unused");
        references.Where(r => !r.Compiled).Select(r => r.Name).Should().BeEquivalentTo(ProcessReferences.GetValueOrDefault(project) ?? [], $"{csproj} may build and ship only the programs its row allows, without compiling against them");
    }

    [Fact]
    public void No_product_assembly_references_the_emulator_and_only_the_cli_the_lab()
    {
        foreach (var (project, row) in Table)
        {
            References(row.Assembly).Should().NotContain(Table[Emulator].Assembly, $"{project} must not depend on the stand-in for Entra ID (the CLI starts it as a process for `authsplit lab`)");
            if (project != Cli)
            {
                References(row.Assembly).Should().NotContain(Table[Lab].Assembly, $"{project} must not depend on the lab; only the CLI's `authsplit lab` composes it");
            }
        }

        References(Table[Cli].Assembly).Should().Contain(Table[Lab].Assembly, "`authsplit lab` starts the lab's slapd");
    }

    [Fact]
    public void The_adapters_never_reference_each_other_nor_each_others_libraries()
    {
        string[] adapters = [Ldap, Graph, State, Scheduling, Hooks];
        foreach (var adapter in adapters)
        {
            References(Table[adapter].Assembly).Should().NotContain(adapters.Where(other => other != adapter).Select(other => Table[other].Assembly), $"{adapter} is an adapter: it meets the others only through the core's ports");
        }

        References(Table[Ldap].Assembly).Should().NotContain(Table[Graph].Assembly).And.NotContain(name => name.StartsWith("Microsoft.Graph", StringComparison.Ordinal));
        References(Table[Graph].Assembly).Should().NotContain(Table[Ldap].Assembly).And.NotContain(name => name.StartsWith("System.DirectoryServices", StringComparison.Ordinal));
    }

    private static string[] References(string assemblyName) =>
        [.. Assembly.Load(new AssemblyName(assemblyName)).GetReferencedAssemblies().Select(a => a.Name!)];

    // The shared framework (Microsoft.NETCore.App) is the base class library: what ships beside System.Runtime.
    private static bool IsSharedFramework(string name) =>
        name == "netstandard" || File.Exists(Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), name + ".dll"));
}
