using AuthSplit.Core.Planning;

namespace AuthSplit.Core.Tests.Architecture;

public sealed class CoreDependencyTests
{
    [Fact]
    public void The_core_references_only_the_base_class_library()
    {
        var referenced = typeof(Planner).Assembly.GetReferencedAssemblies().Select(a => a.Name!).ToArray();

        referenced.Should().NotBeEmpty();
        referenced.Should().OnlyContain(name => name == "netstandard" || name == "mscorlib" || name.StartsWith("System", StringComparison.Ordinal),
            "the core holds the model, planner and policies; LDAP, Graph, Quartz, Polly and Serilog belong to the adapters");
        referenced.Should().NotContain(n => n.StartsWith("System.DirectoryServices", StringComparison.Ordinal));
    }
}
